import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from billing_site.money import ZERO, MoneyField
from contacts.models import Account, ApiCredential, Contact
from invoices.models import BillingItem, Invoice

from ..actors import Channel


def immutable() -> pgtrigger.Protect:
    """Refuses UPDATE and DELETE of a money row in PostgreSQL itself, whoever sends the SQL.

    Money is corrected by a new row (a reversal, a write-down), never by editing or removing one.
    TRUNCATE is not covered: it needs the table owner's privilege (see docs/audit.md).
    """
    return pgtrigger.Protect(name="immutable", operation=pgtrigger.Update | pgtrigger.Delete)


class TenderType(models.Model):
    """How money was tendered (Legend's TenderTypeId). Ids are Legend's, so they are entered."""

    id = models.PositiveIntegerField(primary_key=True, help_text="Legend's TenderTypeId.")
    name = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField(default=True, help_text="Inactive types are refused.")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.id} {self.name}"


class Recorded(models.Model):
    """Audit fields: through which channel, and by which staff user or partner credential."""

    channel = models.CharField(max_length=16, choices=Channel.choices, editable=False)
    recorded_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    recorded_by_credential = models.ForeignKey(
        ApiCredential,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(recorded_by_user__isnull=True) | Q(recorded_by_credential__isnull=True),
                name="%(class)s_one_recorder",
            ),
        ]

    @property
    def recorded_by(self) -> str:
        return str(self.recorded_by_user or self.recorded_by_credential or "system")


def account_field(related_name: str, why: str = "") -> models.ForeignKey:
    """The account of a money row: its parent's, set by payments.services when the row is made.

    Every money table carries it, the key to partition or distribute the money tables by
    (docs/scaling.md, "Past one primary"). It is indexed with the column it is queried with (the
    model's Meta.indexes), not alone.
    """
    return models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name=related_name, editable=False, db_index=False
    )


class Payment(Recorded):
    """Money received once, allocated to invoices or billing items. Never edited or deleted.

    Unique on (account_id, id) as well as on id: what its allocations and its reversal reference
    with (payment_id, account_id), so that the database keeps their account equal to the
    payment's. A contact's payment is the contact's account's: (contact_id, account_id)
    references contact (account_id, id). Composite foreign keys rather than triggers: a CHECK
    cannot look at another row, a key costs the one index lookup an INSERT makes anyway, and it
    names the rule in the schema (billing_site/account_keys.py, migration payments/0007).
    """

    # No index of their own: (account, payment_date), (account, id) and (contact, payment_date)
    # lead with them, and every payment would write two more index entries. The contact has no
    # simple foreign key in the database either: the composite (contact_id, account_id) key
    # refuses an unknown contact (migration 0009).
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="payments", db_index=False
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        db_index=False,
        db_constraint=False,
    )
    amount = MoneyField()
    # The part of `amount` that no invoice took, put into the account's credit when the payment
    # was recorded (payments/models/credit.py): amount = its allocations + credit_amount.
    credit_amount = MoneyField(default=ZERO, db_default=ZERO, editable=False)
    currency = models.CharField(max_length=3)
    payment_date = models.DateTimeField(help_text="When the money was collected.")
    processed_at = models.DateTimeField(default=timezone.now, help_text="When it was recorded.")
    tender_type = models.ForeignKey(
        TenderType, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    description = models.CharField(max_length=200, blank=True)
    reference = models.CharField(
        max_length=200, blank=True, help_text="The partner's reference for reconciliation."
    )
    authorization_code = models.CharField(max_length=100, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-processed_at", "-pk"]
        triggers = [immutable()]
        constraints = [
            *Recorded.Meta.constraints,
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(credit_amount__gte=0, credit_amount__lte=F("amount")),
                name="payment_credit_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="payment_currency_iso4217"
            ),
            models.UniqueConstraint(fields=["account", "id"], name="payment_account_key"),
        ]
        indexes = [
            models.Index(fields=["account", "payment_date"], name="payment_account_date"),
            models.Index(fields=["contact", "payment_date"], name="payment_contact_date"),
            # "Collected in the last 30 days" on the finance dashboard: a date range over all.
            models.Index(fields=["payment_date"], name="payment_date"),
        ]

    def __str__(self) -> str:
        return f"Payment {self.number}"

    @property
    def number(self) -> str:
        """The human-readable payment number, derived from the id (no counter to keep)."""
        return f"P{self.pk:08d}" if self.pk else ""


class PaymentAllocation(models.Model):
    """The part of a payment applied to one invoice or one billing item.

    `account` is the payment's, and so its target's: composite foreign keys (payment_id,
    account_id) -> payment, (invoice_id, account_id) -> invoice and (billing_item_id, account_id)
    -> billing item, each to the parent's unique (account_id, id), refuse any other (a null
    target is not checked, MATCH SIMPLE). So no allocation crosses accounts, whatever sends it.
    """

    # No simple foreign key in the database for these three: the composite keys above already
    # refuse a row whose payment, invoice or billing item does not exist, and each simple key
    # was one more check of every allocation at COMMIT (migration 0009). Deleting a parent with
    # allocations is still refused, by the composite keys and the ORM. (The account keeps its
    # own, as on every money table: the key the money tables are distributed by.)
    account = account_field("payment_allocations")
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="allocations", db_constraint=False
    )
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="allocations",
        db_constraint=False,
    )
    billing_item = models.ForeignKey(
        BillingItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="allocations",
        db_constraint=False,
    )
    amount = MoneyField()
    reference = models.CharField(max_length=200, blank=True)
    authorization_code = models.CharField(max_length=100, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["payment", "pk"]
        triggers = [immutable()]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
            models.CheckConstraint(
                condition=Q(invoice__isnull=False, billing_item__isnull=True)
                | Q(invoice__isnull=True, billing_item__isnull=False),
                name="allocation_one_target",
            ),
        ]
        indexes = [models.Index(fields=["account", "payment"], name="allocation_account_payment")]

    def __str__(self) -> str:
        return f"{self.amount} of {self.payment} to {self.invoice or self.billing_item}"


class Reversal(Recorded):
    """Undoes one payment: every balance it reduced is restored; the payment stays as it was.

    `account` is the payment's, kept so by a composite foreign key (payment_id, account_id) ->
    payment (account_id, id).
    """

    account = account_field("reversals")
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="reversal")
    reason = models.TextField()
    reversed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-reversed_at", "-pk"]
        triggers = [immutable()]
        constraints = [
            *Recorded.Meta.constraints,
            models.CheckConstraint(condition=~Q(reason=""), name="reversal_reason_required"),
        ]
        # An account's reversals, latest first (the account page).
        indexes = [models.Index(fields=["account", "reversed_at"], name="reversal_account_date")]

    def __str__(self) -> str:
        return f"Reversal of {self.payment}"


class WriteDown(Recorded):
    """Part of a billing item's balance written off by finance.

    `account` is the billing item's (so its contact's), kept so by a composite foreign key
    (billing_item_id, account_id) -> billing item (account_id, id).
    """

    account = account_field("write_downs")
    billing_item = models.ForeignKey(
        BillingItem, on_delete=models.PROTECT, related_name="write_downs"
    )
    amount = MoneyField()
    write_down_date = models.DateTimeField()
    gl_account_id = models.PositiveIntegerField(
        "GL account", null=True, blank=True, help_text="The general-ledger account charged."
    )
    reason = models.TextField()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        triggers = [immutable()]
        constraints = [
            *Recorded.Meta.constraints,
            models.CheckConstraint(condition=Q(amount__gt=0), name="write_down_amount_positive"),
            models.CheckConstraint(condition=~Q(reason=""), name="write_down_reason_required"),
        ]
        # An account's write-downs up to a date (receivables as of a day).
        indexes = [
            models.Index(fields=["account", "write_down_date"], name="write_down_account_date")
        ]

    def __str__(self) -> str:
        return f"Write-down of {self.amount} on {self.billing_item}"


class IdempotencyRecord(models.Model):
    """The first response to an API request carrying an `Idempotency-Key`, replayed on retries.

    A key belongs to the credential (or staff user) that sent it. The row is inserted and locked
    in the same transaction that performs the request, so a concurrent retry waits for the first
    request to finish and then replays its response instead of running again.

    No `account`, on purpose: this is not a money row but a stored answer, and it is scoped by
    its owner, not by an account. A credential may act on several accounts and its keys are unique
    across all of them (the same key on another account's path is refused, not run), and the
    record is written before the request is resolved to an account (Legend's payments name a
    contact in the body, not an account). Under Citus it would be distributed by credential
    (docs/scaling.md, "Past one primary").
    """

    key = models.CharField(max_length=255)
    # No index of their own: the unique (owner, key) indexes lead with them (a credential's or
    # user's deletion finds its records there), and every keyed request would write two more.
    credential = models.ForeignKey(
        ApiCredential,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(
        blank=True, help_text="The response data as JSON text, keys and number types as sent."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(credential__isnull=True, user__isnull=False)
                | Q(credential__isnull=False, user__isnull=True),
                name="idempotency_one_owner",
            ),
            models.UniqueConstraint(
                fields=["credential", "key"],
                condition=Q(credential__isnull=False),
                name="idempotency_key_per_credential",
            ),
            models.UniqueConstraint(
                fields=["user", "key"],
                condition=Q(user__isnull=False),
                name="idempotency_key_per_user",
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"Idempotency key {self.key}"
