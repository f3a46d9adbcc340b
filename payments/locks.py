"""Row locks for payments: taken after the invoices and billing items they touch; and the account
lock of a payment, which reads its tender type in the same statement (with a Legend payment, the
contact its request names too)."""

import uuid
from dataclasses import dataclass
from functools import cache

from django.db import connection
from django.db.transaction import TransactionManagementError

from billing_site import model_sql
from contacts.models import Account, Contact
from contacts.selectors import contact_with_account

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


@dataclass(frozen=True)
class ContactAccountLock:
    """A contact's account locked for a payment by `contact_for_payment`, in a transaction still
    open: the money service takes it in place of its own account lock (the same row, locked first,
    as every money service locks it)."""

    account: Account
    tender_type_id: int | None
    tender_active: bool
    transaction: object  # the outermost atomic block it was taken in

    def held_for(self, contact: Contact, tender_type_id: int | None) -> tuple[Account, bool]:
        """The locked account and whether the tender type is active, as
        `lock_account_for_payment` returns them; only for this contact's account and tender type,
        in the transaction the lock was taken in."""
        if (
            connection.atomic_blocks[:1] != [self.transaction]
            or self.account.pk != contact.account_id
            or self.tender_type_id != tender_type_id
        ):
            raise TransactionManagementError(
                "This account lock is not held for this contact and tender type here."
            )
        return self.account, self.tender_active


def contact_for_payment(
    guid: uuid.UUID, tender_type_id: int | None
) -> tuple[Contact, ContactAccountLock] | None:
    """The contact with this GUID (Legend's ContactId), with its account locked (`FOR UPDATE`) and
    whether the tender type is active, in one statement; None when there is no such contact.

    A Legend payment sends it in place of the contact's lookup and the service's account lock:
    the caller checks the contact is in its scope and hands the lock to `billing_items_pay`. Only
    inside a transaction, which holds the lock until it ends."""
    if not connection.in_atomic_block:
        raise TransactionManagementError("An account lock needs a transaction to hold it.")
    with connection.cursor() as cursor:
        cursor.execute(_contact_lock_sql(), [tender_type_id, guid])
        row = cursor.fetchone()
    if row is None:
        return None
    contact = contact_with_account(row)
    active = tender_type_id is None or row[-1]
    lock = ContactAccountLock(contact.account, tender_type_id, active, connection.atomic_blocks[0])
    return contact, lock


@cache
def _contact_lock_sql() -> str:
    return model_sql.sql(
        "SELECT {c.all}, {a.all}, "
        "EXISTS (SELECT 1 FROM {t.table} t WHERE {t.id} = %s AND {t.is_active}) "
        "FROM {c.table} c JOIN {a.table} a ON {a.id} = {c.account} WHERE {c.guid} = %s "
        "FOR UPDATE OF a",
        c=Contact,
        a=Account,
        t=TenderType,
    )
