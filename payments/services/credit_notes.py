"""Credit notes: an invoice's balance reduced by a numbered document (payments.models.credit_notes).

Locks: the account (its credit, and the numbers of its credit notes, one writer at a time), then
the invoice.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from billing_site.money import ZERO, InvalidAmount, format_amount, parse_amount
from contacts.locks import lock_account
from invoices.locks import lock_invoices
from invoices.models import Invoice, InvoiceStatus

from .. import events as money_events
from ..actors import Actor
from ..errors import CreditNoteRefused
from ..models import CreditNote, CreditNoteLine
from ..request_transaction import money_transaction
from .rules import write_credit_balance, write_invoice_balances

NUMBER_MAX_LENGTH = CreditNote._meta.get_field("number").max_length


@dataclass(frozen=True)
class CreditNoteLineInput:
    description: str
    amount: object


@money_transaction
def credit_note_issue(
    *,
    invoice_id: int,
    number: str,
    issue_date: datetime.date,
    reason: str,
    lines: Sequence[CreditNoteLineInput],
    actor: Actor,
    excess_to_credit: bool = False,
) -> CreditNote:
    """Issue a credit note against the invoice: its lines' sum comes off what the invoice owes.
    More than it owes is refused, unless `excess_to_credit` (then the rest goes to the account's
    credit: an invoice that was paid and is now credited gives the money back as credit)."""
    number, reason = number.strip(), reason.strip()
    if not number or len(number) > NUMBER_MAX_LENGTH:
        raise CreditNoteRefused(
            f"A credit note needs a number of 1 to {NUMBER_MAX_LENGTH} characters."
        )
    if not reason:
        raise CreditNoteRefused("A credit note needs a reason.")
    parsed = _lines(lines)
    amount = sum((line_amount for _d, line_amount in parsed), ZERO)
    account_id = _account_of(invoice_id)
    account = lock_account(account_id)
    (invoice,) = lock_invoices(Q(pk=invoice_id))
    if invoice.status == InvoiceStatus.VOID:
        raise CreditNoteRefused(f"Invoice {invoice.number} is void: nothing to credit.")
    if CreditNote.objects.filter(account_id=account.pk, number=number).exists():
        raise CreditNoteRefused(f"Credit note number {number} is used already in this account.")
    applied = min(amount, invoice.balance)
    to_credit = amount - applied
    if to_credit and not excess_to_credit:
        raise CreditNoteRefused(
            f"The credit note ({format_amount(amount)}) is more than invoice {invoice.number} "
            f"still owes ({format_amount(invoice.balance)}): put the rest on the account's credit, "
            "or credit less."
        )
    note = CreditNote.objects.create(
        account=account,
        invoice=invoice,
        number=number,
        issue_date=issue_date,
        reason=reason,
        amount=amount,
        applied_amount=applied,
        credit_amount=to_credit,
        **actor.recorded_by(),
    )
    CreditNoteLine.objects.bulk_create(
        CreditNoteLine(account=account, credit_note=note, description=description, amount=value)
        for description, value in parsed
    )
    if applied:
        write_invoice_balances({invoice.pk: invoice.balance - applied})
    if to_credit:
        write_credit_balance(account.pk, account.credit_balance + to_credit)
    money_events.record_events(
        [
            money_events.credit_note_issued(account, note),
            *money_events.invoices_paid(
                account, [invoice] if applied else [], {invoice.pk: invoice.balance - applied}
            ),
        ]
    )
    return note


def _lines(lines: Sequence[CreditNoteLineInput]) -> list[tuple[str, Decimal]]:
    if not lines:
        raise CreditNoteRefused("A credit note needs at least one line.")
    parsed = []
    for index, line in enumerate(lines, start=1):
        description = line.description.strip()
        if not description or len(description) > 200:
            raise CreditNoteRefused(f"Line {index} needs a description of 1 to 200 characters.")
        try:
            parsed.append((description, parse_amount(line.amount)))
        except InvalidAmount as error:
            raise CreditNoteRefused(f"Line {index}: {error.message}") from None
    return parsed


def _account_of(invoice_id: int) -> int:
    found = Invoice.objects.filter(pk=invoice_id).values_list("account_id", flat=True).first()
    if found is None:
        raise CreditNoteRefused(f"There is no invoice {invoice_id}.")
    return found
