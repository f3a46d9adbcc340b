import datetime
from functools import cache

from django.db import connection
from django.db.models import QuerySet

from billing_site import model_sql
from contacts.models import Account

from .models import Payment, Reversal

# What a DocuSign `billingPaymentItem` shows; "reversal" is the reversal's id, None if none.
PAYMENT_ITEM_FIELDS = ("pk", "amount", "description", "payment_date", "reversal")

# `PAYMENT_ITEM_FIELDS` as the read endpoints select them: the amount as its text (a numeric of
# two places: "125.50", what format_amount writes) and the payment date as UTC text with six
# fractional digits ("2026-03-05T12:00:00.000000Z"), so that no row loads a Decimal or an aware
# datetime only to write it back as text (payments.docusign.bodies).
_ITEM_COLUMNS = (
    "{p.id}, {p.amount}::text, {p.description}, "
    "to_char({p.payment_date} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), {r.id}"
)


def account_payments(account: Account) -> QuerySet[Payment]:
    """The account's payments, reversed ones included (they stay on the record), with their
    reversal and tender type loaded."""
    return Payment.objects.filter(account=account).select_related("reversal", "tender_type")


def account_payment_rows(account: Account) -> QuerySet:
    """`account_payments` as `values()` rows of `PAYMENT_ITEM_FIELDS` (the reversal joined in the
    same query): what the payment list's filter set filters (a refused date range answers from
    it); the list reads its pages with `account_payment_page`."""
    return Payment.objects.filter(account=account).values(*PAYMENT_ITEM_FIELDS)


def account_payment_row(account: Account, payment_id: int) -> dict | None:
    """One payment of the account as a row of `PAYMENT_ITEM_FIELDS` (amount and date as text, see
    `_ITEM_COLUMNS`): DocuSign's `GET billing_payments/{id}`, one statement written once
    (billing_site/model_sql.py)."""
    if payment_id > model_sql.BIGINT_MAX:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_payment_row_sql(), [account.pk, payment_id])
        row = cursor.fetchone()
    return None if row is None else dict(zip(PAYMENT_ITEM_FIELDS, row, strict=True))


@cache
def _payment_row_sql() -> str:
    return model_sql.sql(
        f"SELECT {_ITEM_COLUMNS} "  # noqa: S608 - names from the models
        "FROM {p.table} p LEFT JOIN {r.table} r ON {r.payment} = {p.id} "
        "WHERE {p.account} = %s AND {p.id} = %s",
        p=Payment,
        r=Reversal,
    )


def account_payment_page(
    account: Account,
    start: datetime.datetime,
    stop: datetime.datetime,
    *,
    descending: bool,
    after: int | None,
    before: int | None,
    offset: int,
    limit: int,
) -> list[dict]:
    """A page of the account's payments made from `start` (inclusive) to `stop` (exclusive), as
    rows of `account_payment_row`, in id order (`descending`: the other way), ids above `after`
    or below `before` when given, the first `offset` left out: DocuSign's `GET billing_payments`,
    paged by DRF's cursor paginator over billing_site.api.pagination.KeysetRows. One statement
    written once, where a queryset was filtered, ordered and compiled on every request."""
    bound = ">" if after is not None else "<" if before is not None else None
    parameters = [account.pk, start, stop]
    if bound is not None:
        parameters.append(after if after is not None else before)
    with connection.cursor() as cursor:
        cursor.execute(_payment_page_sql(descending, bound), [*parameters, limit, offset])
        rows = cursor.fetchall()
    return [dict(zip(PAYMENT_ITEM_FIELDS, row, strict=True)) for row in rows]


@cache
def _payment_page_sql(descending: bool, bound: str | None) -> str:
    position = "" if bound is None else f" AND {{p.id}} {bound} %s"
    return model_sql.sql(
        f"SELECT {_ITEM_COLUMNS} "  # noqa: S608 - names from the models
        "FROM {p.table} p LEFT JOIN {r.table} r ON {r.payment} = {p.id} "
        "WHERE {p.account} = %s AND {p.payment_date} >= %s AND {p.payment_date} < %s"
        f"{position} ORDER BY {{p.id}}{' DESC' if descending else ''} LIMIT %s OFFSET %s",
        p=Payment,
        r=Reversal,
    )
