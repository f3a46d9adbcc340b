"""One page of the past-due list, with its kind's totals and the pager's count.

Today the totals are one aggregate per kind (`selectors.per_currency`), cheap beside the page,
and the pager takes its count from them. As of an earlier day every statement over a kind joins
the corrections since that day to every row (payments/owed_then.py), so the page and the totals
would each cost that join: the page's statement computes what each row owed once, as a
materialized CTE of narrow rows (key, account, sort columns, what it owed), and reads from it both
the page's keys (a top-N sort) and its kind's count and balance per currency (summed per account,
then per currency over the accounts' few rows). The page's rows are then read whole by key. When
the page asked for has no rows (past the last one, or nothing listed), the totals are read on
their own and the pager finds the page as `Paginator.get_page` always does.
"""

from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import F, QuerySet

from contacts.models import Account

from .selectors import per_currency

Totals = dict[str, tuple[int, Decimal]]  # currency -> count and balance of its rows

# What each row owed, computed once (the join of the corrections since the day): the page's keys
# are the first rows of it in the list's order, and each of them carries its kind's totals.
# Window aggregates over the same rows (`OVER ()`) cost a third more on a million invoices: they
# evaluate every currency's filters on every row, each row joined to its account for them.
PAGE_SQL = """
WITH listed AS MATERIALIZED ({listed})
SELECT page.pk, page.owed, totals.*
FROM (
    SELECT pk, owed, {sort_keys} FROM listed ORDER BY {order} LIMIT {limit} OFFSET {offset}
) page
CROSS JOIN (
    SELECT {sums}
    FROM (
        SELECT account_id, COUNT(*) AS listed, SUM(owed) AS owed
        FROM listed
        GROUP BY account_id
    ) per_account
    JOIN {account} account ON account.id = per_account.account_id
) totals
ORDER BY {page_order}
"""
SUMS = (
    "COALESCE(SUM(per_account.listed) FILTER (WHERE account.currency = %s), 0)::bigint"
    " AS count_{index}, "
    "SUM(per_account.owed) FILTER (WHERE account.currency = %s) AS owed_{index}"
)


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


def _page_sql(rows: QuerySet, currencies: list[str], page: slice) -> tuple[str, list]:
    """The statement of the page `page` of `rows` (an `owed` annotation, ordered) with their count
    and balance per currency (`count_<i>`, `owed_<i>` for `currencies[i]`), and its parameters."""
    order = rows.query.order_by or ("pk",)
    keys = {f"sort_{index}": F(name.removeprefix("-")) for index, name in enumerate(order)}
    narrow = rows.order_by().annotate(**keys).values("pk", "owed", "account_id", *keys)
    listed, params = narrow.query.get_compiler(using=rows.db).as_sql()
    directions = ["DESC" if name.startswith("-") else "ASC" for name in order]
    sql = PAGE_SQL.format(
        listed=listed,
        sort_keys=", ".join(keys),
        order=", ".join(f"{key} {way}" for key, way in zip(keys, directions, strict=True)),
        limit=int(page.stop - page.start),
        offset=int(page.start),
        sums=", ".join(SUMS.format(index=index) for index in range(len(currencies))),
        account=connections[rows.db].ops.quote_name(Account._meta.db_table),
        page_order=", ".join(
            f"page.{key} {way}" for key, way in zip(keys, directions, strict=True)
        ),
    )
    return sql, [*params, *(code for code in currencies for _twice in range(2))]


def _rows_of(rows: QuerySet, currencies: list[str], page: slice) -> tuple[list, Totals]:
    """The page's rows, each with what it owed set on it as `owed`, and their kind's totals (none
    when the page has no rows): one statement for the keys, what each owed and the totals, and the
    rows read whole by key after."""
    try:
        sql, params = _page_sql(rows, currencies, page)
    except EmptyResultSet:  # rows that cannot match anything (`none()`): no statement
        return [], {}
    with connections[rows.db].cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    if not found:
        return [], {}
    first = found[0]
    totals = {
        code: (first[2 + 2 * index], first[3 + 2 * index])
        for index, code in enumerate(currencies)
        if first[2 + 2 * index]
    }
    related = rows.query.select_related
    whole = rows.model._default_manager.using(rows.db).select_related(
        *(_related(related) if isinstance(related, dict) else ())
    )
    by_pk = whole.in_bulk([pk for pk, *_rest in found])
    page_rows = []
    for pk, owed, *_totals in found:
        row = by_pk[pk]
        row.owed = owed
        page_rows.append(row)
    return page_rows, totals


def _related(tree: dict, prefix: str = "") -> list[str]:
    """The `select_related()` names of a query's tree of them (`{"account": {}}`)."""
    names = []
    for name, below in tree.items():
        names += [f"{prefix}{name}", *_related(below, f"{prefix}{name}__")]
    return names


def page_with_totals(
    rows: QuerySet, currencies: list[str], number, per_page: int, *, in_one_statement: bool
) -> tuple[Page, Totals]:
    """The page `number` of `rows` and their count and balance per currency (`per_currency`):
    with `in_one_statement`, in the page's own statement whenever that page has rows."""
    asked = _asked(number) if in_one_statement and currencies else None
    if asked is not None:
        bottom = (asked - 1) * per_page
        found, totals = _rows_of(rows, currencies, slice(bottom, bottom + per_page))
        if found:
            paginator = CountedPaginator(rows, per_page, sum(n for n, _owed in totals.values()))
            return Page(found, asked, paginator), totals
    totals = per_currency(rows, currencies)
    paginator = CountedPaginator(rows, per_page, sum(n for n, _owed in totals.values()))
    return paginator.get_page(number), totals
