"""Legend's `POST /POS/BillingPayments` (contract section 2.1, 2.2 and 3), over HTTP.

Requests are sent as raw JSON text, as a till would send them, so that amounts reach the server as
JSON numbers (`2.0`, `2.005`) and dates exactly as written. Responses are compared in full: keys
and their order, value types, amounts, dates, and the rows written.
"""

import datetime
import json
import re
import uuid
from decimal import Decimal

import pytest
from django.test import Client

from contacts.roles import Role
from invoices.models import BillingItem
from payments.actors import Channel
from payments.lines import LineRefusal
from payments.models import IdempotencyRecord, Payment, PaymentAllocation
from tests.factories import (
    AccountFactory,
    AccountRoleFactory,
    ApiCredentialFactory,
    BillingItemFactory,
    ContactFactory,
    TenderTypeFactory,
)

pytestmark = pytest.mark.django_db

URL = "/POS/BillingPayments"
# ISO 8601 in UTC with an explicit "+00:00" offset (the fraction is left out at a whole second).
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00:00$")
RESPONSE_KEYS = ["ContactId", "Success", "ErrorMessage", "BillingPayments"]
LINE_KEYS = ["BillingId", "Balance", "ProcessDate", "PaymentDate", "ErrorMessage"]
SOME_LINES_FAILED = "Some lines were not applied."
PAYMENT_DATE = "2025-11-02T17:38:19.788753+00:00"
PAYMENT_INSTANT = datetime.datetime(2025, 11, 2, 17, 38, 19, 788753, tzinfo=datetime.UTC)

# The seed's sample request, verbatim (seeds/001). It names BillingId 1 three times, although
# Legend's own description says "Make sure there is always one BillingId per request": the tests
# below substitute three different items of a real contact, and one test posts the repeated
# BillingId as it stands, which is a global failure.
SEED_SAMPLE = """{
"ContactId": "d533730b-3add-4da9-8385-cf1404196a2f",
"PaymentDate": "2025-11-02T17:38:19.788753+00:00",
"BillingPayments": [
{
"BillingId": 1,
"Amount": 2.0,
"ThirdPartyReference": "sample string 3",
"Notes": "sample string 4",
"AuthorizationCode": "sample string 5"
},
{
"BillingId": 1,
"Amount": 2.0,
"ThirdPartyReference": "sample string 3",
"Notes": "sample string 4",
"AuthorizationCode": "sample string 5"
},
{
"BillingId": 1,
"Amount": 2.0,
"ThirdPartyReference": "sample string 3",
"Notes": "sample string 4",
"AuthorizationCode": "sample string 5"
}
],
"TenderTypeId": 2
}"""
SEED_CONTACT_ID = "d533730b-3add-4da9-8385-cf1404196a2f"


@pytest.fixture
def till():
    """A till's key: the `billing_payment` role alone, on one account."""
    return AccountRoleFactory(role=Role.BILLING_PAYMENT)


@pytest.fixture
def contact(till):
    return ContactFactory(account=till.account)


@pytest.fixture
def items(contact):
    """Three of the contact's items, owing 10.00, 5.00 and 2.00."""
    return [
        BillingItemFactory(contact=contact, total_amount=Decimal(amount))
        for amount in ("10.00", "5.00", "2.00")
    ]


def post_raw(text, secret=None, key=None, client=None):
    headers = {}
    if secret is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return (client or Client()).post(URL, text, content_type="application/json", **headers)


def post(till, body, key=None):
    """POST `body` as JSON text (floats written as Python writes them: 2.005 stays 2.005)."""
    return post_raw(json.dumps(body), secret=till.credential.secret, key=key)


def seed_request(contact_id, billing_ids, payment_date=PAYMENT_DATE):
    """The seed's sample with the contact and each `"BillingId": 1` replaced, in order."""
    text = SEED_SAMPLE.replace(SEED_CONTACT_ID, str(contact_id))
    if billing_ids:
        ids = iter(billing_ids)
        text = re.sub(r'"BillingId": 1,', lambda _match: f'"BillingId": {next(ids)},', text)
    if payment_date != PAYMENT_DATE:
        text = text.replace(PAYMENT_DATE, payment_date)
    return text


def body_of(contact, lines, tender_type_id=2, payment_date=PAYMENT_DATE):
    return {
        "ContactId": str(contact.guid),
        "PaymentDate": payment_date,
        "TenderTypeId": tender_type_id,
        "BillingPayments": lines,
    }


def line(item_or_id, amount, **extra):
    billing_id = item_or_id if isinstance(item_or_id, int) else item_or_id.pk
    return {"BillingId": billing_id, "Amount": amount, **extra}


def balances(items):
    by_id = dict(
        BillingItem.objects.filter(pk__in=[i.pk for i in items]).values_list("pk", "balance")
    )
    return [by_id[item.pk] for item in items]


def failure(contact_id, message):
    return {
        "ContactId": None if contact_id is None else str(contact_id),
        "Success": False,
        "ErrorMessage": message,
        "BillingPayments": [],
    }


def assert_nothing_written():
    assert Payment.objects.count() == 0
    assert PaymentAllocation.objects.count() == 0


# --- The seed's sample ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payment_date",
    [
        "2025-11-02T17:38:19.788753+00:00",
        "2025-11-02T17:38:19.7887530+00:00",  # .NET's seven fractional digits
        "2025-11-02T19:38:19.788753+02:00",  # another offset, the same instant
    ],
    ids=["six-digits", "dotnet-seven-digits", "plus-two-hours"],
)
def test_the_seeds_sample_request_pays_three_items(till, contact, items, payment_date):
    text = seed_request(contact.guid, [item.pk for item in items], payment_date)
    assert '"Amount": 2.0,' in text  # a JSON number, as in the seed
    before = datetime.datetime.now(tz=datetime.UTC)

    response = post_raw(text, secret=till.credential.secret)

    after = datetime.datetime.now(tz=datetime.UTC)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    payment = Payment.objects.get()
    process_date = payment.processed_at.astimezone(datetime.UTC).isoformat()
    assert body == {
        "ContactId": str(contact.guid),
        "Success": True,
        "ErrorMessage": None,
        "BillingPayments": [
            {
                "BillingId": item.pk,
                "Balance": balance,
                "ProcessDate": process_date,
                "PaymentDate": "2025-11-02T17:38:19.788753+00:00",
                "ErrorMessage": None,
            }
            for item, balance in zip(items, (8.0, 3.0, 0.0), strict=True)
        ],
    }
    # Casing and order of the keys, as Legend's response model lists them.
    assert list(body) == RESPONSE_KEYS
    assert all(list(result) == LINE_KEYS for result in body["BillingPayments"])
    # Types: a GUID string, a bool, null, ints, JSON numbers with a fraction, ISO strings.
    assert isinstance(body["ContactId"], str)
    assert uuid.UUID(body["ContactId"]) == contact.guid
    assert body["Success"] is True
    for result in body["BillingPayments"]:
        assert type(result["BillingId"]) is int
        assert type(result["Balance"]) is float
        assert ISO_UTC.match(result["ProcessDate"])
        assert ISO_UTC.match(result["PaymentDate"])
        assert result["ErrorMessage"] is None
    text_out = response.content.decode()
    assert '"Balance":8.00,' in text_out
    assert '"Balance":3.00,' in text_out
    assert '"Balance":0.00,' in text_out
    assert '"8.00"' not in text_out
    # PaymentDate echoes the instant sent; ProcessDate is the server's time of applying.
    assert datetime.datetime.fromisoformat(body["BillingPayments"][0]["PaymentDate"]) == (
        PAYMENT_INSTANT
    )
    assert before <= datetime.datetime.fromisoformat(process_date) <= after

    assert balances(items) == [Decimal("8.00"), Decimal("3.00"), Decimal("0.00")]
    assert payment.amount == Decimal("6.00")
    assert payment.payment_date == PAYMENT_INSTANT
    assert payment.tender_type_id == 2
    assert list(
        payment.allocations.order_by("pk").values_list(
            "billing_item_id", "amount", "reference", "notes", "authorization_code"
        )
    ) == [
        (item.pk, Decimal("2.00"), "sample string 3", "sample string 4", "sample string 5")
        for item in items
    ]


def test_the_seeds_sample_as_it_stands_repeats_billing_id_1_and_is_a_global_failure(till, contact):
    """Only the contact is real; `"BillingId": 1` three times is refused as a whole (Legend:
    "always one BillingId per request"), before anything else about the items is looked at."""
    BillingItemFactory(id=1, contact=contact, total_amount=Decimal("10.00"))

    response = post_raw(seed_request(contact.guid, []), secret=till.credential.secret)

    assert response.status_code == 200
    assert response.json() == failure(contact.guid, "Billing item 1 appears more than once.")
    assert_nothing_written()
    assert BillingItem.objects.get(pk=1).balance == Decimal("10.00")


def test_the_seeds_sample_verbatim_names_an_unknown_contact(till):
    response = post_raw(SEED_SAMPLE, secret=till.credential.secret)

    assert response.status_code == 200
    assert response.json() == failure(SEED_CONTACT_ID, f"Contact {SEED_CONTACT_ID} was not found.")
    assert_nothing_written()


# --- Lines are independent --------------------------------------------------------------------


def test_mixed_lines_apply_the_good_ones_and_refuse_each_bad_one_with_its_reason(till, contact):
    def item(total, **kwargs):
        return BillingItemFactory(contact=contact, total_amount=Decimal(total), **kwargs)

    paid_in_part = item("50.00")
    paid_in_full = item("30.00")
    zero, negative, over, too_precise, code_at_limit = (
        item(total) for total in ("20.00", "20.00", "50.00", "20.00", "20.00")
    )
    settled = item("20.00", balance=Decimal("0.00"))
    others_item = BillingItemFactory(
        contact=ContactFactory(account=till.account), total_amount=Decimal("20.00")
    )
    unknown_id = others_item.pk + 1000
    code_100 = "A" * 100  # at the limit; a longer one is a malformed request (a 400, below)
    body = body_of(
        contact,
        [
            line(
                paid_in_part, 10.0, ThirdPartyReference="till-1", Notes="n1", AuthorizationCode="A1"
            ),
            line(unknown_id, 5.0),
            line(others_item, 5.0),
            line(paid_in_full, 30),
            line(zero, 0),
            line(negative, -5.0),
            line(over, 60.0),
            line(too_precise, 2.005),
            line(settled, 5.0),
            line(code_at_limit, 5.0, ThirdPartyReference="till-3", AuthorizationCode=code_100),
        ],
    )
    text = json.dumps(body)
    assert '"Amount": 2.005' in text  # sent as a JSON number, three places

    response = post_raw(text, secret=till.credential.secret)

    assert response.status_code == 200
    payment = Payment.objects.get()
    processed = payment.processed_at.isoformat()

    def applied(item, balance):
        return {
            "BillingId": item.pk,
            "Balance": balance,
            "ProcessDate": processed,
            "PaymentDate": PAYMENT_DATE,
            "ErrorMessage": None,
        }

    def refused(billing_id, shown_balance, refusal, **values):
        return {
            "BillingId": billing_id,
            "Balance": shown_balance,
            "ProcessDate": None,
            "PaymentDate": PAYMENT_DATE,
            "ErrorMessage": refusal.value.format(billing_id=billing_id, **values),
        }

    assert response.json() == {
        "ContactId": str(contact.guid),
        "Success": False,
        "ErrorMessage": SOME_LINES_FAILED,
        "BillingPayments": [
            applied(paid_in_part, 40.0),
            refused(unknown_id, 0.0, LineRefusal.NOT_FOUND),
            refused(others_item.pk, 0.0, LineRefusal.NOT_FOUND),
            applied(paid_in_full, 0.0),
            refused(zero.pk, 20.0, LineRefusal.AMOUNT_NOT_POSITIVE),
            refused(negative.pk, 20.0, LineRefusal.AMOUNT_NOT_POSITIVE),
            refused(over.pk, 50.0, LineRefusal.OVER_BALANCE, amount="60.00", balance="50.00"),
            refused(too_precise.pk, 20.0, LineRefusal.AMOUNT_TOO_PRECISE),
            refused(settled.pk, 0.0, LineRefusal.ALREADY_SETTLED),
            applied(code_at_limit, 15.0),
        ],
    }
    # The messages as a partner reads them.
    results = response.json()["BillingPayments"]
    assert (
        results[1]["ErrorMessage"] == f"Billing item {unknown_id} was not found for this contact."
    )
    assert results[2]["ErrorMessage"] == (
        f"Billing item {others_item.pk} was not found for this contact."
    )
    assert results[4]["ErrorMessage"] == "The amount must be greater than zero."
    assert results[6]["ErrorMessage"] == (
        f"The amount 60.00 is more than the balance 50.00 of billing item {over.pk}."
    )
    assert results[7]["ErrorMessage"] == "The amount must have at most two decimal places."
    assert results[8]["ErrorMessage"] == f"Billing item {settled.pk} is already settled."

    # Balances as stored, re-read.
    everything = [paid_in_part, paid_in_full, zero, negative, over, too_precise]
    everything += [settled, code_at_limit, others_item]
    assert balances(everything) == [
        Decimal(amount)
        for amount in (
            "40.00", "0.00", "20.00", "20.00", "50.00", "20.00", "0.00", "15.00", "20.00"
        )
    ]  # fmt: skip

    # One payment, holding the applied lines only, with each line's reference fields.
    assert payment.amount == Decimal("45.00")
    assert payment.account == till.account
    assert payment.contact == contact
    assert payment.currency == till.account.currency
    assert payment.tender_type_id == 2
    assert payment.payment_date == PAYMENT_INSTANT
    assert payment.channel == Channel.LEGEND_API
    assert payment.recorded_by_credential == till.credential
    assert payment.recorded_by_user is None
    assert (payment.reference, payment.notes, payment.authorization_code) == ("", "", "")
    assert list(
        payment.allocations.order_by("pk").values_list(
            "billing_item_id", "invoice_id", "amount", "reference", "notes", "authorization_code"
        )
    ) == [
        (paid_in_part.pk, None, Decimal("10.00"), "till-1", "n1", "A1"),
        (paid_in_full.pk, None, Decimal("30.00"), "", "", ""),
        (code_at_limit.pk, None, Decimal("5.00"), "till-3", "", code_100),
    ]


def test_a_request_whose_lines_all_fail_writes_no_payment(till, contact, items):
    response = post(till, body_of(contact, [line(items[0], 11.0), line(items[1], 0.001)]))

    assert response.status_code == 200
    assert response.json() == {
        "ContactId": str(contact.guid),
        "Success": False,
        "ErrorMessage": SOME_LINES_FAILED,
        "BillingPayments": [
            {
                "BillingId": items[0].pk,
                "Balance": 10.0,
                "ProcessDate": None,
                "PaymentDate": PAYMENT_DATE,
                "ErrorMessage": "The amount 11.00 is more than the balance 10.00 "
                f"of billing item {items[0].pk}.",
            },
            {
                "BillingId": items[1].pk,
                "Balance": 5.0,
                "ProcessDate": None,
                "PaymentDate": PAYMENT_DATE,
                "ErrorMessage": "The amount must have at most two decimal places.",
            },
        ],
    }
    assert_nothing_written()
    assert balances(items) == [Decimal("10.00"), Decimal("5.00"), Decimal("2.00")]


def test_optional_line_fields_may_be_null_or_left_out(till, contact, items):
    response = post(
        till,
        body_of(
            contact,
            [
                line(items[0], 1.5, ThirdPartyReference=None, Notes=None, AuthorizationCode=None),
                line(items[1], "2.50"),  # a numeric string is taken too
            ],
        ),
    )

    assert response.status_code == 200
    assert response.json()["Success"] is True
    assert [r["Balance"] for r in response.json()["BillingPayments"]] == [8.5, 2.5]
    assert list(
        PaymentAllocation.objects.order_by("pk").values_list(
            "amount", "reference", "notes", "authorization_code"
        )
    ) == [(Decimal("1.50"), "", "", ""), (Decimal("2.50"), "", "", "")]


def test_trailing_zeros_are_the_same_amount_and_sub_cent_precision_is_refused(till, contact):
    """`1.000` (.NET's decimal at scale 3) and "5117.000" are 1.00 and 5117.00; 1.005 is refused,
    never rounded, as a JSON number and as a string."""
    items = [
        BillingItemFactory(contact=contact, total_amount=Decimal(total))
        for total in ("10.00", "6000.00", "10.00", "10.00", "10.00")
    ]
    amounts = ["1.000", '"5117.000"', "2.50", "1.005", '"1.005"']
    lines = ", ".join(
        f'{{"BillingId": {item.pk}, "Amount": {amount}}}'
        for item, amount in zip(items, amounts, strict=True)
    )
    text = json.dumps(body_of(contact, [])).replace('"BillingPayments": []', "")
    text = text.rstrip("}").rstrip(", ") + f', "BillingPayments": [{lines}]}}'
    assert '"Amount": 1.000}' in text  # exactly as written
    assert '"Amount": 1.005}' in text

    response = post_raw(text, secret=till.credential.secret)

    assert response.status_code == 200
    payment = Payment.objects.get()
    processed = payment.processed_at.isoformat()
    too_precise = "The amount must have at most two decimal places."
    assert response.json() == {
        "ContactId": str(contact.guid),
        "Success": False,
        "ErrorMessage": SOME_LINES_FAILED,
        "BillingPayments": [
            {"BillingId": item.pk, "Balance": balance, "ProcessDate": processed if ok else None,
             "PaymentDate": PAYMENT_DATE, "ErrorMessage": None if ok else too_precise}
            for item, balance, ok in zip(
                items, [9.0, 883.0, 7.5, 10.0, 10.0], [True, True, True, False, False],
                strict=True,
            )
        ],
    }  # fmt: skip
    assert '"Balance":883.00,' in response.content.decode()  # two places on the wire
    assert payment.amount == Decimal("5120.50")
    assert list(payment.allocations.order_by("pk").values_list("billing_item_id", "amount")) == [
        (items[0].pk, Decimal("1.00")),
        (items[1].pk, Decimal("5117.00")),
        (items[2].pk, Decimal("2.50")),
    ]
    assert balances(items) == [Decimal(b) for b in ("9.00", "883.00", "7.50", "10.00", "10.00")]


@pytest.mark.parametrize(
    "payment_date",
    ["2025-11-02T17:38:19Z", "2025-11-02T12:38:19-05:00", "now+4min", "now"],
    ids=["zulu", "minus-five-hours", "within-the-clock-skew", "now"],
)
def test_a_payment_date_with_an_offset_up_to_the_clock_skew_is_accepted(
    till, contact, items, payment_date
):
    if payment_date.startswith("now"):
        payment_date = from_now(minutes=4 if payment_date == "now+4min" else 0)
    expected = datetime.datetime.fromisoformat(payment_date).astimezone(datetime.UTC)

    response = post(till, body_of(contact, [line(items[0], 2.0)], payment_date=payment_date))

    assert response.status_code == 200
    result = response.json()
    assert result["Success"] is True
    assert result["BillingPayments"][0]["PaymentDate"] == expected.isoformat()
    assert Payment.objects.get().payment_date == expected


# --- Global failures: nothing applied -----------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        "unknown-contact",
        "unknown-tender",
        "inactive-tender",
        "no-lines",
        "billing-id-twice",
        "blocked",
    ],
)
def test_a_global_failure_applies_no_line(till, contact, items, case):
    TenderTypeFactory(id=50, name="Retired voucher", is_active=False)
    lines = [line(items[0], 2.0), line(items[1], 2.0)]
    body = body_of(contact, lines)
    contact_id = str(contact.guid)
    if case == "unknown-contact":
        contact_id = str(uuid.uuid4())
        body["ContactId"] = contact_id
        message = f"Contact {contact_id} was not found."
    elif case == "unknown-tender":
        body["TenderTypeId"] = 999
        message = "Tender type 999 is unknown or inactive."
    elif case == "inactive-tender":
        body["TenderTypeId"] = 50
        message = "Tender type 50 is unknown or inactive."
    elif case == "no-lines":
        body["BillingPayments"] = []
        message = "At least one billing line is required."
    elif case == "billing-id-twice":
        body["BillingPayments"] = [*lines, line(items[2], 1.0), line(items[0], 1.0)]
        message = f"Billing item {items[0].pk} appears more than once."
    else:
        till.account.api_payments_blocked = True
        till.account.save(update_fields=["api_payments_blocked"])
        message = f"Payments over the API are not allowed for account {till.account.number}."

    response = post(till, body)

    assert response.status_code == 200
    assert response.json() == failure(contact_id, message)
    assert list(response.json()) == RESPONSE_KEYS
    assert_nothing_written()
    assert balances(items) == [Decimal("10.00"), Decimal("5.00"), Decimal("2.00")]


# --- Malformed requests: 400 ----------------------------------------------------------------------


def _without(mapping, key):
    return {k: v for k, v in mapping.items() if k != key}


MALFORMED = {
    # id: (a function of the valid body returning the raw text, message, ContactId echoed)
    "not-json": (lambda b: "{", "The request body is not valid JSON: Expecting property name "
                 "enclosed in double quotes: line 1 column 2 (char 1)", False),
    "truncated": (lambda b: json.dumps(b)[:-2], None, False),
    "nan-amount": (lambda b: json.dumps(b).replace('"Amount": 2.0', '"Amount": NaN', 1),
                   "The request body is not valid JSON: NaN is not valid JSON", False),
    "empty-body": (lambda b: "", "ContactId: This field is required.", False),
    "a-list": (lambda b: json.dumps([b]), "Invalid data. Expected a dictionary, but got list.",
               False),
    "contact-not-a-guid": (lambda b: json.dumps({**b, "ContactId": "12345"}),
                           "ContactId: Must be a valid UUID.", False),
    "no-contact": (lambda b: json.dumps(_without(b, "ContactId")),
                   "ContactId: This field is required.", False),
    "date-yesterday": (lambda b: json.dumps({**b, "PaymentDate": "yesterday"}),
                       "PaymentDate: Datetime has wrong format. Use one of these formats instead: "
                       "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].", True),
    "no-date": (lambda b: json.dumps(_without(b, "PaymentDate")),
                "PaymentDate: This field is required.", True),
    "tender-two": (lambda b: json.dumps({**b, "TenderTypeId": "two"}),
                   "TenderTypeId: A valid integer is required.", True),
    "no-tender": (lambda b: json.dumps(_without(b, "TenderTypeId")),
                  "TenderTypeId: This field is required.", True),
    "no-lines-field": (lambda b: json.dumps(_without(b, "BillingPayments")),
                       "BillingPayments: This field is required.", True),
    "lines-not-a-list": (lambda b: json.dumps({**b, "BillingPayments": "x"}),
                         'BillingPayments: Expected a list of items but got type "str".', True),
    "amount-abc": (lambda b: json.dumps(b).replace('"Amount": 2.0', '"Amount": "abc"', 1),
                   "BillingPayments[0].Amount: A number is required.", True),
    "amount-true": (lambda b: json.dumps(b).replace('"Amount": 3.0', '"Amount": true', 1),
                    "BillingPayments[1].Amount: A number is required.", True),
    "amount-missing": (lambda b: json.dumps(b).replace(', "Amount": 3.0', "", 1),
                       "BillingPayments[1].Amount: This field is required.", True),
    "billing-id-x": (lambda b: json.dumps(b).replace('"BillingId": ', '"BillingId": "x", "_": ', 1),
                     "BillingPayments[0].BillingId: A valid integer is required.", True),
    "reference-too-long": (lambda b: json.dumps(b).replace('"Amount": 3.0', '"Amount": 3.0, '
                                                           f'"ThirdPartyReference": "{"r" * 201}"'),
                           "BillingPayments[1].ThirdPartyReference: Ensure this field has no "
                           "more than 200 characters.", True),
    "notes-too-long": (lambda b: json.dumps(b).replace('"Amount": 3.0', '"Amount": 3.0, '
                                                       f'"Notes": "{"n" * 2001}"'),
                       "BillingPayments[1].Notes: Ensure this field has no more than 2000 "
                       "characters.", True),
    "authorization-code-too-long": (lambda b: json.dumps(b).replace(
                                        '"Amount": 3.0',
                                        f'"Amount": 3.0, "AuthorizationCode": "{"c" * 101}"'),
                                    "BillingPayments[1].AuthorizationCode: Ensure this field has "
                                    "no more than 100 characters.", True),
    # A GUID is a JSON string: DRF would take a number (even true) as UUID(int=...).
    "contact-a-number": (lambda b: json.dumps({**b, "ContactId": 42}),
                         "ContactId: Must be a valid UUID.", False),
    "contact-guid-shaped-number": (lambda b: json.dumps({**b, "ContactId": guid_as_int(b)}),
                                   "ContactId: Must be a valid UUID.", False),
    "contact-true": (lambda b: json.dumps({**b, "ContactId": True}),
                     "ContactId: Must be a valid UUID.", False),
    "contact-a-list": (lambda b: json.dumps({**b, "ContactId": [b["ContactId"]]}),
                       "ContactId: Must be a valid UUID.", False),
    "contact-null": (lambda b: json.dumps({**b, "ContactId": None}),
                     "ContactId: This field may not be null.", False),
    "date-without-offset": (lambda b: json.dumps({**b, "PaymentDate": "2025-11-02T17:38:19.7"}),
                            "PaymentDate: Datetime must have an offset, e.g. +00:00 or Z.", True),
    "date-only": (lambda b: json.dumps({**b, "PaymentDate": "2025-11-02"}),
                  "PaymentDate: Datetime must have an offset, e.g. +00:00 or Z.", True),
    "date-in-the-future": (lambda b: json.dumps({**b, "PaymentDate": from_now(minutes=6)}),
                           "PaymentDate: Datetime must not be more than 300 seconds in the "
                           "future.", True),
    "date-far-in-the-future": (lambda b: json.dumps({**b, "PaymentDate": "9999-12-31T23:59Z"}),
                               "PaymentDate: Datetime must not be more than 300 seconds in the "
                               "future.", True),
}  # fmt: skip


def guid_as_int(body):
    """The body's ContactId as the JSON number holding the same 128 bits."""
    return uuid.UUID(body["ContactId"]).int


def from_now(**delta):
    """Now plus `delta`, as a till in UTC+2 writes it (the offset must not matter)."""
    moment = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(**delta)
    return moment.astimezone(datetime.timezone(datetime.timedelta(hours=2))).isoformat()


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_request_is_a_400_in_legends_shape(till, contact, items, case):
    make_text, message, echoes_contact = MALFORMED[case]
    body = body_of(contact, [line(items[0], 2.0), line(items[1], 3.0)])
    text = make_text(body)

    response = post_raw(text, secret=till.credential.secret)

    assert response.status_code == 400
    result = response.json()
    assert list(result) == RESPONSE_KEYS
    if message is None:  # the parser's own wording about where the JSON stops
        assert result["ErrorMessage"].startswith("The request body is not valid JSON: ")
        message = result["ErrorMessage"]
    assert result == failure(contact.guid if echoes_contact else None, message)
    assert_nothing_written()
    assert balances(items) == [Decimal("10.00"), Decimal("5.00"), Decimal("2.00")]


def test_a_body_that_is_not_json_content_is_refused(till, contact, items):
    response = Client().post(
        URL,
        json.dumps(body_of(contact, [line(items[0], 2.0)])),
        content_type="text/plain",
        HTTP_AUTHORIZATION=f"Bearer {till.credential.secret}",
    )

    assert response.status_code == 415
    assert response.json() == failure(None, 'Unsupported media type "text/plain" in request.')
    assert_nothing_written()


def test_get_is_not_allowed_on_billing_payments(till):
    response = Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {till.credential.secret}")

    assert response.status_code == 405
    assert response.json() == failure(None, 'Method "GET" not allowed.')


# --- Who may call: 401, 403 --------------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, "not-a-key", "revoked"])
def test_without_a_valid_key_the_answer_is_401(till, contact, items, secret):
    if secret == "revoked":
        till.credential.revoked_at = datetime.datetime.now(tz=datetime.UTC)
        till.credential.save(update_fields=["revoked_at"])
        secret = till.credential.secret
    message = (
        "Authentication credentials were not provided."
        if secret is None
        else "The API key is not valid or has been revoked."
    )

    response = post_raw(json.dumps(body_of(contact, [line(items[0], 2.0)])), secret=secret)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    # The ContactId the caller sent is echoed (it is their own input; nothing is looked up).
    assert response.json() == failure(contact.guid, message)
    assert_nothing_written()
    assert balances(items) == [Decimal("10.00"), Decimal("5.00"), Decimal("2.00")]


def test_a_key_with_no_role_carrying_the_permission_gets_403(contact, items):
    keyless = ApiCredentialFactory()  # a credential with no role on any account

    response = post_raw(json.dumps(body_of(contact, [line(items[0], 2.0)])), secret=keyless.secret)

    assert response.status_code == 403
    assert response.json() == failure(
        contact.guid, "The API key does not have the permission this operation needs."
    )
    assert_nothing_written()


@pytest.mark.parametrize("role", [Role.BILLING_PAYMENT, Role.ADMIN])
def test_a_contact_in_an_account_the_key_does_not_hold_is_answered_as_an_unknown_one(role):
    """Same status, same body as a GUID that exists nowhere: no probing for contacts."""
    key = AccountRoleFactory(role=role)  # the permission, but on another account
    stranger = ContactFactory(account=AccountFactory())
    item = BillingItemFactory(contact=stranger, total_amount=Decimal("10.00"))
    nobody = uuid.uuid4()

    response = post(key, body_of(stranger, [line(item, 2.0)]))
    unknown = post(key, {**body_of(stranger, [line(item, 2.0)]), "ContactId": str(nobody)})

    assert response.status_code == unknown.status_code == 200
    assert response.json() == failure(stranger.guid, f"Contact {stranger.guid} was not found.")
    assert unknown.json() == failure(nobody, f"Contact {nobody} was not found.")
    assert_nothing_written()
    assert balances([item]) == [Decimal("10.00")]


def test_a_key_holding_the_role_on_the_contacts_account_among_others_may_pay(contact, items):
    key = AccountRoleFactory(role=Role.BILLING_PAYMENT)  # another account first
    AccountRoleFactory(credential=key.credential, account=contact.account, role=Role.ADMIN)

    response = post(key, body_of(contact, [line(items[0], 2.0)]))

    assert response.status_code == 200
    assert response.json()["Success"] is True
    assert Payment.objects.get().recorded_by_credential == key.credential


# --- Cost: a fixed number of queries --------------------------------------------------------


def test_a_hundred_lines_cost_no_more_queries_than_one(
    till, contact, django_assert_num_queries, django_assert_max_num_queries
):
    one = BillingItemFactory(contact=contact, total_amount=Decimal("10.00"))
    hundred = [
        BillingItemFactory(contact=contact, total_amount=Decimal("10.00")) for _ in range(100)
    ]
    client = Client()
    secret = till.credential.secret

    # The request's transaction (a savepoint and its release here, inside the test's transaction:
    # 2). Authenticate with the key's roles (1) and stamp its first use (1); the permission checks
    # read the roles authentication brought; the contact with its account locked and the tender
    # type read (1), lock items (1), the payment with its allocations and the balances (1), its
    # event (1).
    with django_assert_num_queries(8) as small:
        response = post_raw(
            json.dumps(body_of(contact, [line(one, 1.0)])), secret=secret, client=client
        )
    assert response.status_code == 200
    assert response.json()["Success"] is True

    with django_assert_max_num_queries(len(small.captured_queries)):
        response = post_raw(
            json.dumps(body_of(contact, [line(item, 1.0) for item in hundred])),
            secret=secret,
            client=client,
        )
    assert response.status_code == 200
    assert response.json()["Success"] is True
    assert len(response.json()["BillingPayments"]) == 100
    assert PaymentAllocation.objects.count() == 101
    assert set(balances(hundred)) == {Decimal("9.00")}


# --- Idempotency-Key ---------------------------------------------------------------------------


def test_a_retry_with_the_same_key_replays_the_response_byte_for_byte(till, contact, items):
    text = seed_request(contact.guid, [item.pk for item in items])

    first = post_raw(text, secret=till.credential.secret, key="till-7-sale-1")
    retry = post_raw(text, secret=till.credential.secret, key="till-7-sale-1")

    assert first.status_code == retry.status_code == 200
    assert "Idempotent-Replayed" not in first.headers
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    assert '"Balance":8.00,' in retry.content.decode()
    assert type(retry.json()["BillingPayments"][0]["Balance"]) is float
    assert retry.json()["Success"] is True
    assert Payment.objects.count() == 1
    assert PaymentAllocation.objects.count() == 3
    assert balances(items) == [Decimal("8.00"), Decimal("3.00"), Decimal("0.00")]
    assert list(
        IdempotencyRecord.objects.values_list("key", "credential_id", "user_id", "status_code")
    ) == [("till-7-sale-1", till.credential.pk, None, 200)]


def test_a_partly_applied_request_is_replayed_not_run_again(till, contact, items):
    body = body_of(contact, [line(items[0], 4.0), line(items[1], 6.0)])

    first = post(till, body, key="k-partial")
    retry = post(till, body, key="k-partial")

    assert first.json()["Success"] is False
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1
    assert balances(items) == [Decimal("6.00"), Decimal("5.00"), Decimal("2.00")]


def test_a_global_failure_is_replayed_too(till, contact, items):
    body = body_of(contact, [line(items[0], 4.0)], tender_type_id=999)

    first = post(till, body, key="k-fail")
    TenderTypeFactory(id=999, name="Now configured")
    retry = post(till, body, key="k-fail")

    assert first.status_code == retry.status_code == 200
    assert retry.content == first.content
    assert retry.json() == failure(contact.guid, "Tender type 999 is unknown or inactive.")
    assert_nothing_written()


def test_the_same_key_with_another_body_is_a_409_in_legends_shape(till, contact, items):
    first = post(till, body_of(contact, [line(items[0], 2.0)]), key="k1")
    assert first.status_code == 200

    reused = post(till, body_of(contact, [line(items[0], 3.0)]), key="k1")

    assert reused.status_code == 409
    assert "Idempotent-Replayed" not in reused.headers
    assert reused.json() == failure(
        contact.guid, "The Idempotency-Key 'k1' was already used for a different request."
    )
    assert Payment.objects.count() == 1
    assert balances(items) == [Decimal("8.00"), Decimal("5.00"), Decimal("2.00")]


def test_keys_belong_to_their_credential(till, contact, items):
    second = AccountRoleFactory(account=till.account, role=Role.BILLING_PAYMENT)
    body = body_of(contact, [line(items[0], 2.0)])

    first = post(till, body, key="shared")
    other = post(second, body, key="shared")

    assert first.status_code == other.status_code == 200
    assert "Idempotent-Replayed" not in other.headers
    assert Payment.objects.count() == 2
    assert balances(items) == [Decimal("6.00"), Decimal("5.00"), Decimal("2.00")]


def test_an_invalid_key_is_a_400_in_legends_shape(till, contact, items):
    response = post(till, body_of(contact, [line(items[0], 2.0)]), key="k" * 256)

    assert response.status_code == 400
    assert response.json() == failure(
        contact.guid, "The Idempotency-Key header must be 1 to 255 printable ASCII characters."
    )
    assert_nothing_written()


# --- Bugs: these fail until fixed (see the report) -----------------------------------------------


def test_large_balances_keep_every_cent_as_json_numbers(till, contact):
    """Amounts are `Decimal` end to end (contract 3): 99999999999999.99 (within MoneyField's 19
    digits) would come out of a float as 99999999999999.98."""
    item = BillingItemFactory(contact=contact, total_amount=Decimal("100000000000000.00"))

    response = post(till, body_of(contact, [line(item, 0.01)]))

    assert response.status_code == 200
    assert balances([item]) == [Decimal("99999999999999.99")]
    exact = json.loads(response.content, parse_float=Decimal)
    assert exact["BillingPayments"][0]["Balance"] == Decimal("99999999999999.99")


@pytest.mark.parametrize(
    ("content_type", "prefix"),
    [("text/json", b""), ("application/json; charset=utf-8", b"\xef\xbb\xbf")],
    ids=["text-json", "byte-order-mark"],
)
def test_dotnet_clients_text_json_and_byte_order_mark_are_accepted(
    till, contact, content_type, prefix
):
    item = BillingItemFactory(contact=contact, total_amount=Decimal("10.00"))
    text = prefix + json.dumps(body_of(contact, [line(item, 4.0)])).encode()

    response = Client().post(
        URL, text, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {till.credential.secret}"
    )

    assert response.status_code == 200
    assert response.json()["Success"] is True
    assert balances([item]) == [Decimal("6.00")]


@pytest.mark.parametrize(
    "path", ["/pos/billingpayments", "/POS/billingPayments", "/Pos/BILLINGPAYMENTS"]
)
def test_the_path_is_case_insensitive_as_on_aspnet(till, contact, path):
    item = BillingItemFactory(contact=contact, total_amount=Decimal("10.00"))

    response = Client().post(
        path,
        json.dumps(body_of(contact, [line(item, 4.0)])),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {till.credential.secret}",
    )

    assert response.status_code == 200
    assert response.json()["Success"] is True
    assert balances([item]) == [Decimal("6.00")]
