"""A statement of account: the opening balance, every movement in date order with a running
balance, the closing balance and the ageing on the closing date (docs/statements.md).

Two kinds of statement:

- an account's: what its invoices owe (void ones never count) less its credit;
- a contact's: what that contact's billing items owe (credit is the account's, not the contact's).

Each movement is dated by its own date (the UTC day of a datetime) and signed as it moves the
statement's balance. The opening balance is the sum of the movements dated before the period, in
SQL (one scalar subquery per kind, one statement); the movements of the period are one query per
kind; the ageing one more. So a statement costs a fixed number of queries whatever its rows.
"""

import dataclasses
import datetime
from collections.abc import Callable
from decimal import Decimal

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

from billing_site.money import CENT, ZERO, MoneyField
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
from payments.owed_then import with_owed_then
from payments.receivables import AGEING_BUCKETS, _end_of, bucket_bounds

from .credit import credit_on, total_of

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
class Movement:
    date: datetime.date
    kind: str
    reference: str
    amount: Decimal  # signed as it moves the statement's balance
    balance: Decimal  # the running balance after it
    pk: int = 0

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclasses.dataclass(frozen=True)
class Statement:
    account: Account
    contact: Contact | None
    start: datetime.date
    end: datetime.date
    opening_balance: Decimal
    movements: list[Movement]
    closing_balance: Decimal
    ageing: dict[str, Decimal]  # AGEING_BUCKETS -> what was owed on `end`, by lateness
    credit: Decimal = ZERO  # the account's credit on `end` (account statements)

    @property
    def currency(self) -> str:
        return self.account.currency

    @property
    def invoices_or_items(self) -> str:
        """What the ageing counts."""
        return "Billing items owed" if self.contact else "Invoices owed"

    @property
    def owed(self) -> Decimal:
        """What the invoices (or billing items) owed on `end`: the ageing's total."""
        return sum(self.ageing.values(), ZERO)


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


def _sum_before(part: Part, day: datetime.date) -> Coalesce:
    """The movements of `part` dated before `day`, summed."""
    return total_of(part.rows.filter(part.before(day)), "signed")


def balance_before(account: Account, parts: list[Part], day: datetime.date) -> Decimal:
    """The statement's balance at the start of `day`: every movement dated before it, in one
    statement (a scalar subquery per kind)."""
    sums = {f"before_{part.kind}": _sum_before(part, day) for part in parts}
    row = Account.objects.filter(pk=account.pk).values(**sums).get()
    return sum(row.values(), ZERO).quantize(CENT)


def _movements(parts: list[Part], start: datetime.date, end: datetime.date) -> list[Movement]:
    """The movements dated from `start` to `end`, in order, without their running balances."""
    found = []
    for part in parts:
        rows = (
            part.rows.filter(part.within(start, end))
            .annotate(day=part.day())
            .order_by()
            .values("pk", "day", "signed", *part.fields)
        )
        found += [
            Movement(
                date=row["day"],
                kind=part.kind,
                reference=part.reference(row),
                amount=row["signed"].quantize(CENT),
                balance=ZERO,
                pk=row["pk"],
            )
            for row in rows
        ]
    return sorted(found, key=lambda m: (m.date, KIND_ORDER[m.kind], m.pk))


def _with_balances(opening: Decimal, movements: list[Movement]) -> list[Movement]:
    balance, out = opening, []
    for movement in movements:
        balance += movement.amount
        out.append(dataclasses.replace(movement, balance=balance))
    return out


def ageing_on(rows: QuerySet, kind: str, day: datetime.date) -> dict[str, Decimal]:
    """What `rows` ("invoices" or "billing_items") owed at the end of `day`, per ageing bucket
    (payments.receivables' buckets), in one statement. Every row counts, even one that owed less
    than zero then (a payment dated in the past on top of one reversed later), so that the buckets
    add up to the statement's figure."""
    owed = with_owed_then(rows, kind, _end_of(day))
    sums = {
        bucket: Coalesce(Sum("owed", filter=condition), Value(ZERO), output_field=MoneyField())
        for bucket, condition in bucket_bounds(day).items()
    }
    totals = owed.aggregate(**sums)
    return {bucket: totals[bucket].quantize(CENT) for bucket in AGEING_BUCKETS}


def _check_period(start: datetime.date, end: datetime.date) -> None:
    if start > end:
        raise ValueError(f"The period starts ({start}) after it ends ({end}).")


def account_statement(account: Account, start: datetime.date, end: datetime.date) -> Statement:
    """The statement of `account` from `start` to `end` (both included)."""
    _check_period(start, end)
    parts = account_parts(account)
    opening = balance_before(account, parts, start)
    movements = _with_balances(opening, _movements(parts, start, end))
    closing = movements[-1].balance if movements else opening
    invoices = Invoice.objects.filter(account=account, status__in=NOT_VOID, issue_date__lte=end)
    return Statement(
        account=account,
        contact=None,
        start=start,
        end=end,
        opening_balance=opening,
        movements=movements,
        closing_balance=closing,
        ageing=ageing_on(invoices, "invoices", end),
        credit=credit_on(account, end),
    )


def contact_statement(contact: Contact, start: datetime.date, end: datetime.date) -> Statement:
    """The statement of `contact` (its billing items) from `start` to `end` (both included)."""
    _check_period(start, end)
    parts = contact_parts(contact)
    opening = balance_before(contact.account, parts, start)
    movements = _with_balances(opening, _movements(parts, start, end))
    closing = movements[-1].balance if movements else opening
    items = BillingItem.objects.filter(contact=contact, created_at__lt=_end_of(end))
    return Statement(
        account=contact.account,
        contact=contact,
        start=start,
        end=end,
        opening_balance=opening,
        movements=movements,
        closing_balance=closing,
        ageing=ageing_on(items, "billing_items", end),
    )
