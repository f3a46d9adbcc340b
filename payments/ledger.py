"""The ledger check: every stored balance recomputed from the money movements behind it.

invoice balance      = amount - allocations of unreversed payments   (void invoices: the same)
billing item balance = total  - allocations of unreversed payments - write-downs
payment amount       = the sum of its allocations

Sums are computed in the database, one query per kind of row.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from billing_site.money import ZERO, MoneyField
from invoices.models import BillingItem, Invoice

from .models import Payment, PaymentAllocation, WriteDown


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


def _sum_of(queryset, outer_field: str) -> Coalesce:
    summed = (
        queryset.filter(**{outer_field: OuterRef("pk")})
        .order_by()
        .values(outer_field)
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(
        Subquery(summed, output_field=MoneyField()), Value(ZERO), output_field=MoneyField()
    )


def ledger_drift() -> list[Drift]:
    """Every stored balance or amount that disagrees with the movements behind it."""
    live = PaymentAllocation.objects.filter(payment__reversal__isnull=True)
    drifts = []
    invoices = Invoice.objects.annotate(expected=F("amount") - _sum_of(live, "invoice")).filter(
        ~Q(balance=F("expected"))
    )
    drifts += [Drift("invoice", i.pk, i.number, i.balance, i.expected) for i in invoices]
    items = BillingItem.objects.annotate(
        expected=F("total_amount")
        - _sum_of(live, "billing_item")
        - _sum_of(WriteDown.objects.all(), "billing_item")
    ).filter(~Q(balance=F("expected")))
    drifts += [Drift("billing item", i.pk, i.description, i.balance, i.expected) for i in items]
    payments = Payment.objects.annotate(
        expected=_sum_of(PaymentAllocation.objects.all(), "payment")
    ).filter(~Q(amount=F("expected")))
    drifts += [Drift("payment", p.pk, p.number, p.amount, p.expected) for p in payments]
    return drifts
