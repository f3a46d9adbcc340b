"""Which reads go to the replica: the dashboard, the past-due list, its exports and
`verify_ledger --replica`; nothing else (API requests, money paths, idempotency, authentication).

In tests the `replica` alias mirrors the test database (pyproject.toml sets DATABASE_REPLICA_URL),
on a connection of its own, so what each page asks of which database is counted apart. The tests
that read it are transactional: a mirror sees only committed rows, and a read made inside a
transaction on the primary (pytest-django's non-transactional tests run inside one) stays on the
primary by design.
"""

import csv
import datetime
import io
import json
import re
import subprocess
import sys
from contextlib import contextmanager
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from billing_site.db_router import REPLICA, ReplicaRouter, pinned, read_alias, replica_reads
from billing_site.replica import Freshness
from contacts.models import Account
from invoices.models import Invoice
from payments.actors import SYSTEM
from payments.models import Payment
from payments.owed_then import SERIAL_SETTINGS
from payments.services import invoices_pay
from tests.backoffice_pages import cashier_user, page_of, preview_token
from tests.factories import (
    AccountRoleFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    TenderTypeFactory,
    days_ago,
)
from tests.pay_books import DETAILS
from tests.servers import ROOT

both = pytest.mark.django_db(transaction=True, databases={"default", "replica"})


@contextmanager
def counted():
    """The queries run on the primary and on the replica during the block."""
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as replica,
    ):
        yield SimpleNamespace(primary=primary, replica=replica)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def books():
    role = AccountRoleFactory()
    account = role.account
    invoices = [
        InvoiceFactory(account=account, due_date=days_ago(days), amount=Decimal(amount))
        for days, amount in ((40, "120.00"), (10, "80.50"), (-3, "15.00"))
    ]
    return SimpleNamespace(account=account, credential=role.credential, invoices=invoices)


@pytest.fixture
def staff(client):
    user = cashier_user()
    client.force_login(user)
    return user


# The router itself.


@both
def test_reads_go_to_the_replica_only_inside_the_scope_and_outside_any_transaction():
    router = ReplicaRouter()
    assert router.db_for_read(Account) == "default"
    with replica_reads():
        assert router.db_for_read(Account) == "replica"
        assert router.db_for_write(Account) == "default"
        with transaction.atomic():  # a money path: its reads stay in its transaction
            assert router.db_for_read(Account) == "default"
        assert router.db_for_read(Account) == "replica"
        with replica_reads():
            assert read_alias() == "replica"
        assert read_alias() == "replica"  # leaving an inner scope keeps the outer one
    assert router.db_for_read(Account) == "default"
    assert router.allow_migrate("default", "payments") is True
    assert router.allow_migrate("replica", "payments") is False


@replica_reads()
def _read_in_a_decorated_function() -> str:
    return read_alias()


@both
def test_replica_reads_decorates_a_function_and_needs_the_router(settings):
    assert _read_in_a_decorated_function() == "replica"
    assert read_alias() == "default"
    settings.DATABASE_ROUTERS = []
    assert _read_in_a_decorated_function() == "default"


@both
def test_inside_the_scope_a_write_and_a_money_path_never_touch_the_replica(books):
    with replica_reads():
        with counted() as queries:
            account = Account.objects.get(pk=books.account.pk)
        assert account._state.db == "replica"
        assert (len(queries.replica), len(queries.primary)) == (1, 0)

        with counted() as queries:
            account.name = "Renamed"
            account.save()  # read from the replica, written to the primary
            invoices_pay(account_id=account.pk, amount="120.00", actor=SYSTEM)
            pinned_elsewhere = pinned(Invoice.objects.all())
        assert len(queries.replica) == 0
        assert len(queries.primary) > 0
        assert pinned_elsewhere.db == "replica"

    assert Account.objects.get(pk=books.account.pk).name == "Renamed"
    payment = Payment.objects.get()
    assert payment.amount == Decimal("120.00")
    assert Invoice.objects.get(pk=books.invoices[0].pk).balance == Decimal("0.00")


# The pages that read the replica.


@pytest.mark.django_db
def test_the_dashboard_says_how_far_behind_a_lagging_replica_is(client, staff, monkeypatch):
    behind = Freshness(
        as_of=datetime.datetime(2026, 3, 1, 12, 34, 56, tzinfo=datetime.UTC),
        lagging=True,
        lag_seconds=7,
    )
    monkeypatch.setattr("backoffice.views.figures_freshness", lambda: behind)

    for address in ("/backoffice/", "/backoffice/past-due/"):
        as_of = page_of(client.get(address)).by_id("figures-as-of").text()
        assert as_of == "Figures as of 12:34:56 UTC (replica 7 s behind)"


TIME = r"Figures as of \d\d:\d\d:\d\d UTC"


@both
def test_the_dashboard_reads_its_figures_from_the_replica(client, staff, books):
    with counted() as queries:
        response = client.get("/backoffice/")

    assert response.status_code == 200
    # The session, its user and the permission checks on the primary; the figures (two queries),
    # the customer credit held (one) and their freshness (one) on the replica.
    assert (len(queries.primary), len(queries.replica)) == (4, 4)
    assert "pg_is_in_recovery()" in queries.replica[-1]["sql"]
    as_of = page_of(response).by_id("figures-as-of").text()
    assert re.fullmatch(TIME, as_of), as_of  # the mirror is no standby: as of now, no lag
    figures = page_of(response).by_id("total-receivable").find("li").text()
    assert figures == "215.50 USD"


@both
def test_the_past_due_list_and_its_exports_read_the_replica(client, staff, books):
    with counted() as queries:
        response = client.get("/backoffice/past-due/", {"sort": "-balance"})
    assert response.status_code == 200
    assert len(queries.primary) == 4
    # the page, the totals per currency of each kind (whose counts are the pager's), the account
    # and currency filters' choices, freshness
    assert len(queries.replica) == 6
    page = page_of(response)
    assert page.row_ids("past-due-table", "data-invoice-id") == [
        books.invoices[0].pk,
        books.invoices[1].pk,
    ]
    assert re.fullmatch(TIME, page.by_id("figures-as-of").text())

    # As of an earlier day: the page with its kind's totals, its rows read whole by key, the
    # other kind's totals (in a transaction planned without parallel workers), the choices,
    # freshness; all on the replica.
    with counted() as queries:
        response = client.get("/backoffice/past-due/", {"as_of": days_ago(1).isoformat()})
    assert response.status_code == 200
    statements = [query["sql"] for query in queries.replica.captured_queries]
    assert SERIAL_SETTINGS in statements
    assert len(queries.primary) == 4
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT")
    assert len([sql for sql in statements if not sql.startswith(control)]) == 7
    assert page_of(response).row_ids("past-due-table", "data-invoice-id") == [
        books.invoices[0].pk,
        books.invoices[1].pk,
    ]

    with counted() as queries:
        response = client.get("/backoffice/past-due/export.csv", {"sort": "balance"})
        rows = list(csv.reader(io.StringIO(body_of(response).decode())))
    assert response.status_code == 200
    assert (len(queries.primary), len(queries.replica)) == (4, 1)
    assert [row[2] for row in rows[1:]] == [books.invoices[1].number, books.invoices[0].number]

    with counted() as queries:
        response = client.get("/backoffice/past-due/export.xlsx", {"sort": "balance"})
        sheet = load_workbook(io.BytesIO(body_of(response)), read_only=True).active
    assert response.status_code == 200
    assert (len(queries.primary), len(queries.replica)) == (4, 1)
    numbers = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert numbers == [books.invoices[1].number, books.invoices[0].number]


@both
def test_verify_ledger_reads_the_replica_only_when_asked(books):
    for flag, on_replica in (([], 0), (["--replica"], 4)):
        out = io.StringIO()
        with counted() as queries:
            call_command("verify_ledger", *flag, stdout=out)
        assert re.fullmatch(r"Checked [^\n]* in \d+\.\d\d s: no drift\.\n", out.getvalue())
        assert len(queries.replica) == on_replica
        assert len(queries.primary) == 4 - on_replica


# Everything else reads and writes the primary only.


@both
def test_api_requests_money_pages_idempotency_and_login_never_touch_the_replica(client, books):
    TenderTypeFactory(id=3, name="Card")  # the migration's presets are flushed in these tests
    contact = ContactFactory(account=books.account)
    item = BillingItemFactory(contact=contact, total_amount=Decimal("30.00"))
    user = cashier_user()
    owed = InvoiceFactory(due_date=days_ago(20), amount=Decimal("15.00"))  # paid by staff
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {books.credential.secret}"}
    api = f"/restapi/v2.1/accounts/{books.account.number}"
    legend = json.dumps(
        {
            "ContactId": str(contact.guid),
            "PaymentDate": "2026-01-05T10:00:00+00:00",
            "TenderTypeId": 3,
            "BillingPayments": [{"BillingId": item.pk, "Amount": 10.00}],
        }
    )
    with counted() as queries:
        login = client.post("/admin/login/", {"username": user.username, "password": "password"})
        past_due = client.get(f"{api}/billing_invoices_past_due", **bearer)
        posts = [
            client.post(
                f"{api}/billing_payments",
                json.dumps({"paymentAmount": "200.50"}),
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY="pay-once",
                **bearer,
            )
            for _ in range(2)
        ]
        till = client.post(
            "/POS/BillingPayments", legend, content_type="application/json", **bearer
        )
        admin = client.get("/admin/")
        account_page = client.get(f"/backoffice/accounts/{owed.account.pk}/")
        pay = f"/backoffice/accounts/{owed.account.pk}/pay/"
        form = {"invoices": [owed.pk], "amount": "15.00", **DETAILS, "tender_type": "3"}
        preview = client.post(pay, {**form, "action": "preview"})
        confirm = client.post(pay, {**form, "action": "confirm", "preview": preview_token(preview)})
        paid = Payment.objects.filter(amount=Decimal("15.00")).get()
        reverse = client.post(f"/backoffice/payments/{paid.pk}/reverse/", {"reason": "Bounced"})

    assert login.status_code == 302
    assert past_due.status_code == 200
    assert past_due.json()["pastDueBalance"] == "200.50"
    assert [post.status_code for post in posts] == [201, 201]
    assert posts[1]["Idempotent-Replayed"] == "true"
    assert till.status_code == 200, till.content
    assert till.json()["Success"] is True
    assert (admin.status_code, account_page.status_code, preview.status_code) == (200, 200, 200)
    assert (confirm.status_code, reverse.status_code) == (302, 302)
    assert len(queries.replica) == 0
    assert len(queries.primary) > 0
    amounts = sorted(Payment.objects.values_list("amount", flat=True))
    assert amounts == [Decimal("10.00"), Decimal("15.00"), Decimal("200.50")]
    assert Payment.objects.get(amount=Decimal("15.00")).reversal.reason == "Bounced"


# The settings behind it.


def settings_with(**env) -> dict:
    """DATABASES and DATABASE_ROUTERS as the settings module builds them from `env`."""
    script = (
        "import json; from billing_site import settings as s; "
        "print(json.dumps({'databases': s.DATABASES, "
        "'routers': getattr(s, 'DATABASE_ROUTERS', [])}, default=str))"
    )
    base = {
        "PATH": "/usr/bin:/bin",
        "SECRET_KEY": "x",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "DATABASE_URL": "postgres://app@primary.example:5432/billing",
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)


def test_the_replica_alias_and_transaction_pooling_come_from_the_environment():
    plain = settings_with()
    assert list(plain["databases"]) == ["default"]
    assert plain["routers"] == []
    assert plain["databases"]["default"]["DISABLE_SERVER_SIDE_CURSORS"] is False
    assert "prepare_threshold" not in plain["databases"]["default"].get("OPTIONS", {})

    pooled = settings_with(
        DATABASE_REPLICA_URL="postgres://app@replica.example:5432/billing",
        DB_TRANSACTION_POOLING="1",
        DB_CONN_MAX_AGE="0",
    )
    assert pooled["routers"] == ["billing_site.db_router.ReplicaRouter"]
    default, replica = pooled["databases"]["default"], pooled["databases"]["replica"]
    assert (replica["HOST"], replica["NAME"], replica["TEST"]) == (
        "replica.example",
        "billing",
        {"MIRROR": "default"},
    )
    for database in (default, replica):
        assert database["DISABLE_SERVER_SIDE_CURSORS"] is True
        assert database["OPTIONS"]["prepare_threshold"] is None
        assert (database["CONN_MAX_AGE"], database["CONN_HEALTH_CHECKS"]) == (0, True)
