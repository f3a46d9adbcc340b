"""Payments: money received, allocated to an account's invoices or a contact's billing items."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from billing_site.money import ZERO, format_amount
from contacts.models import Contact
from invoices.due import today
from invoices.locks import lock_billing_items, lock_open_invoices
from invoices.models import BillingItem, Invoice

from .. import events as money_events
from ..actors import Actor
from ..errors import (
    AmountMismatch,
    AmountOverBalance,
    InvoiceNotPayable,
    NothingToPay,
)
from ..line_rules import check_distinct, contacts_item, line_amount, refused
from ..lines import (
    AUTHORIZATION_CODE_MAX_LENGTH,
    BillingLine,
    LineOutcome,
    LineRefusal,
)
from ..locks import ContactAccountLock, lock_account_for_payment
from ..models import Payment, PaymentAllocation
from ..request_transaction import money_transaction
from ..writes import record_payment
from .rules import (
    check_api_payments_allowed,
    check_tender_type,
    invoice_statuses,
    payment_amount,
    write_credit_balance,
)


@dataclass(frozen=True)
class InvoicesPaid:
    payment: Payment
    allocations: list[PaymentAllocation]
    to_credit: Decimal = ZERO  # the part of the payment that went to the account's credit


@dataclass(frozen=True)
class BillingItemsPaid:
    """The payment holding the applied lines (None if no line applied), and every line's outcome."""

    payment: Payment | None
    lines: list[LineOutcome]

    @property
    def all_applied(self) -> bool:
        return all(line.is_applied for line in self.lines)


@money_transaction
def invoices_pay(
    *,
    account_id: int,
    amount: object,
    actor: Actor,
    invoice_ids: Sequence[int] | None = None,
    past_due_only: bool = True,
    settle_in_full: bool = False,
    payment_date: datetime.datetime | None = None,
    tender_type_id: int | None = None,
    description: str = "",
    reference: str = "",
    authorization_code: str = "",
    notes: str = "",
    excess_to_credit: bool = False,
) -> InvoicesPaid:
    """Pay an account's open invoices, oldest due date first.

    `invoice_ids` names the invoices (default: all of them); `past_due_only` limits them to the
    past-due ones. The amount may not exceed what they owe; with `settle_in_full` it must equal it
    exactly (DocuSign's rule). The last invoice reached may be paid in part. With
    `excess_to_credit` (staff recording money received) what the invoices do not take, all of it
    if none is named (`invoice_ids=[]`), goes to the account's credit.
    """
    amount = payment_amount(amount)
    account, tender_active = lock_account_for_payment(account_id, tender_type_id)
    check_api_payments_allowed(account, actor)

    due_before = today() if past_due_only else None  # invoices.due.past_due_q
    if invoice_ids is None:
        invoices = lock_open_invoices(account.pk, due_before=due_before)
    else:
        wanted = set(invoice_ids)
        invoices = lock_open_invoices(account.pk, due_before=due_before, ids=wanted)
        missing = wanted - {invoice.pk for invoice in invoices}
        if missing:
            state = "open and past due" if past_due_only else "open"
            raise InvoiceNotPayable(
                f"Invoice {', '.join(map(str, sorted(missing)))} is not an {state} invoice "
                "of this account."
            )
    if not invoices and not excess_to_credit:
        raise NothingToPay(
            "There is nothing past due to pay." if past_due_only else "Nothing is owed."
        )
    invoices.sort(key=lambda invoice: (invoice.due_date, invoice.pk))
    owed = sum((invoice.balance for invoice in invoices), ZERO)
    if settle_in_full and amount != owed:
        raise AmountMismatch(
            f"The amount {format_amount(amount)} does not match the balance due "
            f"{format_amount(owed)}.",
            expected=owed,
        )
    if amount > owed and not excess_to_credit:
        raise AmountOverBalance(
            f"The amount {format_amount(amount)} is more than the balance due "
            f"{format_amount(owed)}."
        )
    check_tender_type(tender_type_id, tender_active)

    now = timezone.now()
    payment = Payment(
        account=account,
        amount=amount,
        currency=account.currency,
        payment_date=payment_date or now,
        processed_at=now,
        tender_type_id=tender_type_id,
        description=description,
        reference=reference,
        authorization_code=authorization_code,
        notes=notes,
        **actor.recorded_by(),
    )
    allocations, balances, remaining = [], {}, amount
    for invoice in invoices:
        if remaining == 0:
            break
        applied = min(remaining, invoice.balance)
        remaining -= applied
        balances[invoice.pk] = invoice.balance - applied
        allocations.append(PaymentAllocation(account=account, invoice=invoice, amount=applied))
    payment.credit_amount = remaining
    record_payment(payment, allocations, Invoice, balances, invoice_statuses(balances))
    if remaining > 0:
        write_credit_balance(account.pk, account.credit_balance + remaining)
    money_events.record_events(
        [
            money_events.payment_created(account, payment, allocations),
            *money_events.invoices_paid(account, [a.invoice for a in allocations], balances),
        ]
    )
    return InvoicesPaid(payment=payment, allocations=allocations, to_credit=remaining)


@money_transaction
def billing_items_pay(
    *,
    contact: Contact,
    tender_type_id: int,
    payment_date: datetime.datetime,
    lines: Sequence[BillingLine],
    actor: Actor,
    reference: str = "",
    notes: str = "",
    account_lock: ContactAccountLock | None = None,
) -> BillingItemsPaid:
    """Record money collected elsewhere against a contact's billing items, line by line.

    `reference` and `notes` are kept on the payment itself (each line has its own as well).
    `account_lock`: the contact's account, already locked in this transaction with the contact's
    lookup (payments.locks.contact_for_payment, Legend's payments); without it the account is
    locked here.

    Refused as a whole (nothing applied): no lines, a billing item named twice, an unknown or
    inactive tender type, an account blocked from API payments (for an API actor). Otherwise
    each valid line is applied and each invalid one is refused on its own; one payment holds
    the applied lines.
    """
    check_distinct(lines)
    # The account first, as every money service: the payment's foreign key to it waits on a
    # reversal's account lock, which would deadlock with that reversal waiting on these items.
    if account_lock is None:
        account, tender_active = lock_account_for_payment(contact.account_id, tender_type_id)
    else:
        account, tender_active = account_lock.held_for(contact, tender_type_id)
    check_tender_type(tender_type_id, tender_active)
    check_api_payments_allowed(account, actor)
    items = lock_billing_items(line.billing_id for line in lines)
    now = timezone.now()
    outcomes, applied = [], []
    for line in lines:
        item = contacts_item(items, line.billing_id, contact)
        if item is not None and len(line.authorization_code) > AUTHORIZATION_CODE_MAX_LENGTH:
            outcomes.append(refused(line.billing_id, item, LineRefusal.AUTHORIZATION_CODE_TOO_LONG))
            continue
        amount = line_amount(line.billing_id, item, line.amount)
        if isinstance(amount, LineOutcome):
            outcomes.append(amount)
            continue
        item.balance -= amount
        applied.append((line, item, amount))
        outcomes.append(
            LineOutcome(line.billing_id, balance=item.balance, applied=amount, processed_at=now)
        )
    if not applied:
        return BillingItemsPaid(payment=None, lines=outcomes)

    payment = Payment(
        account=account,
        contact=contact,
        amount=sum((amount for _line, _item, amount in applied), ZERO),
        currency=account.currency,
        payment_date=payment_date,
        processed_at=now,
        tender_type_id=tender_type_id,
        reference=reference,
        notes=notes,
        **actor.recorded_by(),
    )
    allocations = [
        PaymentAllocation(
            account=account,
            billing_item=item,
            amount=amount,
            reference=line.reference,
            authorization_code=line.authorization_code,
            notes=line.notes,
        )
        for line, item, amount in applied
    ]
    balances = {item.pk: item.balance for _line, item, _amount in applied}
    record_payment(payment, allocations, BillingItem, balances)
    money_events.record_events(
        [money_events.payment_created(account, payment, allocations, contact)]
    )
    return BillingItemsPaid(payment=payment, lines=outcomes)
