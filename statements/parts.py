"""The kinds of movement of a statement of account, and the rows of each (statements.selectors
puts them in order, with the opening balance and running balances). docs/statements.md gives
the rules: which rows, their dates, their signs."""

import dataclasses
import datetime
from collections.abc import Callable

from django.db.models import (
    Case,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

from billing_site.money import ZERO, MoneyField
from contacts.models import Account, Contact
from invoices.models import BillingItem, Invoice, InvoiceStatus
from payments.models import (
    AllocationRelease,
    CreditApplication,
    CreditNote,
    Payment,
    PaymentAllocation,
    Refund,
    Reversal,
    WriteDown,
)
from payments.receivables import _end_of

# Within a day: what is charged first, then what settles it, then what gives money back or undoes.
KINDS = (
    "invoice",
    "billing_item",
    "payment",
    "credit_note",
    "credit_application",
    "write_down",
    "allocation_release",
    "refund",
    "reversal",
)
KIND_ORDER = {kind: index for index, kind in enumerate(KINDS)}
KIND_LABELS = {
    "invoice": "Invoice issued",
    "billing_item": "Billing item",
    "payment": "Payment",
    "credit_note": "Credit note",
    "credit_application": "Credit applied",
    "write_down": "Write-down",
    "allocation_release": "Payment released to credit",
    "refund": "Refund",
    "reversal": "Payment reversed",
}
NOT_VOID = (InvoiceStatus.OPEN, InvoiceStatus.PAID)


def _start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), datetime.UTC)


@dataclasses.dataclass(frozen=True)
class Part:
    """One kind of movement of a statement: its rows (annotated with `signed`), the field that
    dates them, whether it is a datetime, and how a row names itself."""

    kind: str
    rows: QuerySet
    dated: str
    is_datetime: bool
    reference: Callable[[dict], str]
    fields: tuple[str, ...] = ()

    def day(self):
        return TruncDate(self.dated, tzinfo=datetime.UTC) if self.is_datetime else F(self.dated)

    def before(self, day: datetime.date) -> Q:
        return Q(**{f"{self.dated}__lt": _start_of(day) if self.is_datetime else day})

    def within(self, start: datetime.date, end: datetime.date) -> Q:
        if self.is_datetime:
            return Q(**{f"{self.dated}__gte": _start_of(start), f"{self.dated}__lt": _end_of(end)})
        return Q(**{f"{self.dated}__gte": start, f"{self.dated}__lte": end})


def _money(expression) -> ExpressionWrapper:
    return ExpressionWrapper(expression, output_field=MoneyField())


def _summed(rows: QuerySet, matching: str, outer: str) -> Coalesce:
    """The summed `amount` of `rows` whose `matching` is the outer row's `outer`, or 0."""
    total = (
        rows.filter(**{matching: OuterRef(outer)})
        .order_by()
        .values(matching)
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(
        Subquery(total, output_field=MoneyField()), Value(ZERO), output_field=MoneyField()
    )


def _number(prefix: str, key: str) -> Callable[[dict], str]:
    return lambda row: f"{prefix}{row[key]:08d}"


def _item(key: str) -> Callable[[dict], str]:
    return lambda row: f"#{row[key]}"


def _target(row: dict) -> str:
    return row["invoice__number"] if row["invoice_id"] else f"#{row['billing_item_id']}"


def account_parts(account: Account) -> list[Part]:
    """The movements of an account's statement: what its (non-void) invoices owe less its credit."""
    on_invoices = PaymentAllocation.objects.filter(invoice__status__in=NOT_VOID)
    # What a payment counts on this statement: its allocations to invoices and its credit.
    counted = _summed(on_invoices, "payment_id", "pk") + F("credit_amount")
    payments = (
        Payment.objects.filter(account=account)
        .annotate(counted=_money(counted))
        .filter(counted__gt=0)
        .annotate(signed=_money(-F("counted")))
    )
    reversed_counted = _summed(on_invoices, "payment_id", "payment_id") + F(
        "payment__credit_amount"
    )
    reversals = (
        Reversal.objects.filter(account=account)
        .annotate(counted=_money(reversed_counted))
        .filter(counted__gt=0)
        .annotate(signed=F("counted"))
    )
    applications = CreditApplication.objects.filter(account=account).annotate(
        # to an invoice: its balance and the credit both go down; else the credit leaves
        signed=Case(
            When(invoice__status__in=NOT_VOID, then=Value(ZERO)),
            default=F("amount"),
            output_field=MoneyField(),
        )
    )
    notes = CreditNote.objects.filter(account=account).annotate(
        signed=Case(
            When(invoice__status__in=NOT_VOID, then=-F("amount")),
            default=-F("credit_amount"),
            output_field=MoneyField(),
        )
    )
    releases = AllocationRelease.objects.filter(account=account).annotate(
        # of an invoice's allocation: the invoice owes it again, the credit holds it
        signed=Case(
            When(allocation__invoice__status__in=NOT_VOID, then=Value(ZERO)),
            default=-F("amount"),
            output_field=MoneyField(),
        )
    )
    return [
        Part(
            "invoice",
            Invoice.objects.filter(account=account, status__in=NOT_VOID).annotate(
                signed=F("amount")
            ),
            "issue_date",
            False,
            lambda row: row["number"],
            ("number",),
        ),
        Part("payment", payments, "payment_date", True, _number("P", "pk")),
        Part("credit_note", notes, "issue_date", False, lambda row: row["number"], ("number",)),
        Part(
            "credit_application",
            applications,
            "applied_at",
            True,
            _target,
            ("invoice_id", "invoice__number", "billing_item_id"),
        ),
        Part(
            "allocation_release",
            releases,
            "released_at",
            True,
            _number("R", "refund_id"),
            ("refund_id",),
        ),
        Part(
            "refund",
            Refund.objects.filter(account=account).annotate(signed=F("amount")),
            "refund_date",
            True,
            _number("R", "pk"),
        ),
        Part(
            "reversal", reversals, "reversed_at", True, _number("P", "payment_id"), ("payment_id",)
        ),
    ]


def contact_parts(contact: Contact) -> list[Part]:
    """The movements of a contact's statement: what its billing items owe."""
    on_items = PaymentAllocation.objects.filter(billing_item__contact=contact)
    payments = (
        Payment.objects.filter(account_id=contact.account_id)
        .annotate(counted=_summed(on_items, "payment_id", "pk"))
        .filter(counted__gt=0)
        .annotate(signed=_money(-F("counted")))
    )
    reversals = (
        Reversal.objects.filter(account_id=contact.account_id)
        .annotate(counted=_summed(on_items, "payment_id", "payment_id"))
        .filter(counted__gt=0)
        .annotate(signed=F("counted"))
    )
    return [
        Part(
            "billing_item",
            BillingItem.objects.filter(contact=contact).annotate(signed=F("total_amount")),
            "created_at",
            True,
            _item("pk"),
        ),
        Part("payment", payments, "payment_date", True, _number("P", "pk")),
        Part(
            "credit_application",
            CreditApplication.objects.filter(
                account_id=contact.account_id, billing_item__contact=contact
            ).annotate(signed=_money(-F("amount"))),
            "applied_at",
            True,
            _item("billing_item_id"),
            ("billing_item_id",),
        ),
        Part(
            "write_down",
            WriteDown.objects.filter(
                account_id=contact.account_id, billing_item__contact=contact
            ).annotate(signed=_money(-F("amount"))),
            "write_down_date",
            True,
            _item("billing_item_id"),
            ("billing_item_id",),
        ),
        Part(
            "allocation_release",
            AllocationRelease.objects.filter(
                account_id=contact.account_id, allocation__billing_item__contact=contact
            ).annotate(signed=F("amount")),
            "released_at",
            True,
            _number("R", "refund_id"),
            ("refund_id",),
        ),
        Part(
            "reversal", reversals, "reversed_at", True, _number("P", "payment_id"), ("payment_id",)
        ),
    ]
