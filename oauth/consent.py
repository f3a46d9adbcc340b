"""The consent page (`GET /oauth/auth`) and the authorization code grant: not built yet."""

from django.http import HttpResponse

from .errors import OAuthError


def authorize(request):
    return HttpResponse("Consent is not available yet.", status=501, content_type="text/plain")


def code_or_refresh(request, grant_type: str, address: str):
    raise OAuthError(
        "unsupported_grant_type", f"The grant type {grant_type!r} is not supported yet."
    )
