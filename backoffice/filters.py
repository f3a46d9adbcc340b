"""The past-due list's filters and sort keys, shared by the page and its exports.

The list has two kinds of rows, each a tab: invoices and contacts' billing items, past due at the
end of the `as_of` day (default today) by the one rule of payments.receivables, with what each
owed then as `owed`. The same filters apply to both; the totals under the list count both kinds,
so that they add up to the dashboard's past due for the same day.

Filters are a django-filter `FilterSet` (an invalid value is a form error, never a 500); sorting
takes one of a fixed set of keys per kind, `key` ascending or `-key` descending, and ignores any
other. Days late are counted from the due date, so sorting by them is sorting by due date reversed.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import django_filters
from django.db.models import QuerySet
from django.http import QueryDict

from contacts.models import Account
from invoices.due import overdue_q, today
from payments.receivables import (
    AGEING_BUCKETS,
    billing_items_owed_on,
    bucket_bounds,
    invoices_owed_on,
)

from .forms import DATE_RANGE, AmountField, date_input

PAST_DUE_BUCKETS = [(bucket, f"{bucket} days") for bucket in AGEING_BUCKETS if bucket != "current"]


@dataclass(frozen=True)
class Kind:
    """One tab of the list: its rows past due on a day, and its sort keys: key -> (column
    heading, ORDER BY ascending); the primary key breaks ties."""

    key: str
    label: str
    rows: Callable[[datetime.date], QuerySet]
    sorts: dict[str, tuple[str, tuple[str, ...]]]


def _past_due_invoices(as_of: datetime.date) -> QuerySet:
    return invoices_owed_on(as_of).filter(overdue_q(as_of)).select_related("account")


def _past_due_items(as_of: datetime.date) -> QuerySet:
    return (
        billing_items_owed_on(as_of).filter(overdue_q(as_of)).select_related("account", "contact")
    )


KINDS = {
    "invoices": Kind(
        "invoices",
        "Invoices",
        _past_due_invoices,
        {
            "account": ("Account", ("account__number", "pk")),
            "number": ("Number", ("number", "pk")),
            "due_date": ("Due date", ("due_date", "pk")),
            "days_late": ("Days late", ("-due_date", "-pk")),
            "amount": ("Amount", ("amount", "pk")),
            "balance": ("Balance", ("owed", "pk")),
        },
    ),
    "items": Kind(
        "items",
        "Billing items",
        _past_due_items,
        {
            "account": ("Account", ("account__number", "pk")),
            "contact": ("Contact", ("contact__last_name", "contact__first_name", "pk")),
            "description": ("Billing item", ("description", "pk")),
            "due_date": ("Due date", ("due_date", "pk")),
            "days_late": ("Days late", ("-due_date", "-pk")),
            "amount": ("Amount", ("total_amount", "pk")),
            "balance": ("Balance", ("owed", "pk")),
        },
    ),
}
DEFAULT_KIND = "invoices"
NUMERIC = {"days_late", "amount", "balance"}  # right-aligned columns
DEFAULT_SORT = "due_date"  # the longest overdue first


def currencies() -> list[tuple[str, str]]:
    codes = Account.objects.order_by("currency").values_list("currency", flat=True).distinct()
    return [(code, code) for code in codes]


class AmountFilter(django_filters.Filter):
    field_class = AmountField


def _as_given(queryset, name, value):
    """`as_of` and `kind` choose the rows before filtering (`past_due_listing`)."""
    return queryset


class PastDueFilter(django_filters.FilterSet):
    as_of = django_filters.DateFilter(
        label="As of",
        method=_as_given,
        validators=DATE_RANGE,
        widget=date_input(id="as-of"),
        help_text="Blank: today.",
    )
    account = django_filters.ModelChoiceFilter(
        queryset=Account.objects.order_by("number"), empty_label="All accounts"
    )
    currency = django_filters.ChoiceFilter(
        label="Currency",
        field_name="account__currency",
        choices=currencies,
        empty_label="All currencies",
    )
    bucket = django_filters.ChoiceFilter(
        label="Days late", choices=PAST_DUE_BUCKETS, empty_label="Any", method="filter_bucket"
    )
    min_balance = AmountFilter(
        label="Minimum balance", field_name="owed", lookup_expr="gte", allow_zero=True
    )

    def filter_bucket(self, queryset: QuerySet, name: str, value: str):
        return queryset.filter(bucket_bounds(self.as_of_date())[value])

    def as_of_date(self) -> datetime.date:
        """The day asked for, today if none (only once the form is valid)."""
        return self.form.cleaned_data.get("as_of") or today()


def ordering(kind: Kind, sort: str) -> tuple[str, ...]:
    descending = sort.startswith("-")
    fields = kind.sorts[sort.removeprefix("-")][1]
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
    kind: Kind
    sort: str
    as_of: datetime.date | None  # None while the filters are invalid
    rows: QuerySet  # filtered and sorted; none while the filters are invalid
    other_rows: QuerySet  # the other kind's rows under the same filters (for the totals)
    currencies: list[str]  # every account's currency: the totals' rows (none for exports)

    @property
    def columns(self) -> list[SortColumn]:
        columns = []
        for key, (heading, _fields) in self.kind.sorts.items():
            direction = {key: "ascending", f"-{key}": "descending"}.get(self.sort, "")
            next_sort = f"-{key}" if direction == "ascending" else key
            columns.append(SortColumn(key, heading, direction, next_sort))
        return columns

    @property
    def kinds(self) -> list[Kind]:
        return list(KINDS.values())

    @property
    def is_today(self) -> bool:
        return self.as_of == today()


def past_due_listing(params: QueryDict, *, with_totals: bool = True) -> PastDueListing:
    """The past-due rows the query string asks for: kind, day, filters, then sort; and, unless
    `with_totals` is off (exports), the currencies the totals are counted in."""
    kind = KINDS.get(params.get("kind", ""), KINDS[DEFAULT_KIND])
    other = next(each for each in KINDS.values() if each is not kind)
    filters = PastDueFilter(params, queryset=kind.rows(today()))  # lazy: replaced once valid
    codes = []
    if with_totals:
        choices = currencies()  # read once, for the filter's choices and the totals
        filters.filters["currency"].extra["choices"] = choices
        codes = [code for code, _label in choices]
    sort = params.get("sort", "")
    if sort.removeprefix("-") not in kind.sorts:
        sort = DEFAULT_SORT
    if not filters.is_valid():
        nothing = kind.rows(today()).none()
        return PastDueListing(filters, kind, sort, None, nothing, nothing, codes)
    as_of = filters.as_of_date()
    rows = filters.filter_queryset(kind.rows(as_of)).order_by(*ordering(kind, sort))
    other_rows = filters.filter_queryset(other.rows(as_of))
    return PastDueListing(filters, kind, sort, as_of, rows, other_rows, codes)
