"""Iterate a large queryset in bounded memory, with or without server-side cursors.

Django's `.iterator(chunk_size=n)` holds `n` rows at a time only with a server-side cursor
(DECLARE ... WITH HOLD, then FETCH n). Behind PgBouncer in transaction mode those cursors are off
(`DISABLE_SERVER_SIDE_CURSORS`, DB_TRANSACTION_POOLING=1): a DECLAREd cursor would be gone, or on
another server session, by the next FETCH. Django then falls back to one plain query whose whole
result the client holds in memory. Here, instead, the rows are read by keyset pagination: queries
of at most `n` rows in the queryset's own order, each resuming after the last row of the previous
one (`WHERE (key, pk) > (last key, last pk) ORDER BY key, pk LIMIT n`). Every query is a
transaction of its own, so nothing is held on the server between chunks; the price is that each
chunk sees the data as of its own query, where a server-side cursor sees one snapshot.
"""

from collections.abc import Iterator

from django.db import connections
from django.db.models import Q, QuerySet


def chunked(queryset: QuerySet, size: int) -> Iterator:
    """Every row of `queryset`, in its order, at most `size` in memory at once."""
    if connections[queryset.db].settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):
        yield from keyset_chunks(queryset, size)
    else:
        yield from queryset.iterator(chunk_size=size)


def keyset_chunks(queryset: QuerySet, size: int) -> Iterator:
    """`queryset` in chunks of `size` rows, by keyset pagination.

    The queryset must be ordered explicitly, every field in the same direction, ending with the
    primary key (which makes the order total). Fields may follow relations (`account__number`)
    but must not be null.
    """
    ordering = queryset.query.order_by
    fields = [field.removeprefix("-") for field in ordering]
    directions = {field.startswith("-") for field in ordering}
    if not fields or fields[-1] != "pk" or len(directions) != 1:
        raise ValueError(f"keyset pagination needs one direction ending in pk, not {ordering!r}")
    lookup = "lt" if directions.pop() else "gt"
    queryset = queryset.using(queryset.db)  # every chunk where the first one goes
    after = None
    while True:
        page = queryset if after is None else queryset.filter(_after(fields, after, lookup))
        rows = list(page[:size])
        yield from rows
        if len(rows) < size:
            return
        after = [_value(rows[-1], field) for field in fields]


def _after(fields: list[str], values: list, lookup: str) -> Q:
    """(f1, ..., pk) beyond (v1, ..., p): f1 beyond v1, or f1 = v1 and the rest beyond theirs."""
    condition = Q(**{f"{fields[-1]}__{lookup}": values[-1]})
    for field, value in zip(reversed(fields[:-1]), reversed(values[:-1]), strict=True):
        condition = Q(**{f"{field}__{lookup}": value}) | (Q(**{field: value}) & condition)
    return condition


def _value(row, path: str):
    for name in path.split("__"):
        row = getattr(row, name)
    return row
