"""The ledger check: every stored balance recomputed from the money movements behind it.

invoice balance      = amount - what allocations of unreversed payments still settle
                                - credit applied to it - its credit notes' applied amounts
                                                                       (void invoices: the same)
billing item balance = total  - what allocations of unreversed payments still settle
                              - credit applied to it - write-downs
payment amount       = the sum of its allocations + the part it put into credit
account credit       = what unreversed payments put into credit (their excess, and what was
                       released of their allocations) + credit notes' excess - credit applied
                       - refunds

"What an allocation still settles" is its amount less what was released of it into credit.

Sums are computed in the database, one query per kind of row (ledger_check: one more per kind
that drifts).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from billing_site.money import ZERO, MoneyField
from contacts.models import Account
from invoices.models import BillingItem, Invoice

from .models import (
    AllocationRelease,
    CreditApplication,
    CreditNote,
    Payment,
    PaymentAllocation,
    Refund,
    WriteDown,
)


@dataclass(frozen=True)
class Drift:
    kind: str
    pk: int
    label: str
    stored: Decimal
    expected: Decimal

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.pk} ({self.label}): stored {self.stored}, "
            f"recomputed {self.expected}, drift {self.stored - self.expected}"
        )


def amounts_of(queryset, outer_field: str, field: str = "amount") -> Coalesce:
    """The summed `field` of the rows of `queryset` whose `outer_field` is the outer row, or 0."""
    summed = (
        queryset.filter(**{outer_field: OuterRef("pk")})
        .order_by()
        .values(outer_field)
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(
        Subquery(summed, output_field=MoneyField()), Value(ZERO), output_field=MoneyField()
    )


def _live(target: str):
    """What unreversed payments' allocations still settle on the outer row (`target`: "invoice"
    or "billing_item"): their amounts less what was released of them."""
    allocations = PaymentAllocation.objects.filter(payment__reversal__isnull=True)
    releases = AllocationRelease.objects.filter(allocation__payment__reversal__isnull=True)
    return amounts_of(allocations, target) - amounts_of(releases, f"allocation__{target}")


def _invoices():
    return Invoice.objects.annotate(
        expected=F("amount")
        - _live("invoice")
        - amounts_of(CreditApplication.objects.all(), "invoice")
        - amounts_of(CreditNote.objects.all(), "invoice", "applied_amount")
    )


def _billing_items():
    return BillingItem.objects.annotate(
        expected=F("total_amount")
        - _live("billing_item")
        - amounts_of(CreditApplication.objects.all(), "billing_item")
        - amounts_of(WriteDown.objects.all(), "billing_item")
    )


def _payments():
    return Payment.objects.annotate(
        expected=amounts_of(PaymentAllocation.objects.all(), "payment") + F("credit_amount")
    )


def _accounts():
    return Account.objects.annotate(
        expected=amounts_of(
            Payment.objects.filter(reversal__isnull=True), "account", "credit_amount"
        )
        + amounts_of(
            AllocationRelease.objects.filter(allocation__payment__reversal__isnull=True),
            "account",
        )
        + amounts_of(CreditNote.objects.all(), "account", "credit_amount")
        - amounts_of(CreditApplication.objects.all(), "account")
        - amounts_of(Refund.objects.all(), "account")
    )


# Each kind of row: its name, its rows with the recomputed value (`expected`), the stored field
# that must equal it, and the field that names a row in the drift output.
KINDS = (
    ("invoice", _invoices, "balance", "number"),
    ("billing item", _billing_items, "balance", "description"),
    ("payment", _payments, "amount", "number"),
    ("account credit", _accounts, "credit_balance", "number"),
)


def _drifting(stored: str) -> Q:
    return ~Q(**{stored: F("expected")})


def _drifts(kind: str, rows, stored: str, label: str) -> list[Drift]:
    return [
        Drift(kind, row.pk, getattr(row, label), getattr(row, stored), row.expected)
        for row in rows.filter(_drifting(stored))
    ]


def ledger_drift() -> list[Drift]:
    """Every stored balance or amount that disagrees with the movements behind it."""
    return [
        drift
        for kind, rows, stored, label in KINDS
        for drift in _drifts(kind, rows(), stored, label)
    ]


@dataclass(frozen=True)
class LedgerCheck:
    """What verify_ledger checked: the rows of each kind, and those that drift."""

    invoices: int
    billing_items: int
    payments: int
    accounts: int
    drifts: list[Drift]


def ledger_check() -> LedgerCheck:
    """ledger_drift() with the number of rows of each kind checked: one query per kind (its rows
    and how many drift), and one more per kind that drifts, for those rows."""
    checked = []
    drifts = []
    for kind, rows, stored, label in KINDS:
        counts = rows().aggregate(rows=Count("pk"), drifting=Count("pk", filter=_drifting(stored)))
        checked.append(counts["rows"])
        if counts["drifting"]:
            drifts += _drifts(kind, rows(), stored, label)
    return LedgerCheck(*checked, drifts=drifts)
