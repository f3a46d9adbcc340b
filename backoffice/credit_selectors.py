"""The reads behind the credit pages and figures: one query per kind of row, whatever the rows.

An account's credit history (`credit_movements`) is every row that moved its credit, newest
first: money in (a payment's excess, a payment's allocations released for a refund, a credit note
beyond its invoice's balance) and out (credit applied, a refund, a reversal taking back a payment's
excess). Their sum is the account's `credit_balance` (verify_ledger checks the same identity).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from contacts.models import Account, Contact
from invoices.models import BillingItem, Invoice, InvoiceStatus
from payments.models import AllocationRelease, CreditApplication, CreditNote, Payment, Refund

RECORDERS = ("recorded_by_user", "recorded_by_credential")


@dataclass(frozen=True)
class CreditMovement:
    kind: str  # "payment", "release", "credit-note", "application", "refund", "reversal"
    label: str
    moment: datetime.datetime | datetime.date
    amount: Decimal  # + into credit, - out of it
    url_name: str  # a back-office page: the row's document
    url_pk: int
    detail: str = ""
    recorded: datetime.datetime | None = None  # when it was recorded: the history's order

    @property
    def into(self) -> Decimal | None:
        return self.amount if self.amount > 0 else None

    @property
    def out_of(self) -> Decimal | None:
        return -self.amount if self.amount < 0 else None

    @property
    def sort_key(self):
        moment = self.recorded or self.moment
        if not isinstance(moment, datetime.datetime):
            moment = datetime.datetime.combine(moment, datetime.time(), datetime.UTC)
        return moment


def credit_movements(account: Account, payments: list[Payment]) -> list[CreditMovement]:
    """`payments`: the account's payments with their reversals, already read by the page."""
    rows = []
    for payment in payments:
        if payment.credit_amount:
            rows.append(
                CreditMovement(
                    "payment",
                    f"Payment {payment.number}",
                    payment.payment_date,
                    payment.credit_amount,
                    "backoffice:payment",
                    payment.pk,
                    "What no invoice took",
                    payment.processed_at,
                )
            )
        reversal = getattr(payment, "reversal", None)
        if payment.credit_amount and reversal is not None:
            rows.append(
                CreditMovement(
                    "reversal",
                    f"Reversal of payment {payment.number}",
                    reversal.reversed_at,
                    -payment.credit_amount,
                    "backoffice:payment",
                    payment.pk,
                    reversal.reason,
                )
            )
    applications = CreditApplication.objects.filter(account=account).select_related(
        "invoice", "billing_item__contact"
    )
    for application in applications:
        if application.invoice_id:
            label = f"Applied to invoice {application.invoice.number}"
            target = ("backoffice:invoice", application.invoice_id)
        else:
            item = application.billing_item
            label = f"Applied to billing item {item.pk} ({item.description})"
            target = ("backoffice:contact", item.contact_id)
        rows.append(
            CreditMovement(
                "application",
                label,
                application.applied_at,
                -application.amount,
                *target,
                application.notes,
            )
        )
    for refund in Refund.objects.filter(account=account).select_related("payment", "tender_type"):
        of = f" of payment {refund.payment.number}" if refund.payment_id else ""
        rows.append(
            CreditMovement(
                "refund",
                f"Refund {refund.number}{of}",
                refund.refund_date,
                -refund.amount,
                "backoffice:refund",
                refund.pk,
                refund.reason,
                refund.recorded_at,
            )
        )
    releases = AllocationRelease.objects.filter(account=account).select_related(
        "allocation__payment"
    )
    for release in releases:
        rows.append(
            CreditMovement(
                "release",
                f"Released from payment {release.allocation.payment.number}",
                release.released_at,
                release.amount,
                "backoffice:refund",
                release.refund_id,
                release.reason,
            )
        )
    for note in CreditNote.objects.filter(account=account, credit_amount__gt=0):
        rows.append(
            CreditMovement(
                "credit-note",
                f"Credit note {note.number}",
                note.issue_date,
                note.credit_amount,
                "backoffice:credit-note",
                note.pk,
                "Beyond its invoice's balance",
                note.recorded_at,
            )
        )
    rows.sort(key=lambda row: row.sort_key, reverse=True)
    return rows


def credit_per_currency() -> list[dict]:
    """The credit accounts hold now, per currency: one aggregate query."""
    return list(
        Account.objects.filter(credit_balance__gt=0)
        .values("currency")
        .annotate(credit=Sum("credit_balance"))
        .order_by("currency")
    )


def open_invoices(account: Account) -> list[Invoice]:
    """What credit may settle: the account's open invoices that owe anything, oldest due first."""
    return list(
        Invoice.objects.filter(account=account, status=InvoiceStatus.OPEN, balance__gt=0).order_by(
            "due_date", "pk"
        )
    )


def open_billing_items(account: Account) -> list[BillingItem]:
    return list(
        BillingItem.objects.filter(contact__account=account, balance__gt=0)
        .select_related("contact")
        .order_by("due_date", "pk")
    )


def contact_credit_applications(contact: Contact) -> list[CreditApplication]:
    return list(
        CreditApplication.objects.filter(billing_item__contact=contact).select_related(
            "billing_item", *RECORDERS
        )
    )


def invoice_credit(invoice: Invoice) -> tuple[list[CreditApplication], list[CreditNote]]:
    """Credit applied to the invoice, and its credit notes: two queries."""
    return (
        list(CreditApplication.objects.filter(invoice=invoice).select_related(*RECORDERS)),
        list(CreditNote.objects.filter(invoice=invoice)),
    )


def payment_refunds(payment: Payment) -> list[Refund]:
    return list(Refund.objects.filter(payment=payment).select_related("tender_type"))


def next_credit_note_number(invoice: Invoice) -> str:
    """CN-<invoice number>-<n>, the first n not used in the account: one query."""
    prefix = f"CN-{invoice.number}-"
    used = set(
        CreditNote.objects.filter(
            account_id=invoice.account_id, number__startswith=prefix
        ).values_list("number", flat=True)
    )
    n = 1
    while f"{prefix}{n}" in used:
        n += 1
    return f"{prefix}{n}"[:40]


def credit_note_with_lines(pk: int) -> CreditNote | None:
    return (
        CreditNote.objects.filter(pk=pk)
        .select_related("account", "invoice", *RECORDERS)
        .prefetch_related("lines")
        .first()
    )


def refund_with_releases(pk: int) -> Refund | None:
    return (
        Refund.objects.filter(pk=pk)
        .select_related("account", "payment", "tender_type", *RECORDERS)
        .prefetch_related("releases__allocation__invoice", "releases__allocation__billing_item")
        .first()
    )
