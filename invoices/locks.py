"""Row locks for invoices and billing items, always taken in primary-key order.

Each helper evaluates its queryset, so the `SELECT ... FOR UPDATE` really runs. Lock order across
the project: account, then invoices, then billing items, then payments.
"""

from collections.abc import Iterable

from django.db.models import Q

from .models import BillingItem, Invoice


def lock_invoices(condition: Q) -> list[Invoice]:
    """Lock and return the invoices matching `condition`, in primary-key order."""
    return list(Invoice.objects.select_for_update().filter(condition).order_by("pk"))


def lock_billing_items(ids: Iterable[int]) -> dict[int, BillingItem]:
    """Lock the billing items with these ids (those that exist), keyed by id."""
    items = BillingItem.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk")
    return {item.pk: item for item in items}
