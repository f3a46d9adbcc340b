"""Legend's siblings of BillingPayments (contract 2.3): `GET /POS/Billings`, what a contact owes,
and `POST /POS/BillingWriteDowns`, finance writing part of a balance off."""

import datetime
import io
import json
import re
import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client

from billing_site.api.renderers import dumps_exact
from contacts.roles import Role
from invoices.models import BillingItem
from invoices.selectors import contact_billing_items
from payments.actors import Channel
from payments.legend.serializers import BillingsResponseSerializer
from payments.lines import LineRefusal
from payments.models import IdempotencyRecord, Payment, WriteDown
from tests.factories import (
    AccountFactory,
    AccountRoleFactory,
    BillingItemFactory,
    ContactFactory,
    days_ago,
)

pytestmark = pytest.mark.django_db

BILLINGS_URL = "/POS/Billings"
WRITE_DOWNS_URL = "/POS/BillingWriteDowns"
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00:00$")
WRITE_DOWN_DATE = "2025-11-03T09:15:00.5+00:00"
WRITE_DOWN_INSTANT = datetime.datetime(2025, 11, 3, 9, 15, 0, 500000, tzinfo=datetime.UTC)
NO_PERMISSION = "The API key does not have the permission this operation needs."
NO_PERMISSION_HERE = (
    "The API key does not have the permission this operation needs on the contact's account."
)


@pytest.fixture
def finance():
    """An account administrator's key: every privilege, write-downs included."""
    return AccountRoleFactory(role=Role.ADMIN)


@pytest.fixture
def till(finance):
    """A till's key on the same account: `billing_payment` alone."""
    return AccountRoleFactory(account=finance.account, role=Role.BILLING_PAYMENT)


@pytest.fixture
def contact(finance):
    return ContactFactory(account=finance.account)


def get_billings(role, params, client=None):
    headers = {} if role is None else {"HTTP_AUTHORIZATION": f"Bearer {role.credential.secret}"}
    return (client or Client()).get(BILLINGS_URL, params, **headers)


def post_write_downs(role, body, key=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {role.credential.secret}"}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return Client().post(
        WRITE_DOWNS_URL, json.dumps(body), content_type="application/json", **headers
    )


def failure(contact_id, message, lines_key):
    return {
        "ContactId": None if contact_id is None else str(contact_id),
        "Success": False,
        "ErrorMessage": message,
        lines_key: [],
    }


def balance_of(item):
    return BillingItem.objects.get(pk=item.pk).balance


def assert_ledger_clean():
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    assert re.fullmatch(r"Checked [^\n]* in \d+\.\d\d s: no drift\.\n", out.getvalue())


# --- GET /POS/Billings ------------------------------------------------------------------------


@pytest.fixture
def billings(contact):
    """The contact's items, created out of due-date order: one settled, three owing."""
    later = BillingItemFactory(
        contact=contact,
        description="Court hire",
        due_date=days_ago(-10),
        total_amount=Decimal("12.50"),
    )
    settled = BillingItemFactory(
        contact=contact,
        description="Locker",
        due_date=days_ago(40),
        total_amount=Decimal("15.00"),
        balance=Decimal("0.00"),
    )
    oldest = BillingItemFactory(
        contact=contact,
        description="Membership fee March",
        due_date=days_ago(30),
        total_amount=Decimal("80.00"),
        balance=Decimal("30.25"),
    )
    same_day = BillingItemFactory(
        contact=contact, description="Towel", due_date=days_ago(30), total_amount=Decimal("2.00")
    )
    # Someone else's item in the same account is never listed.
    BillingItemFactory(contact=ContactFactory(account=contact.account), due_date=days_ago(50))
    return {"later": later, "settled": settled, "oldest": oldest, "same_day": same_day}


def listed(item, total, balance):
    return {
        "BillingId": item.pk,
        "Description": item.description,
        "DueDate": item.due_date.isoformat(),
        "TotalAmount": total,
        "Balance": balance,
    }


@pytest.mark.parametrize(
    ("outstanding_only", "with_settled"),
    [("true", False), ("True", False), ("false", True), ("False", True), (None, True)],
)
def test_billings_lists_the_contacts_items_oldest_due_first(
    till, contact, billings, outstanding_only, with_settled
):
    params = {"ContactId": str(contact.guid)}
    if outstanding_only is not None:
        params["OutstandingOnly"] = outstanding_only

    response = get_billings(till, params)

    assert response.status_code == 200
    expected = [
        listed(billings["oldest"], 80.0, 30.25),
        listed(billings["same_day"], 2.0, 2.0),
        listed(billings["later"], 12.5, 12.5),
    ]
    if with_settled:
        expected.insert(0, listed(billings["settled"], 15.0, 0.0))
    body = response.json()
    assert body == {
        "ContactId": str(contact.guid),
        "Success": True,
        "ErrorMessage": None,
        "Billings": expected,
    }
    assert list(body) == ["ContactId", "Success", "ErrorMessage", "Billings"]
    for billing in body["Billings"]:
        assert list(billing) == ["BillingId", "Description", "DueDate", "TotalAmount", "Balance"]
        assert type(billing["BillingId"]) is int
        assert type(billing["TotalAmount"]) is float
        assert type(billing["Balance"]) is float
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", billing["DueDate"])
    assert '"TotalAmount":80.00,"Balance":30.25}' in response.content.decode()


@pytest.mark.parametrize("outstanding_only", ["true", "false"])
def test_billings_body_is_the_serializers(till, contact, billings, outstanding_only):
    """The lines are built from rows (payments.legend.bodies): byte for byte what the schema's
    serializer renders over the model instances, as the endpoint did before."""
    BillingItemFactory(
        contact=contact,
        description="Casier «été»",
        total_amount=Decimal("1234567.80"),
        balance=Decimal("0.05"),
    )
    items = contact_billing_items(contact, outstanding_only=outstanding_only == "true")
    expected = BillingsResponseSerializer(
        {"ContactId": contact.guid, "Success": True, "ErrorMessage": None, "Billings": items}
    ).data

    response = get_billings(
        till, {"ContactId": str(contact.guid), "OutstandingOnly": outstanding_only}
    )

    assert response.status_code == 200
    assert response.content == dumps_exact(expected).encode()
    assert len(expected["Billings"]) == (4 if outstanding_only == "true" else 5)


def test_billings_for_a_contact_with_no_items_is_an_empty_list(till, contact):
    response = get_billings(till, {"ContactId": str(contact.guid), "OutstandingOnly": "true"})

    assert response.status_code == 200
    assert response.json() == {
        "ContactId": str(contact.guid),
        "Success": True,
        "ErrorMessage": None,
        "Billings": [],
    }


def test_billings_accepts_an_upper_case_contact_id_and_echoes_it_canonically(
    till, contact, billings
):
    response = get_billings(
        till, {"ContactId": str(contact.guid).upper(), "OutstandingOnly": "true"}
    )

    assert response.status_code == 200
    assert response.json()["ContactId"] == str(contact.guid)
    assert len(response.json()["Billings"]) == 3


def test_billings_for_an_unknown_contact_is_a_404(till):
    unknown = uuid.uuid4()

    response = get_billings(till, {"ContactId": str(unknown), "OutstandingOnly": "true"})

    assert response.status_code == 404
    assert response.json() == failure(unknown, f"Contact {unknown} was not found.", "Billings")


def test_billings_for_another_accounts_contact_is_answered_as_an_unknown_one(till):
    """Same status, same body: the key cannot learn that the GUID exists elsewhere."""
    stranger = ContactFactory(account=AccountFactory())
    BillingItemFactory(contact=stranger)
    unknown = uuid.uuid4()

    response = get_billings(till, {"ContactId": str(stranger.guid)})
    unknown_response = get_billings(till, {"ContactId": str(unknown)})

    assert response.status_code == unknown_response.status_code == 404
    assert response.json() == failure(
        stranger.guid, f"Contact {stranger.guid} was not found.", "Billings"
    )
    assert unknown_response.json() == failure(
        unknown, f"Contact {unknown} was not found.", "Billings"
    )


@pytest.mark.parametrize(
    ("params", "message", "echoed"),
    [
        ({}, "ContactId: This field is required.", False),
        ({"OutstandingOnly": "true"}, "ContactId: This field is required.", False),
        ({"ContactId": "42"}, "ContactId: Must be a valid UUID.", False),
        (
            {"ContactId": "CONTACT", "OutstandingOnly": "maybe"},
            "ContactId: Must be a valid UUID.",
            False,
        ),
        ({"ContactId": "1" * 40}, "ContactId: Must be a valid UUID.", False),
        ({"OutstandingOnly": "maybe"}, "OutstandingOnly: Must be a valid boolean.", True),
    ],
    ids=["nothing", "no-contact", "not-a-guid", "both-bad", "too-long", "bad-flag"],
)
def test_billings_with_a_bad_query_is_a_400(till, contact, params, message, echoed):
    if echoed:
        params = {"ContactId": str(contact.guid), **params}

    response = get_billings(till, params)

    assert response.status_code == 400
    assert response.json() == failure(contact.guid if echoed else None, message, "Billings")


def test_billings_without_a_key_is_a_401(contact, billings):
    response = get_billings(None, {"ContactId": str(contact.guid)})

    assert response.status_code == 401
    assert response.json() == failure(
        contact.guid, "Authentication credentials were not provided.", "Billings"
    )


def test_billings_does_not_take_a_post(till, contact):
    response = Client().post(
        BILLINGS_URL,
        json.dumps({"ContactId": str(contact.guid)}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {till.credential.secret}",
    )

    assert response.status_code == 405
    assert response.json() == failure(contact.guid, 'Method "POST" not allowed.', "Billings")


def test_an_unknown_pos_path_answers_in_legends_shape(till):
    response = Client().get("/POS/Nothing", HTTP_AUTHORIZATION=f"Bearer {till.credential.secret}")

    assert response.status_code == 404
    assert response.json() == {
        "ContactId": None,
        "Success": False,
        "ErrorMessage": "No endpoint at /POS/Nothing.",
    }


def test_billings_costs_the_same_queries_for_3_items_as_for_50(
    till, django_assert_num_queries, django_assert_max_num_queries
):
    few, many = ContactFactory(account=till.account), ContactFactory(account=till.account)
    for _ in range(3):
        BillingItemFactory(contact=few)
    for _ in range(50):
        BillingItemFactory(contact=many)
    client = Client()

    # Authenticate with the key's roles (1) and stamp its first use (1), the contact with its
    # items (1): the permission checks read the roles authentication brought.
    with django_assert_num_queries(3) as small:
        response = get_billings(till, {"ContactId": str(few.guid)}, client=client)
    assert response.status_code == 200
    assert len(response.json()["Billings"]) == 3

    with django_assert_max_num_queries(len(small.captured_queries)):
        response = get_billings(till, {"ContactId": str(many.guid)}, client=client)
    assert response.status_code == 200
    assert len(response.json()["Billings"]) == 50


# --- POST /POS/BillingWriteDowns ----------------------------------------------------------------


def write_down_body(contact, lines, notes="Goodwill: court closed for repairs"):
    return {
        "ContactId": str(contact.guid),
        "WriteDownDate": WRITE_DOWN_DATE,
        "Notes": notes,
        "BillingWriteDowns": lines,
    }


def test_a_write_down_reduces_balances_exactly_and_records_who_and_why(finance, contact):
    fee = BillingItemFactory(contact=contact, total_amount=Decimal("50.00"))
    towel = BillingItemFactory(contact=contact, total_amount=Decimal("20.00"))
    before = datetime.datetime.now(tz=datetime.UTC)

    response = post_write_downs(
        finance,
        write_down_body(
            contact,
            [
                {"BillingId": fee.pk, "Amount": 12.5, "GLAccountId": 4010},
                {"BillingId": towel.pk, "Amount": 20, "GLAccountId": None},
            ],
        ),
    )

    assert response.status_code == 200
    body = response.json()
    write_downs = list(WriteDown.objects.order_by("pk"))
    processed = write_downs[0].recorded_at.isoformat()
    assert ISO_UTC.match(processed)
    assert before <= write_downs[0].recorded_at <= datetime.datetime.now(tz=datetime.UTC)
    assert body == {
        "ContactId": str(contact.guid),
        "Success": True,
        "ErrorMessage": None,
        "BillingWriteDowns": [
            {
                "BillingId": fee.pk,
                "Balance": 37.5,
                "ProcessDate": processed,
                "WriteDownDate": "2025-11-03T09:15:00.500000+00:00",
                "ErrorMessage": None,
            },
            {
                "BillingId": towel.pk,
                "Balance": 0.0,
                "ProcessDate": processed,
                "WriteDownDate": "2025-11-03T09:15:00.500000+00:00",
                "ErrorMessage": None,
            },
        ],
    }
    assert list(body) == ["ContactId", "Success", "ErrorMessage", "BillingWriteDowns"]
    assert all(
        list(line) == ["BillingId", "Balance", "ProcessDate", "WriteDownDate", "ErrorMessage"]
        for line in body["BillingWriteDowns"]
    )
    assert (balance_of(fee), balance_of(towel)) == (Decimal("37.50"), Decimal("0.00"))
    assert [
        (
            wd.billing_item_id,
            wd.amount,
            wd.reason,
            wd.gl_account_id,
            wd.write_down_date,
            wd.channel,
            wd.recorded_by_credential_id,
            wd.recorded_by_user_id,
        )
        for wd in write_downs
    ] == [
        (fee.pk, Decimal("12.50"), "Goodwill: court closed for repairs", 4010, WRITE_DOWN_INSTANT,
         Channel.LEGEND_API, finance.credential.pk, None),
        (towel.pk, Decimal("20.00"), "Goodwill: court closed for repairs", None, WRITE_DOWN_INSTANT,
         Channel.LEGEND_API, finance.credential.pk, None),
    ]  # fmt: skip
    assert write_downs[1].recorded_at == write_downs[0].recorded_at
    assert not Payment.objects.exists()
    assert_ledger_clean()


def test_a_write_down_line_over_the_balance_is_refused_alone(finance, contact):
    fee = BillingItemFactory(contact=contact, total_amount=Decimal("50.00"))
    towel = BillingItemFactory(contact=contact, total_amount=Decimal("20.00"))
    others = BillingItemFactory(contact=ContactFactory(account=contact.account))

    response = post_write_downs(
        finance,
        write_down_body(
            contact,
            [
                {"BillingId": fee.pk, "Amount": 60.0, "GLAccountId": 4010},
                {"BillingId": towel.pk, "Amount": 5.0},
                {"BillingId": others.pk, "Amount": 5.0},
                {"BillingId": towel.pk + 1000, "Amount": 0.015},
            ],
        ),
    )

    assert response.status_code == 200
    written = WriteDown.objects.get()
    assert response.json() == {
        "ContactId": str(contact.guid),
        "Success": False,
        "ErrorMessage": "Some lines were not applied.",
        "BillingWriteDowns": [
            {
                "BillingId": fee.pk,
                "Balance": 50.0,
                "ProcessDate": None,
                "WriteDownDate": "2025-11-03T09:15:00.500000+00:00",
                "ErrorMessage": LineRefusal.OVER_BALANCE.value.format(
                    amount="60.00", balance="50.00", billing_id=fee.pk
                ),
            },
            {
                "BillingId": towel.pk,
                "Balance": 15.0,
                "ProcessDate": written.recorded_at.isoformat(),
                "WriteDownDate": "2025-11-03T09:15:00.500000+00:00",
                "ErrorMessage": None,
            },
            {
                "BillingId": others.pk,
                "Balance": 0.0,
                "ProcessDate": None,
                "WriteDownDate": "2025-11-03T09:15:00.500000+00:00",
                "ErrorMessage": f"Billing item {others.pk} was not found for this contact.",
            },
            {
                "BillingId": towel.pk + 1000,
                "Balance": 0.0,
                "ProcessDate": None,
                "WriteDownDate": "2025-11-03T09:15:00.500000+00:00",
                "ErrorMessage": f"Billing item {towel.pk + 1000} was not found for this contact.",
            },
        ],
    }
    assert response.json()["BillingWriteDowns"][0]["ErrorMessage"] == (
        f"The amount 60.00 is more than the balance 50.00 of billing item {fee.pk}."
    )
    assert (balance_of(fee), balance_of(towel), balance_of(others)) == (
        Decimal("50.00"),
        Decimal("15.00"),
        Decimal("50.00"),
    )
    assert (written.billing_item_id, written.amount, written.gl_account_id) == (
        towel.pk,
        Decimal("5.00"),
        None,
    )
    assert_ledger_clean()


def test_a_written_down_item_is_settled_for_payments_and_write_downs(finance, till, contact):
    fee = BillingItemFactory(contact=contact, total_amount=Decimal("50.00"))
    assert (
        post_write_downs(
            finance, write_down_body(contact, [{"BillingId": fee.pk, "Amount": 50.0}])
        ).json()["Success"]
        is True
    )

    again = post_write_downs(
        finance, write_down_body(contact, [{"BillingId": fee.pk, "Amount": 1}])
    )
    paid = Client().post(
        "/POS/BillingPayments",
        json.dumps(
            {
                "ContactId": str(contact.guid),
                "PaymentDate": "2025-11-04T10:00:00+00:00",
                "TenderTypeId": 1,
                "BillingPayments": [{"BillingId": fee.pk, "Amount": 1.0}],
            }
        ),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {till.credential.secret}",
    )

    settled = f"Billing item {fee.pk} is already settled."
    assert again.json()["BillingWriteDowns"][0]["ErrorMessage"] == settled
    assert paid.json()["BillingPayments"] == [
        {
            "BillingId": fee.pk,
            "Balance": 0.0,
            "ProcessDate": None,
            "PaymentDate": "2025-11-04T10:00:00+00:00",
            "ErrorMessage": settled,
        }
    ]
    assert WriteDown.objects.count() == 1
    assert not Payment.objects.exists()
    assert balance_of(fee) == Decimal("0.00")
    assert_ledger_clean()


@pytest.mark.parametrize("case", ["unknown-contact", "no-lines", "billing-id-twice"])
def test_a_write_down_global_failure_writes_nothing(finance, contact, case):
    fee = BillingItemFactory(contact=contact, total_amount=Decimal("50.00"))
    body = write_down_body(contact, [{"BillingId": fee.pk, "Amount": 5.0}])
    contact_id = contact.guid
    if case == "unknown-contact":
        contact_id = uuid.uuid4()
        body["ContactId"] = str(contact_id)
        message = f"Contact {contact_id} was not found."
    elif case == "no-lines":
        body["BillingWriteDowns"] = []
        message = "At least one billing line is required."
    else:
        body["BillingWriteDowns"] *= 2
        message = f"Billing item {fee.pk} appears more than once."

    response = post_write_downs(finance, body)

    assert response.status_code == 200
    assert response.json() == failure(contact_id, message, "BillingWriteDowns")
    assert not WriteDown.objects.exists()
    assert balance_of(fee) == Decimal("50.00")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Notes": None}, "Notes: This field is required."),
        ({"Notes": "   "}, "Notes: This field may not be blank."),
        ({"WriteDownDate": None}, "WriteDownDate: This field is required."),
        ({"WriteDownDate": "03/11/2025"}, "WriteDownDate: Datetime has wrong format. Use one of "
         "these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."),
        ({"WriteDownDate": "2025-11-03T09:15:00.5"},
         "WriteDownDate: Datetime must have an offset, e.g. +00:00 or Z."),
        ({"WriteDownDate": "9999-12-31T00:00:00+00:00"},
         "WriteDownDate: Datetime must not be more than 300 seconds in the future."),
        ({"BillingWriteDowns": None}, "BillingWriteDowns: This field is required."),
    ],
    ids=["no-notes", "blank-notes", "no-date", "bad-date", "date-without-offset",
         "date-in-the-future", "no-lines-field"],
)  # fmt: skip
def test_a_malformed_write_down_is_a_400(finance, contact, change, message):
    fee = BillingItemFactory(contact=contact, total_amount=Decimal("50.00"))
    body = write_down_body(contact, [{"BillingId": fee.pk, "Amount": 5.0}])
    for key, value in change.items():
        if value is None:
            del body[key]
        else:
            body[key] = value

    response = post_write_downs(finance, body)

    assert response.status_code == 400
    assert response.json() == failure(contact.guid, message, "BillingWriteDowns")
    assert not WriteDown.objects.exists()
    assert balance_of(fee) == Decimal("50.00")


def test_a_write_down_date_a_minute_ahead_is_within_the_clock_skew(finance, contact):
    fee = BillingItemFactory(contact=contact, total_amount=Decimal("50.00"))
    ahead = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(minutes=1)
    body = {**write_down_body(contact, [{"BillingId": fee.pk, "Amount": 5.0}])}
    body["WriteDownDate"] = ahead.isoformat()

    response = post_write_downs(finance, body)

    assert response.status_code == 200
    assert response.json()["Success"] is True
    assert response.json()["BillingWriteDowns"][0]["WriteDownDate"] == ahead.isoformat()
    assert WriteDown.objects.get().write_down_date == ahead
    assert balance_of(fee) == Decimal("45.00")


@pytest.mark.parametrize(
    "contact_id", [42, True, ["guid"], "guid-shaped-number"], ids=["42", "true", "list", "big"]
)
def test_a_write_down_contact_id_that_is_not_a_guid_string_is_a_400(finance, contact, contact_id):
    fee = BillingItemFactory(contact=contact, total_amount=Decimal("50.00"))
    body = write_down_body(contact, [{"BillingId": fee.pk, "Amount": 5.0}])
    if contact_id == "guid-shaped-number":
        contact_id = contact.guid.int
    body["ContactId"] = contact_id

    response = post_write_downs(finance, body)

    assert response.status_code == 400
    assert response.json() == failure(None, "ContactId: Must be a valid UUID.", "BillingWriteDowns")
    assert not WriteDown.objects.exists()
    assert balance_of(fee) == Decimal("50.00")


def test_a_malformed_write_down_line_is_a_400(finance, contact):
    fee = BillingItemFactory(contact=contact, total_amount=Decimal("50.00"))
    body = write_down_body(contact, [{"BillingId": fee.pk, "Amount": 5.0, "GLAccountId": "GL-1"}])

    response = post_write_downs(finance, body)

    assert response.status_code == 400
    assert response.json() == failure(
        contact.guid,
        "BillingWriteDowns[0].GLAccountId: A valid integer is required.",
        "BillingWriteDowns",
    )
    assert not WriteDown.objects.exists()


def test_a_billing_payment_key_may_not_write_down(till, contact):
    fee = BillingItemFactory(contact=contact, total_amount=Decimal("50.00"))

    response = post_write_downs(
        till, write_down_body(contact, [{"BillingId": fee.pk, "Amount": 5.0}])
    )

    assert response.status_code == 403
    assert response.json() == failure(contact.guid, NO_PERMISSION, "BillingWriteDowns")
    assert not WriteDown.objects.exists()
    assert balance_of(fee) == Decimal("50.00")


def test_an_administrator_elsewhere_may_not_write_down_here(till, contact):
    """The key is admin on another account, and only `billing_payment` on the contact's."""
    AccountRoleFactory(credential=till.credential, role=Role.ADMIN)
    fee = BillingItemFactory(contact=contact, total_amount=Decimal("50.00"))

    response = post_write_downs(
        till, write_down_body(contact, [{"BillingId": fee.pk, "Amount": 5.0}])
    )

    assert response.status_code == 403
    assert response.json() == failure(contact.guid, NO_PERMISSION_HERE, "BillingWriteDowns")
    assert not WriteDown.objects.exists()
    assert balance_of(fee) == Decimal("50.00")


def test_a_write_down_retry_with_the_same_key_is_replayed(finance, contact):
    fee = BillingItemFactory(contact=contact, total_amount=Decimal("50.00"))
    body = write_down_body(contact, [{"BillingId": fee.pk, "Amount": 7.5, "GLAccountId": 4010}])

    first = post_write_downs(finance, body, key="wd-1")
    retry = post_write_downs(finance, body, key="wd-1")
    reused = post_write_downs(finance, {**body, "Notes": "Another reason"}, key="wd-1")

    assert first.status_code == retry.status_code == 200
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    assert '"Balance":42.50,' in retry.content.decode()
    assert reused.status_code == 409
    assert reused.json() == failure(
        contact.guid,
        "The Idempotency-Key 'wd-1' was already used for a different request.",
        "BillingWriteDowns",
    )
    assert WriteDown.objects.count() == 1
    assert balance_of(fee) == Decimal("42.50")
    assert IdempotencyRecord.objects.get().status_code == 200
    assert_ledger_clean()
