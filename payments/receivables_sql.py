"""The dashboard's SQL statement: what is owed per currency and ageing bucket at the end of a day.

What a row (an invoice, a billing item) owed at the end of a day is its stored balance corrected
by the movements that changed it after that day (docs/receivables.md, rule 4; a balance is the
amount less the allocations of the payments not reversed, less write-downs: payments.ledger):

    owed then = balance
              + allocations of payments dated after the day and not reversed (not made yet then)
              - allocations of payments dated up to the day and reversed after it (standing then)
              + write-downs dated after the day (billing items)
              + credit applied after the day
              + credit notes dated after the day (invoices: what they took off the balance)
              - what was released of allocations into credit after the day (owed again since)

A payment dated after the day and reversed counts neither then nor now. A row counts when it owed
more than zero; the sum of max(owed then, 0) over the rows is, per account and bucket,

    the balances of the open rows (one pass over the rows owing something now, in parallel)
  + the corrections (each later movement, joined to its row)
  + for the rows a reversal after the day touched (the only ones that can have owed less than
    zero then: payments dated in the past on top of one reversed later), what they owed below zero.

So only the movements since the day are read besides the open rows, where summing every row's
standing payments read the whole ledger: today there are none (a payment dated tomorrow within
Legend's clock skew, rule 6, is one). No CTE: PostgreSQL estimates each part and runs the large
ones in parallel. Every amount summed is a part of what rows owing more than zero owe, so an
account owes something past due when its past-due buckets add up to more than zero.
"""

from contacts.models import Account
from invoices.models import BillingItem, Invoice

from .models import (
    AllocationRelease,
    CreditApplication,
    CreditNote,
    Payment,
    PaymentAllocation,
    Reversal,
    WriteDown,
)

TABLES = {
    "allocation": PaymentAllocation._meta.db_table,
    "application": CreditApplication._meta.db_table,
    "release": AllocationRelease._meta.db_table,
    "credit_note": CreditNote._meta.db_table,
    "payment": Payment._meta.db_table,
    "reversal": Reversal._meta.db_table,
    "write_down": WriteDown._meta.db_table,
    "account": Account._meta.db_table,
}

# Allocations of payments dated up to the day and reversed after it: standing then, not now.
REVERSED_SQL = """
    SELECT allocation.{target} AS target_id, -allocation.amount AS amount
    FROM {reversal} reversal
    JOIN {payment} payment ON payment.id = reversal.payment_id
    JOIN {allocation} allocation ON allocation.payment_id = payment.id
    WHERE reversal.reversed_at >= %(end)s AND payment.payment_date < %(end)s
      AND allocation.{target} IS NOT NULL
"""

# Every correction of a kind of row: what its stored balance lacks for the end of the day.
LATER_SQL = """
    SELECT allocation.{target} AS target_id, allocation.amount
    FROM {payment} payment
    JOIN {allocation} allocation ON allocation.payment_id = payment.id
    WHERE payment.payment_date >= %(end)s AND allocation.{target} IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM {reversal} reversal WHERE reversal.payment_id = payment.id)
    UNION ALL
    {reversed}
    {write_downs}
    UNION ALL
    {credit}
"""

WRITE_DOWNS_SQL = """
    UNION ALL
    SELECT write_down.billing_item_id, write_down.amount
    FROM {write_down} write_down
    WHERE write_down.write_down_date >= %(end)s
"""

# The credit's corrections of a kind of row: applications and releases after the day, and (invoices)
# credit notes dated after it; `{only}` restricts them to some rows (`AND ... IN (...)`) or not.
CREDIT_LATER_SQL = """
    SELECT application.{target}, application.amount
    FROM {application} application
    WHERE application.applied_at >= %(end)s AND application.{target} IS NOT NULL
      {only_application}
    UNION ALL
    SELECT allocation.{target}, -released.amount
    FROM {release} released
    JOIN {allocation} allocation ON allocation.id = released.allocation_id
    WHERE released.released_at >= %(end)s AND allocation.{target} IS NOT NULL
      {only_allocation}
    {credit_notes}
"""

CREDIT_NOTES_LATER_SQL = """
    UNION ALL
    SELECT note.invoice_id, note.applied_amount
    FROM {credit_note} note
    WHERE note.issue_date >= CAST(%(end)s AS date) AND note.applied_amount > 0
      {only_note}
"""


def credit_later_sql(target: str, only: str = "") -> str:
    """CREDIT_LATER_SQL for `target` ("invoice_id" or "billing_item_id"); `only`, if given, a
    subquery of the row ids to keep."""

    def restricted(column: str) -> str:
        return f"AND {column} IN ({only})" if only else ""

    notes = (
        CREDIT_NOTES_LATER_SQL.format(only_note=restricted("note.invoice_id"), **TABLES)
        if target == "invoice_id"
        else ""
    )
    return CREDIT_LATER_SQL.format(
        target=target,
        only_application=restricted(f"application.{target}"),
        only_allocation=restricted(f"allocation.{target}"),
        credit_notes=notes,
        **TABLES,
    )


# The corrections of the rows a reversal after the day touched, all of them (index lookups by row).
# What one allocation (joined to its payment and, if any, its reversal) adds to its row's stored
# balance for the end of the day: the same corrections as LATER_SQL's, one allocation at a time.
CORRECTION = """CASE WHEN payment.payment_date >= %(end)s AND reversal.id IS NULL
                THEN allocation.amount
                WHEN payment.payment_date < %(end)s AND reversal.reversed_at >= %(end)s
                THEN -allocation.amount
                ELSE 0 END"""

TOUCHED_SQL = """
    SELECT allocation.{target} AS target_id,
           {correction} AS amount
    FROM {allocation} allocation
    JOIN {payment} payment ON payment.id = allocation.payment_id
    LEFT JOIN {reversal} reversal ON reversal.payment_id = payment.id
    WHERE allocation.{target} IN (SELECT reversed.target_id FROM ({reversed}) reversed)
    {write_downs}
    UNION ALL
    {credit}
"""

TOUCHED_WRITE_DOWNS_SQL = """
    UNION ALL
    SELECT write_down.billing_item_id, write_down.amount
    FROM {write_down} write_down
    WHERE write_down.write_down_date >= %(end)s
      AND write_down.billing_item_id IN (SELECT reversed.target_id FROM ({reversed}) reversed)
"""

# One kind of row: its open rows, its corrections, and what the rows a reversal touched owed below
# zero. `{counted}` is the condition on `owing` for a row to count on the day at all.
KIND_SQL = """
    SELECT account_id, {balance_sums}
    FROM {table}
    WHERE {open}
    GROUP BY account_id
    UNION ALL
    SELECT owing.account_id, {correction_sums}
    FROM ({later}) later
    JOIN {table} owing ON owing.id = later.target_id
    WHERE {counted}
    GROUP BY owing.account_id
    UNION ALL
    SELECT owing.account_id, {below_zero_sums}
    FROM (
        SELECT touched.target_id, SUM(touched.amount) AS total
        FROM ({touched}) touched
        GROUP BY touched.target_id
    ) later
    JOIN {table} owing ON owing.id = later.target_id
    WHERE {counted}
    GROUP BY owing.account_id
"""

RECEIVABLES_SQL = """
SELECT account.currency, {currency_sums}
FROM (
    SELECT account_id, {account_sums}
    FROM ({invoices} UNION ALL {billing_items}) per_part
    GROUP BY account_id
) per_account
JOIN {account} account ON account.id = per_account.account_id
GROUP BY account.currency
HAVING SUM({owed}) > 0
"""

# Each kind of row: its table, the allocations' column naming it, its open rows, the rows that
# count on the day, and whether it has write-downs.
KINDS = {
    "invoices": (
        Invoice._meta.db_table,
        "invoice_id",
        "status = %(open)s AND issue_date <= %(as_of)s",
        "owing.status <> %(void)s AND owing.issue_date <= %(as_of)s",
        False,
    ),
    "billing_items": (
        BillingItem._meta.db_table,
        "billing_item_id",
        "balance > 0 AND created_at < %(end)s",
        "owing.created_at < %(end)s",
        True,
    ),
}


def _later_sql(target: str, write_downs: bool) -> str:
    return LATER_SQL.format(
        target=target,
        reversed=REVERSED_SQL.format(target=target, **TABLES),
        write_downs=WRITE_DOWNS_SQL.format(**TABLES) if write_downs else "",
        credit=credit_later_sql(target),
        **TABLES,
    )


# Each row's corrections summed, for the past-due list (payments/owed_then.py): one grouped
# statement over the movements since the day, grouped by a column of a table, so that PostgreSQL
# estimates how many rows it makes (grouping LATER_SQL's UNION ALL, it guesses 200, and under a
# LIMIT it then joined them to every row by a nested loop). The payments are those dated after
# the day or reversed after it, chosen before their allocations are joined.
PAID_LATER_SQL = """
    SELECT allocation.{target} AS target_id, SUM({correction}) AS total
    FROM {payment} payment
    JOIN {allocation} allocation ON allocation.payment_id = payment.id
    LEFT JOIN {reversal} reversal ON reversal.payment_id = payment.id
    WHERE allocation.{target} IS NOT NULL
      AND (payment.payment_date >= %(end)s OR payment.id IN (
          SELECT later.payment_id FROM {reversal} later WHERE later.reversed_at >= %(end)s
      ))
    GROUP BY allocation.{target}
"""

WRITTEN_DOWN_LATER_SQL = """
    SELECT write_down.billing_item_id AS target_id, SUM(write_down.amount) AS total
    FROM {write_down} write_down
    WHERE write_down.write_down_date >= %(end)s
    GROUP BY write_down.billing_item_id
"""


def corrections_sql(kind: str) -> list[str]:
    """The sums of the corrections of each row of one kind ("invoices" or "billing_items") for
    the end of a day, `%(end)s`: statements of (`target_id`, `total`), a row at most once in each,
    whose totals add to its stored balance (a row in none owed its stored balance then)."""
    _table, target, _open, _counted, write_downs = KINDS[kind]
    sums = [PAID_LATER_SQL.format(target=target, correction=CORRECTION, **TABLES)]
    if write_downs:
        sums.append(WRITTEN_DOWN_LATER_SQL.format(**TABLES))
    sums.append(CREDITED_LATER_SQL.format(credit=credit_later_sql(target)))
    return sums


BELOW_ZERO = "CASE WHEN balance + later.total < 0 THEN -(balance + later.total) ELSE 0 END"


def receivables_sql(bucket_conditions: list[str]) -> str:
    """The statement, with `%(end)s`, `%(as_of)s`, `%(open)s`, `%(void)s` and the parameters of
    `bucket_conditions` (one SQL condition on `due_date` per ageing bucket, current first)."""

    def sums(amount: str) -> str:
        return ", ".join(
            f"SUM(CASE WHEN {condition} THEN {amount} ELSE 0 END) AS owed_{index}"
            for index, condition in enumerate(bucket_conditions)
        )

    def kind(table: str, target: str, open_: str, counted: str, write_downs: bool) -> str:
        reversed_ = REVERSED_SQL.format(target=target, **TABLES)
        return KIND_SQL.format(
            table=table,
            open=open_,
            counted=counted,
            later=_later_sql(target, write_downs),
            touched=TOUCHED_SQL.format(
                target=target,
                correction=CORRECTION,
                reversed=reversed_,
                write_downs=TOUCHED_WRITE_DOWNS_SQL.format(reversed=reversed_, **TABLES)
                if write_downs
                else "",
                credit=credit_later_sql(
                    target,
                    f"SELECT reversed.target_id FROM ({reversed_}) reversed",  # noqa: S608 - ours
                ),
                **TABLES,
            ),
            balance_sums=sums("balance"),
            correction_sums=sums("later.amount"),
            below_zero_sums=sums(BELOW_ZERO),
        )

    indexes = range(len(bucket_conditions))
    past_due = " + ".join(f"owed_{index}" for index in indexes[1:])
    return RECEIVABLES_SQL.format(
        invoices=kind(*KINDS["invoices"]),
        billing_items=kind(*KINDS["billing_items"]),
        account_sums=", ".join(f"SUM(owed_{index}) AS owed_{index}" for index in indexes),
        currency_sums=", ".join(f"SUM(owed_{index})" for index in indexes)
        + f", SUM(CASE WHEN {past_due} > 0 THEN 1 ELSE 0 END)",
        owed=" + ".join(f"owed_{index}" for index in indexes),
        **TABLES,
    )


# The credit's corrections of each row, summed (the past-due list): applications and releases
# after the day, and (invoices) credit notes dated after it.
CREDITED_LATER_SQL = """
    SELECT credited.target_id, SUM(credited.amount) AS total
    FROM ({credit}) credited (target_id, amount)
    GROUP BY credited.target_id
"""
