"""DocuSign's OAuth endpoints: `POST /oauth/token` and `GET /oauth/userinfo` (the consent page
and the authorization code grant: .consent).

Plain Django views (no DRF: OAuth has its own error format, RFC 6749 section 5.2), over HTTPS only
outside DEBUG, answering in JSON with `Cache-Control: no-store`.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from billing_site.api.throttles import (
    RateLimited,
    check_auth_failures,
    client_address,
    record_auth_failure,
)
from contacts.models import AccountRole
from contacts.selectors import active_credential_for_secret

from . import limits
from .assertions import check_assertion
from .errors import InvalidToken, OAuthError, invalid_request
from .models import GrantType, IssuedToken
from .services import access_token_issue, token_request_record

JWT_ACCESS_TOKEN_LIFETIME = datetime.timedelta(hours=1)  # DocuSign's, for the JWT grant


def require_https(request) -> None:
    if not request.is_secure() and not settings.DEBUG:
        raise invalid_request("HTTPS is required.")


def oauth_host_name(request) -> str:
    """The `aud` a JWT must name: the configured OAuth host name, or the host (and port) this
    request was sent to, as the SDK's `oauth_host_name` is."""
    return settings.OAUTH_HOST_NAME or request.get_host()


def api_base_uri(request) -> str:
    """Userinfo's `base_uri`: the API origin partners call (`base_uri + "/restapi"`)."""
    return settings.OAUTH_API_BASE_URI or f"{request.scheme}://{request.get_host()}"


def token_answer(secret: str, lifetime: datetime.timedelta, **extra) -> JsonResponse:
    response = JsonResponse(
        {
            "access_token": secret,
            "token_type": "Bearer",
            "expires_in": int(lifetime.total_seconds()),
            **extra,
        }
    )
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


@csrf_exempt
def token(request):
    grant_type = request.POST.get("grant_type", "") if request.method == "POST" else ""
    address = client_address(request)
    try:
        if request.method != "POST":
            raise invalid_request("Use POST, with a form-encoded body.")
        require_https(request)
        if not grant_type:
            raise invalid_request("The grant_type parameter is missing.")
        if grant_type == GrantType.JWT_BEARER:
            return _jwt_bearer(request, address)
        if grant_type in (GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN):
            from .consent import code_or_refresh  # the authorization code grant's own module

            return code_or_refresh(request, grant_type, address)
        raise OAuthError(
            "unsupported_grant_type", f"The grant type {grant_type!r} is not supported."
        )
    except OAuthError as error:
        token_request_record(
            grant_type=grant_type,
            client_address=address,
            error=error.error,
            error_description=error.description,
            integration=getattr(error, "integration", None),
            user=getattr(error, "user", None),
        )
        return error.response()


def _jwt_bearer(request, address: str) -> JsonResponse:
    assertion = request.POST.get("assertion", "")
    if not assertion:
        raise invalid_request("The assertion parameter is missing.")
    limits.check_token_request(address, limits.unverified_issuer(assertion))
    grant = check_assertion(assertion, oauth_host_name(request))
    with transaction.atomic():
        issued, secret = access_token_issue(
            integration=grant.integration,
            user=grant.user,
            grant_type=GrantType.JWT_BEARER,
            scope=grant.scope,
            lifetime=JWT_ACCESS_TOKEN_LIFETIME,
        )
        token_request_record(grant_type=GrantType.JWT_BEARER, client_address=address, token=issued)
    return token_answer(secret, JWT_ACCESS_TOKEN_LIFETIME)


def issued_token_for(request) -> IssuedToken:
    """The access token of the request's `Authorization: Bearer`, or InvalidToken."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise InvalidToken("An access token is required (Authorization: Bearer <token>).")
    credential = active_credential_for_secret(secret.strip())
    found = (
        None
        if credential is None
        else IssuedToken.objects.select_related("integration", "user")
        .filter(credential_id=credential.pk)
        .first()
    )
    if found is None or not found.integration.is_active:
        raise InvalidToken()
    found.credential = credential
    return found


def userinfo(request):
    """An address that used up its failed authentications (the APIs' count: a bad token here is
    one) is refused with 429, as on the APIs."""
    try:
        if request.method != "GET":
            raise invalid_request("Use GET.")
        require_https(request)
        check_auth_failures(request)
        try:
            issued = issued_token_for(request)
        except InvalidToken:
            record_auth_failure(request)
            raise
    except RateLimited as limited:
        return limits.TooManyRequests(
            int(limited.wait), "Too many failed authentications."
        ).response()
    except OAuthError as error:
        return error.response()
    accounts = (
        AccountRole.objects.filter(credential_id=issued.credential.pk)
        .order_by("account__number", "account_id")
        .values_list("account__guid", "account__name")
        .distinct()
    )
    base_uri = api_base_uri(request)
    user, integration = issued.user, issued.integration
    body = {
        "sub": str(user.user_id if user is not None else integration.integration_key),
        "name": user.name if user is not None else integration.name,
        "given_name": user.given_name if user is not None else integration.name,
        "family_name": user.family_name if user is not None else "",
        "created": (user or integration).created_at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
        "email": user.email if user is not None else "",
        "accounts": [
            {
                "account_id": str(guid),
                "is_default": index == 0,
                "account_name": name,
                "base_uri": base_uri,
            }
            for index, (guid, name) in enumerate(accounts)
        ],
    }
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response
