"""Who may call the DocuSign-compatible API (contract 1.2, 1.8), and its OpenAPI schema and docs."""

import datetime
import json
import re
import uuid
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.utils import timezone

from contacts.models import AccountRole, ApiCredential
from contacts.roles import Role
from invoices.models import Invoice
from payments.actors import Channel
from payments.models import Payment
from tests.docusign_api import MOUNTS, PREFIXES, both_mounts, data, error, url
from tests.factories import (
    AccountFactory,
    AccountRoleFactory,
    ApiCredentialFactory,
    InvoiceFactory,
    PaymentFactory,
    UserFactory,
    days_ago,
)

pytestmark = pytest.mark.django_db

# (method, path under the account; {invoice} and {payment} are the account's own rows)
ENDPOINTS = [
    ("get", "billing_invoices_past_due"),
    ("get", "billing_payments"),
    ("post", "billing_payments"),
    ("get", "billing_payments/{payment}"),
    ("get", "billing_invoices"),
    ("get", "billing_invoices/{invoice}"),
]
GET_ENDPOINTS = [path for method, path in ENDPOINTS if method == "get"]
every_endpoint = pytest.mark.parametrize(("method", "path"), ENDPOINTS)


@pytest.fixture
def account():
    return AccountFactory()


@pytest.fixture
def rows(account):
    """A past-due invoice (so that a payment would be accepted) and a payment of the account."""
    invoice = InvoiceFactory(account=account, due_date=days_ago(3), amount=Decimal("125.50"))
    payment = PaymentFactory(account=account)
    return {"invoice": invoice.pk, "payment": payment.pk}


def call(client, mount, account, method, path, rows, headers=None):
    """Make the call; a POST pays exactly what is past due, so only authorization can refuse it."""
    address = url(mount, account, path.format(**rows))
    headers = headers or {}
    if method == "post":
        return client.post(
            address, {"paymentAmount": "125.50"}, content_type="application/json", **headers
        )
    return client.get(address, **headers)


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def nothing_written(account) -> bool:
    """Only the `rows` fixture's payment exists, and the past-due invoice is still owed (the
    account's only invoice: looked up by its date, it is lost when the run crosses midnight)."""
    invoice = Invoice.objects.get(account=account)
    return Payment.objects.count() == 1 and invoice.balance == Decimal("125.50")


# 401: no or bad credentials


@both_mounts
@every_endpoint
def test_no_credentials(client, mount, account, rows, method, path):
    response = call(client, mount, account, method, path, rows)

    message, _details = error(mount, response, 401, "AUTHORIZATION_INVALID_TOKEN")
    assert message == "Authentication credentials were not provided."
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert nothing_written(account)


@pytest.fixture
def revoked_admin(account):
    role = AccountRoleFactory(account=account)
    ApiCredential.objects.filter(pk=role.credential.pk).update(revoked_at=timezone.now())
    return role.credential


@both_mounts
@every_endpoint
@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer not-a-key",
        "Bearer {revoked}",
        "bearer {revoked}",
        "Bearer",
        "Bearer {revoked} extra",
        "Bearer \u00e9t\u00e9",
    ],
)
def test_bad_credentials(client, mount, account, rows, revoked_admin, method, path, authorization):
    header = {"HTTP_AUTHORIZATION": authorization.format(revoked=revoked_admin.secret)}

    response = call(client, mount, account, method, path, rows, header)

    error(mount, response, 401, "AUTHORIZATION_INVALID_TOKEN")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert nothing_written(account)


@both_mounts
def test_other_authorization_schemes_are_not_credentials(client, mount, account, rows):
    role = AccountRoleFactory(account=account)

    response = call(
        client,
        mount,
        account,
        "get",
        "billing_invoices_past_due",
        rows,
        {"HTTP_AUTHORIZATION": f"Token {role.credential.secret}"},
    )

    error(mount, response, 401, "AUTHORIZATION_INVALID_TOKEN")


@both_mounts
def test_revoked_key_with_a_role_is_refused_and_not_marked_used(
    client, mount, account, rows, revoked_admin
):
    response = call(
        client,
        mount,
        account,
        "get",
        "billing_invoices_past_due",
        rows,
        bearer(revoked_admin.secret),
    )

    message, _details = error(mount, response, 401, "AUTHORIZATION_INVALID_TOKEN")
    assert message == "The API key is not valid or has been revoked."
    revoked_admin.refresh_from_db()
    assert revoked_admin.last_used_at is None


# 403: authenticated, but not an administrator of this account

FORBIDDEN = "The caller is not an administrator of this account."


@pytest.fixture
def other_accounts_admin():
    """A valid key, administrator of another account only."""
    return AccountRoleFactory().credential


@both_mounts
@every_endpoint
def test_administrator_of_another_account_only(
    client, mount, account, rows, other_accounts_admin, method, path
):
    response = call(client, mount, account, method, path, rows, bearer(other_accounts_admin.secret))

    message, _details = error(mount, response, 403, "USER_LACKS_PERMISSIONS")
    assert message == FORBIDDEN
    assert nothing_written(account)


@both_mounts
@every_endpoint
def test_billing_payment_role_is_not_enough(client, mount, account, rows, method, path):
    role = AccountRoleFactory(account=account, role=Role.BILLING_PAYMENT)

    response = call(client, mount, account, method, path, rows, bearer(role.credential.secret))

    message, _details = error(mount, response, 403, "USER_LACKS_PERMISSIONS")
    assert message == FORBIDDEN
    assert nothing_written(account)


@both_mounts
@every_endpoint
def test_key_without_any_role(client, mount, account, rows, method, path):
    credential = ApiCredentialFactory()

    response = call(client, mount, account, method, path, rows, bearer(credential.secret))

    error(mount, response, 403, "USER_LACKS_PERMISSIONS")
    assert nothing_written(account)


UNKNOWN_ACCOUNTS = {
    "unknown_number": "987654321",
    "unknown_guid": str(uuid.UUID(int=7)),
    "garbage": "abc",
    "zero": "0",
    "negative": "-1",
    "huge_number": "9" * 30,
    "almost_guid": "1234-abcd",
}


@both_mounts
@every_endpoint
@pytest.mark.parametrize("reference", UNKNOWN_ACCOUNTS.values(), ids=UNKNOWN_ACCOUNTS.keys())
def test_unknown_account_answers_like_a_forbidden_one(
    client, mount, account, rows, other_accounts_admin, method, path, reference
):
    forbidden = call(
        client, mount, account, method, path, rows, bearer(other_accounts_admin.secret)
    )

    unknown = call(
        client, mount, reference, method, path, rows, bearer(other_accounts_admin.secret)
    )

    error(mount, unknown, 403, "USER_LACKS_PERMISSIONS")
    assert unknown.status_code == forbidden.status_code
    assert unknown.json() == forbidden.json()
    assert nothing_written(account)


@both_mounts
def test_unknown_account_for_an_administrator_of_some_account(client, mount, rows):
    """Even a caller who administers some account learns nothing about others."""
    own = AccountRoleFactory()

    unknown = call(
        client,
        mount,
        "987654321",
        "get",
        "billing_invoices_past_due",
        rows,
        bearer(own.credential.secret),
    )

    error(mount, unknown, 403, "USER_LACKS_PERMISSIONS")


@both_mounts
@pytest.mark.parametrize("reference", ["\u00b2", "\u0661\u0662"], ids=["superscript", "arabic"])
def test_non_ascii_digit_account_reference_answers_like_a_forbidden_one(
    client, mount, account, rows, other_accounts_admin, reference
):
    """ "²" and "١٢" pass `str.isdigit()`; they are not account numbers ("١٢" is not 12)."""
    forbidden = call(
        client,
        mount,
        account,
        "get",
        "billing_invoices_past_due",
        rows,
        bearer(other_accounts_admin.secret),
    )

    unknown = call(
        client,
        mount,
        reference,
        "get",
        "billing_invoices_past_due",
        rows,
        bearer(other_accounts_admin.secret),
    )

    assert unknown.status_code == 403
    assert unknown.json() == forbidden.json()


# Who may: account administrators (key or staff session) and superusers


@both_mounts
@every_endpoint
def test_account_administrator_key_may_call(client, mount, account, rows, method, path):
    role = AccountRoleFactory(account=account)

    response = call(client, mount, account, method, path, rows, bearer(role.credential.secret))

    data(mount, response, 201 if method == "post" else 200)


@both_mounts
@every_endpoint
def test_key_with_both_roles_may_call(client, mount, account, rows, method, path):
    role = AccountRoleFactory(account=account, role=Role.BILLING_PAYMENT)
    AccountRole.objects.create(account=account, role=Role.ADMIN, credential=role.credential)

    response = call(client, mount, account, method, path, rows, bearer(role.credential.secret))

    data(mount, response, 201 if method == "post" else 200)


@both_mounts
@pytest.mark.parametrize("path", GET_ENDPOINTS)
def test_staff_session_with_admin_role_may_get(client, mount, account, rows, path):
    user = UserFactory()
    AccountRole.objects.create(account=account, user=user, role=Role.ADMIN)
    client.force_login(user)

    data(mount, call(client, mount, account, "get", path, rows))


@both_mounts
def test_staff_session_with_admin_role_may_pay_and_is_recorded(client, mount, account, rows):
    user = UserFactory()
    AccountRole.objects.create(account=account, user=user, role=Role.ADMIN)
    client.force_login(user)

    data(mount, call(client, mount, account, "post", "billing_payments", rows), 201)

    payment = Payment.objects.get(recorded_by_user=user)
    assert payment.channel == Channel.DOCUSIGN_API
    assert payment.recorded_by_credential is None
    assert payment.amount == Decimal("125.50")


@both_mounts
@every_endpoint
def test_staff_session_without_role_is_forbidden(client, mount, account, rows, method, path):
    user = UserFactory()
    AccountRole.objects.create(account=AccountFactory(), user=user, role=Role.ADMIN)
    AccountRole.objects.create(account=account, user=user, role=Role.BILLING_PAYMENT)
    client.force_login(user)

    response = call(client, mount, account, method, path, rows)

    message, _details = error(mount, response, 403, "USER_LACKS_PERMISSIONS")
    assert message == FORBIDDEN
    assert "WWW-Authenticate" not in response
    assert nothing_written(account)


@both_mounts
@pytest.mark.parametrize("path", GET_ENDPOINTS)
def test_superuser_session_may_get(client, mount, account, rows, path):
    client.force_login(UserFactory(is_superuser=True))

    data(mount, call(client, mount, account, "get", path, rows))


@both_mounts
def test_superuser_session_unknown_account_is_forbidden(client, mount, rows):
    """A superuser may see every account, so an unknown one cannot be anything but refused; it
    still answers like any refused account, not with a 404 that would confirm the probe."""
    client.force_login(UserFactory(is_superuser=True))

    response = call(client, mount, "987654321", "get", "billing_invoices_past_due", rows)

    error(mount, response, 403, "USER_LACKS_PERMISSIONS")


@both_mounts
def test_bearer_key_wins_over_the_session(client, mount, account, rows, other_accounts_admin):
    """A request carrying a key is judged by that key, even in a superuser's browser."""
    client.force_login(UserFactory(is_superuser=True))

    response = call(
        client,
        mount,
        account,
        "get",
        "billing_invoices_past_due",
        rows,
        bearer(other_accounts_admin.secret),
    )

    error(mount, response, 403, "USER_LACKS_PERMISSIONS")


@both_mounts
def test_last_used_at_is_set_on_a_successful_call(client, mount, account, rows):
    role = AccountRoleFactory(account=account)
    assert role.credential.last_used_at is None
    before = timezone.now()

    data(
        mount,
        call(
            client, mount, account, "get", "billing_payments", rows, bearer(role.credential.secret)
        ),
    )

    role.credential.refresh_from_db()
    assert before <= role.credential.last_used_at <= timezone.now()


@both_mounts
def test_last_used_at_moves_on_each_call(client, mount, account, rows):
    role = AccountRoleFactory(account=account)
    long_ago = timezone.now() - datetime.timedelta(days=30)
    ApiCredential.objects.filter(pk=role.credential.pk).update(last_used_at=long_ago)

    data(
        mount,
        call(
            client, mount, account, "get", "billing_invoices", rows, bearer(role.credential.secret)
        ),
    )

    role.credential.refresh_from_db()
    assert role.credential.last_used_at > long_ago


# OpenAPI schema and offline docs

OPERATIONS = {
    "billing_invoices_past_due": {"get": "listInvoicesPastDue"},
    "billing_invoices": {"get": "listInvoices"},
    "billing_invoices/{id}": {"get": "getInvoice"},
    "billing_payments": {"get": "listPayments", "post": "makePayment"},
    "billing_payments/{id}": {"get": "getPayment"},
    "billing_events": {"get": "listEvents"},
}


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return response.json()


def test_schema_answers_yaml_by_default(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    text = response.content.decode()
    assert text.startswith("openapi: 3.")
    assert "/restapi/v2.1/accounts/{account_id}/billing_invoices_past_due:" in text


def test_schema_lists_the_seven_operations_on_both_mounts(schema):
    for mount in MOUNTS:
        suffix = "Enveloped" if mount == "seed" else ""
        for path, operations in OPERATIONS.items():
            item = schema["paths"][f"{PREFIXES[mount]}/{{account_id}}/{path}"]
            assert {method: item[method]["operationId"] for method in operations} == {
                method: f"{operation}{suffix}" for method, operation in operations.items()
            }
            for method in operations:
                assert {"partnerKey": []} in item[method]["security"]
    account_billing = [p for p in schema["paths"] if "/accounts/{account_id}/" in p]
    assert len(account_billing) == 12


def test_schema_has_camel_case_fields(schema):
    components = schema["components"]["schemas"]
    assert set(components["BillingInvoicesSummary"]["properties"]) == {
        "accountBalance",
        "billingInvoices",
        "currencyCode",
        "pastDueBalance",
        "paymentAllowed",
    }
    assert set(components["BillingPaymentRequest"]["properties"]) == {
        "paymentAmount",
        "invoiceId",
    }
    assert components["BillingPaymentRequest"]["required"] == ["paymentAmount"]
    assert set(components["BillingInvoice"]["properties"]) == {
        "amount",
        "balance",
        "dueDate",
        "invoiceId",
        "invoiceItems",
        "invoiceNumber",
        "invoiceUri",
        "nonTaxableAmount",
        "pdfAvailable",
        "taxableAmount",
    }
    assert set(components["BillingInvoiceItem"]["properties"]) == {
        "chargeAmount",
        "chargeName",
        "invoiceItemId",
        "quantity",
        "taxAmount",
        "taxExemptAmount",
        "unitPrice",
    }
    assert set(components["BillingPaymentItem"]["properties"]) == {
        "amount",
        "description",
        "paymentDate",
        "paymentId",
        "paymentNumber",
    }
    assert set(components["BillingPayment"]["properties"]) == {"amount", "invoiceId", "paymentId"}
    assert components["BillingInvoicesSummary"]["properties"]["pastDueBalance"]["type"] == "string"


def test_schema_partner_key_security_scheme(schema):
    assert schema["components"]["securitySchemes"]["partnerKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A partner API key: `Authorization: Bearer <secret>` "
        "(manage.py create_api_key).",
    }


def test_schema_paginated_lists(schema):
    path = schema["paths"]["/restapi/v2.1/accounts/{account_id}/billing_payments"]["get"]
    ref = path["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    listed = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(listed["properties"]) == {"billingPayments", "nextUri", "previousUri"}
    names = {parameter["name"] for parameter in path["parameters"]}
    assert {"account_id", "from_date", "to_date", "count"} <= names


def test_schema_past_due_summary_is_one_object_not_an_array(schema):
    """Found while writing these tests: drf-spectacular took the `list` action for a list and
    described the summary as an array. Fixed in payments/docusign/serializers.py
    (`@extend_schema_serializer(many=False)` on BillingInvoicesSummarySerializer)."""
    for mount in MOUNTS:
        operation = schema["paths"][f"{PREFIXES[mount]}/{{account_id}}/billing_invoices_past_due"]
        body = operation["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        if mount == "restapi":
            assert body == {"$ref": "#/components/schemas/BillingInvoicesSummary"}
        else:
            assert "items" not in body
            assert body.get("type") != "array"


def test_schema_describes_the_seed_envelope(schema):
    """Found while writing these tests: the seed mount's success responses were described as the
    bare DocuSign models, though the server sends `{"success": true, "data": <model>}` (and
    makePayment adds `id` and `created_at`). Fixed in payments/docusign/schema.py
    (AccountBillingSchema._get_response_for_code)."""
    seed = "/v2.1/accounts/{account_id}"

    def body(path, method, status="200"):
        operation = schema["paths"][f"{seed}/{path}"][method]
        return operation["responses"][status]["content"]["application/json"]["schema"]

    def envelope(data):
        return {
            "type": "object",
            "required": ["success", "data"],
            "properties": {"success": {"type": "boolean", "enum": [True]}, "data": data},
        }

    summary = {"$ref": "#/components/schemas/BillingInvoicesSummary"}
    assert body("billing_invoices_past_due", "get") == envelope(summary)
    assert body("billing_payments/{id}", "get") == envelope(
        {"$ref": "#/components/schemas/BillingPaymentItem"}
    )
    created = body("billing_payments", "post", "201")["properties"]["data"]["allOf"]
    assert created[0]["required"] == ["id", "created_at"]
    assert created[1] == {"$ref": "#/components/schemas/BillingPaymentResponse"}
    restapi = schema["paths"]["/restapi/v2.1/accounts/{account_id}/billing_invoices_past_due"]
    assert restapi["get"]["responses"]["200"]["content"]["application/json"]["schema"] == summary


def test_schema_describes_the_invoice_pdf_as_binary(schema):
    """Found while writing these tests: getInvoice's `application/pdf` response was described
    with the BillingInvoice JSON model. Fixed in the same override."""
    for mount in MOUNTS:
        operation = schema["paths"][f"{PREFIXES[mount]}/{{account_id}}/billing_invoices/{{id}}"]
        content = operation["get"]["responses"]["200"]["content"]
        assert content["application/pdf"]["schema"] == {"type": "string", "format": "binary"}


def test_docs_work_offline(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r"https?://", html) == []
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in assets
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css" in assets
    # The set-up script is a file too (no inline script, for the Content Security Policy).
    setup = "/api/docs/?script="
    assert setup in assets
    assert "<script>" not in html
    for asset in set(assets) - {setup}:
        assert asset.startswith("/static/"), asset
        # Served from the app's own static files (collectstatic copies them to STATIC_ROOT).
        assert finders.find(asset.removeprefix("/static/")) is not None, asset
    script = client.get(setup)
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert 'url: "/api/schema/"' in script.content.decode()


def test_redoc_works_offline(client):
    """drf-spectacular's own redoc.html loads Google Fonts; templates/api/redoc.html does not
    (contract 3: "browsable docs that work offline")."""
    response = client.get("/api/redoc/")

    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r"https?://", html) == []
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    assert all(a.startswith("/static/") or a.startswith("/api/schema/") for a in assets)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/restapi/v2.1/accounts/1/no_such_thing",
            {"errorCode": "RESOURCE_NOT_FOUND", "message": "No endpoint at {path}."},
        ),
        (
            "/v2.1/accounts/1/billing_payments/",
            {
                "success": False,
                "error": {
                    "code": "NOT_FOUND",
                    "message": "No endpoint at {path}.",
                    "details": {"errorCode": "RESOURCE_NOT_FOUND"},
                },
            },
        ),
    ],
)
def test_an_unknown_path_under_a_mount_answers_in_its_error_format(client, path, expected):
    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.content.decode() == json.dumps(expected, separators=(",", ":")).replace(
        "{path}", path
    )
