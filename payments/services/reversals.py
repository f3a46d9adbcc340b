"""Reversals: a payment undone, every balance it reduced restored; the payment stays."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Q

from billing_site.money import ZERO, format_amount
from contacts.locks import lock_account
from invoices.locks import lock_billing_items, lock_invoices

from .. import events as money_events
from ..actors import Actor
from ..errors import (
    CreditInsufficient,
    PaymentAlreadyReversed,
    ReasonRequired,
)
from ..locks import lock_payment
from ..models import Payment, PaymentAllocation, Refund, Reversal
from ..request_transaction import money_transaction
from .rules import write_billing_item_balances, write_credit_balance, write_invoice_balances


@money_transaction
def payment_reverse(*, payment_id: int, reason: str, actor: Actor) -> Reversal:
    """Undo a payment: restore every balance it reduced and record why. The payment stays."""
    reason = reason.strip()
    if not reason:
        raise ReasonRequired("A reversal needs a reason.")
    account_id = Payment.objects.values_list("account_id", flat=True).get(pk=payment_id)
    account = lock_account(account_id)
    allocations = list(PaymentAllocation.objects.filter(payment_id=payment_id))
    invoices = lock_invoices(Q(pk__in={a.invoice_id for a in allocations if a.invoice_id}))
    items = lock_billing_items(a.billing_item_id for a in allocations if a.billing_item_id)
    payment = lock_payment(payment_id)
    if Reversal.objects.filter(payment_id=payment.pk).exists():
        raise PaymentAlreadyReversed(f"Payment {payment.number} has already been reversed.")
    if Refund.objects.filter(payment_id=payment.pk).exists():
        raise CreditInsufficient(
            f"Payment {payment.number} was refunded in part: it cannot be reversed."
        )

    # A payment's allocations are released into credit only for a refund of it (refund_issue),
    # which the check above refuses: each still settles its whole amount.
    restored: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
    for allocation in allocations:
        target = (
            ("invoice", allocation.invoice_id)
            if allocation.invoice_id
            else ("item", allocation.billing_item_id)
        )
        restored[target] += allocation.amount
    # And what it put into the account's credit (its excess) comes out again.
    from_credit = payment.amount - sum(restored.values(), ZERO)
    if from_credit > account.credit_balance:
        raise CreditInsufficient(
            f"Payment {payment.number} put {format_amount(from_credit)} into the account's "
            f"credit, which now holds {format_amount(account.credit_balance)}: the rest was "
            "applied or refunded, so the payment cannot be reversed."
        )
    write_invoice_balances(
        {invoice.pk: invoice.balance + restored[("invoice", invoice.pk)] for invoice in invoices}
    )
    write_billing_item_balances(
        {pk: item.balance + restored[("item", pk)] for pk, item in items.items()}
    )
    if from_credit:
        write_credit_balance(account.pk, account.credit_balance - from_credit)
    reversal = Reversal.objects.create(
        account_id=payment.account_id, payment=payment, reason=reason, **actor.recorded_by()
    )
    money_events.record_events([money_events.payment_reversed(account, payment, reversal)])
    return reversal
