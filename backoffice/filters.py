"""The past-due list's filters and sort keys, shared by the page and its exports.

Filters are a django-filter `FilterSet` (an invalid value is a form error, never a 500); sorting
takes one of a fixed set of keys, `key` ascending or `-key` descending, and ignores any other.
Days late are counted from the due date, so sorting by them is sorting by due date reversed.
"""

from dataclasses import dataclass

import django_filters
from django.db.models import QuerySet
from django.http import QueryDict

from contacts.models import Account
from invoices.due import today
from invoices.models import Invoice
from payments.selectors import AGEING_BUCKETS, bucket_bounds

from .forms import AmountField
from .selectors import past_due_invoices

PAST_DUE_BUCKETS = [(bucket, f"{bucket} days") for bucket in AGEING_BUCKETS if bucket != "current"]

# key -> (column heading, ORDER BY ascending); the primary key breaks ties.
SORTS = {
    "account": ("Account", ("account__number", "pk")),
    "number": ("Number", ("number", "pk")),
    "due_date": ("Due date", ("due_date", "pk")),
    "days_late": ("Days late", ("-due_date", "-pk")),
    "amount": ("Amount", ("amount", "pk")),
    "balance": ("Balance", ("balance", "pk")),
}
NUMERIC = {"days_late", "amount", "balance"}  # right-aligned columns
DEFAULT_SORT = "due_date"  # the longest overdue first


class AmountFilter(django_filters.Filter):
    field_class = AmountField


class PastDueFilter(django_filters.FilterSet):
    account = django_filters.ModelChoiceFilter(
        queryset=Account.objects.order_by("number"), empty_label="All accounts"
    )
    bucket = django_filters.ChoiceFilter(
        label="Days late", choices=PAST_DUE_BUCKETS, empty_label="Any", method="filter_bucket"
    )
    min_balance = AmountFilter(
        label="Minimum balance", field_name="balance", lookup_expr="gte", allow_zero=True
    )

    class Meta:
        model = Invoice
        fields = ["account", "bucket", "min_balance"]

    def filter_bucket(self, queryset: QuerySet[Invoice], name: str, value: str):
        return queryset.filter(bucket_bounds(today())[value])


def ordering(sort: str) -> tuple[str, ...]:
    descending = sort.startswith("-")
    fields = SORTS[sort.removeprefix("-")][1]
    if not descending:
        return fields
    return tuple(field.removeprefix("-") if field[0] == "-" else f"-{field}" for field in fields)


@dataclass(frozen=True)
class SortColumn:
    key: str
    heading: str
    direction: str  # "ascending", "descending" or "" (not sorted by it)
    next_sort: str  # the sort its heading link asks for

    @property
    def numeric(self) -> bool:
        return self.key in NUMERIC


@dataclass(frozen=True)
class PastDueListing:
    filters: PastDueFilter
    sort: str
    invoices: QuerySet[Invoice]  # filtered and sorted; none while the filters are invalid

    @property
    def columns(self) -> list[SortColumn]:
        columns = []
        for key, (heading, _fields) in SORTS.items():
            direction = {key: "ascending", f"-{key}": "descending"}.get(self.sort, "")
            next_sort = f"-{key}" if direction == "ascending" else key
            columns.append(SortColumn(key, heading, direction, next_sort))
        return columns


def past_due_listing(params: QueryDict) -> PastDueListing:
    """The past-due invoices the query string asks for: filters, then sort."""
    filters = PastDueFilter(params, queryset=past_due_invoices())
    sort = params.get("sort", "")
    if sort.removeprefix("-") not in SORTS:
        sort = DEFAULT_SORT
    invoices = (
        filters.qs.order_by(*ordering(sort)) if filters.is_valid() else Invoice.objects.none()
    )
    return PastDueListing(filters=filters, sort=sort, invoices=invoices)
