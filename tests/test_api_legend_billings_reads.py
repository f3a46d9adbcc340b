"""`GET /POS/Billings` reads its query without BillingsQuerySerializer when the query is well
formed (payments.legend.queries), and the contact with its items in one statement
(invoices.selectors.contact_billing_item_rows). These tests hold the first to the serializer and
the second to the contact's scope and its items' filter."""

import uuid
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.test import Client

from contacts.roles import Role
from invoices.selectors import contact_billing_item_rows
from payments.legend.bodies import BILLING_FIELDS
from payments.legend.queries import billings_query
from payments.legend.serializers import BillingsQuerySerializer
from tests.factories import AccountRoleFactory, BillingItemFactory, ContactFactory

GUID = "d533730b-3add-4da9-8385-cf1404196a2f"


@pytest.mark.parametrize(
    "params",
    [
        {"ContactId": GUID},
        {"ContactId": GUID.upper(), "OutstandingOnly": "true"},
        {"ContactId": GUID.replace("-", ""), "OutstandingOnly": "TRUE"},
        {"ContactId": "{" + GUID + "}", "OutstandingOnly": "Yes"},
        {"ContactId": "urn:uuid:" + GUID, "OutstandingOnly": "0"},
        {"ContactId": GUID, "OutstandingOnly": "off"},
        {"ContactId": GUID, "OutstandingOnly": ""},
        {"ContactId": GUID, "OutstandingOnly": "FaLsE", "Other": "x"},
        [("ContactId", "nonsense"), ("ContactId", GUID)],  # the last one counts
        [("ContactId", GUID), ("OutstandingOnly", "maybe"), ("OutstandingOnly", "1")],
        # refused:
        {},
        {"OutstandingOnly": "true"},
        {"ContactId": ""},
        {"ContactId": "42"},
        {"ContactId": "1" * 40},
        {"ContactId": GUID + "\x00"},
        {"ContactId": GUID, "OutstandingOnly": "maybe"},
        {"ContactId": GUID, "OutstandingOnly": "null"},
        {"ContactId": GUID, "OutstandingOnly": "2"},
        {"ContactId": GUID, "OutstandingOnly": " true"},
        [("ContactId", GUID), ("ContactId", "")],
    ],
)
def test_billings_query_is_the_serializers(params):
    query = QueryDict(urlencode(params))
    serializer = BillingsQuerySerializer(data=query)

    parsed = billings_query(query)

    if serializer.is_valid():
        assert parsed == serializer.validated_data
        assert type(parsed["ContactId"]) is uuid.UUID
    else:
        assert parsed is None


@pytest.mark.django_db
def test_contact_rows_filter_items_not_the_contact():
    contact = ContactFactory()
    settled = BillingItemFactory(contact=contact, balance=Decimal("0.00"))
    BillingItemFactory(contact=ContactFactory(account=contact.account))  # a neighbour's

    everything = contact_billing_item_rows(contact.guid, BILLING_FIELDS, outstanding_only=False)
    owing = contact_billing_item_rows(contact.guid, BILLING_FIELDS, outstanding_only=True)

    assert everything[:2] == owing[:2] == (contact.pk, contact.account_id)
    assert [row[0] for row in everything[2]] == [settled.pk]
    assert owing[2] == []
    assert contact_billing_item_rows(uuid.uuid4(), BILLING_FIELDS, outstanding_only=True) is None


@pytest.mark.django_db
def test_billings_of_a_contact_with_nothing_owing_is_found_and_empty():
    role = AccountRoleFactory(role=Role.BILLING_PAYMENT)
    contact = ContactFactory(account=role.account)
    BillingItemFactory(contact=contact, balance=Decimal("0.00"))

    response = Client().get(
        "/POS/Billings",
        {"ContactId": str(contact.guid), "OutstandingOnly": "true"},
        HTTP_AUTHORIZATION=f"Bearer {role.credential.secret}",
    )

    assert response.status_code == 200
    assert response.json()["Billings"] == []


@pytest.mark.django_db
def test_billings_of_a_contact_outside_the_keys_accounts_shows_no_row():
    role = AccountRoleFactory(role=Role.ADMIN)
    stranger = ContactFactory()
    BillingItemFactory(contact=stranger, description="Not yours")

    response = Client().get(
        "/POS/Billings",
        {"ContactId": str(stranger.guid)},
        HTTP_AUTHORIZATION=f"Bearer {role.credential.secret}",
    )

    assert response.status_code == 404
    assert b"Not yours" not in response.content
    assert response.json()["Billings"] == []
