"""Row locks for invoices and billing items, always taken in primary-key order.

Each helper evaluates its queryset, so the `SELECT ... FOR UPDATE` really runs. Lock order across
the project: account, then invoices, then billing items, then payments.
"""

import datetime
from collections.abc import Iterable
from functools import cache

from django.db import connection
from django.db.models import Q

from billing_site import model_sql

from .models import BillingItem, Invoice, InvoiceStatus


def lock_invoices(condition: Q) -> list[Invoice]:
    """Lock and return the invoices matching `condition`, in primary-key order."""
    return list(Invoice.objects.select_for_update().filter(condition).order_by("pk"))


def lock_open_invoices(
    account_id: int, *, due_before: datetime.date | None = None, ids: Iterable[int] | None = None
) -> list[Invoice]:
    """Lock and return the account's open invoices (due before `due_before`: past due on that
    day, invoices.due.past_due_q; only those with these `ids`), in primary-key order.

    Every DocuSign payment sends this: written once as SQL (billing_site/model_sql.py)."""
    parameters = [account_id, InvoiceStatus.OPEN.value]
    if due_before is not None:
        parameters.append(due_before)
    if ids is not None:
        parameters.append(model_sql.bigints(ids))
    with connection.cursor() as cursor:
        cursor.execute(_lock_open_sql(due_before is not None, ids is not None), parameters)
        return [model_sql.instance(Invoice, row) for row in cursor.fetchall()]


@cache
def _lock_open_sql(due_before: bool, ids: bool) -> str:
    conditions = ["{i.account} = %s", "{i.status} = %s"]
    if due_before:
        conditions.append("{i.due_date} < %s")
    if ids:
        conditions.append("{i.id} = ANY(%s::bigint[])")
    where = " AND ".join(conditions)
    return model_sql.sql(
        f"SELECT {{i.all}} FROM {{i.table}} i WHERE {where} ORDER BY {{i.id}} FOR UPDATE",  # noqa: S608
        i=Invoice,
    )


def lock_billing_items(ids: Iterable[int]) -> dict[int, BillingItem]:
    """Lock the billing items with these ids (those that exist), keyed by id.

    Every Legend payment sends this: written once as SQL (billing_site/model_sql.py)."""
    wanted = model_sql.bigints(ids)
    if not wanted:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_lock_items_sql(), [wanted])
        items = [model_sql.instance(BillingItem, row) for row in cursor.fetchall()]
    return {item.pk: item for item in items}


@cache
def _lock_items_sql() -> str:
    return model_sql.sql(
        "SELECT {b.all} FROM {b.table} b WHERE {b.id} = ANY(%s::bigint[]) ORDER BY {b.id} "
        "FOR UPDATE",
        b=BillingItem,
    )
