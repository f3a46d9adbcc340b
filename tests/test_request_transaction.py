"""An API payment runs in one transaction, and the money service joins it without a savepoint
(payments/request_transaction.py). A refusal rolls the whole request back; a refused keyed
request's answer is stored afterwards, in a transaction of its own, and replayed on retry, also
when the retries arrive at once."""

import json
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from contacts.roles import Role
from invoices.models import BillingItem
from payments.models import IdempotencyRecord, Payment, PaymentAllocation
from payments.request_transaction import money_transaction
from tests.concurrent_posts import Call, post_together
from tests.factories import (
    AccountRoleFactory,
    BillingItemFactory,
    ContactFactory,
    TenderTypeFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/POS/BillingPayments"
REFUSED = {
    "ContactId": None,
    "Success": False,
    "ErrorMessage": "Tender type 50 is unknown or inactive.",
    "BillingPayments": [],
}


@pytest.fixture
def till():
    TenderTypeFactory(id=3, name="Card")
    TenderTypeFactory(id=50, name="Retired voucher", is_active=False)
    role = AccountRoleFactory(role=Role.BILLING_PAYMENT)
    contact = ContactFactory(account=role.account)
    item = BillingItemFactory(contact=contact, total_amount=Decimal("10.00"))
    return role, contact, item


def body(contact, item, tender_type_id):
    return json.dumps(
        {
            "ContactId": str(contact.guid),
            "PaymentDate": "2026-11-02T17:38:19+00:00",
            "TenderTypeId": tender_type_id,
            "BillingPayments": [{"BillingId": item.pk, "Amount": 4.0}],
        }
    )


def post(role, text, key=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {role.credential.secret}"}
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return Client().post(URL, text, content_type="application/json", **headers)


def nothing_paid(item):
    assert not Payment.objects.exists()
    assert not PaymentAllocation.objects.exists()
    assert BillingItem.objects.get(pk=item.pk).balance == Decimal("10.00")


def test_a_refused_keyed_request_is_stored_after_its_rollback_and_replayed(till):
    role, contact, item = till
    first = post(role, body(contact, item, 50), key="k-1")
    assert first.status_code == 200
    assert first.json() == {**REFUSED, "ContactId": str(contact.guid)}
    nothing_paid(item)
    assert list(IdempotencyRecord.objects.values_list("key", "status_code")) == [("k-1", 200)]

    retry = post(role, body(contact, item, 50), key="k-1")
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    nothing_paid(item)


def test_the_same_refused_request_sent_at_once_is_answered_alike_and_stored_once(till):
    role, contact, item = till
    calls = [Call(role.credential.secret, URL, body(contact, item, 50), key="k-2")] * 6
    responses = post_together(calls)
    assert {response.status_code for response in responses} == {200}
    assert {response.content for response in responses} == {responses[0].content}
    assert responses[0].json()["ErrorMessage"] == REFUSED["ErrorMessage"]
    assert list(IdempotencyRecord.objects.values_list("key", "status_code")) == [("k-2", 200)]
    nothing_paid(item)


def test_a_payment_is_one_transaction_from_the_key_to_the_answer(till):
    role, contact, item = till
    post(role, body(contact, item, 3))  # the key's first use is stamped
    with CaptureQueriesContext(connection) as captured:
        response = post(role, body(contact, item, 3), key="k-3")
    assert response.json()["Success"] is True
    sqls = [query["sql"] for query in captured.captured_queries]
    assert sqls[0] == "BEGIN"
    assert sqls[-1] == "COMMIT"
    assert sqls.count("BEGIN") == sqls.count("COMMIT") == 1
    assert "contacts_apicredential" in sqls[1]  # the key's lookup is inside it
    assert not any("SAVEPOINT" in sql for sql in sqls)
    assert BillingItem.objects.get(pk=item.pk).balance == Decimal("2.00")


def test_a_money_service_called_alone_keeps_its_own_savepoint(till):
    """Outside an API write request (back office, admin, commands), a refusing service undoes its
    own writes only, and the caller's transaction goes on."""
    _role, _contact, item = till

    @money_transaction
    def refuse():
        BillingItem.objects.filter(pk=item.pk).update(balance=Decimal("1.00"))
        raise ValueError("refused")

    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        with pytest.raises(ValueError, match="refused"):
            refuse()
        assert BillingItem.objects.get(pk=item.pk).balance == Decimal("10.00")
    assert any(query["sql"].startswith("SAVEPOINT") for query in captured.captured_queries)
