"""The back office's one table: which preview tokens were confirmed, so that each records once."""

from django.db import models
from django.utils import timezone

from payments.models import Payment


class ConfirmedPreview(models.Model):
    """A preview token that "Record payment" used, and the payment it recorded.

    The token itself is not kept, only its SHA-256 (`digest`), unique: the row is inserted in the
    transaction that records the payment, before the money service runs, so a second confirm of
    the same token (a double click, the back button, a retry) waits for the first to finish and
    then finds the row instead of recording again (`backoffice.previews.record_once`). The payment
    is set in the same transaction: a committed row always names its payment. Not a money row: no
    account of its own, and it may be deleted once its token has expired (15 minutes), though the
    rows are small and say which preview each back-office payment came from. It goes with its
    payment (CASCADE): only the demo reset's TRUNCATE ... CASCADE ever removes a payment.
    """

    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token.")
    payment = models.OneToOneField(
        Payment, on_delete=models.CASCADE, null=True, related_name="+", editable=False
    )
    confirmed_at = models.DateTimeField(default=timezone.now)
    # What a confirm that records no payment (applied credit, a refund, a credit note) recorded:
    # said again to a second confirm of the same token, which is sent to `outcome_url`.
    outcome = models.CharField(max_length=300, blank=True, default="", db_default="")
    outcome_url = models.CharField(max_length=200, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-confirmed_at", "-pk"]

    def __str__(self) -> str:
        return f"Preview confirmed as {self.payment}"
