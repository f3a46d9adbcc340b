"""Every money table carries its account, equal to its parent's, and the database keeps it so.

The services set `account_id` on every row they make; composite foreign keys (child's
(parent_id, account_id) -> parent's unique (account_id, id)) refuse a row whose account is not
its parent's, whoever sends the SQL; the migrations backfill the column on existing rows.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from audit.models import BillingItemEvent
from contacts.models import Contact
from invoices.models import BillingItem, InvoiceItem
from invoices.services import InvoiceLine, billing_item_create, invoice_issue
from payments.actors import SYSTEM
from payments.lines import BillingLine, WriteDownLine
from payments.models import Payment, PaymentAllocation, Reversal, WriteDown
from payments.services import (
    billing_items_pay,
    billing_items_write_down,
    invoices_pay,
    payment_reverse,
)
from tests.factories import (
    AccountFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    PaymentFactory,
    days_ago,
)

pytestmark = pytest.mark.django_db

MONEY_TABLES = [
    "invoices_invoiceitem",
    "invoices_billingitem",
    "payments_payment",
    "payments_paymentallocation",
    "payments_reversal",
    "payments_writedown",
]
NOW = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)


def test_every_money_table_has_a_not_null_account_id_referencing_accounts():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, is_nullable FROM information_schema.columns"
            " WHERE column_name = 'account_id' AND table_name = ANY(%s)",
            [MONEY_TABLES],
        )
        columns = dict(cursor.fetchall())
        cursor.execute(
            "SELECT conrelid::regclass::text, confrelid::regclass::text"
            " FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)"
            " AND conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = conrelid"
            " AND attname = 'account_id')]::smallint[]",
            [MONEY_TABLES],
        )
        references = sorted(cursor.fetchall())
    assert columns == dict.fromkeys(MONEY_TABLES, "NO")
    assert references == [(table, "contacts_account") for table in sorted(MONEY_TABLES)]


def _pay_invoices():
    account = AccountFactory()
    invoices = [
        invoice_issue(
            account=account,
            number=f"S-{n}",
            issue_date=days_ago(40 + n),
            due_date=days_ago(10 + n),
            lines=[InvoiceLine("Plan", Decimal("60.00")), InvoiceLine("Tax", Decimal("40.00"))],
        )
        for n in (1, 2)
    ]
    paid = invoices_pay(account_id=account.pk, amount="150.00", actor=SYSTEM)
    return account, invoices, paid


def test_invoices_pay_and_invoice_issue_give_every_row_the_account_of_its_parent():
    account, invoices, paid = _pay_invoices()
    AccountFactory()  # another account, to tell "its parent's" from "any"

    items = InvoiceItem.objects.filter(invoice__in=invoices)
    assert sorted(items.values_list("invoice_id", "account_id")) == sorted(
        (invoice.pk, account.pk) for invoice in invoices for _line in (1, 2)
    )
    assert Payment.objects.get().account_id == account.pk
    assert sorted(
        PaymentAllocation.objects.values_list("payment_id", "invoice_id", "account_id", "amount")
    ) == [
        (paid.payment.pk, invoices[0].pk, account.pk, Decimal("50.00")),
        (paid.payment.pk, invoices[1].pk, account.pk, Decimal("100.00")),  # the older, in full
    ]


def test_billing_items_pay_and_write_down_give_every_row_the_contacts_account():
    contact = ContactFactory()
    ContactFactory()  # another account's contact
    paid_item = billing_item_create(
        contact=contact, description="Fee", due_date=days_ago(3), total_amount=Decimal("30.00")
    )
    written_item = billing_item_create(
        contact=contact, description="Locker", due_date=days_ago(3), total_amount=Decimal("9.00")
    )
    assert BillingItem.objects.get(pk=paid_item.pk).account_id == contact.account_id

    paid = billing_items_pay(
        contact=contact,
        tender_type_id=1,
        payment_date=NOW,
        lines=[BillingLine(billing_id=paid_item.pk, amount="30.00")],
        actor=SYSTEM,
    )
    billing_items_write_down(
        contact=contact,
        write_down_date=NOW,
        lines=[WriteDownLine(billing_id=written_item.pk, amount="4.00")],
        reason="Goodwill",
        actor=SYSTEM,
    )

    assert Payment.objects.values_list("pk", "account_id", "contact_id").get() == (
        paid.payment.pk,
        contact.account_id,
        contact.pk,
    )
    assert list(PaymentAllocation.objects.values_list("billing_item_id", "account_id")) == [
        (paid_item.pk, contact.account_id)
    ]
    assert list(WriteDown.objects.values_list("billing_item_id", "account_id", "amount")) == [
        (written_item.pk, contact.account_id, Decimal("4.00"))
    ]


def test_payment_reverse_gives_the_reversal_the_payments_account():
    account, _invoices, paid = _pay_invoices()

    reversal = payment_reverse(payment_id=paid.payment.pk, reason="Bounced", actor=SYSTEM)

    assert Reversal.objects.values_list("pk", "payment_id", "account_id").get() == (
        reversal.pk,
        paid.payment.pk,
        account.pk,
    )


# Raw SQL: each composite foreign key refuses a row of another account, and takes the right one.


def _invoice_item(parent, account_id):
    return (
        "INSERT INTO invoices_invoiceitem (account_id, invoice_id, charge_name, quantity,"
        " unit_price, charge_amount, tax_amount, tax_exempt_amount)"
        " VALUES (%s, %s, 'Line', 1, 5, 5, 0, 0)",
        [account_id, parent["invoice"].pk],
    )


def _billing_item(parent, account_id):
    return (
        "INSERT INTO invoices_billingitem (account_id, contact_id, description, due_date,"
        " total_amount, balance, created_at) VALUES (%s, %s, 'Fee', %s, 5, 5, %s)",
        [account_id, parent["contact"].pk, NOW.date(), NOW],
    )


def _payment(parent, account_id):
    return (
        "INSERT INTO payments_payment (account_id, contact_id, amount, currency, payment_date,"
        " processed_at, description, reference, authorization_code, notes, channel)"
        " VALUES (%s, %s, 5, 'USD', %s, %s, '', '', '', '', 'system')",
        [account_id, parent["contact"].pk, NOW, NOW],
    )


def _allocation(target):
    def insert(parent, account_id):
        # Only the `target` may disagree: the other parents are of the row's account.
        invoice = parent["invoice"].pk if target == "invoice" else None
        item = parent["billing_item"].pk if target == "billing_item" else None
        payment = parent["payment"].pk
        if target == "payment":
            invoice = InvoiceFactory(account_id=account_id).pk
        else:
            payment = PaymentFactory(account_id=account_id).pk
        return (
            "INSERT INTO payments_paymentallocation (account_id, payment_id, invoice_id,"
            " billing_item_id, amount, reference, authorization_code, notes)"
            " VALUES (%s, %s, %s, %s, 5, '', '', '')",
            [account_id, payment, invoice, item],
        )

    return insert


def _reversal(parent, account_id):
    return (
        "INSERT INTO payments_reversal (account_id, payment_id, reason, reversed_at, channel)"
        " VALUES (%s, %s, 'Bounced', %s, 'system')",
        [account_id, parent["payment"].pk, NOW],
    )


def _write_down(parent, account_id):
    return (
        "INSERT INTO payments_writedown (account_id, billing_item_id, amount, write_down_date,"
        " reason, recorded_at, channel) VALUES (%s, %s, 1, %s, 'Goodwill', %s, 'system')",
        [account_id, parent["billing_item"].pk, NOW, NOW],
    )


KEYS = [
    ("invoice_item_account_is_invoices", _invoice_item),
    ("billing_item_account_is_contacts", _billing_item),
    ("payment_account_is_contacts", _payment),
    ("allocation_account_is_payments", _allocation("payment")),
    ("allocation_account_is_invoices", _allocation("invoice")),
    ("allocation_account_is_billing_items", _allocation("billing_item")),
    ("reversal_account_is_payments", _reversal),
    ("write_down_account_is_billing_items", _write_down),
]


@pytest.fixture
def parent():
    """One account's invoice, contact, billing item and (unreversed) payment."""
    contact = ContactFactory(account__currency="USD")
    account = contact.account
    return {
        "account": account,
        "invoice": InvoiceFactory(account=account),
        "contact": contact,
        "billing_item": BillingItemFactory(contact=contact),
        "payment": PaymentFactory(account=account),
    }


@pytest.mark.parametrize(("constraint", "insert"), KEYS, ids=[name for name, _ in KEYS])
def test_the_database_refuses_a_row_whose_account_is_not_its_parents(parent, constraint, insert):
    other = AccountFactory(currency="USD")
    sql, params = insert(parent, other.pk)
    with connection.cursor() as cursor:
        refused = f'violates foreign key constraint "{constraint}"'
        with pytest.raises(IntegrityError, match=refused), transaction.atomic():
            cursor.execute(sql, params)
        sql, params = insert(parent, parent["account"].pk)
        cursor.execute(sql + " RETURNING account_id", params)
        assert cursor.fetchone() == (parent["account"].pk,)


def test_a_contact_with_billing_items_cannot_move_to_another_account(parent):
    other = AccountFactory()
    refused = '"billing_item_account_is_contacts"'
    with pytest.raises(IntegrityError, match=refused), transaction.atomic():
        Contact.objects.filter(pk=parent["contact"].pk).update(account=other)
    assert Contact.objects.get(pk=parent["contact"].pk).account_id == parent["account"].pk


def test_the_migrations_backfill_account_id_on_existing_rows():
    """Rows made before the column existed get their parents' account when it is added (the
    payments' tables are immutable: the migration lifts their trigger for the backfill only)."""
    account, _invoices, paid = _pay_invoices()
    contact = ContactFactory()
    item = BillingItemFactory(contact=contact)
    billing_items_write_down(
        contact=contact,
        write_down_date=NOW,
        lines=[WriteDownLine(billing_id=item.pk, amount="1.00")],
        reason="Goodwill",
        actor=SYSTEM,
    )
    payment_reverse(payment_id=paid.payment.pk, reason="Bounced", actor=SYSTEM)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE wants no check pending

    executor = MigrationExecutor(connection)
    executor.migrate(
        [("invoices", "0002_audit_triggers"), ("payments", "0006_immutable_money_rows")]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.columns"
            " WHERE column_name = 'account_id' AND table_name = ANY(%s)",
            [MONEY_TABLES],
        )
        assert cursor.fetchone() == (1,)  # only the payments had one
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert sorted(InvoiceItem.objects.values_list("account_id", flat=True)) == [account.pk] * 4
    assert list(BillingItem.objects.values_list("account_id", flat=True)) == [contact.account_id]
    assert (
        sorted(PaymentAllocation.objects.values_list("account_id", flat=True)) == [account.pk] * 2
    )
    assert list(Reversal.objects.values_list("account_id", flat=True)) == [account.pk]
    assert list(WriteDown.objects.values_list("account_id", flat=True)) == [contact.account_id]
    # The immutable rows are immutable again; the backfill recorded no billing-item event (its
    # insert and the write-down's balance update only).
    with (
        pytest.raises(
            ProgrammingError, match="Cannot update or delete rows from payments_reversal"
        ),
        transaction.atomic(),
    ):
        Reversal.objects.update(reason="edited")
    assert list(
        BillingItemEvent.objects.filter(pgh_obj_id=item.pk)
        .order_by("pgh_id")
        .values_list("pgh_label", "balance")
    ) == [("insert", item.total_amount), ("update", item.total_amount - 1)]


@pytest.mark.parametrize(
    ("column", "constraint"),
    [
        ("payment_id", "allocation_account_is_payments"),
        ("invoice_id", "allocation_account_is_invoices"),
        ("billing_item_id", "allocation_account_is_billing_items"),
        ("contact_id", "payment_account_is_contacts"),
    ],
)
def test_a_row_naming_a_parent_that_does_not_exist_is_refused_by_its_composite_key(
    parent, column, constraint
):
    """Allocations and a payment's contact have no simple foreign key in the database (payments
    migration 0009): the composite key refuses an unknown parent, at the INSERT."""
    account = parent["account"].pk
    if column == "contact_id":
        sql = (
            "INSERT INTO payments_payment (account_id, contact_id, amount, currency, payment_date,"
            " processed_at, description, reference, authorization_code, notes, channel)"
            " VALUES (%s, %s, 5, 'USD', %s, %s, '', '', '', '', 'system')"
        )
        params = [account, 10**12, NOW, NOW]
    else:
        values = {"payment_id": parent["payment"].pk, "invoice_id": None, "billing_item_id": None}
        values["invoice_id" if column != "billing_item_id" else "billing_item_id"] = (
            parent["invoice"].pk if column != "billing_item_id" else parent["billing_item"].pk
        )
        values[column] = 10**12
        sql = (
            "INSERT INTO payments_paymentallocation (account_id, payment_id, invoice_id,"
            " billing_item_id, amount, reference, authorization_code, notes)"
            " VALUES (%s, %s, %s, %s, 5, '', '', '')"
        )
        params = [account, values["payment_id"], values["invoice_id"], values["billing_item_id"]]
    with connection.cursor() as cursor:
        refused = f'violates foreign key constraint "{constraint}"'
        with pytest.raises(IntegrityError, match=refused), transaction.atomic():
            cursor.execute(sql, params)
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid = 'payments_paymentallocation'::regclass ORDER BY conname"
        )
        keys = [name for (name,) in cursor.fetchall()]
    assert keys == [
        "allocation_account_is_billing_items",
        "allocation_account_is_invoices",
        "allocation_account_is_payments",
        "payments_paymentallo_account_id_fd7a8176_fk_contacts_",  # every money table's
    ]
