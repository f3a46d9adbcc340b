"""What each row of a queryset owed at the end of an earlier day, as an `owed` annotation.

The rule is the dashboard's (payments/receivables_sql.py, docs/receivables.md rule 4): the stored
balance plus the corrections of the movements dated after the day. `corrections_sql` sums them
per row (the payments' allocations; the write-downs of billing items); each sum is LEFT JOINed to
the queryset by id, so a row owed its balance plus its corrections, or its balance if it has none:

    SELECT ..., "invoices_invoice"."balance" + COALESCE("owed_later_0".total, 0.00) AS owed
    FROM "invoices_invoice"
    LEFT OUTER JOIN (SELECT allocation.invoice_id AS target_id, SUM(...) AS total ...)
        "owed_later_0" ON ("owed_later_0".target_id = "invoices_invoice".id)

Only the movements since the day are read (a hash join), where summing each row's standing
payments read its whole ledger. The ORM cannot join a subquery: `LaterJoin` is an entry of the
query's FROM (an `alias_map` entry, as Django's own `Join` is), which keeps the queryset a
queryset (filter, order, count, aggregate, slice, chunk it). A row can come out below zero (a
payment dated in the past on top of one reversed after the day): the callers keep `owed > 0`.
"""

import datetime
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections, router, transaction
from django.db.models import F, QuerySet, Value
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce
from django.db.models.sql.constants import LOUTER

from billing_site.money import ZERO, MoneyField

from .receivables_sql import corrections_sql

ALIAS = "owed_later"


class LaterJoin:
    """`LEFT OUTER JOIN (sql) alias ON alias.target_id = parent.id`, as an `alias_map` entry:
    the attributes and methods `Query` and its compiler use of a `Join` (relabelled when the
    query becomes a subquery; never demoted to an inner join, never reused for another)."""

    join_field = None
    filtered_relation = None
    nullable = True

    def __init__(self, sql: str, params: tuple, parent_alias: str, table_alias: str):
        self.sql, self.params = sql, params
        self.table_name = table_alias  # no table: the alias names the subquery
        self.parent_alias, self.table_alias = parent_alias, table_alias
        self.join_type = LOUTER

    def as_sql(self, compiler, connection):
        alias = compiler.quote_name_unless_alias(self.table_alias)
        parent = compiler.quote_name_unless_alias(self.parent_alias)
        return (
            f"{LOUTER} ({self.sql}) {alias} ON ({alias}.target_id = {parent}.id)",
            list(self.params),
        )

    def relabeled_clone(self, change_map):
        return self.__class__(
            self.sql,
            self.params,
            change_map.get(self.parent_alias, self.parent_alias),
            change_map.get(self.table_alias, self.table_alias),
        )

    @property
    def identity(self):
        return (self.__class__, self.sql, self.params, self.parent_alias, self.table_alias)

    def __eq__(self, other):
        return isinstance(other, LaterJoin) and self.identity == other.identity

    def __hash__(self):
        return hash(self.identity)

    def demote(self):
        return self  # what a row owed needs every row, corrected or not

    def promote(self):
        return self


class LaterTotal(Expression):
    """The joined sum of a row's corrections (NULL for a row with none)."""

    def __init__(self, alias: str):
        super().__init__(output_field=MoneyField())
        self.alias = alias

    def as_sql(self, compiler, connection):
        return f"{compiler.quote_name_unless_alias(self.alias)}.total", []

    def relabeled_clone(self, change_map):
        return self.__class__(change_map.get(self.alias, self.alias))

    def get_group_by_cols(self):
        return [self]

    @property
    def identity(self):
        return (self.__class__, self.alias)


def with_owed_then(rows: QuerySet, kind: str, end: datetime.datetime) -> QuerySet:
    """`rows` (of `kind`: "invoices" or "billing_items") annotated with what each owed at `end`
    (the end of a day) as `owed`: its `balance` plus its corrections, which may be below zero."""
    database = connections[rows.db or router.db_for_read(rows.model)]
    end = database.ops.adapt_datetimefield_value(end)
    rows = rows.all()
    query = rows.query
    owed = F("balance")
    for index, sql in enumerate(corrections_sql(kind)):
        join = LaterJoin(
            sql.replace("%(end)s", "%s"),
            (end,) * sql.count("%(end)s"),
            query.get_initial_alias(),
            f"{ALIAS}_{index}",
        )
        later = LaterTotal(query.join(join))
        owed = owed + Coalesce(later, Value(ZERO), output_field=MoneyField())
    return rows.annotate(owed=owed)


# Until the end of the transaction (`set_config(..., true)` is `SET LOCAL`).
SERIAL_SETTINGS = (
    "SELECT set_config('max_parallel_workers_per_gather', '0', true),"
    " set_config('jit', 'off', true)"
)


@contextmanager
def without_parallel_workers(using: str) -> Iterator[None]:
    """A transaction on `using` whose statements PostgreSQL plans without parallel workers, and
    runs without JIT compilation.

    Each worker of a parallel plan over rows joined to their corrections computes all the sums
    itself (a grouped subquery is no partial plan to share): on a million invoices as of 60 days
    ago, three processes each grouping 181,000 corrections on two cores made the past-due page's
    statement about 1.6 s where one process took 1.1-1.3 s (the corrections in parallel scans
    and joins are lost, and the rows are joined to them in one process). Its cost estimate there
    passes `jit_above_cost`, and compiling its expressions took about 40 ms of every run, which
    runs them once each over a few hundred thousand rows. One statement sets both."""
    connection = connections[using]
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(SERIAL_SETTINGS)
        yield
