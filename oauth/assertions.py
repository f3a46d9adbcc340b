"""The JWT bearer grant's assertion (RFC 7523), checked as DocuSign checks it.

PyJWT verifies the RS256 signature against each of the integration's public keys; the claims are
checked here, one by one, so that each refusal says what was wrong:

- `iss`: an integration key (GUID) of an integration that is not revoked (else invalid_client);
- `sub`: one of the integration's users (absent: an application token, which acts with the
  integration's own roles); the user must have consented (else consent_required);
- `aud`: this server's OAuth host name, without a scheme (`OAUTH_HOST_NAME`, or by default the
  host and port the token request was sent to);
- `iat` not in the future and `exp` not past, each within `OAUTH_CLOCK_SKEW`; `exp` at most an
  hour after `iat` and after now;
- `scope`: space-separated, with `signature` (DocuSign's `impersonation` and others are accepted).
"""

import uuid
from dataclasses import dataclass

import jwt
from django.conf import settings
from django.utils import timezone

from .errors import OAuthError, invalid_client, invalid_grant
from .keys import load_public_key
from .models import Integration, IntegrationUser

MAX_LIFETIME = 3600  # seconds from iat (and from now) to exp, as DocuSign allows
REQUIRED_SCOPE = "signature"


@dataclass(frozen=True)
class Grant:
    integration: Integration
    user: IntegrationUser | None  # None: an application token
    scope: str


def check_assertion(assertion: str, audience: str) -> Grant:
    """The grant that the signed `assertion` asks for, or OAuthError."""
    claims = _unverified_claims(assertion)
    integration = _integration(claims.get("iss"))
    _verify_signature(assertion, integration)
    _check_audience(claims.get("aud"), audience)
    _check_times(claims)
    scope = _scope(claims.get("scope"))
    user = _user(integration, claims.get("sub"))
    return Grant(integration=integration, user=user, scope=scope)


def _unverified_claims(assertion: str) -> dict:
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise invalid_grant("The assertion is not a well-formed JWT.") from None
    if header.get("alg") != "RS256":
        raise invalid_grant("The assertion must be signed with RS256.")
    if not isinstance(claims, dict):
        raise invalid_grant("The assertion's claims must be a JSON object.")
    return claims


def _integration(issuer) -> Integration:
    try:
        key = uuid.UUID(str(issuer)) if isinstance(issuer, str) else None
    except ValueError:
        key = None
    integration = (
        None
        if key is None
        else Integration.objects.filter(integration_key=key).prefetch_related("public_keys").first()
    )
    if integration is None:
        raise invalid_client("The integration key (iss) is not registered.")
    if not integration.is_active:
        raise invalid_client("The integration has been revoked.")
    return integration


def _verify_signature(assertion: str, integration: Integration) -> None:
    for registered in integration.public_keys.all():
        try:
            jwt.decode(
                assertion,
                load_public_key(registered.public_key),
                algorithms=["RS256"],
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError:
            raise invalid_grant("The assertion is not a well-formed JWT.") from None
        return
    raise invalid_grant("no_valid_keys_or_signatures")


def _check_audience(aud, expected: str) -> None:
    audiences = aud if isinstance(aud, list) else [aud]
    if expected.lower() not in [a.lower() for a in audiences if isinstance(a, str)]:
        raise invalid_grant(f"The audience (aud) must be {expected!r}.")


def _check_times(claims: dict) -> None:
    skew = settings.OAUTH_CLOCK_SKEW
    now = timezone.now().timestamp()
    iat, exp = claims.get("iat"), claims.get("exp")
    if not _is_number(iat) or not _is_number(exp):
        raise invalid_grant("The assertion must have numeric iat and exp claims.")
    if iat > now + skew:
        raise invalid_grant("The assertion's iat is in the future.")
    if exp <= now - skew:
        raise invalid_grant("The assertion has expired (exp).")
    if exp <= iat:
        raise invalid_grant("The assertion's exp must be after its iat.")
    if exp - iat > MAX_LIFETIME + skew or exp > now + MAX_LIFETIME + skew:
        raise invalid_grant("The assertion's exp must be at most one hour after iat and now.")


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _scope(scope) -> str:
    scopes = scope.split() if isinstance(scope, str) else []
    if REQUIRED_SCOPE not in scopes:
        raise OAuthError("invalid_scope", f"The scope must include {REQUIRED_SCOPE!r}.")
    return " ".join(dict.fromkeys(scopes))


def _user(integration: Integration, subject) -> IntegrationUser | None:
    if subject is None:
        return None
    try:
        user_id = uuid.UUID(str(subject)) if isinstance(subject, str) else None
    except ValueError:
        user_id = None
    user = (
        None
        if user_id is None
        else IntegrationUser.objects.filter(integration=integration, user_id=user_id).first()
    )
    if user is None:
        raise invalid_grant("The integration may not act for this user (sub).")
    if user.consented_at is None:
        raise OAuthError("consent_required", "The user has not consented to this integration.")
    return user
