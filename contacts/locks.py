"""Row locks for the contacts app. The account row is the first lock any money service takes."""

from functools import cache

from django.db import connection

from billing_site import model_sql

from .models import Account


def lock_account(account_id: int) -> Account:
    """Lock the account row (`SELECT ... FOR UPDATE`) and return it, fresh from the database.

    Every payment sends this: written once as SQL (billing_site/model_sql.py)."""
    with connection.cursor() as cursor:
        cursor.execute(_lock_sql(), [account_id])
        row = cursor.fetchone()
    if row is None:
        raise Account.DoesNotExist(f"No account {account_id}.")
    return model_sql.instance(Account, row)


@cache
def _lock_sql() -> str:
    return model_sql.sql("SELECT {a.all} FROM {a.table} a WHERE {a.id} = %s FOR UPDATE", a=Account)
