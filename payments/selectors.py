from functools import cache

from django.db import connection
from django.db.models import QuerySet

from billing_site import model_sql
from contacts.models import Account

from .models import Payment, Reversal

# What a DocuSign `billingPaymentItem` shows; "reversal" is the reversal's id, None if none.
PAYMENT_ITEM_FIELDS = ("pk", "amount", "description", "payment_date", "reversal")


def account_payments(account: Account) -> QuerySet[Payment]:
    """The account's payments, reversed ones included (they stay on the record), with their
    reversal and tender type loaded."""
    return Payment.objects.filter(account=account).select_related("reversal", "tender_type")


def account_payment_rows(account: Account) -> QuerySet:
    """`account_payments` as `values()` rows of `PAYMENT_ITEM_FIELDS` (the reversal joined in the
    same query), for an API answer built without model instances."""
    return Payment.objects.filter(account=account).values(*PAYMENT_ITEM_FIELDS)


def account_payment_row(account: Account, payment_id: int) -> dict | None:
    """One row of `account_payment_rows`: DocuSign's `GET billing_payments/{id}`, one statement
    written once (billing_site/model_sql.py)."""
    if payment_id > model_sql.BIGINT_MAX:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_payment_row_sql(), [account.pk, payment_id])
        row = cursor.fetchone()
    return None if row is None else dict(zip(PAYMENT_ITEM_FIELDS, row, strict=True))


@cache
def _payment_row_sql() -> str:
    return model_sql.sql(
        "SELECT {p.id}, {p.amount}, {p.description}, {p.payment_date}, {r.id} "
        "FROM {p.table} p LEFT JOIN {r.table} r ON {r.payment} = {p.id} "
        "WHERE {p.account} = %s AND {p.id} = %s",
        p=Payment,
        r=Reversal,
    )
