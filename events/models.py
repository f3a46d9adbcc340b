"""Events: what happened to an account's money, one row per event, written by the money service
in the transaction that moved the money (the transactional outbox): an event exists if and only if
its change committed. Rows are never changed or deleted (a trigger refuses it).

`data` names the objects as both APIs do (DocuSign's string ids `paymentId`, `invoiceId`;
Legend's `BillingId`, `ContactId`), with amounts as strings with two decimals.
"""

import uuid

import pgtrigger
from django.db import models
from django.utils import timezone

from contacts.models import Account


class EventType(models.TextChoices):
    PAYMENT_CREATED = "payment.created", "Payment created"
    PAYMENT_REVERSED = "payment.reversed", "Payment reversed"
    INVOICE_PAID = "invoice.paid", "Invoice paid (its balance reached zero)"
    INVOICE_PAST_DUE = "invoice.past_due", "Invoice past due"
    BILLING_ITEM_WRITTEN_DOWN = "billing_item.written_down", "Billing item written down"
    CREDIT_APPLIED = "credit.applied", "Credit applied"
    REFUND_CREATED = "refund.created", "Refund created"
    CREDIT_NOTE_ISSUED = "credit_note.issued", "Credit note issued"


class Event(models.Model):
    event_id = models.UUIDField(
        "event ID", unique=True, default=uuid.uuid4, editable=False, help_text="Its public id."
    )
    type = models.CharField(max_length=64, choices=EventType.choices)
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField()

    class Meta:
        ordering = ["pk"]
        triggers = [
            pgtrigger.Protect(name="immutable", operation=pgtrigger.Update | pgtrigger.Delete)
        ]
        indexes = [
            # An account's events in a date range, in id order (the events list's cursor).
            models.Index(fields=["account", "occurred_at", "id"], name="event_account_time"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class PastDueNotice(models.Model):
    """An invoice's `invoice.past_due` event was recorded (once per invoice: the scheduled job
    events.past_due finds the invoices that became past due since it last ran)."""

    invoice = models.OneToOneField(
        "invoices.Invoice", on_delete=models.PROTECT, related_name="past_due_notice"
    )
    noticed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-noticed_at", "-pk"]

    def __str__(self) -> str:
        return f"Past due notice of {self.invoice}"
