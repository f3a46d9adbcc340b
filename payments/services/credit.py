"""Customer credit: applied to invoices and billing items, paid back as refunds.

Money comes into credit from a payment for more than it settles (.paying, `excess_to_credit`) or
from a payment's allocations released for a refund (below); it leaves by an application (which
settles an invoice or billing item of the same account: not new money) or a refund. The account
row is locked first, as by every money service, and holds `credit_balance`; the targets next
(invoices, then billing items, in id order), then the payment.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from billing_site.money import ZERO, format_amount
from contacts.locks import lock_account
from contacts.models import Account
from invoices.due import today
from invoices.locks import lock_billing_items, lock_invoices
from invoices.models import Invoice, InvoiceStatus
from invoices.services import invoice_issue

from .. import events as money_events
from ..actors import Actor
from ..errors import (
    CreditInsufficient,
    NothingToSettle,
    ReasonRequired,
    RefundNotAllowed,
)
from ..locks import lock_account_for_payment, lock_payment
from ..models import (
    AllocationRelease,
    CreditApplication,
    Payment,
    PaymentAllocation,
    Refund,
    Reversal,
)
from ..request_transaction import money_transaction
from .rules import (
    check_tender_type,
    payment_amount,
    write_billing_item_balances,
    write_credit_balance,
    write_invoice_balances,
)


@dataclass(frozen=True)
class CreditApplied:
    applications: list[CreditApplication]
    credit_balance: Decimal  # what the account holds after them

    @property
    def amount(self) -> Decimal:
        return sum((a.amount for a in self.applications), ZERO)


@money_transaction
def credit_apply(
    *,
    account_id: int,
    actor: Actor,
    invoice_ids: Sequence[int] = (),
    billing_item_ids: Sequence[int] = (),
    amount: object | None = None,
    applied_at: datetime.datetime | None = None,
    notes: str = "",
) -> CreditApplied:
    """Settle the chosen open invoices (oldest due date first), then billing items (oldest due
    first), from the account's credit: `amount` of it (default: as much as the credit and the
    balances allow). Refused: more than the credit, or than the chosen rows owe; nothing chosen
    that owes anything; a row of another account."""
    account = lock_account(account_id)
    invoices = lock_invoices(Q(pk__in=set(invoice_ids))) if invoice_ids else []
    items = lock_billing_items(set(billing_item_ids)) if billing_item_ids else {}
    foreign = [i.pk for i in invoices if i.account_id != account.pk] + [
        pk for pk, item in items.items() if item.account_id != account.pk
    ]
    missing = (set(invoice_ids) - {i.pk for i in invoices}) | (set(billing_item_ids) - set(items))
    if foreign or missing:
        raise NothingToSettle(
            f"{', '.join(map(str, sorted({*foreign, *missing})))}: not an invoice or billing item "
            "of this account."
        )
    targets = sorted(
        (i for i in invoices if i.status == InvoiceStatus.OPEN and i.balance > 0),
        key=lambda i: (i.due_date, i.pk),
    ) + sorted((i for i in items.values() if i.balance > 0), key=lambda i: (i.due_date, i.pk))
    owed = sum((t.balance for t in targets), ZERO)
    if owed == 0:
        raise NothingToSettle("Nothing chosen owes anything.")
    wanted = min(owed, account.credit_balance) if amount is None else payment_amount(amount)
    if wanted == 0 or wanted > account.credit_balance:
        raise CreditInsufficient(
            f"The account's credit is {format_amount(account.credit_balance)}"
            + ("." if wanted == 0 else f": {format_amount(wanted)} cannot be applied.")
        )
    if wanted > owed:
        raise NothingToSettle(
            f"The amount {format_amount(wanted)} is more than the chosen rows owe "
            f"({format_amount(owed)})."
        )
    moment = applied_at or timezone.now()
    applications, remaining = [], wanted
    for target in targets:
        if remaining == 0:
            break
        applied = min(remaining, target.balance)
        remaining -= applied
        target.balance -= applied
        is_invoice = isinstance(target, Invoice)
        applications.append(
            CreditApplication(
                account=account,
                invoice=target if is_invoice else None,
                billing_item=None if is_invoice else target,
                amount=applied,
                applied_at=moment,
                notes=notes,
                **actor.recorded_by(),
            )
        )
    CreditApplication.objects.bulk_create(applications)
    write_invoice_balances({a.invoice.pk: a.invoice.balance for a in applications if a.invoice})
    write_billing_item_balances(
        {a.billing_item.pk: a.billing_item.balance for a in applications if a.billing_item}
    )
    credit = account.credit_balance - wanted
    write_credit_balance(account.pk, credit)
    money_events.record_events(
        [
            money_events.credit_applied(account, applications, credit),
            *money_events.invoices_paid(
                account,
                [a.invoice for a in applications if a.invoice],
                {a.invoice.pk: a.invoice.balance for a in applications if a.invoice},
            ),
        ]
    )
    return CreditApplied(applications=applications, credit_balance=credit)


@money_transaction
def refund_issue(
    *,
    account_id: int,
    amount: object,
    actor: Actor,
    payment_id: int | None = None,
    reason: str = "",
    refund_date: datetime.datetime | None = None,
    tender_type_id: int | None = None,
    reference: str = "",
) -> Refund:
    """Pay `amount` back to the customer from the account's credit. With `payment_id`: a refund of
    that payment: as much of its allocations (the latest first) is first released into credit,
    with `reason` (required), so that the invoices or billing items it settled owe it again."""
    amount = payment_amount(amount)
    reason = reason.strip()
    refund_date = refund_date or timezone.now()
    account, tender_active = lock_account_for_payment(account_id, tender_type_id)
    if tender_type_id is not None:
        check_tender_type(tender_type_id, tender_active)
    credit = account.credit_balance
    releases = []
    if payment_id is not None:
        if not reason:
            raise ReasonRequired("A refund of a payment needs a reason.")
        releases = _release(account, payment_id, amount, reason, actor, refund_date)
        credit += amount
    if amount > credit:
        raise CreditInsufficient(
            f"The refund {format_amount(amount)} is more than the account's credit "
            f"({format_amount(credit)})."
        )
    refund = Refund.objects.create(
        account=account,
        payment_id=payment_id,
        amount=amount,
        currency=account.currency,
        tender_type_id=tender_type_id,
        refund_date=refund_date,
        reference=reference,
        reason=reason,
        **actor.recorded_by(),
    )
    for release in releases:
        release.refund = refund
    AllocationRelease.objects.bulk_create(releases)
    write_credit_balance(account.pk, credit - amount)
    money_events.record_events([money_events.refund_created(account, refund, credit - amount)])
    return refund


def _release(
    account: Account,
    payment_id: int,
    amount: Decimal,
    reason: str,
    actor: Actor,
    released_at: datetime.datetime,
) -> list[AllocationRelease]:
    """Release `amount` of the payment's live allocations, the latest first, restoring their
    targets' balances (under their locks, then the payment's); the releases, unsaved, dated as
    their refund (so that a backdated refund's statement and ageing hold on every day)."""
    allocations = list(
        PaymentAllocation.objects.filter(payment_id=payment_id, account_id=account.pk).order_by(
            "-pk"
        )
    )
    invoice_ids = {a.invoice_id for a in allocations if a.invoice_id}
    invoices = {i.pk: i for i in lock_invoices(Q(pk__in=invoice_ids))}
    items = lock_billing_items(a.billing_item_id for a in allocations if a.billing_item_id)
    try:
        payment = lock_payment(payment_id)
    except Payment.DoesNotExist:
        payment = None
    if payment is None or payment.account_id != account.pk:
        raise RefundNotAllowed(f"Payment {payment_id} is not a payment of this account.")
    if Reversal.objects.filter(payment_id=payment.pk).exists():
        raise RefundNotAllowed(f"Payment {payment.number} was reversed: nothing to refund.")
    released = _released_by_allocation(allocations)
    live = sum((a.amount - released[a.pk] for a in allocations), ZERO)
    if amount > live:
        raise RefundNotAllowed(
            f"Payment {payment.number} still settles {format_amount(live)}: a refund of it cannot "
            f"be {format_amount(amount)} (refund the account's credit instead)."
        )
    remaining, releases = amount, []
    invoice_balances, item_balances = {}, {}
    for allocation in allocations:
        if remaining == 0:
            break
        take = min(remaining, allocation.amount - released[allocation.pk])
        if take <= 0:
            continue
        remaining -= take
        if allocation.invoice_id:
            invoice = invoices[allocation.invoice_id]
            invoice.balance += take
            invoice_balances[invoice.pk] = invoice.balance
        else:
            item = items[allocation.billing_item_id]
            item.balance += take
            item_balances[item.pk] = item.balance
        releases.append(
            AllocationRelease(
                account=account,
                allocation=allocation,
                amount=take,
                reason=reason,
                released_at=released_at,
                **actor.recorded_by(),
            )
        )
    write_invoice_balances(invoice_balances)
    write_billing_item_balances(item_balances)
    return releases


def _released_by_allocation(allocations) -> dict[int, Decimal]:
    released = dict.fromkeys((a.pk for a in allocations), ZERO)
    rows = AllocationRelease.objects.filter(allocation__in=allocations).values_list(
        "allocation_id", "amount"
    )
    for allocation_id, amount in rows:
        released[allocation_id] += amount
    return released


@money_transaction
def invoice_issue_applying_credit(
    *, actor: Actor, **invoice
) -> tuple[Invoice, CreditApplied | None]:
    """Issue an invoice (invoices.services.invoice_issue, same arguments) and, when its account
    says so (`auto_apply_credit`) and holds credit, apply the credit at once to what the account
    owes, oldest due first: its open invoices issued by today, the new one among them unless it is
    issued later. The application, if any, is returned with the invoice (refreshed)."""
    issued = invoice_issue(**invoice)
    account = lock_account(issued.account_id)
    if not account.auto_apply_credit or account.credit_balance == 0:
        return issued, None
    owed = Invoice.objects.filter(
        account_id=account.pk,
        status=InvoiceStatus.OPEN,
        balance__gt=0,
        issue_date__lte=today(),  # an invoice issued later than today is not owed yet
    ).values_list("pk", flat=True)
    invoice_ids = list(owed)
    if not invoice_ids:
        return issued, None
    applied = credit_apply(
        account_id=account.pk,
        actor=actor,
        invoice_ids=invoice_ids,
        notes=f"Applied when invoice {issued.number} was issued (the account's setting).",
    )
    issued.refresh_from_db(fields=["balance", "status"])
    return issued, applied
