"""What is owed, and how late, at the end of any day: the one rule behind every figure.

An invoice is owed from its issue date until it is paid or void; a billing item from the day it
was created until it is paid or written off. What one owed at the end of a day (UTC) is its amount
less the payments dated up to that day and not reversed by its end, less (billing items) the
write-downs dated up to it. It is past due on that day when its due date is before it.

Today (and later) that is the stored `balance`, which only the money service changes and
`verify_ledger` checks against the same movements: no movement is dated after it is recorded. For
an earlier day it is recomputed from the movements. `receivables_on` sums it per currency and
ageing bucket for the dashboard; `invoices_owed_on` and `billing_items_owed_on` are its rows, for
the past-due list and its exports. docs/receivables.md says where each figure comes from.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, connections, router
from django.db.models import F, Q, QuerySet, Sum

from billing_site.money import CENT, ZERO
from invoices.due import owed_q, today
from invoices.models import BillingItem, Invoice, InvoiceStatus

from .models import Payment
from .owed_then import with_owed_then
from .receivables_sql import receivables_sql

AGEING_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


@dataclass(frozen=True)
class CurrencyReceivables:
    """Receivables in one currency on `as_of`: invoices and billing items owed, by lateness."""

    currency: str
    buckets: dict[str, Decimal]  # AGEING_BUCKETS -> amount owed
    accounts_past_due: int
    collected_30_days: Decimal

    @property
    def receivable(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)

    @property
    def past_due(self) -> Decimal:
        return self.receivable - self.buckets["current"]


def _end_of(as_of: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(
        as_of + datetime.timedelta(days=1), datetime.time(), datetime.UTC
    )


def _standing_on(as_of: datetime.date, prefix: str = "") -> Q:
    """Payments dated up to `as_of` and not reversed by then (relative to a payment, or to what
    `prefix` leads to one from)."""
    end = _end_of(as_of)
    return Q(**{f"{prefix}payment_date__lt": end}) & (
        Q(**{f"{prefix}reversal__isnull": True}) | Q(**{f"{prefix}reversal__reversed_at__gte": end})
    )


def invoices_owed_on(as_of: datetime.date) -> QuerySet[Invoice]:
    """Every invoice owed at the end of `as_of`, with what it owed then as `owed`: its stored
    balance, corrected for an earlier day by the movements dated after it (payments/owed_then.py:
    one join of the movements since the day, whatever the size of the ledger before it)."""
    if as_of >= today():
        return Invoice.objects.filter(owed_q(as_of)).annotate(owed=F("balance"))
    rows = Invoice.objects.exclude(status=InvoiceStatus.VOID).filter(issue_date__lte=as_of)
    return with_owed_then(rows, "invoices", _end_of(as_of)).filter(owed__gt=0)


def billing_items_owed_on(as_of: datetime.date) -> QuerySet[BillingItem]:
    """Every billing item owed at the end of `as_of`, with what it owed then as `owed`."""
    if as_of >= today():
        return BillingItem.objects.filter(balance__gt=0).annotate(owed=F("balance"))
    end = _end_of(as_of)
    rows = BillingItem.objects.filter(created_at__lt=end)
    return with_owed_then(rows, "billing_items", end).filter(owed__gt=0)


# Days late (as_of - due_date) each bucket covers, both ends included; None: no end.
BUCKET_DAYS = {
    "current": (None, 0),
    "1-30": (1, 30),
    "31-60": (31, 60),
    "61-90": (61, 90),
    "90+": (91, None),
}


def _due_date_range(as_of: datetime.date, bucket: str) -> dict[str, datetime.date]:
    """The due dates of `bucket` on `as_of`, as `lte`/`gte` bounds."""
    fewest, most = BUCKET_DAYS[bucket]
    bounds = {}
    if fewest is not None:
        bounds["lte"] = as_of - datetime.timedelta(days=fewest)
    if most is not None:
        bounds["gte"] = as_of - datetime.timedelta(days=most)
    return bounds


def bucket_bounds(as_of: datetime.date) -> dict[str, Q]:
    """Each ageing bucket as a condition on `due_date`."""
    return {
        bucket: Q(**{f"due_date__{op}": day for op, day in _due_date_range(as_of, bucket).items()})
        for bucket in AGEING_BUCKETS
    }


def _bucket_conditions(as_of: datetime.date) -> tuple[list[str], dict]:
    """Each ageing bucket as an SQL condition on `due_date`, in AGEING_BUCKETS order, and their
    parameters."""
    sql_ops = {"lte": "<=", "gte": ">="}
    conditions, params = [], {}
    for index, bucket in enumerate(AGEING_BUCKETS):
        terms = []
        for op, day in _due_date_range(as_of, bucket).items():
            params[f"{op}_{index}"] = connection.ops.adapt_datefield_value(day)
            terms.append(f"due_date {sql_ops[op]} %({op}_{index})s")
        conditions.append(" AND ".join(terms))
    return conditions, params


def _money(value) -> Decimal:
    """A sum from the database as a two-place Decimal: PostgreSQL's numeric sum takes the places
    of its terms, so a bucket whose rows were all `ELSE 0` comes back as `0`, without places."""
    return Decimal(value).quantize(CENT)


def receivables_on(as_of: datetime.date) -> list[CurrencyReceivables]:
    """The dashboard's figures per currency on `as_of`, in two queries whatever the volume.

    Receivables are the accounts' invoices and their contacts' billing items. What each owed at
    the end of `as_of`: its amount, less the payments dated up to that day and not reversed by
    then, less (billing items) the write-downs dated up to it; never below zero. An invoice
    counts from its issue date, a billing item from the day it was created; void invoices never.
    The open rows' stored balances, corrected by the movements dated after `as_of` (one SQL
    statement, payments/receivables_sql.py): the cost follows the rows owing something and the
    movements since the day, not the whole ledger. Summing every row's standing payments (CTEs)
    took 2.3 s for today on 1,000,000 invoices, 0.4 s this way (bench/backoffice.py).
    """
    conditions, bucket_params = _bucket_conditions(as_of)
    sql = receivables_sql(conditions)
    # Raw SQL is not routed: ask the router where the ORM would read (the replica for the
    # dashboard, inside billing_site.db_router.replica_reads()).
    database = connections[router.db_for_read(Payment)]
    ops = database.ops
    params = {
        "end": ops.adapt_datetimefield_value(_end_of(as_of)),
        "as_of": ops.adapt_datefield_value(as_of),
        "open": InvoiceStatus.OPEN,
        "void": InvoiceStatus.VOID,
        **bucket_params,
    }
    if database.vendor == "postgresql":
        # Its cost estimate on a million invoices passes jit_above_cost, and compiling its many
        # expressions took 0.5 s of 1.5: no JIT, until the end of the transaction (in autocommit,
        # the statements of one execute are one transaction: this statement only).
        sql = "SELECT set_config('jit', 'off', true); " + sql
    with database.cursor() as cursor:
        cursor.execute(sql, params)
        while cursor.nextset():  # to the last statement's rows
            pass
        rows = cursor.fetchall()
    since = _end_of(as_of - datetime.timedelta(days=30))
    collected = dict(
        Payment.objects.filter(_standing_on(as_of), payment_date__gte=since)
        .values("currency")
        .annotate(total=Sum("amount"))
        .values_list("currency", "total")
    )
    figures = {
        currency: CurrencyReceivables(
            currency=currency,
            buckets={
                bucket: _money(total) for bucket, total in zip(AGEING_BUCKETS, totals, strict=True)
            },
            accounts_past_due=accounts,
            collected_30_days=_money(collected.get(currency, ZERO)),
        )
        for currency, *totals, accounts in rows
    }
    for currency, total in collected.items():  # collected, but nothing owed any more
        figures.setdefault(
            currency,
            CurrencyReceivables(currency, dict.fromkeys(AGEING_BUCKETS, ZERO), 0, _money(total)),
        )
    return [figures[currency] for currency in sorted(figures)]
