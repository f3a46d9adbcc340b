"""`Authorization: Bearer <secret>` for partner credentials, shared by both APIs.

A wrong, revoked or expired key (or a previous secret past its grace period) is refused alike,
401, and counts as a failed authentication of the client address; once an address has used up
its failures, every Bearer request from it is refused with 429, a good key's too: a bad key's
when its failure would be counted, a good key's by the rate limits' check, in the same round trip
to Redis as the limits (billing_site/api/throttles.py).
"""

import datetime

from django.db.models import Q
from django.utils import timezone
from rest_framework import authentication, exceptions

from audit.context import note_credential, note_user
from billing_site.api.throttles import record_auth_failure

from .models import ApiCredential
from .selectors import active_credential_for_secret

# last_used_at is written at most this often per credential, not on every request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class PartnerPrincipal:
    """`request.user` for a request made with a partner credential (no staff user behind it)."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False

    def __init__(self, credential: ApiCredential) -> None:
        self.credential = credential

    def __str__(self) -> str:
        return str(self.credential)


class BearerCredentialAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            record_auth_failure(request)
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer <key>'."
            )
        try:
            secret = header[1].decode()
        except UnicodeDecodeError:
            record_auth_failure(request)
            raise exceptions.AuthenticationFailed("The API key is not valid.") from None
        # DocuSign's URLs name the account: read with the key, in the same query.
        reference = getattr(request, "parser_context", None) or {}
        reference = reference.get("kwargs", {}).get("account_id")
        credential = active_credential_for_secret(secret, account_reference=reference)
        if credential is None:
            record_auth_failure(request)
            raise exceptions.AuthenticationFailed("The API key is not valid or has been revoked.")
        note_credential(credential)  # the audit trail's actor for this request
        now = timezone.now()
        if credential.last_used_at is None or credential.last_used_at < now - LAST_USED_RESOLUTION:
            # At most once a minute per credential (the condition again, for concurrent
            # requests): most requests write nothing.
            stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
            ApiCredential.objects.filter(stale, pk=credential.pk).update(last_used_at=now)
        return PartnerPrincipal(credential), credential

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


class StaffSessionAuthentication(authentication.SessionAuthentication):
    """A logged-in staff session (with DRF's CSRF check), noted as the audit trail's actor."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            note_user(result[0])
        return result


def request_grantee(request) -> dict:
    """The staff user or partner credential behind an authenticated API request."""
    if isinstance(request.user, PartnerPrincipal):
        return {"credential": request.user.credential}
    return {"user": request.user}
