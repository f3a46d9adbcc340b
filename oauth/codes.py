"""The authorization code grant's writes: client secrets, codes, refresh tokens.

A code is given by the consent page and exchanged once, within five minutes, for an access token
(eight hours) and a refresh token (thirty days); a refresh token is used once, for a new pair
(rotation). All three secrets are 256 random bits, stored only as SHA-256 digests. A code or a
refresh token presented a second time means it leaked (or was replayed): it is refused and every
token issued from the same code is revoked (RFC 6749 section 4.1.2, and the OAuth security BCP for
refresh tokens), since one of the two holders is not the client.
"""

import datetime
import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from contacts.credentials import secret_digest

from .errors import OAuthError, invalid_grant
from .models import (
    AuthorizationCode,
    GrantType,
    Integration,
    IntegrationUser,
    IssuedToken,
    RefreshToken,
)
from .services import access_token_issue, token_request_record, tokens_revoke

CODE_LIFETIME = datetime.timedelta(minutes=5)
ACCESS_TOKEN_LIFETIME = datetime.timedelta(hours=8)  # DocuSign's, for the code grant
REFRESH_TOKEN_LIFETIME = datetime.timedelta(days=30)  # DocuSign's


def client_secret_set(integration: Integration) -> str:
    """A new client secret for the integration (the previous one stops working); returned once,
    stored only as its digest."""
    secret = secrets.token_urlsafe(32)
    Integration.objects.filter(pk=integration.pk).update(client_secret_hash=secret_digest(secret))
    integration.client_secret_hash = secret_digest(secret)
    return secret


def client_secret_matches(integration: Integration, secret: str) -> bool:
    if not integration.client_secret_hash or not secret:
        return False
    return hmac.compare_digest(integration.client_secret_hash, secret_digest(secret))


def authorization_code_create(
    *, integration: Integration, user: IntegrationUser, redirect_uri: str, scope: str
) -> tuple[AuthorizationCode, str]:
    code = secrets.token_urlsafe(32)
    row = AuthorizationCode.objects.create(
        code_hash=secret_digest(code),
        integration=integration,
        user=user,
        redirect_uri=redirect_uri,
        scope=scope,
        expires_at=timezone.now() + CODE_LIFETIME,
    )
    return row, code


def family_revoke(code_id: int) -> int:
    """Revoke every access and refresh token issued from the code (directly or by refreshing)."""
    now = timezone.now()
    RefreshToken.objects.filter(authorization_code_id=code_id, revoked_at__isnull=True).update(
        revoked_at=now
    )
    return tokens_revoke(IssuedToken.objects.filter(refresh_token__authorization_code_id=code_id))


class Reused(OAuthError):
    """A code or refresh token presented again: refused after its family is revoked (the
    revocation must outlive the refusal, so it is made outside the exchange's transaction)."""

    def __init__(self, description: str, code_id: int | None) -> None:
        super().__init__("invalid_grant", description)
        self.code_id = code_id


def _issue(
    *,
    integration: Integration,
    user: IntegrationUser,
    scope: str,
    grant_type: str,
    code_id: int | None,
    address: str | None,
) -> tuple[IssuedToken, str, str]:
    issued, access = access_token_issue(
        integration=integration,
        user=user,
        grant_type=grant_type,
        scope=scope,
        lifetime=ACCESS_TOKEN_LIFETIME,
    )
    refresh = secrets.token_urlsafe(32)
    RefreshToken.objects.create(
        token_hash=secret_digest(refresh),
        integration=integration,
        user=user,
        authorization_code_id=code_id,
        access_token=issued,
        scope=scope,
        expires_at=timezone.now() + REFRESH_TOKEN_LIFETIME,
    )
    token_request_record(grant_type=grant_type, client_address=address, token=issued)
    return issued, access, refresh


def _refuse(error: OAuthError, integration: Integration, user=None) -> OAuthError:
    error.integration, error.user = integration, user  # for the view's TokenRequest row
    return error


def code_exchange(
    *, integration: Integration, code: str, redirect_uri: str, address: str | None
) -> tuple[IssuedToken, str, str]:
    """(access token, its secret, refresh token secret) for a code, or OAuthError (invalid_grant).
    The code row is locked and marked used in the issuing transaction: exchanged once."""
    try:
        with transaction.atomic():
            row = (
                AuthorizationCode.objects.select_for_update()
                .select_related("user")
                .filter(code_hash=secret_digest(code), integration=integration)
                .first()
            )
            if row is None:
                raise _refuse(invalid_grant("The authorization code is not valid."), integration)
            if row.used_at is not None:
                raise _refuse(
                    Reused("The authorization code has been used already.", row.pk),
                    integration,
                    row.user,
                )
            if row.expires_at <= timezone.now():
                raise _refuse(
                    invalid_grant("The authorization code has expired."), integration, row.user
                )
            if redirect_uri and redirect_uri != row.redirect_uri:
                raise _refuse(
                    invalid_grant("The redirect_uri does not match the authorization request's."),
                    integration,
                    row.user,
                )
            row.used_at = timezone.now()
            row.save(update_fields=["used_at"])
            return _issue(
                integration=integration,
                user=row.user,
                scope=row.scope,
                grant_type=GrantType.AUTHORIZATION_CODE,
                code_id=row.pk,
                address=address,
            )
    except Reused as reused:
        family_revoke(reused.code_id)
        raise


def refresh_exchange(
    *, integration: Integration, refresh_token: str, address: str | None
) -> tuple[IssuedToken, str, str]:
    """A new access token and a new refresh token for a refresh token, used once (rotation)."""
    try:
        with transaction.atomic():
            row = (
                RefreshToken.objects.select_for_update()
                .select_related("user")
                .filter(token_hash=secret_digest(refresh_token), integration=integration)
                .first()
            )
            if row is None:
                raise _refuse(invalid_grant("The refresh token is not valid."), integration)
            if row.revoked_at is not None:
                raise _refuse(
                    invalid_grant("The refresh token has been revoked."), integration, row.user
                )
            if row.used_at is not None:
                raise _refuse(
                    Reused("The refresh token has been used already.", row.authorization_code_id),
                    integration,
                    row.user,
                )
            if row.expires_at <= timezone.now():
                raise _refuse(
                    invalid_grant("The refresh token has expired."), integration, row.user
                )
            if row.user.integration_id != integration.pk or row.user.consented_at is None:
                raise _refuse(
                    invalid_grant("The user's consent has been withdrawn."), integration, row.user
                )
            row.used_at = timezone.now()
            row.save(update_fields=["used_at"])
            return _issue(
                integration=integration,
                user=row.user,
                scope=row.scope,
                grant_type=GrantType.REFRESH_TOKEN,
                code_id=row.authorization_code_id,
                address=address,
            )
    except Reused as reused:
        if reused.code_id is not None:
            family_revoke(reused.code_id)
        raise
