"""What an API request costs the database: authentication is one query that brings the key's
roles, a read request writes nothing, and a keyed payment a fixed number of statements."""

import datetime
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts.models import ApiCredential
from contacts.roles import Role
from tests.factories import (
    AccountRoleFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    TenderTypeFactory,
    days_ago,
)

pytestmark = pytest.mark.django_db(transaction=True)

WRITES = ("INSERT", "UPDATE", "DELETE", "WITH PAYMENT AS (INSERT")


def statements(captured) -> list[str]:
    """Each statement's SQL without pghistory's context prefix, BEGIN and COMMIT left out."""
    sqls = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if sql.startswith("SELECT set_config("):
            sql = sql.split("; ", 1)[1] if "; " in sql else sql
        if sql not in ("BEGIN", "COMMIT"):
            sqls.append(sql)
    return sqls


def writes(sqls: list[str]) -> list[str]:
    return [sql for sql in sqls if sql.lstrip().upper().startswith(WRITES)]


@pytest.fixture
def admin_key():
    role = AccountRoleFactory(role=Role.ADMIN)
    InvoiceFactory(account=role.account, due_date=days_ago(9))
    return role


def get_past_due(role, client):
    address = f"/restapi/v2.1/accounts/{role.account.number}/billing_invoices_past_due"
    return client.get(address, HTTP_AUTHORIZATION=f"Bearer {role.credential.secret}")


def test_authentication_is_one_query_and_a_read_request_writes_nothing(admin_key):
    client = Client()
    with CaptureQueriesContext(connection) as first:
        assert get_past_due(admin_key, client).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert get_past_due(admin_key, client).status_code == 200

    # The first use of the key stamps it (once a minute at most); the next request writes nothing.
    assert [sql.split(" SET ")[0] for sql in writes(statements(first))] == [
        'UPDATE "contacts_apicredential"'
    ]
    assert writes(statements(second)) == []
    credential_reads = [sql for sql in statements(second) if "contacts_apicredential" in sql]
    role_reads = [sql for sql in statements(second) if "contacts_accountrole" in sql]
    assert len(credential_reads) == 1
    assert role_reads == [credential_reads[0]]  # the roles come with the credential


def test_last_used_at_is_stamped_at_most_once_a_minute(admin_key):
    client = Client()
    get_past_due(admin_key, client)
    stamped = ApiCredential.objects.get(pk=admin_key.credential.pk).last_used_at
    get_past_due(admin_key, client)
    assert ApiCredential.objects.get(pk=admin_key.credential.pk).last_used_at == stamped

    long_ago = timezone.now() - datetime.timedelta(minutes=2)
    ApiCredential.objects.filter(pk=admin_key.credential.pk).update(last_used_at=long_ago)
    get_past_due(admin_key, client)
    assert ApiCredential.objects.get(pk=admin_key.credential.pk).last_used_at > long_ago


def test_a_keyed_legend_payment_costs_a_fixed_number_of_statements():
    TenderTypeFactory(id=3, name="Card")  # the migration's presets are flushed in these tests
    till = AccountRoleFactory(role=Role.BILLING_PAYMENT)
    contact = ContactFactory(account=till.account)
    items = [BillingItemFactory(contact=contact, total_amount=Decimal("10.00")) for _ in range(10)]
    client = Client()

    def pay(lines, key):
        body = {
            "ContactId": str(contact.guid),
            "PaymentDate": timezone.now().isoformat(),
            "TenderTypeId": 3,
            "BillingPayments": [{"BillingId": item.pk, "Amount": 1.0} for item in lines],
        }
        with CaptureQueriesContext(connection) as captured:
            response = client.post(
                "/POS/BillingPayments",
                json.dumps(body),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {till.credential.secret}",
                HTTP_IDEMPOTENCY_KEY=key,
            )
        assert response.status_code == 200
        assert response.json()["Success"] is True
        sqls = [query["sql"] for query in captured.captured_queries]
        # One transaction from the key's lookup to the answer, and no savepoint in it.
        assert [sql for sql in sqls if sql in ("BEGIN", "COMMIT")] == ["BEGIN", "COMMIT"]
        assert sqls[0] == "BEGIN"
        assert sqls[-1] == "COMMIT"
        assert not any("SAVEPOINT" in sql for sql in sqls)
        # The audit context travels with the payment's writes, not with the idempotency
        # record's (no trigger there to read it: audit.context.untracked_statements).
        with_context = [sql.split("; ", 1)[1] for sql in sqls if sql.startswith("SELECT set_c")]
        assert sum(sql.startswith('WITH payment AS (INSERT INTO "') for sql in with_context) == 1
        assert not any('"payments_idempotencyrecord"' in sql for sql in with_context)
        assert sum('"payments_idempotencyrecord"' in sql for sql in sqls) == 2  # claim, store
        return statements(captured)

    pay(items[:1], "warm-up")  # stamps the key's first use
    one, ten = pay(items[:1], "one line"), pay(items, "ten lines")

    # Authenticate with the roles (1), claim the key (1), the contact with its account locked and
    # the tender type read (1), lock items (1), the payment with its allocations and the balances
    # (1), its event (1, events.recording), store the answer (1): the same whatever the number of
    # lines.
    assert len(one) == len(ten) == 7
    assert '"contacts_contact"' in ten[2]
    assert ten[2].endswith("FOR UPDATE OF a")
    one_write = 'WITH payment AS (INSERT INTO "payments_payment"'
    assert sum(sql.startswith(one_write) for sql in ten) == 1
    assert writes(ten)[0].startswith('INSERT INTO "payments_idempotencyrecord"')
    assert not any('FROM "payments_idempotencyrecord"' in sql for sql in ten)  # a new key


def test_a_payment_and_a_keyed_request_write_only_the_indexes_their_reads_use():
    """Every index is written by every INSERT: no single-column index where a composite one
    leads with the column (payments/migrations/0008)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexdef FROM pg_indexes "
            "WHERE tablename IN ('payments_payment', 'payments_idempotencyrecord')"
        )
        columns = {}
        for table, definition in cursor.fetchall():
            indexed = definition.split(" USING btree (", 1)[1].split(")", 1)[0]
            columns.setdefault(table, set()).add(indexed)

    assert columns == {
        "payments_payment": {
            "id",
            "account_id, id",
            "account_id, payment_date",
            "contact_id, payment_date",
            "payment_date",
            "recorded_by_credential_id",
            "recorded_by_user_id",
            "tender_type_id",
        },
        "payments_idempotencyrecord": {
            "id",
            "credential_id, key",
            "user_id, key",
            "created_at",
        },
    }
