"""Webhooks: a partner's subscription to the events of some accounts, and each delivery of an
event to it (docs/webhooks.md).

A `Delivery` is written in the transaction that records its event (webhooks.queueing), with the
job that sends it: it exists if and only if the event committed. The worker sends it (signed as
Standard Webhooks say), retries it with exponential backoff, and logs every try as a
`DeliveryAttempt`. Its `ticket` names the one job that may send it next: a job whose ticket is no
longer the delivery's (a redelivery or a retry replaced it) does nothing.
"""

import uuid

import pgtrigger
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from contacts.models import Account
from events.models import Event, EventType


class Subscription(models.Model):
    url = models.URLField(
        "URL",
        max_length=500,
        help_text="Where the events are POSTed: https:// (http:// only in DEBUG, or to this "
        "machine in tests).",
    )
    description = models.CharField(max_length=200, blank=True, help_text="Whose, and what for.")
    accounts = models.ManyToManyField(
        Account,
        related_name="webhook_subscriptions",
        help_text="It receives the events of these accounts only.",
    )
    event_types = ArrayField(
        models.CharField(max_length=64, choices=EventType.choices),
        default=list,
        blank=True,
        help_text="The event types it receives; none chosen: every type.",
    )
    # The signing secret (`whsec_...`), encrypted with a key derived from SECRET_KEY
    # (webhooks.signing): shown once, at creation, and needed to sign every delivery.
    secret_encrypted = models.TextField(editable=False)
    is_active = models.BooleanField(
        "active", default=True, help_text="A disabled subscription is sent nothing."
    )
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(
                name="webhook_disabled_has_reason",
                condition=models.Q(is_active=True, disabled_at__isnull=True)
                | models.Q(is_active=False, disabled_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.description or self.url

    def receives(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending (sent, or to be sent, again)"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed (retries exhausted)"


class Delivery(models.Model):
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="deliveries", db_index=False
    )
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="webhook_deliveries")
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Tries since it was last queued.")
    ticket = models.UUIDField(
        null=True, default=uuid.uuid4, editable=False, help_text="The job that may send it next."
    )
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], name="webhook_delivery_once_per_event"
            ),
        ]
        indexes = [models.Index(fields=["status", "subscription"], name="webhook_delivery_status")]

    def __str__(self) -> str:
        return f"{self.event} to {self.subscription}"


class DeliveryAttempt(models.Model):
    """One try: what the receiver answered (or why there was no answer), and how long it took.
    Append-only."""

    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="attempt_log")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField("latency (ms)")
    status_code = models.PositiveSmallIntegerField("HTTP status", null=True, blank=True)
    succeeded = models.BooleanField()
    response_excerpt = models.TextField(blank=True, help_text="The start of the response body.")
    error = models.TextField(blank=True, help_text="Why there was no answer (timeout, refused).")

    class Meta:
        ordering = ["-pk"]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        outcome = self.status_code or self.error[:40]
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} {outcome}"
