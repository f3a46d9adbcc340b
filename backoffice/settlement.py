"""What a payment settles, line by line, as the record-payment pages show it.

Built from the money service's own result (`dry_run` for a preview), so the preview shows what
the service would do, not a guess at it.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.forms import BoundField

from invoices.models import BillingItem, Invoice
from payments.lines import LineOutcome
from payments.services import BillingItemsPaid, InvoicesPaid

from .forms import ContactPayForm


@dataclass(frozen=True)
class InvoiceLine:
    invoice: Invoice
    owed: Decimal  # its balance before the payment
    applied: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.owed - self.applied


@dataclass(frozen=True)
class InvoicesSettlement:
    amount: Decimal
    currency: str
    lines: list[InvoiceLine]  # oldest due first, as the service pays them
    to_credit: Decimal = Decimal(0)  # what goes to the account's credit


def invoices_settlement(paid: InvoicesPaid) -> InvoicesSettlement:
    return InvoicesSettlement(
        amount=paid.payment.amount,
        currency=paid.payment.currency,
        lines=[
            InvoiceLine(allocation.invoice, allocation.invoice.balance, allocation.amount)
            for allocation in paid.allocations
        ],
        to_credit=paid.to_credit,
    )


@dataclass(frozen=True)
class BillingItemRow:
    """An outstanding item, its amount input and, after a preview, what became of its line."""

    item: BillingItem
    field: BoundField
    outcome: LineOutcome | None = None


def billing_item_rows(
    form: ContactPayForm, paid: BillingItemsPaid | None = None
) -> list[BillingItemRow]:
    outcomes = {line.billing_id: line for line in paid.lines} if paid else {}
    return [
        BillingItemRow(item, form[form.amount_field(item)], outcomes.get(item.pk))
        for item in form.items
    ]
