"""One page of the past-due list, with its kind's totals and the pager's count.

Today the totals are one aggregate per kind (`selectors.per_currency`), cheap beside the page,
and the pager takes its count from them. As of an earlier day every statement over a kind joins
the corrections since that day to every row (payments/owed_then.py), so the page and the totals
would each cost that join: the page's rows carry instead their kind's count and balance per
currency, over every row, as window aggregates (`COUNT(...) FILTER (WHERE ...) OVER ()`): one
statement. When the page asked for has no rows (past the last one, or nothing listed), the totals
are read on their own and the pager finds the page as `Paginator.get_page` always does.
"""

from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet, Sum, Window

from .selectors import per_currency

Totals = dict[str, tuple[int, Decimal]]  # currency -> count and balance of its rows


class CountedPaginator(Paginator):
    """A paginator told how many rows it pages, where `Paginator` would count them itself."""

    def __init__(self, object_list, per_page: int, count: int):
        super().__init__(object_list, per_page)
        self.count = count  # over the cached property


def _asked(number) -> int | None:
    """The page asked for when it can be read without the count: as `Paginator.get_page`, page 1
    for anything but a number; None for a number below 1 (it means the last page)."""
    try:
        if isinstance(number, float) and not number.is_integer():
            raise ValueError
        number = int(number)
    except (TypeError, ValueError):
        return 1
    return number if number >= 1 else None


def _windowed(rows: QuerySet, currencies: list[str]) -> QuerySet:
    windows = {}
    for code in currencies:
        in_currency = Q(account__currency=code)
        windows[f"past_due_count_{code}"] = Window(Count("pk", filter=in_currency))
        windows[f"past_due_owed_{code}"] = Window(Sum("owed", filter=in_currency))
    return rows.annotate(**windows)


def _totals_of(row: dict, currencies: list[str]) -> Totals:
    counts = {code: row[f"past_due_count_{code}"] for code in currencies}
    return {code: (count, row[f"past_due_owed_{code}"]) for code, count in counts.items() if count}


def _related(tree: dict, prefix: str = "") -> list[str]:
    """The `select_related()` names of a query's tree of them (`{"account": {}}`)."""
    names = []
    for name, below in tree.items():
        names += [f"{prefix}{name}", *_related(below, f"{prefix}{name}__")]
    return names


def _rows_of(windowed: QuerySet, rows: QuerySet, page: slice) -> list[dict]:
    """The page's keys, what each owed and the windowed totals, each a dict, with the row itself
    as `row` (what it owed set on it): the window aggregates hold every row they read, so they
    read narrow ones (key, sort columns, owed), and the page's rows are read whole by key."""
    found = list(windowed.values("pk", *windowed.query.annotation_select)[page])
    if not found:
        return []
    related = rows.query.select_related
    whole = rows.model._default_manager.using(rows.db).select_related(
        *(_related(related) if isinstance(related, dict) else ())
    )
    by_pk = whole.in_bulk([each["pk"] for each in found])
    for each in found:
        each["row"] = by_pk[each["pk"]]
        each["row"].owed = each["owed"]
    return found


def page_with_totals(
    rows: QuerySet, currencies: list[str], number, per_page: int, *, windowed: bool
) -> tuple[Page, Totals]:
    """The page `number` of `rows` and their count and balance per currency (`per_currency`):
    with `windowed`, in the page's own statement whenever that page has rows."""
    asked = _asked(number) if windowed and currencies else None
    if asked is not None:
        bottom = (asked - 1) * per_page
        found = _rows_of(_windowed(rows, currencies), rows, slice(bottom, bottom + per_page))
        if found:
            totals = _totals_of(found[0], currencies)
            paginator = CountedPaginator(rows, per_page, sum(n for n, _owed in totals.values()))
            return Page([each["row"] for each in found], asked, paginator), totals
    totals = per_currency(rows, currencies)
    paginator = CountedPaginator(rows, per_page, sum(n for n, _owed in totals.values()))
    return paginator.get_page(number), totals
