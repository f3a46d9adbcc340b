"""Creating invoices and billing items. Their balances then change only in payments/services/."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from billing_site.money import ZERO, parse_amount
from contacts.models import Account, Contact

from .locks import lock_invoices
from .models import BillingItem, Invoice, InvoiceItem, InvoiceStatus


class InvoiceNotVoidable(Exception):
    """Only an open invoice with nothing paid on it can be voided."""


@dataclass(frozen=True)
class InvoiceLine:
    charge_name: str
    unit_price: Decimal
    quantity: int = 1
    tax_amount: Decimal = ZERO
    tax_exempt_amount: Decimal = ZERO

    @property
    def charge_amount(self) -> Decimal:
        return self.unit_price * self.quantity


@transaction.atomic
def invoice_issue(
    *,
    account: Account,
    number: str,
    issue_date: datetime.date,
    due_date: datetime.date,
    lines: Sequence[InvoiceLine] = (),
    amount: Decimal | None = None,
) -> Invoice:
    """Issue an invoice, all of it owed: for `lines` (its amount is their charges plus tax), or
    for `amount` alone (staff entering an invoice without its lines)."""
    if lines and amount is not None:
        raise ValueError("Give the lines or the amount, not both.")
    if lines:
        amount = sum((line.charge_amount + line.tax_amount for line in lines), ZERO)
    elif amount is None:
        raise ValueError("An invoice needs lines or an amount.")
    amount = parse_amount(amount)
    invoice = Invoice.objects.create(
        account=account,
        number=number,
        issue_date=issue_date,
        due_date=due_date,
        amount=amount,
        balance=amount,
        status=InvoiceStatus.OPEN,
    )
    InvoiceItem.objects.bulk_create(
        InvoiceItem(
            account_id=invoice.account_id,
            invoice=invoice,
            charge_name=line.charge_name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            charge_amount=line.charge_amount,
            tax_amount=line.tax_amount,
            tax_exempt_amount=line.tax_exempt_amount,
        )
        for line in lines
    )
    return invoice


@transaction.atomic
def invoice_void(*, invoice_id: int) -> Invoice:
    """Void an open invoice that nothing has been paid or credited on. One with payments is
    cancelled by a credit note instead (payments.services.credit_note_issue), never deleted."""
    locked = lock_invoices(Q(pk=invoice_id))
    if not locked:
        raise Invoice.DoesNotExist(f"Invoice {invoice_id} does not exist.")
    invoice = locked[0]
    if invoice.status != InvoiceStatus.OPEN or invoice.balance != invoice.amount:
        raise InvoiceNotVoidable(
            f"Invoice {invoice.number} cannot be voided: only an open invoice with nothing paid "
            "or credited on it can be. Issue a credit note for what it still owes instead."
        )
    invoice.status = InvoiceStatus.VOID
    invoice.save(update_fields=["status"])
    return invoice


def billing_item_create(
    *, contact: Contact, description: str, due_date: datetime.date, total_amount: Decimal
) -> BillingItem:
    """Charge a contact; the whole amount is outstanding."""
    total_amount = parse_amount(total_amount)
    return BillingItem.objects.create(
        account_id=contact.account_id,
        contact=contact,
        description=description,
        due_date=due_date,
        total_amount=total_amount,
        balance=total_amount,
    )
