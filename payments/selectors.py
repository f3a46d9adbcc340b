import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, connections, router
from django.db.models import Q, QuerySet, Sum

from billing_site.money import CENT, ZERO
from contacts.models import Account, Contact
from invoices.models import BillingItem, Invoice, InvoiceStatus

from .models import Payment, PaymentAllocation, Reversal, WriteDown


def account_payments(account: Account) -> QuerySet[Payment]:
    """The account's payments, reversed ones included (they stay on the record), with their
    reversal and tender type loaded."""
    return Payment.objects.filter(account=account).select_related("reversal", "tender_type")


# Receivables for finance: what was owed, how late, on any date.

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


def _standing_on(as_of: datetime.date) -> Q:
    """Payments dated up to `as_of` and not reversed by then (relative to a payment)."""
    end = _end_of(as_of)
    return Q(payment_date__lt=end) & (Q(reversal__isnull=True) | Q(reversal__reversed_at__gte=end))


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


RECEIVABLES_SQL = """
WITH standing AS (
    SELECT allocation.invoice_id, allocation.billing_item_id, allocation.amount
    FROM {allocation} allocation
    JOIN {payment} payment ON payment.id = allocation.payment_id
    LEFT JOIN {reversal} reversal ON reversal.payment_id = payment.id
    WHERE payment.payment_date < %(end)s
      AND (reversal.id IS NULL OR reversal.reversed_at >= %(end)s)
), invoice_paid AS (
    SELECT invoice_id, SUM(amount) AS total FROM standing
    WHERE invoice_id IS NOT NULL GROUP BY invoice_id
), item_paid AS (
    SELECT billing_item_id, SUM(amount) AS total FROM standing
    WHERE billing_item_id IS NOT NULL GROUP BY billing_item_id
), written_down AS (
    SELECT billing_item_id, SUM(amount) AS total FROM {write_down}
    WHERE write_down_date < %(end)s GROUP BY billing_item_id
), owed AS (
    SELECT invoice.account_id, account.currency, invoice.due_date,
           invoice.amount - COALESCE(invoice_paid.total, 0) AS owed
    FROM {invoice} invoice
    JOIN {account} account ON account.id = invoice.account_id
    LEFT JOIN invoice_paid ON invoice_paid.invoice_id = invoice.id
    WHERE invoice.issue_date <= %(as_of)s AND invoice.status <> %(void)s
    UNION ALL
    SELECT contact.account_id, account.currency, item.due_date,
           item.total_amount - COALESCE(item_paid.total, 0) - COALESCE(written_down.total, 0)
    FROM {billing_item} item
    JOIN {contact} contact ON contact.id = item.contact_id
    JOIN {account} account ON account.id = contact.account_id
    LEFT JOIN item_paid ON item_paid.billing_item_id = item.id
    LEFT JOIN written_down ON written_down.billing_item_id = item.id
    WHERE item.created_at < %(end)s
)
SELECT currency,
       {bucket_sums},
       COUNT(DISTINCT CASE WHEN due_date < %(as_of)s THEN account_id END)
FROM owed
WHERE owed > 0
GROUP BY currency
"""


def _bucket_sums(as_of: datetime.date) -> tuple[str, dict]:
    """One SUM of `owed` per ageing bucket, in AGEING_BUCKETS order, and its parameters."""
    sql_ops = {"lte": "<=", "gte": ">="}
    sums, params = [], {}
    for index, bucket in enumerate(AGEING_BUCKETS):
        conditions = []
        for op, day in _due_date_range(as_of, bucket).items():
            params[f"{op}_{index}"] = connection.ops.adapt_datefield_value(day)
            conditions.append(f"due_date {sql_ops[op]} %({op}_{index})s")
        sums.append(f"SUM(CASE WHEN {' AND '.join(conditions)} THEN owed ELSE 0 END)")
    return ", ".join(sums), params


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
    Each row's standing payments are summed once (CTEs); the equivalent ORM annotation repeats a
    correlated subquery in every bucket's SUM, nine times slower on 100,000 invoices
    (bench/backoffice.py).
    """
    sums, bucket_params = _bucket_sums(as_of)
    sql = RECEIVABLES_SQL.format(
        allocation=PaymentAllocation._meta.db_table,
        payment=Payment._meta.db_table,
        reversal=Reversal._meta.db_table,
        invoice=Invoice._meta.db_table,
        account=Account._meta.db_table,
        write_down=WriteDown._meta.db_table,
        billing_item=BillingItem._meta.db_table,
        contact=Contact._meta.db_table,
        bucket_sums=sums,
    )
    # Raw SQL is not routed: ask the router where the ORM would read (the replica for the
    # dashboard, inside billing_site.db_router.replica_reads()).
    database = connections[router.db_for_read(Payment)]
    ops = database.ops
    params = {
        "end": ops.adapt_datetimefield_value(_end_of(as_of)),
        "as_of": ops.adapt_datefield_value(as_of),
        "void": InvoiceStatus.VOID,
        **bucket_params,
    }
    with database.cursor() as cursor:
        cursor.execute(sql, params)
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
