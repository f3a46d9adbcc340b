"""Rules the money services share. None of them is atomic on its own: each runs inside a
service's transaction, under its locks."""

from decimal import Decimal

from django.db import transaction

from billing_site import model_sql
from billing_site.money import InvalidAmount, parse_amount
from contacts.models import Account
from invoices.models import BillingItem, Invoice, InvoiceStatus

from ..actors import Actor
from ..errors import (
    InvalidPaymentAmount,
    PaymentNotAllowed,
    TenderTypeNotAvailable,
)


def payment_amount(value: object) -> Decimal:
    try:
        return parse_amount(value)
    except InvalidAmount as error:
        raise InvalidPaymentAmount(error.message) from None


def check_api_payments_allowed(account, actor: Actor) -> None:
    if actor.is_api and account.api_payments_blocked:
        raise PaymentNotAllowed(
            f"Payments over the API are not allowed for account {account.number}."
        )


def check_tender_type(tender_type_id: int | None, active: bool) -> None:
    """`active`: what the account's lock read of the tender type (payments.locks)."""
    if not active:
        raise TenderTypeNotAvailable(f"Tender type {tender_type_id} is unknown or inactive.")


def invoice_statuses(balances: dict[int, Decimal]) -> dict[int, str]:
    """Each invoice's status to match its balance: paid at zero, else open."""
    return {pk: InvoiceStatus.PAID if b == 0 else InvoiceStatus.OPEN for pk, b in balances.items()}


def write_invoice_balances(balances: dict[int, Decimal]) -> None:
    """Set each invoice's balance, and its status to match."""
    if balances:
        model_sql.update_balances(Invoice, balances, status=invoice_statuses(balances))


def write_billing_item_balances(balances: dict[int, Decimal]) -> None:
    if balances:
        model_sql.update_balances(BillingItem, balances)


def write_credit_balance(account_id: int, credit: Decimal) -> None:
    """Set the account's credit (under its row lock, taken first by every money service)."""
    Account.objects.filter(pk=account_id).update(credit_balance=credit)


def dry_run(operation, /, **kwargs):
    """What `operation` (one of the services above) would do now, without doing it: it runs in
    a transaction that is rolled back. For previews ("this is what will be settled"), so that the
    preview follows exactly the rules of the real call; refusals are raised as usual."""
    with transaction.atomic():
        result = operation(**kwargs)
        transaction.set_rollback(True)
    return result
