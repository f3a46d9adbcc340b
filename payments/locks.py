"""Row locks for payments: taken after the invoices and billing items they touch; and the account
lock of a payment, which reads its tender type in the same statement."""

from functools import cache

from django.db import connection

from billing_site import model_sql
from contacts.models import Account

from .models import Payment, TenderType


def lock_payment(payment_id: int) -> Payment:
    """Lock the payment row (`SELECT ... FOR UPDATE`) and return it."""
    return Payment.objects.select_for_update().get(pk=payment_id)


def lock_account_for_payment(account_id: int, tender_type_id: int | None) -> tuple[Account, bool]:
    """`contacts.locks.lock_account`, and whether the tender type `tender_type_id` exists and is
    active (True when there is none to check), in one statement: every payment sends it."""
    with connection.cursor() as cursor:
        cursor.execute(_lock_sql(), [tender_type_id, account_id])
        row = cursor.fetchone()
    if row is None:
        raise Account.DoesNotExist(f"No account {account_id}.")
    tender_active = tender_type_id is None or row[-1]
    return model_sql.instance(Account, row), tender_active


@cache
def _lock_sql() -> str:
    return model_sql.sql(
        "SELECT {a.all}, EXISTS (SELECT 1 FROM {t.table} t WHERE {t.id} = %s AND {t.is_active}) "
        "FROM {a.table} a WHERE {a.id} = %s FOR UPDATE OF a",
        a=Account,
        t=TenderType,
    )
