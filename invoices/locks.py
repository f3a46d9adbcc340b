"""Row locks for invoices and billing items, always taken in primary-key order.

Each helper evaluates its queryset, so the `SELECT ... FOR UPDATE` really runs. Lock order across
the project: account, then invoices, then billing items, then payments.
"""

from collections.abc import Iterable
from functools import cache

from django.db import connection
from django.db.models import Q

from billing_site import model_sql

from .models import BillingItem, Invoice


def lock_invoices(condition: Q) -> list[Invoice]:
    """Lock and return the invoices matching `condition`, in primary-key order."""
    return list(Invoice.objects.select_for_update().filter(condition).order_by("pk"))


def lock_billing_items(ids: Iterable[int]) -> dict[int, BillingItem]:
    """Lock the billing items with these ids (those that exist), keyed by id.

    Every Legend payment sends this: written once as SQL (billing_site/model_sql.py)."""
    wanted = sorted(set(ids))
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
