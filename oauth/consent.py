"""The consent page (`GET /oauth/auth`) and the authorization code grant (`POST /oauth/token` with
grant_type authorization_code or refresh_token), as DocuSign's:

The page checks the client before anything else: an unknown or revoked integration key, or a
redirect_uri other than the one registered, gets an error page (400) and never a redirect, since
the browser would be sent somewhere nobody vouched for. Once the redirect_uri is known good, the
other refusals go back to it as `error=...&state=...` (RFC 6749 section 4.1.2.1). Then a staff
login is required (the admin login, coming back here); the login consents as the integration user
it is linked to, or, holding `oauth.change_integration`, for any of the integration's users it
picks. Allow records the consent and sends the browser back with a code; Deny with access_denied.

At the token endpoint the client authenticates with HTTP Basic `client_id:client_secret` (what the
SDK's `generate_access_token` sends) or the same two form fields; the exchanges are in .codes.
"""

import base64
import binascii
import uuid
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render

from . import limits
from .codes import (
    ACCESS_TOKEN_LIFETIME,
    authorization_code_create,
    client_secret_matches,
    code_exchange,
    refresh_exchange,
)
from .errors import InvalidClient, OAuthError, invalid_request
from .models import GrantType, Integration, IntegrationGrant
from .services import consent_grant
from .views import token_answer

REQUIRED_SCOPE = "signature"
SCOPE_DESCRIPTIONS = {
    "signature": "Use the billing API for the accounts shown, with their roles.",
    "impersonation": "Sign in as this user without asking again (JWT grant).",
    "extended": "Keep access for longer with refresh tokens.",
}


class PageError(Exception):
    """A refusal shown on our own page (the redirect_uri is not trusted, or there is none)."""

    def __init__(self, title: str, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.title, self.reason, self.status = title, reason, status


def _error_page(request, error: PageError):
    response = render(
        request,
        "oauth/error.html",
        {"title": error.title, "reason": error.reason},
        status=error.status,
    )
    response["Cache-Control"] = "no-store"
    return response


def _integration(client_id: str) -> Integration | None:
    try:
        return Integration.objects.filter(integration_key=client_id.strip()).first()
    except (ValidationError, ValueError):  # not a UUID
        return None


def _verified_client(request) -> tuple[Integration, str]:
    if not request.is_secure() and not settings.DEBUG:
        raise PageError("HTTPS required", "Sign-in is only available over HTTPS.")
    client_id = request.GET.get("client_id", "")
    integration = _integration(client_id) if client_id else None
    if integration is None or not integration.is_active:
        raise PageError(
            "Unknown application",
            "The client_id is not the integration key of an active integration.",
        )
    redirect_uri = request.GET.get("redirect_uri", "")
    if not redirect_uri or redirect_uri != integration.redirect_uri:
        raise PageError(
            "Redirect URI not registered",
            "The redirect_uri is not the one registered for this integration.",
        )
    return integration, redirect_uri


def _redirect(request, redirect_uri: str, **params: str) -> HttpResponseRedirect:
    """Back to the (verified) redirect_uri with `params`, and the request's state if it sent one."""
    if "state" in request.GET:
        params["state"] = request.GET["state"]
    parts = urlsplit(redirect_uri)
    query = "&".join(part for part in (parts.query, urlencode(params)) if part)
    response = HttpResponseRedirect(urlunsplit(parts._replace(query=query, fragment="")))
    response["Cache-Control"] = "no-store"
    return response


def _requested_scopes(request) -> list[str]:
    return list(dict.fromkeys(request.GET.get("scope", "").split()))


def _choices(request, integration: Integration) -> tuple[list, bool]:
    """(the integration users this login may consent for, whether it picks among them)."""
    own = list(integration.users.filter(staff_user=request.user))
    if own:
        return own, len(own) > 1
    if request.user.is_staff and request.user.has_perm("oauth.change_integration"):
        return list(integration.users.all()), True
    return [], False


def _page(request, integration, redirect_uri, choices, picks, scopes, *, error="", status=200):
    grants = IntegrationGrant.objects.filter(user__in=choices).select_related("account")
    by_user = {user.pk: [] for user in choices}
    for grant in grants.order_by("account__number", "account_id", "role"):
        by_user[grant.user_id].append(grant)
    selected = request.POST.get("user", "")
    if not selected and len(choices) == 1:
        selected = str(choices[0].user_id)
    response = render(
        request,
        "oauth/consent.html",
        {
            "title": f"Allow {integration.name}?",
            "integration": integration,
            "choices": [(user, by_user[user.pk]) for user in choices],
            "picks": picks,
            "selected": selected,
            "scopes": [(scope, SCOPE_DESCRIPTIONS.get(scope, "")) for scope in scopes],
            "error": error,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    # The Allow and Deny forms post here and are redirected to the partner's origin: browsers
    # apply form-action to that redirect too.
    origin = urlsplit(redirect_uri)
    response._csp_update = {"form-action": [f"{origin.scheme}://{origin.netloc}"]}
    return response


def authorize(request):
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    try:
        integration, redirect_uri = _verified_client(request)
    except PageError as error:
        return _error_page(request, error)
    if request.GET.get("response_type", "") != "code":
        return _redirect(
            request,
            redirect_uri,
            error="unsupported_response_type",
            error_description="Only response_type=code is supported.",
        )
    scopes = _requested_scopes(request)
    if REQUIRED_SCOPE not in scopes:
        return _redirect(
            request,
            redirect_uri,
            error="invalid_scope",
            error_description=f"The scope must include {REQUIRED_SCOPE}.",
        )
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL or "/admin/login/")
    choices, picks = _choices(request, integration)
    if not choices:
        return _error_page(
            request,
            PageError(
                "Not allowed",
                "Your login is not one of this integration's users, and may not consent for them.",
                status=403,
            ),
        )
    if request.method != "POST":
        return _page(request, integration, redirect_uri, choices, picks, scopes)
    decision = request.POST.get("decision", "")
    if decision == "deny":
        return _redirect(request, redirect_uri, error="access_denied")
    selected = request.POST.get("user", "") or (str(choices[0].user_id) if not picks else "")
    user = next((user for user in choices if str(user.user_id) == selected), None)
    if decision != "allow" or user is None:
        error = "Choose the user to consent for." if user is None else "Choose Allow or Deny."
        return _page(
            request, integration, redirect_uri, choices, picks, scopes, error=error, status=400
        )
    consent_grant(user=user)
    _code, secret = authorization_code_create(
        integration=integration, user=user, redirect_uri=redirect_uri, scope=" ".join(scopes)
    )
    return _redirect(request, redirect_uri, code=secret)


def _client_credentials(request) -> tuple[str, str]:
    """(client_id, client_secret) from HTTP Basic or the form; InvalidClient when malformed."""
    header = request.headers.get("Authorization", "")
    if not header:
        return request.POST.get("client_id", ""), request.POST.get("client_secret", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise InvalidClient("Authenticate with HTTP Basic (client_id:client_secret).")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidClient("The Basic credentials are not valid base64 text.") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise InvalidClient("The Basic credentials must be client_id:client_secret.")
    if request.POST.get("client_secret"):
        raise invalid_request("Send the client secret once: HTTP Basic or the form, not both.")
    form_id = request.POST.get("client_id", "")
    if form_id and form_id != client_id:
        raise InvalidClient("The client_id differs from the Basic credentials'.")
    return client_id, secret


def _authenticated_client(client_id: str, secret: str) -> Integration:
    if not client_id or not secret:
        raise InvalidClient("Client authentication is required (client_id and client_secret).")
    integration = _integration(client_id)
    if integration is None:
        raise InvalidClient("Unknown client_id.")
    if not integration.is_active or not client_secret_matches(integration, secret):
        error = InvalidClient(
            "The integration has been revoked."
            if not integration.is_active
            else "The client secret is not valid."
        )
        error.integration = integration
        raise error
    return integration


def _counted_client_id(client_id: str) -> str:
    """The integration key to count the request against: none unless it is a UUID (no other
    string can name an integration, and cache keys get only a canonical one)."""
    try:
        return str(uuid.UUID(client_id.strip()))
    except ValueError:
        return ""


def code_or_refresh(request, grant_type: str, address: str):
    try:
        client_id, secret = _client_credentials(request)
        malformed = None
    except OAuthError as error:
        client_id, secret, malformed = "", "", error
    limits.check_token_request(address, _counted_client_id(client_id))
    if malformed is not None:
        raise malformed
    integration = _authenticated_client(client_id, secret)
    name = "code" if grant_type == GrantType.AUTHORIZATION_CODE else "refresh_token"
    value = request.POST.get(name, "")
    if not value:
        error = invalid_request(f"The {name} parameter is missing.")
        error.integration = integration
        raise error
    if grant_type == GrantType.AUTHORIZATION_CODE:
        issued, access, refresh = code_exchange(
            integration=integration,
            code=value,
            redirect_uri=request.POST.get("redirect_uri", ""),
            address=address,
        )
    else:
        issued, access, refresh = refresh_exchange(
            integration=integration, refresh_token=value, address=address
        )
    return token_answer(access, ACCESS_TOKEN_LIFETIME, refresh_token=refresh, scope=issued.scope)
