"""Credit notes: an invoice reduced by a document rather than by cash.

A credit note has its own number (unique within the account), date, reason and lines; its amount is
the sum of its lines. It takes off the invoice's balance what the invoice still owes
(`applied_amount`); anything more (`credit_amount`) goes to the account's credit, only when the
clerk asks for it (payments.services.credit_notes). Both rows are immutable.
"""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from billing_site.money import MoneyField
from invoices.models import Invoice

from .core import Recorded, account_field, immutable


class CreditNote(Recorded):
    account = account_field("credit_notes")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(max_length=40, help_text="Unique within the account.")
    issue_date = models.DateField()
    reason = models.TextField()
    amount = MoneyField(help_text="The sum of its lines.")
    applied_amount = MoneyField(help_text="Taken off the invoice's balance.")
    credit_amount = MoneyField(help_text="Beyond what the invoice owed: to the account's credit.")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-issue_date", "-pk"]
        triggers = [immutable()]
        constraints = [
            *Recorded.Meta.constraints,
            models.UniqueConstraint(fields=["account", "number"], name="credit_note_number"),
            models.UniqueConstraint(fields=["account", "id"], name="credit_note_account_key"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_amount_positive"),
            models.CheckConstraint(
                condition=Q(applied_amount__gte=0, credit_amount__gte=0)
                & Q(amount=F("applied_amount") + F("credit_amount")),
                name="credit_note_amount_split",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="credit_note_reason_required"),
            models.CheckConstraint(condition=~Q(number=""), name="credit_note_number_required"),
        ]
        indexes = [
            models.Index(fields=["invoice"], name="credit_note_invoice"),
        ]

    def __str__(self) -> str:
        return f"Credit note {self.number}"


class CreditNoteLine(models.Model):
    account = account_field("credit_note_lines")
    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, related_name="lines")
    description = models.CharField(max_length=200)
    amount = MoneyField()

    class Meta:
        ordering = ["credit_note", "pk"]
        triggers = [immutable()]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="credit_note_line_amount_positive"
            ),
            models.CheckConstraint(
                condition=~Q(description=""), name="credit_note_line_description_required"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description}: {self.amount}"
