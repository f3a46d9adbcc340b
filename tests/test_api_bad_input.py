"""Bad input is a 4xx in each API's own error shape, never a 500, and a refused request writes
nothing.

Each class found by hand was a 500 on every surface (both DocuSign mounts, Legend's /POS/):
format characters in a date parameter, a well-formed but crafted paging cursor, JSON nested about
a thousand levels deep, a body of a few megabytes. The fixes live in the shared plumbing
(billing_site/api/: dates, pagination, parsers, limits, errors), so every endpoint has them.
"""

import base64
import io
import json
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client

from invoices.models import BillingItem, Invoice
from payments.models import IdempotencyRecord, Payment, PaymentAllocation, Reversal, WriteDown
from tests.factories import (
    AccountRoleFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    InvoiceItemFactory,
    PaymentFactory,
    days_ago,
)

pytestmark = pytest.mark.django_db

DOCUSIGN = {"restapi": "/restapi/v2.1/accounts", "seed": "/v2.1/accounts"}
SEED_CODES = {400: "VALIDATION_ERROR", 411: "LENGTH_REQUIRED", 413: "PAYLOAD_TOO_LARGE"}
LEGEND_POSTS = {
    "/POS/BillingPayments": "BillingPayments",
    "/POS/BillingWriteDowns": "BillingWriteDowns",
}
# Every POST of both APIs: (surface, path suffix or Legend path).
POSTS = [("restapi", "billing_payments"), ("seed", "billing_payments")] + [
    ("legend", path) for path in LEGEND_POSTS
]
LISTS = [(mount, path) for mount in DOCUSIGN for path in ("billing_payments", "billing_invoices")]
TOO_DEEP = "The request body is nested too deeply (at most 32 levels)."
TOO_LARGE = "The request body is larger than 1048576 bytes, the limit."


@pytest.fixture
def world(role):
    """An account administrator's key (conftest's `role`) on an account owing 30.00 and 70.00
    past due, with a contact owing 50.00 on a billing item, and a payment to page through."""
    for days, amount in ((20, "30.00"), (10, "70.00")):
        invoice = InvoiceFactory(
            account=role.account, due_date=days_ago(days), amount=Decimal(amount)
        )
        InvoiceItemFactory(invoice=invoice, unit_price=Decimal(amount))
    contact = ContactFactory(account=role.account)
    item = BillingItemFactory(contact=contact)
    PaymentFactory(account=role.account)
    return {"role": role, "contact": contact, "item": item}


def auth(role) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {role.credential.secret}"}


def address(surface: str, path: str, account) -> str:
    return path if surface == "legend" else f"{DOCUSIGN[surface]}/{account.number}/{path}"


def post_text(surface, path, world, text, **extra):
    return Client().post(
        address(surface, path, world["role"].account),
        text,
        content_type="application/json",
        **auth(world["role"]),
        **extra,
    )


def refused(surface: str, path: str, response, status: int, code: str | None = None) -> str:
    """Check the API's own error shape and status; return its message. `code` is the /restapi
    errorCode (also the seed mount's details.errorCode); Legend has none."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    if surface == "legend":
        lines_key = LEGEND_POSTS.get(path, "Billings")
        assert list(body) == ["ContactId", "Success", "ErrorMessage", lines_key], body
        assert body["Success"] is False
        assert body[lines_key] == []
        return body["ErrorMessage"]
    if surface == "restapi":
        assert set(body) == {"errorCode", "message"}, body
        assert body["errorCode"] == code
        return body["message"]
    assert set(body) == {"success", "error"}, body
    assert body["success"] is False
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == SEED_CODES[status]
    assert body["error"]["details"]["errorCode"] == code
    return body["error"]["message"]


def ledger_state() -> dict:
    """Row counts of every money table, and every stored balance."""
    return {
        "counts": [
            model.objects.count()
            for model in (Payment, PaymentAllocation, Reversal, WriteDown, IdempotencyRecord)
        ],
        "invoices": list(Invoice.objects.order_by("pk").values_list("pk", "balance", "status")),
        "items": list(BillingItem.objects.order_by("pk").values_list("pk", "balance")),
    }


def cursor(querystring: str) -> str:
    return base64.b64encode(querystring.encode()).decode()


# 1. Format characters in the date parameters.

FORMAT_TEXTS = ["%", "%25", "%(x)s", "%s%s%n", "100%d"]


@pytest.mark.parametrize(("mount", "path"), LISTS)
def test_format_characters_in_a_date_are_a_400(world, mount, path):
    url = address(mount, path, world["role"].account)
    for name in ("from_date", "to_date"):
        for text in FORMAT_TEXTS:
            response = Client().get(url, {name: text}, **auth(world["role"]))
            message = refused(mount, path, response, 400, "INVALID_REQUEST_PARAMETER")
            assert message == (
                f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 datetime, not {text!r}."
            )
        # Unencoded, as typed in a browser's address bar: `?from_date=%` reaches the server as-is.
        response = Client().get(f"{url}?{name}=%", **auth(world["role"]))
        refused(mount, path, response, 400, "INVALID_REQUEST_PARAMETER")


def test_format_characters_in_legend_dates_and_queries_are_a_400(world):
    contact = str(world["contact"].guid)
    for text in FORMAT_TEXTS:
        body = {
            "ContactId": contact,
            "PaymentDate": text,
            "TenderTypeId": 3,
            "BillingPayments": [{"BillingId": world["item"].pk, "Amount": 1}],
        }
        response = post_text("legend", "/POS/BillingPayments", world, json.dumps(body))
        assert refused("legend", "/POS/BillingPayments", response, 400).startswith(
            "PaymentDate: Datetime has wrong format."
        )
        body = {"ContactId": contact, "WriteDownDate": text, "Notes": "x", "BillingWriteDowns": []}
        response = post_text("legend", "/POS/BillingWriteDowns", world, json.dumps(body))
        assert refused("legend", "/POS/BillingWriteDowns", response, 400).startswith(
            "WriteDownDate: Datetime has wrong format."
        )
        response = Client().get(
            "/POS/Billings", {"ContactId": text, "OutstandingOnly": text}, **auth(world["role"])
        )
        assert refused("legend", "/POS/Billings", response, 400) == (
            "ContactId: Must be a valid UUID."
        )


# 2. A crafted paging cursor: valid base64 of a querystring DRF does not check.

CRAFTED_CURSORS = [
    "p=abc",
    "p=\x00",
    "p=1\x00",
    "p=1e400",
    "p=-1",
    "p=+1",
    "p= 1",
    "p=\u0663",  # an Arabic-Indic digit: str.isdigit(), but not a primary key
    f"p={2**63}",  # one past PostgreSQL's bigint
    "p=" + "9" * 5000,  # more digits than int() converts
    "r=x&p=1",
    "o=x",
    "o=-5",
]


@pytest.mark.parametrize(("mount", "path"), LISTS)
def test_a_crafted_cursor_is_a_400(world, mount, path):
    url = address(mount, path, world["role"].account)
    for querystring in CRAFTED_CURSORS:
        response = Client().get(url, {"cursor": cursor(querystring)}, **auth(world["role"]))
        message = refused(mount, path, response, 400, "INVALID_REQUEST_PARAMETER")
        assert message == "cursor: Invalid cursor", querystring
    not_base64 = Client().get(url, {"cursor": "\u00e9%%%"}, **auth(world["role"]))
    refused(mount, path, not_base64, 400, "INVALID_REQUEST_PARAMETER")


@pytest.mark.parametrize("mount", DOCUSIGN)
def test_extreme_but_valid_cursors_answer_an_empty_page(world, mount):
    """The largest bigint position and a huge offset (DRF caps it at 1000) are well-formed: an
    empty page, not an error; a cursor from nextUri still pages as before."""
    url = address(mount, "billing_payments", world["role"].account)
    for querystring in (f"p={2**63 - 1}", "o=" + "9" * 40, "r=1&p=0"):
        response = Client().get(url, {"cursor": cursor(querystring)}, **auth(world["role"]))
        assert response.status_code == 200, (querystring, response.content)
        body = response.json() if mount == "restapi" else response.json()["data"]
        assert body["billingPayments"] == []
    first = Client().get(url, {"count": 1, "from_date": "2000-01-01"}, **auth(world["role"]))
    body = first.json() if mount == "restapi" else first.json()["data"]
    assert len(body["billingPayments"]) == 1


# 3. JSON nested deeper than the interpreter's stack (a RecursionError was a 500).


@pytest.mark.parametrize(("surface", "path"), POSTS)
def test_deeply_nested_json_is_a_400(world, surface, path):
    before = ledger_state()
    code = "INVALID_REQUEST_PARAMETER"
    for depth in (33, 1000, 100_000):
        for text in (
            "[" * depth + "]" * depth,
            '{"paymentAmount": ' + "[" * depth + "]" * depth + "}",
        ):
            response = post_text(surface, path, world, text, HTTP_IDEMPOTENCY_KEY=f"deep-{depth}")
            assert refused(surface, path, response, 400, code) == TOO_DEEP
    # 32 levels is within the limit: refused for what it says, not for its depth.
    response = post_text(surface, path, world, "[" * 32 + "]" * 32)
    assert refused(surface, path, response, 400, code) != TOO_DEEP
    assert ledger_state() == before


def test_unstorable_text_is_a_400(world):
    """A lone surrogate (valid JSON) cannot be stored in PostgreSQL: it was a 500 on saving."""
    line = {"BillingId": world["item"].pk, "Amount": 1, "ThirdPartyReference": "\ud800"}
    body = json.dumps(
        {
            "ContactId": str(world["contact"].guid),
            "PaymentDate": "2026-01-01T00:00:00+00:00",
            "TenderTypeId": 3,
            "BillingPayments": [line],
        }
    )  # ensure_ascii: the surrogate goes out as the JSON escape \ud800

    before = ledger_state()
    response = post_text("legend", "/POS/BillingPayments", world, body)
    assert refused("legend", "/POS/BillingPayments", response, 400) == (
        "The request body is not valid JSON: a string holds a lone UTF-16 surrogate."
    )
    assert ledger_state() == before


# 4. A body over the limit (1 MiB) is a 413 in the API's own shape, read no further.


@pytest.mark.parametrize(("surface", "path"), POSTS)
def test_a_body_of_three_megabytes_is_a_413(world, surface, path):
    before = ledger_state()
    text = json.dumps({"paymentAmount": "100.00", "padding": "x" * 3_000_000})
    response = post_text(surface, path, world, text, HTTP_IDEMPOTENCY_KEY="large")
    assert refused(surface, path, response, 413, "REQUEST_ENTITY_TOO_LARGE") == TOO_LARGE
    # Without credentials too: the size is checked before anything else.
    response = Client().post(
        address(surface, path, world["role"].account), text, content_type="application/json"
    )
    assert refused(surface, path, response, 413, "REQUEST_ENTITY_TOO_LARGE") == TOO_LARGE
    assert ledger_state() == before


def test_the_limit_is_one_mebibyte_inclusive(world):
    assert settings.API_MAX_BODY_BYTES == settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 1024 * 1024
    url = address("restapi", "billing_payments", world["role"].account)
    payment = '{"paymentAmount": "100.00"}'
    at_limit = payment + " " * (settings.API_MAX_BODY_BYTES - len(payment))
    over = at_limit + " "

    response = Client().post(url, over, content_type="application/json", **auth(world["role"]))
    refused("restapi", "billing_payments", response, 413, "REQUEST_ENTITY_TOO_LARGE")
    assert Payment.objects.count() == 1
    response = Client().post(url, at_limit, content_type="application/json", **auth(world["role"]))
    assert response.status_code == 201, response.content
    assert Payment.objects.count() == 2


def test_the_limit_comes_from_the_setting(world, settings):
    settings.API_MAX_BODY_BYTES = settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = post_text("seed", "billing_payments", world, json.dumps({"x": "y" * 100}))
    assert refused("seed", "billing_payments", response, 413, "REQUEST_ENTITY_TOO_LARGE") == (
        "The request body is larger than 100 bytes, the limit."
    )


class UnreadableBody(io.RawIOBase):
    """A request body that fails the test if the server reads a byte of it."""

    def read(self, size=-1):
        raise AssertionError("the server read a body it should have refused unread")

    readline = readinto = read


@pytest.mark.parametrize(("surface", "path"), POSTS)
def test_a_chunked_body_without_content_length_is_refused_unread(world, surface, path):
    """As gunicorn passes a chunked request: no CONTENT_LENGTH, `Transfer-Encoding: chunked`.
    Django would read it as an empty body; it is a 411 in the API's shape, and never read."""
    before = ledger_state()
    response = Client().post(
        address(surface, path, world["role"].account),
        b"",
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": UnreadableBody()},
        **auth(world["role"]),
    )
    message = refused(surface, path, response, 411, "LENGTH_REQUIRED")
    assert message == "A request body must be sent with Content-Length, not chunked."
    assert ledger_state() == before


# 5. Every refused request writes nothing.


def refused_requests(world) -> list[tuple[str, str, str, dict, int]]:
    """(surface, path, body, headers, status) for a representative set of refusals."""
    role, contact, item = world["role"], world["contact"], world["item"]
    # A body that does not parse is refused before its Idempotency-Key is taken: nothing stored.
    # (A request that parses and is then refused stores its refusal under the key, by design,
    # to replay it: those are sent without one.)
    keys = (f"refused-{n}" for n in range(1000))
    bad_key = {"HTTP_AUTHORIZATION": "Bearer not-a-key"}
    stranger = AccountRoleFactory()  # an administrator of another account
    other_key = {"HTTP_AUTHORIZATION": f"Bearer {stranger.credential.secret}"}
    big = json.dumps({"x": "x" * (2 * 1024 * 1024)})
    malformed = ["{", "nul", "[1,]", '{"a": NaN}', "[" * 5000 + "]" * 5000, big]
    cases = []
    for mount in DOCUSIGN:
        path = "billing_payments"
        for text in malformed:
            key = {"HTTP_IDEMPOTENCY_KEY": next(keys)}
            cases.append((mount, path, text, key, 413 if text is big else 400))
        cases.append((mount, path, "", {}, 400))
        for amount in ("0", "-1", "100.001", "abc", "1e999999", "99.99", "1" * 40, "NaN"):
            cases.append((mount, path, json.dumps({"paymentAmount": amount}), {}, 400))
        cases.append((mount, path, '{"paymentAmount": 100.001}', {}, 400))
        for invoice_id in (999_999_999, 2**63, "x", -1):
            body = json.dumps({"paymentAmount": "100.00", "invoiceId": invoice_id})
            cases.append((mount, path, body, {}, 400))
        cases.append((mount, path, '{"paymentAmount": "100.00"}', bad_key, 401))
        cases.append((mount, path, '{"paymentAmount": "100.00"}', other_key, 403))
    payment_line = {"BillingId": item.pk, "Amount": 1}
    good_payment = {
        "ContactId": str(contact.guid),
        "PaymentDate": "2026-01-01T00:00:00+00:00",
        "TenderTypeId": 3,
        "BillingPayments": [payment_line],
    }
    good_write_down = {
        "ContactId": str(contact.guid),
        "WriteDownDate": "2026-01-01T00:00:00+00:00",
        "Notes": "Goodwill",
        "BillingWriteDowns": [payment_line],
    }
    for path, good in (
        ("/POS/BillingPayments", good_payment),
        ("/POS/BillingWriteDowns", good_write_down),
    ):
        lines_key = LEGEND_POSTS[path]
        for text in malformed:
            key = {"HTTP_IDEMPOTENCY_KEY": next(keys)}
            cases.append(("legend", path, text, key, 413 if text is big else 400))
        cases.append(("legend", path, "", {}, 400))
        for amount in (0, -1, "1.001", 51, "abc", 10**30):
            line = {**payment_line, "Amount": amount}
            status = 400 if amount == "abc" else 200  # a bad amount refuses its own line
            cases.append(("legend", path, json.dumps({**good, lines_key: [line]}), {}, status))
        for billing_id in (999_999_999, 0, 2**63, "x"):
            line = {**payment_line, "BillingId": billing_id}
            status = 200 if billing_id == 999_999_999 else 400
            cases.append(("legend", path, json.dumps({**good, lines_key: [line]}), {}, status))
        twice = {**good, lines_key: [payment_line, payment_line]}
        cases.append(("legend", path, json.dumps(twice), {}, 200))
        unknown_contact = {**good, "ContactId": "00000000-0000-0000-0000-000000000000"}
        cases.append(("legend", path, json.dumps(unknown_contact), {}, 200))
        cases.append(("legend", path, json.dumps(good), bad_key, 401))
        # Another account's contact is answered as an unknown one (200, Success false).
        cases.append(("legend", path, json.dumps(good), other_key, 200))
    for tender in (999, -1, "x"):
        body = json.dumps({**good_payment, "TenderTypeId": tender})
        cases.append(("legend", "/POS/BillingPayments", body, {}, 200 if tender == 999 else 400))
    return [
        (surface, path, text, {**auth(role), **extra}, status)
        for surface, path, text, extra, status in cases
    ]


def test_every_refused_request_writes_nothing(world):
    before = ledger_state()
    assert before["counts"] == [1, 0, 0, 0, 0]
    cases = refused_requests(world)
    for surface, path, text, headers, status in cases:
        response = Client().post(
            address(surface, path, world["role"].account),
            text,
            content_type="application/json",
            **headers,
        )
        assert response.status_code == status, (surface, path, text[:80], response.content)
        if status == 200:  # Legend's global failures and refused lines
            assert response.json()["Success"] is False, (path, text[:80], response.content)
    assert len(cases) > 80
    assert ledger_state() == before
