"""The database unavailable or its connections cut: 503 with Retry-After in each API's own shape,
nothing half-written, nothing paid twice, and no request lost that could have been served.

In-process tests cover the outcomes a client cannot tell apart (the COMMIT failed, or it succeeded
and its acknowledgement was lost); real gunicorn servers (tests/servers.py) cover a database that
is down, connections terminated between requests, and connections terminated under load.
"""

import json
import threading
import time
from decimal import Decimal

import pytest
import requests
from django.core.handlers.exception import convert_exception_to_response
from django.db import OperationalError, connection
from django.test import Client, RequestFactory

from billing_site.unavailable import PAGE, DatabaseUnavailableMiddleware
from invoices.models import BillingItem, Invoice
from payments.docusign import views as docusign_views
from payments.ledger import ledger_drift
from payments.legend import views as legend_views
from payments.models import IdempotencyRecord, Payment, PaymentAllocation
from tests.factories import (
    AccountRoleFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    TenderTypeFactory,
)
from tests.fault_load import Load, arrange, check_ledger, summary
from tests.servers import free_port, gunicorn_server

MESSAGE = (
    "The service is temporarily unavailable. Retry the same request, with the same "
    "Idempotency-Key, after the Retry-After delay."
)
SEED_UNAVAILABLE = {
    "success": False,
    "error": {
        "code": "SERVICE_UNAVAILABLE",
        "message": MESSAGE,
        "details": {"errorCode": "SERVICE_UNAVAILABLE"},
    },
}
RESTAPI_UNAVAILABLE = {"errorCode": "SERVICE_UNAVAILABLE", "message": MESSAGE}
CONTACT_GUID = "0b5c0a8e-6a0e-4d43-9a51-2f1f7c1b2d3e"
APIS = ("restapi", "seed", "legend")


def legend_unavailable(contact_id, lines_key):
    return {"ContactId": contact_id, "Success": False, "ErrorMessage": MESSAGE, lines_key: []}


@pytest.fixture
def billing():
    """An account administrator's key; a past-due invoice of 100.00; a contact's item of 50.00."""
    role = AccountRoleFactory()
    invoice = InvoiceFactory(account=role.account, amount=Decimal("100.00"))
    item = BillingItemFactory(
        contact=ContactFactory(account=role.account), total_amount=Decimal("50.00")
    )
    TenderTypeFactory(id=3, name="Card")  # the migration's presets are flushed in these tests
    return role, invoice, item


def pay(api, billing, key="k1"):
    """The API's payment of the invoice (DocuSign) or the item (Legend), with an Idempotency-Key."""
    role, invoice, item = billing
    if api == "legend":
        address = "/POS/BillingPayments"
        line = f'{{"BillingId": {item.pk}, "Amount": 50.00}}'  # a JSON number, as a till sends
        body = (
            f'{{"ContactId": "{item.contact.guid}", "PaymentDate": "2026-01-15T10:00:00+00:00",'
            f' "TenderTypeId": 3, "BillingPayments": [{line}]}}'
        )
    else:
        mount = "/restapi/v2.1" if api == "restapi" else "/v2.1"
        address = f"{mount}/accounts/{role.account.number}/billing_payments"
        body = json.dumps({"paymentAmount": "100.00", "invoiceId": str(invoice.pk)})
    return Client().post(
        address,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {role.credential.secret}",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def unavailable_body(api, billing):
    if api == "legend":
        return legend_unavailable(str(billing[2].contact.guid), "BillingPayments")
    return RESTAPI_UNAVAILABLE if api == "restapi" else SEED_UNAVAILABLE


def paid_rows():
    """(payments, allocations, idempotency records, invoice balances, item balances)."""
    return (
        Payment.objects.count(),
        PaymentAllocation.objects.count(),
        list(IdempotencyRecord.objects.values_list("key", "status_code")),
        list(Invoice.objects.values_list("balance", flat=True)),
        list(BillingItem.objects.values_list("balance", flat=True)),
    )


NOTHING_PAID = (0, 0, [], [Decimal("100.00")], [Decimal("50.00")])


def paid_once(api):
    status = 200 if api == "legend" else 201
    if api == "legend":
        return (1, 1, [("k1", status)], [Decimal("100.00")], [Decimal("0.00")])
    return (1, 1, [("k1", status)], [Decimal("0.00")], [Decimal("50.00")])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("api", APIS)
def test_a_database_error_while_paying_is_a_503_that_stores_no_key(api, billing, monkeypatch):
    """The connection dies inside the payment: 503 with Retry-After, nothing written (not even the
    Idempotency-Key's record), and the retry with the same key pays once."""

    def connection_lost(**kwargs):
        raise OperationalError("terminating connection due to administrator command")

    with monkeypatch.context() as patch:
        patch.setattr(docusign_views, "invoices_pay", connection_lost)
        patch.setattr(legend_views, "billing_items_pay", connection_lost)
        failed = pay(api, billing)

    assert failed.status_code == 503
    assert failed["Retry-After"] == "5"
    assert failed.json() == unavailable_body(api, billing)
    assert paid_rows() == NOTHING_PAID

    retry = pay(api, billing)

    assert retry.status_code == (200 if api == "legend" else 201), retry.content
    assert "Idempotent-Replayed" not in retry.headers
    assert paid_rows() == paid_once(api)
    assert ledger_drift() == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("committed", [False, True], ids=["commit-failed", "ack-lost"])
def test_a_payment_whose_commit_outcome_is_unknown_is_never_201_and_never_paid_twice(
    api, committed, billing, monkeypatch
):
    """COMMIT raises: either it never reached the server (nothing was written) or the server
    committed and the connection died before saying so. The client cannot tell which, so the
    answer is a 503, never the 201 built before the COMMIT; the retry with the same key then
    either pays (first case) or replays the stored answer (second case): paid exactly once."""
    real_commit = connection.commit
    commits = []

    def commit_outcome_unknown():
        commits.append(1)
        if len(commits) > 1:
            return real_commit()
        if committed:
            real_commit()
        raise OperationalError("server closed the connection unexpectedly")

    with monkeypatch.context() as patch:
        patch.setattr(connection, "commit", commit_outcome_unknown)
        failed = pay(api, billing)

    assert commits == [1]
    assert failed.status_code == 503
    assert failed["Retry-After"] == "5"
    assert failed.json() == unavailable_body(api, billing)
    assert paid_rows() == (paid_once(api) if committed else NOTHING_PAID)

    retry = pay(api, billing)

    assert retry.status_code == (200 if api == "legend" else 201), retry.content
    assert retry.headers.get("Idempotent-Replayed") == ("true" if committed else None)
    assert paid_rows() == paid_once(api)
    assert ledger_drift() == []


def test_the_database_down_is_a_503_with_retry_after_in_each_apis_shape(tmp_path):
    """No database at all (a closed port): every API answers 503 in its own error shape with
    Retry-After, the staff pages a plain 503 page; a request that needs no database is served."""
    closed = f"postgres://postgres@127.0.0.1:{free_port()}/billing"
    env = {"DATABASE_URL": closed, "DB_UNAVAILABLE_RETRY_AFTER": "7"}
    bearer = {"Authorization": "Bearer not-checked-the-database-is-down"}
    restapi, seed = "/restapi/v2.1/accounts/900001", "/v2.1/accounts/900001"
    payment = {"paymentAmount": "10.00"}
    legend_payment = {
        "ContactId": CONTACT_GUID,
        "PaymentDate": "2026-01-15T10:00:00+00:00",
        "TenderTypeId": 3,
        "BillingPayments": [{"BillingId": 1, "Amount": 10.0}],
    }
    api_calls = [
        ("GET", f"{restapi}/billing_invoices_past_due", None, RESTAPI_UNAVAILABLE),
        ("POST", f"{restapi}/billing_payments", payment, RESTAPI_UNAVAILABLE),
        ("GET", f"{seed}/billing_payments", None, SEED_UNAVAILABLE),
        ("POST", f"{seed}/billing_payments", payment, SEED_UNAVAILABLE),
        (
            "GET",
            f"/POS/Billings?ContactId={CONTACT_GUID}&OutstandingOnly=true",
            None,
            legend_unavailable(CONTACT_GUID, "Billings"),
        ),
        (
            "POST",
            "/POS/BillingPayments",
            legend_payment,
            legend_unavailable(CONTACT_GUID, "BillingPayments"),
        ),
    ]
    with gunicorn_server(tmp_path, workers=2, env=env) as server:
        for method, path, body, expected in api_calls:
            response = requests.request(
                method,
                server.url + path,
                json=body,
                headers={**bearer, "Idempotency-Key": "k1"} if body else bearer,
                timeout=10,
            )
            assert response.status_code == 503, (path, response.text, server.log())
            assert response.headers["Retry-After"] == "7", path
            assert response.headers["Content-Type"] == "application/json", path
            assert response.json() == expected, path

        # A staff session on the API: looking the session up fails inside DRF, so the API's shape.
        session = {"sessionid": "abcdefghijklmnopqrstuvwxyz012345"}
        response = requests.get(f"{server.url}{seed}/billing_invoices", cookies=session, timeout=10)
        assert (response.status_code, response.json()) == (503, SEED_UNAVAILABLE), server.log()
        assert response.headers["Retry-After"] == "7"

        # Staff pages with a session to look up: a plain page, not Django's 500.
        for path in ("/backoffice/", "/admin/", "/admin/payments/payment/"):
            response = requests.get(server.url + path, cookies=session, timeout=10)
            assert response.status_code == 503, (path, response.text, server.log())
            assert response.headers["Retry-After"] == "7", path
            assert response.headers["Content-Type"] == "text/html; charset=utf-8", path
            assert response.text == PAGE, path

        # Without a session nothing needs the database: the login redirect is still served.
        response = requests.get(server.url + "/backoffice/", allow_redirects=False, timeout=10)
        assert response.status_code == 302
        assert response.headers["Location"] == "/admin/login/?next=/backoffice/"
        log = server.log()
    assert "Traceback" not in log, log  # warnings, one line each: not a stack trace a request
    assert log.count("Database unavailable, answered 503") == len(api_calls) + 4, log


@pytest.mark.parametrize(
    ("error", "status"), [(OperationalError("connection refused"), 503), (KeyError("bug"), 500)]
)
def test_a_database_error_raised_by_a_middleware_is_a_503_page_too(error, status):
    """An error raised below DatabaseUnavailableMiddleware by another middleware (a session
    saved on the way out) reaches it as Django's 500 already: a database error's 500 becomes the
    503 page; any other error stays a 500."""

    def failing_middleware(request):
        raise error

    middleware = DatabaseUnavailableMiddleware(convert_exception_to_response(failing_middleware))
    response = middleware(RequestFactory().get("/backoffice/"))

    assert response.status_code == status
    if status == 503:
        assert response["Retry-After"] == "5"
        assert response.content.decode() == PAGE


def get_past_due(server, role) -> requests.Response:
    return requests.get(
        f"{server.url}/restapi/v2.1/accounts/{role.account.number}/billing_invoices_past_due",
        headers={"Authorization": f"Bearer {role.credential.secret}"},
        timeout=10,
    )


def hold_a_connection_in_every_worker(server, role, workers: int) -> None:
    """Requests sent `workers` at a time until each worker has kept its database connection."""
    stop = time.monotonic() + 20
    while len(server.backend_pids()) < workers:
        assert time.monotonic() < stop, f"{server.backend_pids()}\n{server.log()}"
        responses: list[requests.Response] = []

        def get(responses=responses):
            responses.append(get_past_due(server, role))

        threads = [threading.Thread(target=get) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=15)
        assert [r.status_code for r in responses] == [200] * workers, server.log()


@pytest.mark.django_db(transaction=True)
def test_connections_terminated_between_requests_cost_no_request(tmp_path, billing):
    """Every worker holds a persistent connection; the database terminates them all (a restart, a
    failover); the next requests are all served: each worker's health check replaces its dead
    connection before using it."""
    role = billing[0]
    with gunicorn_server(tmp_path, workers=3, env={"DB_CONN_MAX_AGE": "60"}) as server:
        hold_a_connection_in_every_worker(server, role, 3)
        before = set(server.backend_pids())
        assert len(before) == 3

        assert server.terminate_backends() == 3
        assert server.backend_pids() == []

        statuses = [get_past_due(server, role).status_code for _ in range(12)]
        statuses.append(pay_over_http(server, billing).status_code)
        log = server.log()
        after = set(server.backend_pids())
    assert statuses == [200] * 12 + [201], log
    assert after, log  # new connections...
    assert not after & before, log  # ...the dead ones dropped
    assert Payment.objects.count() == 1
    assert ledger_drift() == []


def pay_over_http(server, billing) -> requests.Response:
    role, invoice, _item = billing
    return requests.post(
        f"{server.url}/restapi/v2.1/accounts/{role.account.number}/billing_payments",
        json={"paymentAmount": "100.00", "invoiceId": str(invoice.pk)},
        headers={"Authorization": f"Bearer {role.credential.secret}", "Idempotency-Key": "k1"},
        timeout=10,
    )


TERMINATIONS = 3
WORKERS = 3


@pytest.mark.django_db(transaction=True)
def test_connections_terminated_under_load_lose_no_acknowledged_payment(tmp_path):
    """Four partners pay 80 invoices and billing items, one a request, while the database
    terminates the app's connections three times. No 500; a 503 (with Retry-After) only for a
    request in flight at a termination; every payment acknowledged is in the ledger exactly once,
    whole, and nothing was paid twice."""
    plan = arrange(clients=4, per_client=10)
    terminated = []

    def terminate_three_times(load: Load) -> None:
        for share in (0.15, 0.4, 0.65):
            if not load.wait_for_acknowledged(int(load.total * share)):
                return
            terminated.append(load.server.terminate_backends())

    env = {"DB_CONN_MAX_AGE": "60", "DB_UNAVAILABLE_RETRY_AFTER": "1"}
    with gunicorn_server(tmp_path, workers=WORKERS, env=env) as server:
        outcomes = Load(server, plan).run(terminate_three_times)
        log = server.log()

    attempts = summary(outcomes)
    context = f"terminated {terminated}, attempts {dict(attempts)}\n{log}"
    assert len(terminated) == TERMINATIONS, context
    assert all(count >= 1 for count in terminated), context  # each cut live connections
    assert set(attempts) <= {200, 201, 503}, context  # no 500, no lost connection, nothing else
    assert attempts[503] <= sum(terminated), context  # at most one request a backend terminated
    assert all(value == "1" for o in outcomes for value in o.retry_after), context
    check_ledger(outcomes, plan, log)
