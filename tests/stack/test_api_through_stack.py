"""The APIs through the whole stack: HTTPS at nginx (its certificate verified against the stack's
own CA), an app server behind it, PgBouncer in transaction mode, the primary.

And the suite's own API tests, run again with their database reached through PgBouncer in
transaction mode (the trap list of docs/deploy.md: session state, prepared statements, server-side
cursors), in a pytest of their own.
"""

import json
import os
import re
import subprocess
import sys
import uuid
from decimal import Decimal

import docusign_esign
import pytest
import requests
from docusign_esign.client.api_client import RESTClientObject

from .conftest import ROOT

# The suite's API modules, minus the two that start servers of their own (live_server, gunicorn)
# and the fuzzer (generated requests; it adds a fifth to the run and proves nothing else here).
API_MODULES = sorted(
    str(path.relative_to(ROOT))
    for path in (ROOT / "tests").glob("test_api_*.py")
    if path.name not in {"test_api_docusign_sdk.py", "test_api_rate_limits.py", "test_api_fuzz.py"}
)
SUITE_TIMEOUT = 300  # seconds


@pytest.fixture(scope="module")
def client(stack):
    (made,) = stack.seed(what="clients", count=1, each=3)
    return made


def bearer(client) -> dict:
    return {"Authorization": f"Bearer {client['secret']}"}


def test_plain_http_is_redirected_to_https(stack):
    response = requests.get(
        f"http://127.0.0.1:{stack.ports['http']}/POS/Billings?x=1", allow_redirects=False, timeout=5
    )
    assert response.status_code == 301
    assert response.headers["Location"] == f"{stack.url}/POS/Billings?x=1"
    assert response.headers["Server"] == "nginx"  # no version: server_tokens off


def test_the_certificate_is_verified_and_static_files_are_served_by_nginx(stack, https):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{stack.url}/healthz", timeout=5)  # the system's CAs do not know it
    response = https.get(f"{stack.url}/static/admin/css/base.css", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/css"
    assert "Expires" in response.headers  # nginx's, not WhiteNoise's
    assert "X-Frame-Options" not in response.headers  # no app server was asked


def test_docusign_past_due_pay_list_and_pdf(stack, https, client):
    base = f"{stack.url}/restapi/v2.1/accounts/{client['account']}"
    first, second, third = client["invoices"]
    owed = sum(Decimal(invoice["amount"]) for invoice in client["invoices"])

    past_due = https.get(f"{base}/billing_invoices_past_due", headers=bearer(client), timeout=10)
    assert past_due.status_code == 200, past_due.text
    body = past_due.json()
    assert Decimal(body["pastDueBalance"]) == owed
    assert sorted(int(i["invoiceId"]) for i in body["billingInvoices"]) == sorted(
        i["id"] for i in client["invoices"]
    )

    key = f"stack-{uuid.uuid4()}"
    paid = https.post(
        f"{base}/billing_payments",
        json={"paymentAmount": first["amount"], "invoiceId": str(first["id"])},
        headers={**bearer(client), "Idempotency-Key": key},
        timeout=10,
    )
    assert paid.status_code == 201, paid.text
    (line,) = paid.json()["billingPayments"]
    assert (line["invoiceId"], line["amount"]) == (str(first["id"]), first["amount"])
    replay = https.post(
        f"{base}/billing_payments",
        json={"paymentAmount": first["amount"], "invoiceId": str(first["id"])},
        headers={**bearer(client), "Idempotency-Key": key},
        timeout=10,
    )
    assert (replay.status_code, replay.content) == (201, paid.content)
    assert replay.headers["Idempotent-Replayed"] == "true"

    listed = https.get(f"{base}/billing_payments", headers=bearer(client), timeout=10)
    assert listed.status_code == 200, listed.text
    assert [p["paymentId"] for p in listed.json()["billingPayments"]] == [line["paymentId"]]
    assert stack.sql(
        "SELECT balance FROM invoices_invoice WHERE id = ANY(%s) ORDER BY id",
        [[first["id"], second["id"], third["id"]]],
    ) == [(Decimal("0.00"),), (Decimal(second["amount"]),), (Decimal(third["amount"]),)]

    pdf = https.get(
        f"{base}/billing_invoices/{second['id']}",
        headers={**bearer(client), "Accept": "application/pdf"},
        timeout=10,
    )
    assert pdf.status_code == 200, pdf.text[:300]
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


def test_legend_billings_and_billing_payments(stack, https, client):
    item = client["items"][0]
    billings = https.get(
        f"{stack.url}/POS/Billings",
        params={"ContactId": client["contact"]},
        headers=bearer(client),
        timeout=10,
    )
    assert billings.status_code == 200, billings.text
    assert sorted(b["BillingId"] for b in billings.json()["Billings"]) == sorted(
        i["id"] for i in client["items"]
    )
    raw = json.dumps(
        {
            "ContactId": client["contact"],
            "PaymentDate": "2026-01-15T10:00:00+00:00",
            "TenderTypeId": 3,
            "BillingPayments": [{"BillingId": item["id"], "Amount": "AMOUNT"}],
        }
    ).replace('"AMOUNT"', item["amount"])
    paid = https.post(
        f"{stack.url}/POS/BillingPayments",
        data=raw,
        headers={
            **bearer(client),
            "Content-Type": "application/json",
            "Idempotency-Key": f"stack-{uuid.uuid4()}",
        },
        timeout=10,
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["Success"] is True
    (line,) = paid.json()["BillingPayments"]
    assert (line["BillingId"], line["Balance"]) == (item["id"], 0)
    assert stack.sql("SELECT balance FROM invoices_billingitem WHERE id = %s", [item["id"]]) == [
        (Decimal("0.00"),)
    ]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/restapi/v2.1/accounts/{account}/billing_payments",
            {"errorCode": "REQUEST_ENTITY_TOO_LARGE"},
        ),
        ("/POS/BillingPayments", {"Success": False, "BillingPayments": []}),
    ],
)
def test_a_body_over_the_limit_is_the_apps_413_in_the_apis_shape(
    stack, https, client, path, expected
):
    """nginx refuses it unread and asks the app, with the declared length only, for the answer."""
    body = json.dumps({"paymentAmount": "1.00", "padding": "x" * 1_100_000})
    response = https.post(
        stack.url + path.format(account=client["account"]),
        data=body,
        headers={**bearer(client), "Content-Type": "application/json", "Idempotency-Key": "big"},
        timeout=10,
    )
    assert response.status_code == 413
    answer = response.json()
    assert {name: answer[name] for name in expected} == expected
    message = answer.get("message") or answer.get("ErrorMessage")
    assert message == "The request body is larger than 1048576 bytes, the limit."


def test_the_docusign_sdk_through_the_stack(stack, client):
    api_client = docusign_esign.ApiClient(host=f"{stack.url}/restapi")
    configuration = docusign_esign.Configuration()
    configuration.ssl_ca_cert = stack.ca  # the stack's CA, as a partner would trust its own
    api_client.rest_client = RESTClientObject(configuration=configuration)
    api_client.set_default_header("Authorization", f"Bearer {client['secret']}")
    api = docusign_esign.BillingApi(api_client)

    account = str(client["account"])
    before = api.list_invoices_past_due(account)
    paid = api.make_payment(
        account,
        billing_payment_request=docusign_esign.BillingPaymentRequest(
            payment_amount=before.past_due_balance
        ),
    )
    # The SDK pays the whole past-due balance (no invoiceId in its model), oldest first.
    assert sum(Decimal(line.amount) for line in paid.billing_payments) == Decimal(
        before.past_due_balance
    )
    after = api.list_invoices_past_due(account)
    assert (Decimal(after.past_due_balance), after.billing_invoices) == (Decimal("0.00"), [])


def test_the_suites_api_tests_pass_through_pgbouncer_in_transaction_mode(stack):
    """pytest-django creates its test database through PgBouncer too (its `*` entry)."""
    name = f"stackapi{uuid.uuid4().hex[:8]}"
    pgbouncer = f"postgres://postgres@127.0.0.1:{stack.ports['pgbouncer']}/{name}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
        "DATABASE_URL": pgbouncer,
        "DB_TRANSACTION_POOLING": "1",
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": f"redis://127.0.0.1:{stack.ports['redis']}/0",
    }
    env.pop("DATABASE_REPLICA_URL", None)
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-x",
                "--reuse-db",
                "-o",
                "addopts=--strict-markers -p no:cacheprovider",
                *API_MODULES,
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=SUITE_TIMEOUT,
            check=False,
        )
    finally:
        # --reuse-db: the run leaves its database, dropped here on the primary itself (PgBouncer
        # may still hold a connection to it, which FORCE ends).
        stack.sql(f'DROP DATABASE IF EXISTS "test_{name}" WITH (FORCE)')
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    ran = re.fullmatch(r"(\d+) passed in .*", summary)  # nothing failed, skipped or errored
    assert ran, summary
    assert int(ran.group(1)) >= 500, summary
