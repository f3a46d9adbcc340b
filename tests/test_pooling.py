"""The app behind PgBouncer in transaction pooling mode (DB_TRANSACTION_POOLING=1).

A real PgBouncer (Debian's; skipped when it is not installed) hands each transaction to the next
server session round-robin, so whatever a client leaves in a session is missing on its next
transaction, as under load. A gunicorn serves the test database through it: the past-due exports
of more than 2000 rows (more than one chunk), a DocuSign payment, a Legend payment and the same
query many times (more than psycopg's prepare threshold) all work. Without the setting, the
export's server-side cursor is lost between DECLARE and FETCH, and a prepared statement between
PREPARE and EXECUTE: both traps are shown failing.
"""

import csv
import io
import re
from decimal import Decimal

import psycopg
import pytest
import requests
from django.db import connection
from openpyxl import load_workbook

from billing_site.chunked import chunked, keyset_chunks
from contacts.roles import Role
from invoices.models import Invoice, InvoiceStatus
from payments.models import Payment
from tests.backoffice_pages import cashier_user
from tests.factories import (
    AccountFactory,
    AccountRoleFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    TenderTypeFactory,
    days_ago,
)
from tests.postgres_servers import pgbouncer
from tests.servers import gunicorn_server

ROWS = 2100  # more than the export's chunk of 2000


def many_past_due_invoices(count: int):
    account = AccountFactory(name="Bulk Ltd")
    Invoice.objects.bulk_create(
        Invoice(
            account=account,
            number=f"BULK-{n:05d}",
            issue_date=days_ago(60),
            due_date=days_ago(30 + n % 20),
            amount=Decimal("10.00") + n,
            balance=Decimal("10.00") + n,
            status=InvoiceStatus.OPEN,
        )
        for n in range(count)
    )
    return account


def session_cookie(client) -> dict:
    client.force_login(cashier_user())
    return {"sessionid": client.cookies["sessionid"].value}


def bouncer_url(port: int) -> str:
    return f"postgres://postgres@127.0.0.1:{port}/{connection.settings_dict['NAME']}"


@pytest.fixture
def bouncer():
    db = connection.settings_dict
    with pgbouncer(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432), db["NAME"]) as port:
        yield port


def pooled_env(port: int, pooling: bool) -> dict:
    url = bouncer_url(port)
    return {
        "DATABASE_URL": url,
        "DATABASE_REPLICA_URL": url,
        "DB_CONN_MAX_AGE": "0",
        "DB_TRANSACTION_POOLING": "1" if pooling else "0",
    }


@pytest.mark.django_db(transaction=True)
def test_exports_payments_and_repeated_queries_work_through_pgbouncer(client, tmp_path, bouncer):
    many_past_due_invoices(ROWS)
    cookies = session_cookie(client)
    role = AccountRoleFactory(account=AccountFactory(currency="EUR"))
    InvoiceFactory(account=role.account, due_date=days_ago(15), amount=Decimal("70.00"))
    TenderTypeFactory(id=3, name="Card")  # the migration's presets are flushed in these tests
    till = AccountRoleFactory(role=Role.BILLING_PAYMENT)
    item = BillingItemFactory(contact=ContactFactory(account=till.account))
    api = f"/restapi/v2.1/accounts/{role.account.number}"
    expected = list(  # the export: every past-due invoice, in the page's order
        Invoice.objects.filter(status="open", due_date__lt=days_ago(0))
        .order_by("due_date", "pk")
        .values_list("number", flat=True)
    )
    assert len(expected) == ROWS + 1

    with gunicorn_server(tmp_path, workers=2, env=pooled_env(bouncer, pooling=True)) as server:
        csv_response = requests.get(
            f"{server.url}/backoffice/past-due/export.csv", cookies=cookies, timeout=60
        )
        xlsx_response = requests.get(
            f"{server.url}/backoffice/past-due/export.xlsx", cookies=cookies, timeout=60
        )
        bearer = {"Authorization": f"Bearer {role.credential.secret}"}
        lookups = [
            requests.get(f"{server.url}{api}/billing_invoices_past_due", headers=bearer, timeout=30)
            for _ in range(8)
        ]
        paid = requests.post(
            f"{server.url}{api}/billing_payments",
            json={"paymentAmount": "70.00"},
            headers={**bearer, "Idempotency-Key": "through-pgbouncer"},
            timeout=30,
        )
        collected = requests.post(
            f"{server.url}/POS/BillingPayments",
            json={
                "ContactId": str(item.contact.guid),
                "PaymentDate": "2026-01-05T10:00:00+00:00",
                "TenderTypeId": 3,
                "BillingPayments": [{"BillingId": item.pk, "Amount": 20.00}],
            },
            headers={"Authorization": f"Bearer {till.credential.secret}"},
            timeout=30,
        )
        log = server.log()

    assert csv_response.status_code == 200, log
    rows = list(csv.reader(io.StringIO(csv_response.text)))
    assert [row[2] for row in rows[1:]] == expected  # every row once, in the page's order
    assert xlsx_response.status_code == 200, log
    sheet = load_workbook(io.BytesIO(xlsx_response.content), read_only=True).active
    assert [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)] == expected
    assert [lookup.status_code for lookup in lookups] == [200] * 8
    assert {lookup.json()["pastDueBalance"] for lookup in lookups} == {"70.00"}
    assert paid.status_code == 201, paid.text
    assert collected.status_code == 200, collected.text
    assert collected.json()["Success"] is True
    payments = Payment.objects.order_by("amount").values_list("account_id", "amount")
    assert list(payments) == [
        (till.account.pk, Decimal("20.00")),
        (role.account.pk, Decimal("70.00")),
    ]
    assert "does not exist" not in log


@pytest.mark.django_db(transaction=True)
def test_without_the_setting_the_export_loses_its_cursor_through_pgbouncer(
    client, tmp_path, bouncer
):
    many_past_due_invoices(ROWS)
    cookies = session_cookie(client)

    with gunicorn_server(tmp_path, workers=1, env=pooled_env(bouncer, pooling=False)) as server:
        response = requests.get(
            f"{server.url}/backoffice/past-due/export.xlsx", cookies=cookies, timeout=60
        )
        log = server.log()

    assert response.status_code == 500
    # DECLARE ... WITH HOLD ran on one server session, FETCH on another.
    assert re.search(r'(cursor|portal) "_django_curs_\w+" does not exist', log), log


def test_psycopg_prepared_statements_are_lost_through_pgbouncer_unless_disabled(bouncer):
    conninfo = {"host": "127.0.0.1", "port": bouncer, "user": "postgres", "autocommit": True}
    dbname = {"dbname": connection.settings_dict["NAME"]}
    with psycopg.connect(**conninfo, **dbname, prepare_threshold=None) as unprepared:
        # Django's own choice for psycopg 3, made explicit by DB_TRANSACTION_POOLING.
        for n in range(20):
            assert unprepared.execute("SELECT %s::int + 1", [n]).fetchone() == (n + 1,)
    # Prepared (Parse, Sync) on one server session, run (Bind, Execute) on the next one.
    with (
        psycopg.connect(**conninfo, **dbname, prepare_threshold=0) as prepared,
        pytest.raises(psycopg.errors.InvalidSqlStatementName, match="does not exist"),
    ):
        prepared.execute("SELECT %s::int + 1", [1])


# Keyset chunks: the export's iteration when server-side cursors are off.


@pytest.mark.django_db
@pytest.mark.parametrize(
    "ordering",
    [("due_date", "pk"), ("-due_date", "-pk"), ("account__number", "pk"), ("-balance", "-pk")],
)
def test_keyset_chunks_read_every_row_once_in_order_a_chunk_at_a_time(
    ordering, django_assert_num_queries
):
    for account in (AccountFactory(), AccountFactory()):
        for days in (5, 5, 9, 12, 12, 12, 30):
            InvoiceFactory(account=account, due_date=days_ago(days), amount=Decimal(days + 1))
    invoices = Invoice.objects.select_related("account").order_by(*ordering)
    expected = [invoice.pk for invoice in invoices]

    with django_assert_num_queries(5):  # 14 rows by 3: four full chunks, then the last two
        assert [invoice.pk for invoice in keyset_chunks(invoices, 3)] == expected
    with django_assert_num_queries(3):  # 14 rows by 7: a last, empty chunk
        assert [invoice.pk for invoice in keyset_chunks(invoices, 7)] == expected


@pytest.mark.django_db
def test_chunked_uses_keyset_chunks_when_server_side_cursors_are_off(monkeypatch):
    InvoiceFactory.create_batch(5)
    invoices = Invoice.objects.order_by("number", "pk")
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)
    with pytest.raises(ValueError, match="ending in pk"):
        list(chunked(Invoice.objects.order_by("number"), 2))
    assert [i.number for i in chunked(invoices, 2)] == sorted(i.number for i in invoices)
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", False)
    assert list(chunked(Invoice.objects.order_by("number"), 2)) == list(invoices)  # a cursor


def test_keyset_chunks_refuse_an_order_that_is_not_total():
    for ordering in ((), ("due_date",), ("due_date", "-pk")):
        with pytest.raises(ValueError, match="one direction ending in pk"):
            next(keyset_chunks(Invoice.objects.order_by(*ordering), 10))
