"""`Authorization: Bearer <secret>` for partner credentials, shared by both APIs."""

from django.utils import timezone
from rest_framework import authentication, exceptions

from audit.context import note_credential

from .models import ApiCredential
from .selectors import active_credential_for_secret


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
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer <key>'."
            )
        try:
            secret = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The API key is not valid.") from None
        credential = active_credential_for_secret(secret)
        if credential is None:
            raise exceptions.AuthenticationFailed("The API key is not valid or has been revoked.")
        note_credential(credential)  # the audit trail's actor for this request
        ApiCredential.objects.filter(pk=credential.pk).update(last_used_at=timezone.now())
        return PartnerPrincipal(credential), credential

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


def request_grantee(request) -> dict:
    """The staff user or partner credential behind an authenticated API request."""
    if isinstance(request.user, PartnerPrincipal):
        return {"credential": request.user.credential}
    return {"user": request.user}
