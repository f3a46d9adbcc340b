import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from billing_site.money import ZERO, MoneyField, currency_code_validator

from .roles import Role


class Account(models.Model):
    """What DocuSign calls an account: the party that is invoiced and pays."""

    number = models.PositiveBigIntegerField(
        unique=True, help_text="The external account number, usable as {accountId}."
    )
    guid = models.UUIDField("account ID", unique=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    currency = models.CharField(
        max_length=3,
        validators=[currency_code_validator],
        help_text="ISO 4217 code; every amount of the account is in this currency.",
    )
    api_payments_blocked = models.BooleanField(
        "block API payments",
        default=False,
        help_text="When set, partners cannot post payments for this account over the APIs.",
    )
    # Money received that no invoice or billing item holds yet (payments/models/credit.py), in
    # the account's currency: changed only by the money service, under this row's lock.
    credit_balance = MoneyField(
        "credit",
        default=ZERO,
        db_default=ZERO,
        editable=False,
        help_text="Money received and not yet applied to an invoice or billing item.",
    )
    auto_apply_credit = models.BooleanField(
        "apply credit to new invoices",
        default=False,
        db_default=False,
        help_text="When set, a new invoice is settled from the account's credit as it is issued.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="account_currency_iso4217"
            ),
            models.CheckConstraint(
                condition=Q(credit_balance__gte=0), name="account_credit_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class Contact(models.Model):
    """A person billed through billing items (Legend's member); belongs to one account."""

    guid = models.UUIDField("contact ID", unique=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="contacts")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        constraints = [
            # What a billing item's and a payment's (contact_id, account_id) reference, so that
            # their account is the contact's (billing_site/account_keys.py): a contact with
            # billing items or payments cannot move to another account.
            models.UniqueConstraint(fields=["account", "id"], name="contact_account_key"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ApiCredential(models.Model):
    """A partner's API key. Only a SHA-256 digest of the secret is kept; it is shown once."""

    name = models.CharField(max_length=200, help_text="Who uses it, e.g. 'Acme payments, prod'.")
    prefix = models.CharField(
        max_length=16, unique=True, editable=False, help_text="Start of the key, to recognise it."
    )
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="From then on the key authenticates nothing. Empty: never."
    )
    # Rotation: the secret replaced by the last rotation keeps working until its grace period ends.
    previous_prefix = models.CharField(max_length=16, blank=True, editable=False)
    previous_secret_hash = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = "API credential"
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    previous_secret_hash__isnull=True, previous_secret_expires_at__isnull=True
                )
                | Q(previous_secret_hash__isnull=False, previous_secret_expires_at__isnull=False),
                name="credential_previous_secret_has_grace_end",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AccountRole(models.Model):
    """A role on one account, granted to either a staff user or a partner credential."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.ADMIN)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="account_roles",
    )
    credential = models.ForeignKey(
        ApiCredential,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="account_roles",
    )

    class Meta:
        ordering = ["account", "role", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=True, credential__isnull=False)
                | Q(user__isnull=False, credential__isnull=True),
                name="account_role_one_grantee",
            ),
            models.UniqueConstraint(
                fields=["account", "role", "user"],
                condition=Q(user__isnull=False),
                name="account_role_unique_user",
            ),
            models.UniqueConstraint(
                fields=["account", "role", "credential"],
                condition=Q(credential__isnull=False),
                name="account_role_unique_credential",
            ),
        ]
        indexes = [
            # A key's accounts per role, read with the key on every API request
            # (contacts.selectors.active_credential_for_secret): from the index alone.
            models.Index(
                fields=["credential", "role"],
                include=["account"],
                condition=Q(credential__isnull=False),
                name="account_role_by_credential",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} of {self.account} for {self.user or self.credential}"
