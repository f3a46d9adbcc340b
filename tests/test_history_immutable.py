"""Payments, allocations, reversals and write-downs are immutable in PostgreSQL itself.

A trigger installed by payments' migration 0006 (pgtrigger.Protect) refuses every UPDATE and
DELETE of those rows, whether the ORM or raw SQL sends it: money is corrected by new rows (a
reversal, a write-down), never by editing or removing old ones. The refusal is PL/pgSQL's
RAISE EXCEPTION (SQLSTATE P0001), which Django raises as ProgrammingError.
"""

from decimal import Decimal

import pgtrigger
import pytest
from django.db import ProgrammingError, connection, transaction

from payments.models import Payment, PaymentAllocation, Reversal, WriteDown
from tests.factories import (
    PaymentAllocationFactory,
    PaymentFactory,
    ReversalFactory,
    WriteDownFactory,
)

pytestmark = pytest.mark.django_db

# Each money model, a factory for one of its rows, and a column with a valid other value.
MONEY_ROWS = [
    pytest.param(Payment, PaymentFactory, "notes", "edited", id="payment"),
    pytest.param(PaymentAllocation, PaymentAllocationFactory, "notes", "edited", id="allocation"),
    pytest.param(Reversal, ReversalFactory, "reason", "edited", id="reversal"),
    pytest.param(WriteDown, WriteDownFactory, "reason", "edited", id="write-down"),
]


def refused(model, write):
    """`write` is refused by the immutability trigger of `model`'s table, and by nothing else."""
    table = model._meta.db_table
    with (
        pytest.raises(
            ProgrammingError, match=rf"^pgtrigger: Cannot update or delete rows from {table} table"
        ) as refusal,
        transaction.atomic(),
    ):
        write()
    assert refusal.value.__cause__.sqlstate == "P0001"  # RAISE EXCEPTION in the trigger


def snapshot(model, pk):
    return model.objects.filter(pk=pk).values().get()


@pytest.mark.parametrize(("model", "factory", "column", "value"), MONEY_ROWS)
def test_raw_sql_cannot_update_or_delete_money_rows(model, factory, column, value):
    row = factory()
    before = snapshot(model, row.pk)
    table = connection.ops.quote_name(model._meta.db_table)

    def update():
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, row.pk])  # noqa: S608

    def delete():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [row.pk])  # noqa: S608

    refused(model, update)
    refused(model, delete)

    assert snapshot(model, row.pk) == before
    assert model.objects.count() == 1


@pytest.mark.parametrize(("model", "factory", "column", "value"), MONEY_ROWS)
def test_the_orm_cannot_update_or_delete_money_rows(model, factory, column, value):
    row = factory()
    before = snapshot(model, row.pk)

    refused(model, lambda: model.objects.filter(pk=row.pk).update(**{column: value}))
    refused(model, lambda: model.objects.filter(pk=row.pk).delete())

    setattr(row, column, value)
    refused(model, row.save)

    assert snapshot(model, row.pk) == before
    assert model.objects.count() == 1


def test_an_amount_cannot_be_changed_even_to_a_valid_one():
    allocation = PaymentAllocationFactory(amount=Decimal("100.00"))

    refused(
        PaymentAllocation,
        lambda: PaymentAllocation.objects.filter(pk=allocation.pk).update(amount=Decimal("99.99")),
    )
    refused(
        Payment,
        lambda: Payment.objects.filter(pk=allocation.payment_id).update(amount=Decimal("1.00")),
    )

    assert PaymentAllocation.objects.get(pk=allocation.pk).amount == Decimal("100.00")
    assert Payment.objects.get(pk=allocation.payment_id).amount == Decimal("100.00")


def test_the_triggers_refuse_updates_and_deletes_only():
    """Inserting is how money moves, so it stays allowed; TRUNCATE is left to privileges (the
    test database is flushed with it between transactional tests; see docs/audit.md)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid)
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE c.relname = ANY(%s) AND NOT t.tgisinternal AND t.tgname LIKE 'pgtrigger_%%'
            ORDER BY c.relname
            """,
            [[model._meta.db_table for model in (Payment, PaymentAllocation, Reversal, WriteDown)]],
        )
        triggers = cursor.fetchall()

    assert [table for table, _, _ in triggers] == [
        "payments_payment",
        "payments_paymentallocation",
        "payments_reversal",
        "payments_writedown",
    ]
    for table, name, definition in triggers:
        assert name.startswith("pgtrigger_immutable_")
        assert f"BEFORE DELETE OR UPDATE ON public.{table} FOR EACH ROW" in definition


def trigger_names(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE c.relname = %s AND NOT t.tgisinternal",
            [table],
        )
        return [name for (name,) in cursor.fetchall()]


@pytest.mark.parametrize(("model", "factory", "column", "value"), MONEY_ROWS)
def test_no_session_setting_lifts_the_protection(model, factory, column, value):
    """pgtrigger's escape hatch (`SET LOCAL pgtrigger.ignore`, or `pgtrigger.ignore()` in Python)
    is switched off in this database (audit.lockdown): only DDL by the owner could."""
    row = factory()
    before = snapshot(model, row.pk)
    table = model._meta.db_table
    names = "{" + ",".join(trigger_names(table)) + "}"

    def update_with_the_escape_hatch():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", [names])
            cursor.execute(
                f"UPDATE {connection.ops.quote_name(table)} SET {column} = %s WHERE id = %s",  # noqa: S608
                [value, row.pk],
            )

    refused(model, update_with_the_escape_hatch)
    with pgtrigger.ignore(f"{model._meta.label}:immutable"):
        refused(model, lambda: model.objects.filter(pk=row.pk).delete())
    assert snapshot(model, row.pk) == before


def test_the_lockdown_survives_a_new_migrate():
    """pgtrigger rewrites its ignore function whenever a migration installs a trigger; migrate
    always ends by locking it down again."""
    from django.core.management import call_command

    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = '_pgtrigger_should_ignore'")
        (source,) = cursor.fetchone()
    assert "audit.lockdown" in source

    call_command("migrate", verbosity=0)

    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = '_pgtrigger_should_ignore'")
        assert "audit.lockdown" in cursor.fetchone()[0]
