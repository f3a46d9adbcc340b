"""The OpenAPI schema tells partners the whole truth, checked against real answers.

(a) Every operation documents exactly the statuses it answers, each error in its API's own body
    and as JSON only, `Retry-After` on 429 and 503, and `Idempotency-Key` on every POST.
(b) Every example (request, response, parameter) validates against its own schema, in the wire's
    own types: on the DocuSign mounts every value is a string (inside `data` on the seed mount),
    on Legend amounts are JSON numbers and ids integers.
(c) For every operation and every status it documents, a real request through the whole stack
    answers that status, and its body, content type and headers validate against what the schema
    says for that operation, status and content type.

OpenAPI 3.0 schemas are turned into JSON Schema (2020-12) here: `$ref`s inlined, `allOf` merged,
`nullable` as a null alternative; and strict: an object may hold only the properties the schema
names, so an undocumented field fails too.
"""

import datetime
import json
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone
from jsonschema import Draft202012Validator, FormatChecker

from contacts import authentication
from contacts.roles import Role
from tests.factories import (
    AccountFactory,
    AccountRoleFactory,
    ApiCredentialFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    InvoiceItemFactory,
    PaymentAllocationFactory,
    PaymentFactory,
)

pytestmark = pytest.mark.django_db

RESTAPI = "/restapi/v2.1/accounts/{account_id}"
SEED = "/v2.1/accounts/{account_id}"
EVERY = {401, 403, 404, 406, 411, 413, 429, 503}  # every operation of both APIs
GET_ONE = {200, *EVERY}  # no parameter to get wrong but the path
GET_LIST = {200, 400, *EVERY}  # from_date, to_date, count, cursor
PAY = {201, 400, 409, 415, *EVERY}
LEGEND_POST = {200, 400, 409, 415, *EVERY}

# (method, path) -> the statuses the operation answers: read off the views, the API tests and
# what the requests in (c) get.
STATUSES = {
    **{
        (method, mount + path): statuses
        for mount in (RESTAPI, SEED)
        for method, path, statuses in (
            ("get", "/billing_invoices_past_due", GET_ONE),
            ("get", "/billing_invoices", GET_LIST),
            ("get", "/billing_invoices/{id}", GET_ONE),
            ("get", "/billing_payments", GET_LIST),
            ("post", "/billing_payments", PAY),
            ("get", "/billing_payments/{id}", GET_ONE),
            ("get", "/billing_events", GET_LIST),
        )
    },
    ("post", "/POS/BillingPayments"): LEGEND_POST,
    ("post", "/POS/BillingWriteDowns"): LEGEND_POST,
    ("get", "/POS/Billings"): {200, 400, *EVERY},
}


# --- the schema, as served, and JSON Schema from it ----------------------------------------------


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


NOT_SCHEMAS = {"example", "examples", "enum", "default", "description"}


def json_schema(node, components: dict):
    """An OpenAPI 3.0 schema as a self-contained, strict JSON Schema."""
    if isinstance(node, list):
        return [json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return json_schema(components[node["$ref"].rsplit("/", 1)[1]], components)
    result = {
        key: value if key in NOT_SCHEMAS else json_schema(value, components)
        for key, value in node.items()
    }
    if "allOf" in result:  # merged, so that strictness sees every branch's properties
        branches = result.pop("allOf")
        result.setdefault("properties", {})
        result.setdefault("required", [])
        for branch in branches:
            result["properties"].update(branch.get("properties", {}))
            result["required"] += branch.get("required", [])
            result.setdefault("type", branch.get("type"))
    if "properties" in result:
        result.setdefault("additionalProperties", False)
    if result.pop("nullable", False):
        return {"anyOf": [result, {"type": "null"}]}
    return result


FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def is_datetime(value) -> bool:
    return not isinstance(value, str) or datetime.datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("date", raises=ValueError)
def is_date(value) -> bool:
    return not isinstance(value, str) or bool(datetime.date.fromisoformat(value))


@FORMATS.checks("uuid", raises=ValueError)
def is_uuid(value) -> bool:
    return not isinstance(value, str) or bool(uuid.UUID(value))


def check(schema, openapi_schema, instance, where) -> None:
    validator = Draft202012Validator(
        json_schema(openapi_schema, schema["components"]["schemas"]), format_checker=FORMATS
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]
    assert not errors, f"{where}: {errors}\n{json.dumps(instance, indent=1)}"


# --- the wire's own types ------------------------------------------------------------------------

URIS = {"nextUri", "previousUri"}  # relative URIs, null at either end of a list


def leaves(value, key=None):
    """(key, value) of every scalar in `value`."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from leaves(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item, key)
    else:
        yield key, value


def assert_docusign_strings(body) -> None:
    for key, value in leaves(body):
        assert isinstance(value, str) or (key in URIS and value is None), (key, value, body)


def assert_wire_types(path: str, status: int | None, body) -> None:
    """DocuSign's mounts: strings (on the seed mount, inside its envelope; requests are bare);
    Legend: amounts numbers, ids integers. `status` None: a request body."""
    if path.startswith("/restapi/") or (path.startswith("/v2.1/") and status is None):
        assert_docusign_strings(body)
    elif path.startswith("/v2.1/"):
        assert body["success"] is (status < 400), body
        assert_docusign_strings(body["data"] if status < 400 else body["error"])
    else:
        for key, value in leaves(body):
            if key in {"Amount", "Balance", "TotalAmount"}:
                assert type(value) in (int, float, Decimal), (key, value)
            if key in {"BillingId", "TenderTypeId", "GLAccountId"}:
                assert type(value) is int, (key, value)
            if key == "Success":
                assert type(value) is bool, (key, value)


def media_types(response: dict) -> set:
    return set(response.get("content", {}))


def error_schema(path: str, operation: dict) -> dict:
    """The error body this operation's API answers with."""
    if path.startswith("/restapi/"):
        return {"$ref": "#/components/schemas/Error"}
    if path.startswith("/v2.1/"):
        return {"$ref": "#/components/schemas/EnvelopedError"}
    return operation["responses"]["200"]["content"]["application/json"]["schema"]


# --- (a) statuses, error bodies, Idempotency-Key ------------------------------------------------


def test_every_operation_documents_exactly_the_statuses_it_answers(schema):
    documented = {
        (method, path): {int(status) for status in operation["responses"]}
        for method, path, operation in operations(schema)
    }

    assert documented == STATUSES


def test_each_error_is_json_in_its_apis_own_body(schema):
    for method, path, operation in operations(schema):
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                continue
            assert media_types(response) == {"application/json"}, (method, path, status)
            content = response["content"]["application/json"]
            assert content["schema"] == error_schema(path, operation), (method, path, status)
            assert response["description"], (method, path, status)
            retry_after = response.get("headers", {}).get("Retry-After")
            if status in {"429", "503"}:
                assert retry_after["required"] is True, (method, path, status)
                assert retry_after["schema"]["type"] == "integer"
            else:
                assert retry_after is None, (method, path, status)


def test_legend_documents_its_200_with_success_false(schema):
    for path in ("/POS/BillingPayments", "/POS/BillingWriteDowns"):
        ok = schema["paths"][path]["post"]["responses"]["200"]
        assert "`Success` is true when every line was applied" in ok["description"]
        assert "A global failure applies nothing and answers 200 too" in ok["description"]
        examples = ok["content"]["application/json"]["examples"]
        assert {example["value"]["Success"] for example in examples.values()} == {True, False}


def test_every_post_takes_an_idempotency_key_and_no_get_does(schema):
    for method, path, operation in operations(schema):
        headers = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}
        if method != "post":
            assert headers == {}, (method, path)
            continue
        key = headers["Idempotency-Key"]
        assert key.get("required", False) is False
        assert key["schema"]["minLength"] == 1
        assert key["schema"]["maxLength"] == 255  # payments.idempotency.MAX_KEY_LENGTH
        assert "409" in key["description"]
        for status in ("200", "201", "400"):
            if status in operation["responses"]:
                replayed = operation["responses"][status]["headers"]["Idempotent-Replayed"]
                assert replayed["schema"]["enum"] == ["true"], (path, status)


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("payment-2026-11-21-0001", True),
        ("k", True),
        ("k" * 255, True),
        ("a key with spaces", True),
        ("k" * 256, False),
        ("", False),
        (" key", False),  # the server strips it: the key documented has no space at either end
        ("clé", False),
        ("tab\tkey", False),
    ],
)
def test_the_idempotency_key_schema_is_the_rule_the_server_enforces(schema, key, valid):
    from payments.idempotency import IdempotencyKeyInvalid, _valid_key

    parameter = next(
        p
        for p in schema["paths"]["/POS/BillingPayments"]["post"]["parameters"]
        if p["name"] == "Idempotency-Key"
    )
    validator = Draft202012Validator(parameter["schema"])

    assert validator.is_valid(key) is valid
    if valid:
        assert _valid_key(key) == key
    elif key.strip() != key and key.strip():
        assert _valid_key(key) == key.strip()  # accepted, as the key without its spaces
    else:
        with pytest.raises(IdempotencyKeyInvalid):
            _valid_key(key)


# --- (b) examples --------------------------------------------------------------------------------


def test_every_json_body_has_examples_and_each_validates_in_the_wires_types(schema):
    checked = 0
    for method, path, operation in operations(schema):
        where = f"{method.upper()} {path}"
        bodies = [("request", operation.get("requestBody", {}).get("content", {}), None)]
        bodies += [
            (status, response.get("content", {}), int(status))
            for status, response in operation["responses"].items()
        ]
        for status, content, code in bodies:
            for media_type, body in content.items():
                if media_type != "application/json":
                    continue
                assert body.get("examples"), f"{where} {status}: no example"
                for name, example in body["examples"].items():
                    check(schema, body["schema"], example["value"], f"{where} {status} {name}")
                    assert_wire_types(path, code, example["value"])
                    checked += 1
        for parameter in operation.get("parameters", []):
            for name, example in parameter.get("examples", {}).items():
                check(schema, parameter["schema"], example["value"], f"{where} {name}")
                checked += 1
    assert checked > 150


def test_the_docusign_examples_are_strings_on_both_mounts(schema):
    for mount in ("/restapi/v2.1", "/v2.1"):
        operation = schema["paths"][f"{mount}/accounts/{{account_id}}/billing_payments"]["post"]
        request = operation["requestBody"]["content"]["application/json"]["examples"]
        assert request["PayOnePast-dueInvoice"]["value"] == {
            "paymentAmount": "125.00",
            "invoiceId": "17",
        }
        paid = operation["responses"]["201"]["content"]["application/json"]["examples"]["Paid"]
        lines = paid["value"] if mount == "/restapi/v2.1" else paid["value"]["data"]
        assert lines["billingPayments"] == [
            {"amount": "125.00", "invoiceId": "17", "paymentId": "4711"}
        ]
        listed = schema["paths"][f"{mount}/accounts/{{account_id}}/billing_invoices"]["get"]
        example = listed["responses"]["200"]["content"]["application/json"]["examples"]
        chunk = example["AnInvoice"]["value"]
        chunk = chunk if mount == "/restapi/v2.1" else chunk["data"]
        assert chunk["billingInvoices"][0]["invoiceUri"].startswith(f"{mount}/accounts/")


def test_the_legend_examples_have_numbers(schema):
    operation = schema["paths"]["/POS/BillingPayments"]["post"]
    request = operation["requestBody"]["content"]["application/json"]["examples"]["TwoLines"]
    line = request["value"]["BillingPayments"][0]
    assert line["Amount"] == 10.0
    assert type(line["Amount"]) is float
    assert type(line["BillingId"]) is int
    assert type(request["value"]["TenderTypeId"]) is int


# --- (c) real answers ----------------------------------------------------------------------------


@dataclass
class World:
    account: object
    admin: object  # an account administrator's credential (every privilege)
    invoice: object  # past due, 100.00
    payment: object
    contact: object
    item: object  # a billing item of the contact, 50.00


@pytest.fixture
def world(settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    account = AccountFactory()
    admin = AccountRoleFactory(account=account, role=Role.ADMIN).credential
    invoice = InvoiceFactory(account=account)
    InvoiceItemFactory(invoice=invoice)
    payment = PaymentFactory(account=account, amount=Decimal("10.00"))
    paid = InvoiceFactory(account=account, amount=Decimal("10.00"), balance=Decimal("0.00"))
    PaymentAllocationFactory(payment=payment, invoice=paid)
    contact = ContactFactory(account=account)
    item = BillingItemFactory(contact=contact)
    return World(account, admin, invoice, payment, contact, item)


def an_hour_ago() -> str:
    return (timezone.now() - datetime.timedelta(hours=1)).isoformat()


def valid_request(method: str, path: str, world: World) -> tuple[str, dict | None]:
    """A URL and JSON body that the operation accepts (2xx)."""
    url = path.replace("{account_id}", str(world.account.number))
    if path.endswith("/billing_invoices/{id}"):
        url = url.replace("{id}", str(world.invoice.pk))
    if path.endswith("/billing_payments/{id}"):
        url = url.replace("{id}", str(world.payment.pk))
    body = None
    if path.endswith("/billing_payments") and method == "post":
        body = {"paymentAmount": "100.00"}
    elif path == "/POS/BillingPayments":
        body = {
            "ContactId": str(world.contact.guid),
            "PaymentDate": an_hour_ago(),
            "TenderTypeId": 3,
            "BillingPayments": [{"BillingId": world.item.pk, "Amount": 10.00}],
        }
    elif path == "/POS/BillingWriteDowns":
        body = {
            "ContactId": str(world.contact.guid),
            "WriteDownDate": an_hour_ago(),
            "Notes": "Goodwill",
            "BillingWriteDowns": [{"BillingId": world.item.pk, "Amount": 5.00}],
        }
    elif path == "/POS/Billings":
        url += f"?ContactId={world.contact.guid}"
    return url, body


def with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def send(client, method, url, body=None, credential=None, **extra):
    if credential is not None:
        extra.setdefault("HTTP_AUTHORIZATION", f"Bearer {credential.secret}")
    if method == "get":
        return client.get(url, **extra)
    extra.setdefault("content_type", "application/json")
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.generic(method.upper(), url, raw, **extra)


def make_it_answer(status, method, path, world, settings, monkeypatch):
    """A real request that the operation answers with `status`."""
    client = Client()
    url, body = valid_request(method, path, world)
    admin = world.admin
    if status < 300:
        return send(client, method, url, body, admin)
    if status == 400:
        if path == "/POS/Billings":
            return send(client, method, url.replace(str(world.contact.guid), "42"), None, admin)
        if method == "get":
            return send(client, method, with_query(url, "from_date=yesterday"), None, admin)
        if path.startswith("/POS/"):
            return send(client, method, url, "{", admin)  # not JSON
        return send(client, method, url, {"paymentAmount": "1.005"}, admin)
    if status == 401:
        return send(client, method, url, body)
    if status == 403:  # a key with no role anywhere
        return send(client, method, url, body, ApiCredentialFactory())
    if status == 404:
        if path.endswith("{id}"):
            unknown = f"/{world.invoice.pk + world.payment.pk + 1000}"
            return send(client, method, url.rsplit("/", 1)[0] + unknown, body, admin)
        if path == "/POS/Billings":
            other = url.replace(str(world.contact.guid), str(uuid.uuid4()))
            return send(client, method, other, body, admin)
        return send(client, method, with_query(url, "format=xml"), body, admin)
    if status == 406:
        return send(client, method, url, body, admin, HTTP_ACCEPT="text/html")
    if status == 409:
        send(client, method, url, body, admin, HTTP_IDEMPOTENCY_KEY="schema-409")
        other = {**body, "Notes": "Another"} if "Notes" in body else {**body, "x": "1"}
        return send(client, method, url, other, admin, HTTP_IDEMPOTENCY_KEY="schema-409")
    if status == 411:
        return send(
            client, method, url, body, admin, CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked"
        )
    if status == 413:
        too_large = str(settings.API_MAX_BODY_BYTES + 1)
        return send(client, method, url, body, admin, CONTENT_LENGTH=too_large)
    if status == 415:
        return send(client, method, url, "paymentAmount=1", admin, content_type="text/plain")
    if status == 429:
        settings.API_BURST_LIMIT = 1
        send(client, method, url, body, admin)
        return send(client, method, url, body, admin)
    if status == 503:

        def database_down(secret, **_scope):
            raise OperationalError("connection refused")

        monkeypatch.setattr(authentication, "active_credential_for_secret", database_down)
        return send(client, method, url, body, admin)
    raise AssertionError(f"no request answers {status}")


# The API's own response headers: where one is sent, the schema documents it.
DOCUMENTED_HEADERS = ("Retry-After", "Idempotent-Replayed", "X-RateLimit-")


def header_value(schema_of_header: dict, text: str):
    return int(text) if schema_of_header.get("type") == "integer" else text


def assert_documented(schema, method, path, response, status) -> None:
    """The answer is what the schema says for this operation, status and content type."""
    where = f"{method.upper()} {path} {status}"
    assert response.status_code == status, (where, response.content[:300])
    documented = schema["paths"][path][method]["responses"][str(status)]
    media_type = response["Content-Type"].split(";")[0]
    assert media_type in documented["content"], (where, media_type)
    headers = documented.get("headers", {})
    sent = {name for name in response.headers if name.startswith(DOCUMENTED_HEADERS)}
    assert sent <= set(headers), (where, sent - set(headers))
    for name, header in headers.items():
        if header.get("required"):
            assert name in response.headers, (where, name)
        if name in response.headers:
            value = header_value(header["schema"], response.headers[name])
            check(schema, header["schema"], value, f"{where} {name}")
    if media_type == "application/json":
        body = response.json()
        check(schema, documented["content"][media_type]["schema"], body, where)
        assert_wire_types(path, status, body)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        (method, path, status)
        for (method, path), statuses in STATUSES.items()
        for status in sorted(statuses)
    ],
)
def test_each_documented_status_is_a_real_answer_as_documented(
    schema, world, settings, monkeypatch, method, path, status
):
    response = make_it_answer(status, method, path, world, settings, monkeypatch)

    assert_documented(schema, method, path, response, status)


@pytest.mark.parametrize("mount", [RESTAPI, SEED])
def test_the_invoice_pdf_is_documented(schema, world, mount):
    path = f"{mount}/billing_invoices/{{id}}"
    url, _ = valid_request("get", path, world)

    response = send(Client(), "get", url, credential=world.admin, HTTP_ACCEPT="application/pdf")

    assert_documented(schema, "get", path, response, 200)
    assert response.content.startswith(b"%PDF")


@pytest.mark.parametrize("path", [f"{RESTAPI}/billing_payments", "/POS/BillingPayments"])
def test_a_replay_and_a_bad_key_are_answered_as_documented(schema, world, path):
    client = Client()
    url, body = valid_request("post", path, world)
    key = {"HTTP_IDEMPOTENCY_KEY": "schema-replay"}
    first = send(client, "post", url, body, world.admin, **key)
    replay = send(client, "post", url, body, world.admin, **key)
    bad_key = send(client, "post", url, body, world.admin, HTTP_IDEMPOTENCY_KEY="k" * 256)

    success = first.status_code
    assert success in (200, 201)
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.content == first.content
    assert_documented(schema, "post", path, replay, success)
    assert_documented(schema, "post", path, bad_key, 400)


@pytest.mark.parametrize("mount", [RESTAPI, SEED])
def test_each_payment_refusal_is_documented_with_its_code(schema, world, mount):
    """The 400s of a payment: every errorCode a real refusal carries is one of the examples'."""
    path = f"{mount}/billing_payments"
    url, _ = valid_request("post", path, world)
    documented = schema["paths"][path]["post"]["responses"]["400"]["content"]["application/json"]

    def code(body):
        return body["errorCode"] if mount == RESTAPI else body["error"]["details"]["errorCode"]

    example_codes = {code(example["value"]) for example in documented["examples"].values()}
    client = Client()
    real_codes = set()
    for body in ({"paymentAmount": "1.005"}, {"paymentAmount": "99.00"}, {}, "[1"):
        response = send(client, "post", url, body, world.admin)
        assert_documented(schema, "post", path, response, 400)
        real_codes.add(code(response.json()))
    send(client, "post", url, {"paymentAmount": "100.00"}, world.admin)  # nothing left past due
    response = send(client, "post", url, {"paymentAmount": "100.00"}, world.admin)
    assert_documented(schema, "post", path, response, 400)
    real_codes.add(code(response.json()))

    assert real_codes == {
        "INVALID_PAYMENT_AMOUNT",
        "INVALID_REQUEST_PARAMETER",
        "PAYMENT_NOT_ALLOWED",
    }
    assert real_codes <= example_codes


def test_legend_answers_a_global_failure_with_200_as_documented(schema, world):
    path = "/POS/BillingPayments"
    url, body = valid_request("post", path, world)

    unknown_tender = send(Client(), "post", url, {**body, "TenderTypeId": 999}, world.admin)

    assert_documented(schema, "post", path, unknown_tender, 200)
    answer = unknown_tender.json()
    assert answer["Success"] is False
    assert answer["BillingPayments"] == []
    assert re.search("Tender type 999", answer["ErrorMessage"])


def test_legends_403_for_another_role_on_the_contacts_account_is_documented(schema, world):
    """The 403 that the view itself answers (after the rate limits counted the request, so with
    X-RateLimit-*), and which an Idempotency-Key stores and replays."""
    path = "/POS/BillingWriteDowns"
    till = AccountRoleFactory(account=world.account, role=Role.BILLING_PAYMENT).credential
    AccountRoleFactory(account=AccountFactory(), credential=till, role=Role.ADMIN)
    url, body = valid_request("post", path, world)
    key = {"HTTP_IDEMPOTENCY_KEY": "schema-403"}

    refused = send(Client(), "post", url, body, till, **key)
    replayed = send(Client(), "post", url, body, till, **key)

    assert "X-RateLimit-Limit" in refused.headers
    assert_documented(schema, "post", path, refused, 403)
    assert replayed["Idempotent-Replayed"] == "true"
    assert_documented(schema, "post", path, replayed, 403)
