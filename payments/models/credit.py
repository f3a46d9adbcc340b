"""An account's credit: money received that no invoice or billing item holds (yet).

`Account.credit_balance` is the credit now, in the account's currency; only the money service
changes it, under the account's row lock, and a CHECK keeps it at zero or above. What moves it:

- a payment for more than the invoices it settles (or for none): the excess, on the payment's day;
- an `AllocationRelease`: part of a payment's allocation taken back from its invoice or billing
  item (whose balance grows again) into credit, with a reason: before a refund from that payment;
- a `CreditApplication`: credit settling an invoice or billing item of the same account. Not new
  money: collected-cash figures count the payment once, when it was received;
- a `Refund`: credit paid back to the customer;
- a reversal takes back what its payment had put into credit.

Every row is immutable (a trigger refuses UPDATE and DELETE) and carries its account, kept equal to
its parent's by composite foreign keys (migrations) or, for a release, a trigger.
"""

import pgtrigger
from django.db import models
from django.db.models import Q
from django.utils import timezone

from billing_site.money import MoneyField
from invoices.models import BillingItem, Invoice

from .core import Payment, PaymentAllocation, Recorded, TenderType, account_field, immutable


class CreditApplication(Recorded):
    """Credit settling (part of) one invoice or one billing item of the account."""

    account = account_field("credit_applications")
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_applications",
    )
    billing_item = models.ForeignKey(
        BillingItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_applications",
    )
    amount = MoneyField()
    applied_at = models.DateTimeField(default=timezone.now)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-applied_at", "-pk"]
        triggers = [immutable()]
        constraints = [
            *Recorded.Meta.constraints,
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="credit_application_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(invoice__isnull=False, billing_item__isnull=True)
                | Q(invoice__isnull=True, billing_item__isnull=False),
                name="credit_application_one_target",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "applied_at"], name="credit_application_account"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of credit to {self.invoice or self.billing_item}"


class Refund(Recorded):
    """Money paid back to the customer out of the account's credit. With `payment`: a refund of
    that payment, whose allocations were first released into credit (`AllocationRelease`)."""

    account = account_field("refunds")
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    amount = MoneyField()
    currency = models.CharField(max_length=3)
    tender_type = models.ForeignKey(
        TenderType, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    refund_date = models.DateTimeField(help_text="When the money went back to the customer.")
    reference = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-refund_date", "-pk"]
        triggers = [immutable()]
        constraints = [
            *Recorded.Meta.constraints,
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="refund_currency_iso4217"
            ),
            models.UniqueConstraint(fields=["account", "id"], name="refund_account_key"),
        ]
        indexes = [models.Index(fields=["account", "refund_date"], name="refund_account_date")]

    def __str__(self) -> str:
        return f"Refund {self.number}"

    @property
    def number(self) -> str:
        return f"R{self.pk:08d}" if self.pk else ""


class AllocationRelease(Recorded):
    """Part of a payment's allocation taken back into the account's credit: its invoice or billing
    item owes that much again. Made only for a refund of the payment (`refund`), which keeps the
    payment from being reversed (payments.services.reversals)."""

    account = account_field("allocation_releases")
    allocation = models.ForeignKey(
        PaymentAllocation, on_delete=models.PROTECT, related_name="releases"
    )
    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="releases")
    amount = MoneyField()
    reason = models.TextField()
    released_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-released_at", "-pk"]
        triggers = [
            immutable(),
            # The allocation's account, whoever sends the INSERT (a composite key would need one
            # more unique index on every allocation a payment writes).
            pgtrigger.Trigger(
                name="release_account_is_allocations",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert,
                func="""
                    IF NEW.account_id IS DISTINCT FROM (
                        SELECT account_id FROM payments_paymentallocation
                        WHERE id = NEW.allocation_id
                    ) THEN
                        RAISE EXCEPTION 'A release must be on its allocation''s account'
                            USING ERRCODE = 'foreign_key_violation';
                    END IF;
                    RETURN NEW;
                """,
            ),
        ]
        constraints = [
            *Recorded.Meta.constraints,
            models.CheckConstraint(condition=Q(amount__gt=0), name="release_amount_positive"),
            models.CheckConstraint(condition=~Q(reason=""), name="release_reason_required"),
        ]
        indexes = [
            models.Index(fields=["account", "released_at"], name="release_account_date"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of {self.allocation.payment} released into credit"
