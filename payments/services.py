"""The one place where money moves.

Every balance change happens here, in one transaction, under row locks taken in a fixed order
(account, invoices, billing items, payment), with every rule checked again under the lock. The
database constraints on the models refuse whatever slips past: a balance below zero or above its
amount, an allocation that is not positive, a payment reversed twice.

Balances are written as exact `Decimal` values computed under the lock, one UPDATE per kind of row
whatever the number of rows, so that a request costs a fixed number of queries; a payment's rows
(the payment, its allocations, the balances) go in one statement (payments/writes.py).
"""

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing_site import model_sql
from billing_site.money import ZERO, InvalidAmount, format_amount, parse_amount
from contacts.locks import lock_account
from contacts.models import Contact
from invoices.due import today
from invoices.locks import lock_billing_items, lock_invoices, lock_open_invoices
from invoices.models import BillingItem, Invoice, InvoiceStatus

from .actors import Actor
from .errors import (
    AmountMismatch,
    AmountOverBalance,
    InvalidPaymentAmount,
    InvoiceNotPayable,
    NothingToPay,
    PaymentAlreadyReversed,
    PaymentNotAllowed,
    ReasonRequired,
    TenderTypeNotAvailable,
)
from .line_rules import check_distinct, contacts_item, line_amount, refused
from .lines import (
    AUTHORIZATION_CODE_MAX_LENGTH,
    BillingLine,
    LineOutcome,
    LineRefusal,
    WriteDownLine,
)
from .locks import ContactAccountLock, lock_account_for_payment, lock_payment
from .models import Payment, PaymentAllocation, Reversal, WriteDown
from .request_transaction import money_transaction
from .writes import record_payment


@dataclass(frozen=True)
class InvoicesPaid:
    payment: Payment
    allocations: list[PaymentAllocation]


@dataclass(frozen=True)
class BillingItemsPaid:
    """The payment holding the applied lines (None if no line applied), and every line's outcome."""

    payment: Payment | None
    lines: list[LineOutcome]

    @property
    def all_applied(self) -> bool:
        return all(line.is_applied for line in self.lines)


@dataclass(frozen=True)
class BillingItemsWrittenDown:
    write_downs: list[WriteDown]
    lines: list[LineOutcome] = field(default_factory=list)

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
) -> InvoicesPaid:
    """Pay an account's open invoices, oldest due date first.

    `invoice_ids` names the invoices (default: all of them); `past_due_only` limits them to the
    past-due ones. The amount may not exceed what they owe; with `settle_in_full` it must equal it
    exactly (DocuSign's rule). The last invoice reached may be paid in part.
    """
    amount = _payment_amount(amount)
    account, tender_active = lock_account_for_payment(account_id, tender_type_id)
    _check_api_payments_allowed(account, actor)

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
    if not invoices:
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
    if amount > owed:
        raise AmountOverBalance(
            f"The amount {format_amount(amount)} is more than the balance due "
            f"{format_amount(owed)}."
        )
    _check_tender_type(tender_type_id, tender_active)

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
    record_payment(payment, allocations, Invoice, balances, _invoice_statuses(balances))
    return InvoicesPaid(payment=payment, allocations=allocations)


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
    _check_tender_type(tender_type_id, tender_active)
    _check_api_payments_allowed(account, actor)
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
    return BillingItemsPaid(payment=payment, lines=outcomes)


@money_transaction
def billing_items_write_down(
    *,
    contact: Contact,
    write_down_date: datetime.datetime,
    lines: Sequence[WriteDownLine],
    reason: str,
    actor: Actor,
) -> BillingItemsWrittenDown:
    """Write off part of a contact's billing-item balances, line by line, as `billing_items_pay`."""
    reason = reason.strip()
    if not reason:
        raise ReasonRequired("A write-down needs a reason.")
    check_distinct(lines)
    # The account first, as every money service: a write-down's foreign key to it (its
    # account_id) waits on another service's account lock, which would deadlock with that
    # service waiting on these items.
    lock_account(contact.account_id)
    items = lock_billing_items(line.billing_id for line in lines)
    now = timezone.now()
    outcomes, write_downs = [], []
    for line in lines:
        item = contacts_item(items, line.billing_id, contact)
        amount = line_amount(line.billing_id, item, line.amount)
        if isinstance(amount, LineOutcome):
            outcomes.append(amount)
            continue
        item.balance -= amount
        write_downs.append(
            WriteDown(
                account_id=item.account_id,
                billing_item=item,
                amount=amount,
                write_down_date=write_down_date,
                gl_account_id=line.gl_account_id,
                reason=reason,
                recorded_at=now,
                **actor.recorded_by(),
            )
        )
        outcomes.append(
            LineOutcome(line.billing_id, balance=item.balance, applied=amount, processed_at=now)
        )
    WriteDown.objects.bulk_create(write_downs)
    _write_billing_item_balances(
        {wd.billing_item.pk: wd.billing_item.balance for wd in write_downs}
    )
    return BillingItemsWrittenDown(write_downs=write_downs, lines=outcomes)


@money_transaction
def payment_reverse(*, payment_id: int, reason: str, actor: Actor) -> Reversal:
    """Undo a payment: restore every balance it reduced and record why. The payment stays."""
    reason = reason.strip()
    if not reason:
        raise ReasonRequired("A reversal needs a reason.")
    account_id = Payment.objects.values_list("account_id", flat=True).get(pk=payment_id)
    lock_account(account_id)
    allocations = list(PaymentAllocation.objects.filter(payment_id=payment_id))
    invoices = lock_invoices(Q(pk__in={a.invoice_id for a in allocations if a.invoice_id}))
    items = lock_billing_items(a.billing_item_id for a in allocations if a.billing_item_id)
    payment = lock_payment(payment_id)
    if Reversal.objects.filter(payment_id=payment.pk).exists():
        raise PaymentAlreadyReversed(f"Payment {payment.number} has already been reversed.")

    restored: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
    for allocation in allocations:
        target = (
            ("invoice", allocation.invoice_id)
            if allocation.invoice_id
            else ("item", allocation.billing_item_id)
        )
        restored[target] += allocation.amount
    _write_invoice_balances(
        {invoice.pk: invoice.balance + restored[("invoice", invoice.pk)] for invoice in invoices}
    )
    _write_billing_item_balances(
        {pk: item.balance + restored[("item", pk)] for pk, item in items.items()}
    )
    return Reversal.objects.create(
        account_id=payment.account_id, payment=payment, reason=reason, **actor.recorded_by()
    )


# Helpers: rules shared by the flows above. None of them is atomic on its own.


def _payment_amount(value: object) -> Decimal:
    try:
        return parse_amount(value)
    except InvalidAmount as error:
        raise InvalidPaymentAmount(error.message) from None


def _check_api_payments_allowed(account, actor: Actor) -> None:
    if actor.is_api and account.api_payments_blocked:
        raise PaymentNotAllowed(
            f"Payments over the API are not allowed for account {account.number}."
        )


def _check_tender_type(tender_type_id: int | None, active: bool) -> None:
    """`active`: what the account's lock read of the tender type (payments.locks)."""
    if not active:
        raise TenderTypeNotAvailable(f"Tender type {tender_type_id} is unknown or inactive.")


def _invoice_statuses(balances: dict[int, Decimal]) -> dict[int, str]:
    """Each invoice's status to match its balance: paid at zero, else open."""
    return {pk: InvoiceStatus.PAID if b == 0 else InvoiceStatus.OPEN for pk, b in balances.items()}


def _write_invoice_balances(balances: dict[int, Decimal]) -> None:
    """Set each invoice's balance, and its status to match."""
    if balances:
        model_sql.update_balances(Invoice, balances, status=_invoice_statuses(balances))


def _write_billing_item_balances(balances: dict[int, Decimal]) -> None:
    if balances:
        model_sql.update_balances(BillingItem, balances)


def dry_run(operation, /, **kwargs):
    """What `operation` (one of the services above) would do now, without doing it: it runs in
    a transaction that is rolled back. For previews ("this is what will be settled"), so that the
    preview follows exactly the rules of the real call; refusals are raised as usual."""
    with transaction.atomic():
        result = operation(**kwargs)
        transaction.set_rollback(True)
    return result
