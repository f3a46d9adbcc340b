"""The events of money movements (events.models), built from what the money service just wrote,
in the APIs' terms: DocuSign's ids (`paymentId`, `invoiceId`, `accountId`) and Legend's
(`BillingId` as `billingId`, `ContactId` as `contactId`), every value a string as on DocuSign's
API (where they are listed: `billing_events`; a key with nothing to name is left out), amounts
with two decimals, times ISO 8601 in UTC. The services record them in their own transaction
(`record_events`)."""

from collections.abc import Iterable

from audit.context import untracked_statements
from billing_site.money import ZERO, format_amount
from contacts.models import Account, Contact
from events.models import Event, EventType
from events.recording import NewEvent, record, when
from invoices.models import Invoice

from .models import (
    CreditApplication,
    CreditNote,
    Payment,
    PaymentAllocation,
    Refund,
    Reversal,
    WriteDown,
)


def record_events(events: Iterable[NewEvent]) -> list[Event]:
    """events.recording.record, without the audit context: no trigger of the events table reads
    it, and it would cost one more statement on every money request."""
    with untracked_statements():
        return record(events)


def _account(account: Account) -> dict:
    return {"accountId": str(account.guid), "accountNumber": str(account.number)}


def _target(row) -> dict:
    """An allocation's or a credit application's invoice or billing item."""
    if row.invoice_id:
        return {"invoiceId": str(row.invoice_id), "invoiceNumber": row.invoice.number}
    return {"billingId": str(row.billing_item_id)}


def payment_created(
    account: Account,
    payment: Payment,
    allocations: list[PaymentAllocation],
    contact: Contact | None = None,
) -> NewEvent:
    return NewEvent(
        EventType.PAYMENT_CREATED,
        account.pk,
        {
            **_account(account),
            "paymentId": str(payment.pk),
            "paymentNumber": payment.number,
            **({} if contact is None else {"contactId": str(contact.guid)}),
            "amount": format_amount(payment.amount),
            "currency": payment.currency,
            "paymentDate": when(payment.payment_date),
            "channel": payment.channel,
            "reference": payment.reference,
            "allocations": [{**_target(a), "amount": format_amount(a.amount)} for a in allocations],
            "toCredit": format_amount(payment.credit_amount),
        },
    )


def invoices_paid(
    account: Account, invoices: list[Invoice], balances: dict[int, object]
) -> list[NewEvent]:
    """invoice.paid for each of `invoices` whose new balance (`balances`: id -> balance) is
    zero."""
    return [
        NewEvent(
            EventType.INVOICE_PAID,
            account.pk,
            {
                **_account(account),
                "invoiceId": str(invoice.pk),
                "invoiceNumber": invoice.number,
                "amount": format_amount(invoice.amount),
            },
        )
        for invoice in invoices
        if balances[invoice.pk] == 0
    ]


def payment_reversed(account: Account, payment: Payment, reversal: Reversal) -> NewEvent:
    return NewEvent(
        EventType.PAYMENT_REVERSED,
        account.pk,
        {
            **_account(account),
            "paymentId": str(payment.pk),
            "paymentNumber": payment.number,
            "amount": format_amount(payment.amount),
            "currency": payment.currency,
            "reversedAt": when(reversal.reversed_at),
            "reason": reversal.reason,
        },
        occurred_at=reversal.reversed_at,
    )


def written_down(account: Account, contact: Contact, write_down: WriteDown) -> NewEvent:
    return NewEvent(
        EventType.BILLING_ITEM_WRITTEN_DOWN,
        account.pk,
        {
            **_account(account),
            "contactId": str(contact.guid),
            "billingId": str(write_down.billing_item_id),
            "amount": format_amount(write_down.amount),
            "balance": format_amount(write_down.billing_item.balance),
            "writeDownDate": when(write_down.write_down_date),
            "reason": write_down.reason,
        },
    )


def credit_applied(
    account: Account, applications: list[CreditApplication], credit_balance
) -> NewEvent:
    return NewEvent(
        EventType.CREDIT_APPLIED,
        account.pk,
        {
            **_account(account),
            "amount": format_amount(sum((a.amount for a in applications), ZERO)),
            "currency": account.currency,
            "applications": [
                {**_target(a), "amount": format_amount(a.amount)} for a in applications
            ],
            "creditBalance": format_amount(credit_balance),
        },
    )


def refund_created(account: Account, refund: Refund, credit_balance) -> NewEvent:
    return NewEvent(
        EventType.REFUND_CREATED,
        account.pk,
        {
            **_account(account),
            "refundId": str(refund.pk),
            "refundNumber": refund.number,
            **({} if refund.payment_id is None else {"paymentId": str(refund.payment_id)}),
            "amount": format_amount(refund.amount),
            "currency": refund.currency,
            "refundDate": when(refund.refund_date),
            "reference": refund.reference,
            "creditBalance": format_amount(credit_balance),
        },
    )


def credit_note_issued(account: Account, note: CreditNote) -> NewEvent:
    return NewEvent(
        EventType.CREDIT_NOTE_ISSUED,
        account.pk,
        {
            **_account(account),
            "creditNoteNumber": note.number,
            "invoiceId": str(note.invoice_id),
            "invoiceNumber": note.invoice.number,
            "amount": format_amount(note.amount),
            "appliedAmount": format_amount(note.applied_amount),
            "creditAmount": format_amount(note.credit_amount),
            "currency": account.currency,
            "issueDate": when(note.issue_date),
        },
    )
