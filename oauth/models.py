"""DocuSign's own sign-in: partner integrations, the users they act for, and the tokens issued.

An integration is what DocuSign calls an app: an integration key (its OAuth `client_id`, a GUID),
up to five RSA public keys that verify the JWTs it signs, and the users it may act for, each with
roles on accounts (the per-account roles of contacts.roles). An access token is stored as a partner
credential (contacts.ApiCredential: a digest, an expiry, a revocation, its account roles), so that
both APIs accept it exactly as they accept a static key; `IssuedToken` says which integration and
user it was issued to. Every token request, issued or refused, leaves a `TokenRequest` row, and the
audit trail records those rows and the credentials' issue and revocation.
"""

import uuid

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q

from contacts.models import Account, ApiCredential
from contacts.roles import Role

MAX_PUBLIC_KEYS = 5


class Integration(models.Model):
    name = models.CharField(max_length=200, help_text="The partner's app, e.g. 'Acme tills, prod'.")
    integration_key = models.UUIDField(
        "integration key",
        unique=True,
        default=uuid.uuid4,
        editable=False,
        help_text="DocuSign's client_id: the JWT's `iss`.",
    )
    redirect_uri = models.URLField(
        max_length=500,
        blank=True,
        help_text="Where consent sends the browser back with a code (authorization code grant).",
    )
    client_secret_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Revoked: no token is issued, and every token issued before is refused.",
    )

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IntegrationKey(models.Model):
    """An RSA public key (PEM) that verifies the integration's JWTs."""

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="public_keys"
    )
    public_key = models.TextField(
        "public key (PEM)", help_text="-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----"
    )
    fingerprint = models.CharField(
        max_length=64, editable=False, help_text="SHA-256 of the key (DER), to tell keys apart."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["integration", "pk"]
        verbose_name = "RSA public key"
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "fingerprint"], name="integration_key_unique_fingerprint"
            )
        ]

    def __str__(self) -> str:
        return f"RSA key {self.fingerprint[:16]}…"


class IntegrationUser(models.Model):
    """A user the integration may act for: the JWT's `sub`, DocuSign's user id."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="users")
    user_id = models.UUIDField(
        "user ID", unique=True, default=uuid.uuid4, editable=False, help_text="The JWT's `sub`."
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="integration_users",
        help_text="The staff login that may give consent as this user on the consent page.",
    )
    consented_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When this user consented to the integration acting for them. Without consent "
        "the JWT grant answers consent_required.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["integration", "name", "pk"]
        verbose_name = "integration user"

    def __str__(self) -> str:
        return self.name

    @property
    def given_name(self) -> str:
        return self.name.split(" ", 1)[0]

    @property
    def family_name(self) -> str:
        parts = self.name.split(" ", 1)
        return parts[1] if len(parts) > 1 else ""


class IntegrationGrant(models.Model):
    """A role on one account: for one of the integration's users, or (no user) for the
    integration itself, which application tokens (a JWT without `sub`) act with."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(
        IntegrationUser, on_delete=models.CASCADE, null=True, blank=True, related_name="grants"
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.ADMIN)

    class Meta:
        ordering = ["integration", "user", "account", "role"]
        verbose_name = "account role"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "account", "role"],
                condition=Q(user__isnull=False),
                name="integration_grant_unique_user",
            ),
            models.UniqueConstraint(
                fields=["integration", "account", "role"],
                condition=Q(user__isnull=True),
                name="integration_grant_unique_application",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} on {self.account}"


class GrantType(models.TextChoices):
    JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer", "JWT bearer"
    AUTHORIZATION_CODE = "authorization_code", "Authorization code"
    REFRESH_TOKEN = "refresh_token", "Refresh token"


class IssuedToken(models.Model):
    """An access token: the partner credential that stores it, and to whom it was issued."""

    credential = models.OneToOneField(
        ApiCredential, on_delete=models.PROTECT, related_name="oauth_token"
    )
    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, related_name="tokens")
    user = models.ForeignKey(
        IntegrationUser,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tokens",
        help_text="Empty: an application token (a JWT without `sub`).",
    )
    grant_type = models.CharField(max_length=64, choices=GrantType.choices)
    scope = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "access token"

    def __str__(self) -> str:
        return str(self.credential)


class TokenRequest(models.Model):
    """One request to `POST /oauth/token`, issued or refused (append-only; audited)."""

    class Outcome(models.TextChoices):
        ISSUED = "issued", "Issued"
        REFUSED = "refused", "Refused"

    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    error = models.CharField(max_length=64, blank=True, help_text="The OAuth error, if refused.")
    error_description = models.CharField(max_length=500, blank=True)
    grant_type = models.CharField(max_length=200, blank=True)
    integration = models.ForeignKey(
        Integration, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        IntegrationUser, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    token = models.ForeignKey(
        IssuedToken, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    client_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="issued", token__isnull=False, error="")
                | Q(outcome="refused", token__isnull=True) & ~Q(error=""),
                name="token_request_outcome_consistent",
            )
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} {self.error}".strip()


class AuthorizationCode(models.Model):
    """A code given by the consent page, exchanged once for tokens (kept as a digest)."""

    code_hash = models.CharField(max_length=64, unique=True, editable=False)
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(IntegrationUser, on_delete=models.CASCADE, related_name="+")
    redirect_uri = models.URLField(max_length=500)
    scope = models.CharField(max_length=500, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Authorization code for {self.user}"


class RefreshToken(models.Model):
    """A refresh token of the authorization code grant (kept as a digest; used once, replaced)."""

    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(IntegrationUser, on_delete=models.CASCADE, related_name="+")
    # Its family: the code the first token of the chain came from, and the access token issued
    # with it, so that a code or refresh token used twice revokes every token issued from it.
    authorization_code = models.ForeignKey(
        AuthorizationCode, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    access_token = models.OneToOneField(
        IssuedToken, on_delete=models.PROTECT, null=True, blank=True, related_name="refresh_token"
    )
    scope = models.CharField(max_length=500, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Refresh token for {self.user}"
