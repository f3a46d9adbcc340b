"""A payment's rows written in one statement: the payment, its allocations and the balances.

Every payment the money service records (payments/services/) writes three things: the payment,
one allocation per invoice or billing item it settles, and those rows' new balances (computed in
Python under their row locks). They go to PostgreSQL as one statement with data-modifying CTEs
(`WITH payment AS (INSERT ...), allocations AS (INSERT ... SELECT ... FROM unnest(...)), balances
AS (UPDATE ... FROM unnest(...))`) instead of three: one round trip, whatever the number of lines.
The statement is built once per process from the models' metadata (billing_site/model_sql.py);
the rows are exactly those `save()` and `bulk_create()` would write (tests/test_payment_writes.py).
The constraints, the foreign keys (checked at commit) and the audit triggers apply as to any
INSERT and UPDATE.
"""

from decimal import Decimal
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection, models

from billing_site import model_sql

from .models import Payment, PaymentAllocation


def record_payment(
    payment: Payment,
    allocations: list[PaymentAllocation],
    target: type[models.Model],
    balances: dict[int, Decimal],
    statuses: dict[int, str] | None = None,
) -> None:
    """Insert `payment` and its `allocations` (their `payment` is set here) and set the balance
    (and, with `statuses`, the status) of each `target` row in `balances`; give the new rows
    their ids."""
    payment_fields = _payment_fields()
    allocation_fields = _allocation_fields()
    values = [_db_value(field, payment) for field in payment_fields]
    values += [
        [_db_value(field, allocation) for allocation in allocations] for field in allocation_fields
    ]
    ids = list(balances)
    values += [ids, [balances[pk] for pk in ids]]
    if statuses is not None:
        values.append([statuses[pk] for pk in ids])
    with connection.cursor() as cursor:
        cursor.execute(_statement(target, statuses is not None), values)
        payment_id, allocation_ids = cursor.fetchone()
    _saved(payment, payment_id)
    for allocation, pk in zip(allocations, allocation_ids, strict=True):
        allocation.payment = payment
        _saved(allocation, pk)


def _db_value(field: models.Field, obj: models.Model):
    return field.get_db_prep_save(field.pre_save(obj, add=True), connection)


def _saved(obj: models.Model, pk: int) -> None:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = DEFAULT_DB_ALIAS


@cache
def _payment_fields() -> tuple[models.Field, ...]:
    return tuple(field for field in Payment._meta.concrete_fields if not field.primary_key)


@cache
def _allocation_fields() -> tuple[models.Field, ...]:
    """The allocation's columns sent as arrays: all but its id and its payment (the new one's)."""
    return tuple(
        field
        for field in PaymentAllocation._meta.concrete_fields
        if not field.primary_key and field.name != "payment"
    )


@cache
def _statement(target: type[models.Model], with_status: bool) -> str:
    quoted = model_sql.quoted
    payment_columns = ", ".join(quoted(field.column) for field in _payment_fields())
    payment_marks = ", ".join(["%s"] * len(_payment_fields()))
    lines = _allocation_fields()
    line_columns = ", ".join(f"c{index}" for index in range(len(lines)))
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in lines)
    allocation_columns = ", ".join(
        [quoted(PaymentAllocation._meta.get_field("payment").column)]
        + [quoted(field.column) for field in lines]
    )
    balances = model_sql.balance_update_sql(target, ("status",) if with_status else ())
    return (
        f"WITH payment AS (INSERT INTO {model_sql.table(Payment)} ({payment_columns}) "  # noqa: S608 - names from the models
        f"VALUES ({payment_marks}) RETURNING id), "
        f"allocations AS (INSERT INTO {model_sql.table(PaymentAllocation)} ({allocation_columns}) "
        f"SELECT payment.id, {line_columns} FROM payment, "
        f"unnest({arrays}) WITH ORDINALITY AS line({line_columns}, position) "
        "ORDER BY position RETURNING id), "
        f"balances AS ({balances}) "
        "SELECT (SELECT id FROM payment), ARRAY(SELECT id FROM allocations ORDER BY id)"
    )
