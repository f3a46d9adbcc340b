"""Integrations and their tokens: every write of the oauth app goes through here.

An access token is a partner credential (contacts.ApiCredential) with an expiry and the account
roles of the user it was issued for (or of the integration, for an application token), copied when
it is issued: both APIs then authenticate and scope it exactly as a static key. Revoking an
integration revokes every token it holds; changing a user's roles revokes that user's tokens, so
that no token outlives a role taken away.
"""

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from contacts.credentials import new_secret, secret_digest, secret_prefix
from contacts.models import Account, AccountRole, ApiCredential

from .keys import fingerprint, load_public_key, normalized_pem
from .models import (
    MAX_PUBLIC_KEYS,
    Integration,
    IntegrationGrant,
    IntegrationKey,
    IntegrationUser,
    IssuedToken,
    RefreshToken,
    TokenRequest,
)

TOKEN_PREFIX = "oa_"  # noqa: S105 - a marker, not a secret


class TooManyKeys(Exception):
    def __init__(self) -> None:
        super().__init__(f"An integration has at most {MAX_PUBLIC_KEYS} RSA public keys.")


@transaction.atomic
def integration_create(
    *,
    name: str,
    public_keys: Iterable[str],
    grants: Iterable[tuple[Account, str]],
    user_name: str = "",
    user_email: str = "",
    consent: bool = False,
    application_grants: bool = True,
    redirect_uri: str = "",
) -> tuple[Integration, IntegrationUser]:
    """An integration with its public keys and one user holding `grants` ((account, role) pairs);
    with `application_grants`, the integration itself holds them too (application tokens).
    `consent`: the user has consented already (as `manage.py create_integration --grant-consent`).
    """
    if redirect_uri:
        try:
            URLValidator(schemes=["https", "http"])(redirect_uri)
        except ValidationError:
            raise ValidationError(f"The redirect URI {redirect_uri!r} is not a URL.") from None
    integration = Integration.objects.create(name=name, redirect_uri=redirect_uri)
    for pem in public_keys:
        public_key_add(integration=integration, pem=pem)
    user = IntegrationUser.objects.create(
        integration=integration,
        name=user_name or name,
        email=user_email,
        consented_at=timezone.now() if consent else None,
    )
    pairs = list(dict.fromkeys((account.pk, role) for account, role in grants))
    IntegrationGrant.objects.bulk_create(
        IntegrationGrant(integration=integration, user=user, account_id=account, role=role)
        for account, role in pairs
    )
    if application_grants:
        IntegrationGrant.objects.bulk_create(
            IntegrationGrant(integration=integration, account_id=account, role=role)
            for account, role in pairs
        )
    return integration, user


def public_key_add(*, integration: Integration, pem: str) -> IntegrationKey:
    """Register an RSA public key (ValidationError if it is not one, TooManyKeys past five)."""
    key = load_public_key(pem)
    with transaction.atomic():
        Integration.objects.select_for_update().get(pk=integration.pk)  # count, then add, alone
        registered = IntegrationKey.objects.filter(integration=integration)
        if registered.filter(fingerprint=fingerprint(key)).exists():
            raise ValidationError("This public key is registered already for the integration.")
        if registered.count() >= MAX_PUBLIC_KEYS:
            raise TooManyKeys()
        return IntegrationKey.objects.create(
            integration=integration, public_key=normalized_pem(key), fingerprint=fingerprint(key)
        )


@transaction.atomic
def access_token_issue(
    *,
    integration: Integration,
    user: IntegrationUser | None,
    grant_type: str,
    scope: str,
    lifetime: datetime.timedelta,
) -> tuple[IssuedToken, str]:
    """A new access token for `user` (None: the integration itself), valid for `lifetime`, with
    the roles it holds now. Returns the token and its secret (stored only as a digest)."""
    secret = new_secret(TOKEN_PREFIX)
    whom = user.name if user is not None else "the integration"
    credential = ApiCredential.objects.create(
        name=f"OAuth: {integration.name} for {whom}"[:200],
        prefix=secret_prefix(secret),
        secret_hash=secret_digest(secret),
        expires_at=timezone.now() + lifetime,
    )
    grants = IntegrationGrant.objects.filter(integration=integration, user=user)
    AccountRole.objects.bulk_create(
        AccountRole(account_id=account, credential=credential, role=role)
        for account, role in grants.values_list("account_id", "role").distinct()
    )
    token = IssuedToken.objects.create(
        credential=credential,
        integration=integration,
        user=user,
        grant_type=grant_type,
        scope=scope,
    )
    return token, secret


def token_request_record(
    *,
    grant_type: str,
    client_address: str | None,
    token: IssuedToken | None = None,
    error: str = "",
    error_description: str = "",
    integration: Integration | None = None,
    user: IntegrationUser | None = None,
) -> TokenRequest:
    """The audit row of one token request: issued (`token`) or refused (`error`)."""
    if token is not None:
        integration, user = token.integration, token.user
    return TokenRequest.objects.create(
        outcome=TokenRequest.Outcome.ISSUED if token is not None else TokenRequest.Outcome.REFUSED,
        error=error,
        error_description=error_description[:500],
        grant_type=grant_type[:200],
        integration=integration,
        user=user,
        token=token,
        client_address=client_address or None,
    )


def tokens_revoke(tokens) -> int:
    """Revoke the unrevoked, unexpired access tokens among `tokens` (an IssuedToken queryset)."""
    now = timezone.now()
    return ApiCredential.objects.filter(
        oauth_token__in=tokens, revoked_at__isnull=True, expires_at__gt=now
    ).update(revoked_at=now)


@transaction.atomic
def integration_revoke(*, integration: Integration) -> int:
    """Revoke the integration (no token is issued from now on), every access token it holds and
    its refresh tokens; returns how many access tokens were revoked."""
    now = timezone.now()
    Integration.objects.filter(pk=integration.pk, revoked_at__isnull=True).update(revoked_at=now)
    RefreshToken.objects.filter(integration=integration, revoked_at__isnull=True).update(
        revoked_at=now
    )
    return tokens_revoke(IssuedToken.objects.filter(integration=integration))


def user_tokens_revoke(*, user: IntegrationUser) -> int:
    """After the user's roles changed: its tokens carry the old ones, so they stop now."""
    return tokens_revoke(IssuedToken.objects.filter(user=user))


def application_tokens_revoke(*, integration: Integration) -> int:
    return tokens_revoke(IssuedToken.objects.filter(integration=integration, user=None))


def consent_grant(*, user: IntegrationUser) -> None:
    IntegrationUser.objects.filter(pk=user.pk, consented_at__isnull=True).update(
        consented_at=timezone.now()
    )


def consent_withdraw(*, user: IntegrationUser) -> int:
    """The user no longer lets the integration act for them: no new token (consent_required),
    and the live ones stop now. Returns how many tokens were revoked."""
    with transaction.atomic():
        IntegrationUser.objects.filter(pk=user.pk).update(consented_at=None)
        return user_tokens_revoke(user=user)


class IntegrationRevoked(Exception):
    def __init__(self) -> None:
        super().__init__("This integration is revoked: it cannot be changed.")


class InUse(Exception):
    """A row that tokens or token requests refer to: revoke it instead of deleting it."""


def _writable(integration: Integration) -> None:
    if Integration.objects.filter(pk=integration.pk, revoked_at__isnull=False).exists():
        raise IntegrationRevoked()


def integration_add(*, name: str, redirect_uri: str = "") -> Integration:
    return Integration.objects.create(name=name, redirect_uri=redirect_uri)


def integration_change(*, integration: Integration, name: str, redirect_uri: str) -> Integration:
    _writable(integration)
    integration.name, integration.redirect_uri = name, redirect_uri
    integration.save(update_fields=["name", "redirect_uri"])
    return integration


def integration_in_use(integration: Integration) -> bool:
    """Tokens or token requests name it (PROTECT, and the requests are append-only)."""
    return (
        IssuedToken.objects.filter(integration=integration).exists()
        or TokenRequest.objects.filter(integration=integration).exists()
    )


@transaction.atomic
def integration_delete(*, integration: Integration) -> None:
    """Only an integration that never had a token or a token request; else revoke it."""
    Integration.objects.select_for_update().get(pk=integration.pk)
    if integration_in_use(integration):
        raise InUse("Tokens were requested by this integration: revoke it instead.")
    integration.delete()


def public_key_delete(*, key: IntegrationKey) -> None:
    """A key removed stops verifying new JWTs; tokens issued already are not tied to a key."""
    _writable(key.integration)
    key.delete()


def user_add(
    *, integration: Integration, name: str, email: str = "", staff_user=None
) -> IntegrationUser:
    _writable(integration)
    return IntegrationUser.objects.create(
        integration=integration, name=name, email=email, staff_user=staff_user
    )


def user_change(*, user: IntegrationUser, name: str, email: str, staff_user) -> IntegrationUser:
    """Name, email (userinfo) and the staff login that may consent: no role changes, so the
    user's tokens stay valid."""
    _writable(user.integration)
    user.name, user.email, user.staff_user = name, email, staff_user
    user.save(update_fields=["name", "email", "staff_user"])
    return user


def user_in_use(user: IntegrationUser) -> bool:
    return (
        IssuedToken.objects.filter(user=user).exists()
        or TokenRequest.objects.filter(user=user).exists()
    )


@transaction.atomic
def user_delete(*, user: IntegrationUser) -> None:
    _writable(user.integration)
    if user_in_use(user):
        raise InUse(f"Tokens were requested for {user}: remove their roles instead.")
    user.delete()


def _grant_tokens_revoke(grant: IntegrationGrant) -> int:
    if grant.user_id is None:
        return application_tokens_revoke(integration=grant.integration)
    return tokens_revoke(IssuedToken.objects.filter(user_id=grant.user_id))


def grant_add(
    *, integration: Integration, user: IntegrationUser | None, account: Account, role: str
) -> IntegrationGrant:
    """A new role: tokens issued before lack it (the partner gets it with its next token)."""
    _writable(integration)
    return IntegrationGrant.objects.create(
        integration=integration, user=user, account=account, role=role
    )


@transaction.atomic
def grant_change(*, grant: IntegrationGrant, account: Account, role: str) -> int:
    """The role changes: the tokens of its holder (the user, or the integration's application
    tokens) carry the old one, so they are revoked. Returns how many."""
    _writable(grant.integration)
    grant.account, grant.role = account, role
    grant.save(update_fields=["account", "role"])
    return _grant_tokens_revoke(grant)


@transaction.atomic
def grant_delete(*, grant: IntegrationGrant) -> int:
    """The role is taken away: its holder's tokens, which carry it, are revoked (how many)."""
    _writable(grant.integration)
    grant.delete()
    return _grant_tokens_revoke(grant)
