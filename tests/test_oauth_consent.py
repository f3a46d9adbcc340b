"""DocuSign's consent page and authorization code grant, through Django's test client over HTTPS.

GET /oauth/auth checks the client and its redirect_uri before anything (a bad one gets our own
400 page, never a redirect), then the request (refusals go back to the redirect_uri with state),
then asks for a staff login; Allow gives a code (a digest in the database), Deny access_denied.
POST /oauth/token exchanges the code once (client authenticated by HTTP Basic or the form) for an
8-hour access token and a 30-day refresh token, which rotates; a code or refresh token used twice
revokes every token issued from that code.
"""

import base64
import datetime
import hashlib
import threading
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.utils import timezone

from contacts.models import AccountRole, ApiCredential
from oauth.codes import client_secret_set
from oauth.models import (
    AuthorizationCode,
    GrantType,
    IntegrationGrant,
    IntegrationUser,
    IssuedToken,
    RefreshToken,
    TokenRequest,
)
from oauth.services import integration_revoke
from tests.factories import AccountFactory, InvoiceFactory, UserFactory, days_ago
from tests.oauth_support import make_integration

pytestmark = pytest.mark.django_db

REDIRECT = "https://partner.example/callback"
STATE = "st-123 /?&"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@pytest.fixture
def accounts():
    mine = AccountFactory(currency="EUR", name="Club Nord")
    InvoiceFactory(account=mine, due_date=days_ago(20))
    other = AccountFactory(currency="EUR", name="Club Sud")
    return mine, other


@pytest.fixture
def partner(accounts):
    """An integration (no consent yet) whose user Ada is linked to the staff login `ada`, with a
    client secret; Ada is admin on Club Nord and viewer... only Club Nord's admin."""
    mine, _other = accounts
    integration, user = make_integration([mine], consent=False, redirect_uri=REDIRECT)
    staff = UserFactory(username="ada")
    user.staff_user = staff
    user.save()
    secret = client_secret_set(integration)
    return integration, user, staff, secret


@pytest.fixture
def ada(client, partner):
    client.force_login(partner[2])
    return client


def auth_url(integration, **overrides) -> str:
    params = {
        "response_type": "code",
        "scope": "signature impersonation",
        "client_id": str(integration.integration_key),
        "redirect_uri": REDIRECT,
        "state": STATE,
        **overrides,
    }
    return "/oauth/auth?" + urlencode({k: v for k, v in params.items() if v is not None})


def redirected(response) -> tuple[str, dict]:
    assert response.status_code == 302
    location = response["Location"]
    parts = urlsplit(location)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query)


def allow(client, integration, **form) -> str:
    url = auth_url(integration)
    response = client.post(url, {"decision": "allow", **form}, secure=True)
    target, query = redirected(response)
    assert target == REDIRECT
    assert query["state"] == [STATE]
    return query["code"][0]


def basic(client_id, secret) -> dict:
    raw = f"{client_id}:{secret}".encode()
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(raw).decode()}


def token_post(client, data: dict, **extra):
    return client.post(
        "/oauth/token",
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        secure=True,
        **extra,
    )


def exchange(client, partner, code: str, **extra):
    integration, _user, _staff, secret = partner
    auth = extra.pop("auth", None) or basic(integration.integration_key, secret)
    return token_post(client, {"grant_type": "authorization_code", "code": code, **extra}, **auth)


def refresh(client, partner, refresh_token: str):
    integration, _user, _staff, secret = partner
    return token_post(
        client,
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        **basic(integration.integration_key, secret),
    )


def api_status(client, account, access_token: str) -> int:
    return client.get(
        f"/restapi/v2.1/accounts/{account.guid}/billing_invoices_past_due",
        secure=True,
        HTTP_AUTHORIZATION=f"Bearer {access_token}",
    ).status_code


def refused(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error
    assert set(body) == {"error", "error_description"}
    assert response["Cache-Control"] == "no-store"
    return body


# The consent page: the client and its redirect_uri first, never redirecting to an unverified URI.


def test_anonymous_is_sent_to_the_admin_login_and_back(client, partner):
    url = auth_url(partner[0])
    response = client.get(url, secure=True)
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=" + quote(url, safe="/")
    assert AuthorizationCode.objects.count() == 0


@pytest.mark.parametrize(
    "client_id",
    ["", "not-a-uuid", "00000000-0000-0000-0000-000000000000", None],
)
def test_unknown_client_gets_an_error_page_not_a_redirect(ada, partner, client_id):
    response = ada.get(auth_url(partner[0], client_id=client_id), secure=True)
    assert response.status_code == 400
    assert "Location" not in response
    assert b"Unknown application" in response.content
    assert b"not the integration key of an active integration" in response.content


def test_revoked_integration_gets_an_error_page(ada, partner):
    integration_revoke(integration=partner[0])
    response = ada.get(auth_url(partner[0]), secure=True)
    assert response.status_code == 400
    assert "Location" not in response
    assert b"Unknown application" in response.content


@pytest.mark.parametrize(
    "redirect_uri",
    [
        REDIRECT + "/",
        REDIRECT.upper(),
        "https://evil.example/callback",
        REDIRECT + "?x=1",
        "",
        None,
    ],
)
def test_redirect_uri_must_be_the_registered_one_exactly(ada, partner, redirect_uri):
    response = ada.get(auth_url(partner[0], redirect_uri=redirect_uri), secure=True)
    assert response.status_code == 400
    assert "Location" not in response
    assert b"Redirect URI not registered" in response.content


def test_integration_without_a_registered_redirect_uri_gets_no_redirect(ada, accounts):
    integration, _user = make_integration([accounts[0]], name="No redirect")
    response = ada.get(auth_url(integration), secure=True)
    assert response.status_code == 400
    assert "Location" not in response


def test_bad_client_is_refused_before_the_login(client, partner):
    response = client.get(auth_url(partner[0], redirect_uri="https://evil.example/"), secure=True)
    assert response.status_code == 400
    assert "Location" not in response


def test_plain_http_is_refused(ada, partner):
    response = ada.get(auth_url(partner[0]))
    assert response.status_code == 400
    assert b"HTTPS" in response.content


@pytest.mark.parametrize("response_type", ["token", "", None, "code token"])
def test_other_response_types_go_back_with_unsupported_response_type(ada, partner, response_type):
    response = ada.get(auth_url(partner[0], response_type=response_type), secure=True)
    target, query = redirected(response)
    assert target == REDIRECT
    assert query["error"] == ["unsupported_response_type"]
    assert query["state"] == [STATE]
    assert "code" not in query


def test_without_state_the_redirect_has_none(ada, partner):
    response = ada.get(auth_url(partner[0], response_type="token", state=None), secure=True)
    _target, query = redirected(response)
    assert "state" not in query


@pytest.mark.parametrize("scope", ["impersonation", "", None, "signatures"])
def test_scope_must_include_signature(ada, partner, scope):
    response = ada.get(auth_url(partner[0], scope=scope), secure=True)
    target, query = redirected(response)
    assert (target, query["error"], query["state"]) == (REDIRECT, ["invalid_scope"], [STATE])


def test_the_page_shows_who_what_and_where(ada, partner, accounts):
    integration, user, _staff, _secret = partner
    response = ada.get(auth_url(integration), secure=True)
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "Acme tills",
        "Ada Lovelace",
        "ada@example.com",
        "Club Nord",
        str(accounts[0].number),
        "Account administrator",
        "<code>signature</code>",
        "<code>impersonation</code>",
        'name="csrfmiddlewaretoken"',
        'value="allow"',
        'value="deny"',
    ):
        assert text in page
    assert "Club Sud" not in page
    assert "<script" not in page
    assert response["Cache-Control"] == "no-store"
    # The forms' redirect leads to the partner's origin: the policy lets it.
    assert "form-action 'self' https://partner.example" in response["Content-Security-Policy"]
    user.refresh_from_db()
    assert user.consented_at is None
    assert AuthorizationCode.objects.count() == 0


def test_allow_consents_and_gives_a_code_kept_as_a_digest(ada, partner):
    integration, user, _staff, _secret = partner
    before = timezone.now()
    code = allow(ada, integration)
    row = AuthorizationCode.objects.get()
    assert row.code_hash == digest(code)
    assert code not in {row.code_hash, row.redirect_uri, row.scope}
    assert (row.integration, row.user, row.redirect_uri, row.scope, row.used_at) == (
        integration,
        user,
        REDIRECT,
        "signature impersonation",
        None,
    )
    lifetime = row.expires_at - before
    assert (
        datetime.timedelta(minutes=4, seconds=59)
        < lifetime
        <= datetime.timedelta(minutes=5, seconds=5)
    )
    user.refresh_from_db()
    assert before <= user.consented_at <= timezone.now()


def test_deny_goes_back_with_access_denied(ada, partner):
    response = ada.post(auth_url(partner[0]), {"decision": "deny"}, secure=True)
    target, query = redirected(response)
    assert (target, query) == (REDIRECT, {"error": ["access_denied"], "state": [STATE]})
    assert AuthorizationCode.objects.count() == 0
    partner[1].refresh_from_db()
    assert partner[1].consented_at is None


def test_neither_allow_nor_deny_is_a_400(ada, partner):
    response = ada.post(auth_url(partner[0]), {"decision": "maybe"}, secure=True)
    assert response.status_code == 400
    assert b"Choose Allow or Deny." in response.content
    assert AuthorizationCode.objects.count() == 0


def test_the_forms_need_the_csrf_token(partner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(partner[2])
    response = client.post(auth_url(partner[0]), {"decision": "allow"}, secure=True)
    assert response.status_code == 403
    assert AuthorizationCode.objects.count() == 0


def test_a_staff_login_not_linked_and_without_permission_gets_403(client, partner):
    client.force_login(UserFactory(username="bob"))
    response = client.get(auth_url(partner[0]), secure=True)
    assert response.status_code == 403
    assert b"not one of this integration" in response.content
    response = client.post(auth_url(partner[0]), {"decision": "allow"}, secure=True)
    assert response.status_code == 403
    assert AuthorizationCode.objects.count() == 0


def test_a_staff_login_with_the_permission_picks_the_user(client, partner, accounts):
    integration, ada_user, _staff, _secret = partner
    grace = IntegrationUser.objects.create(integration=integration, name="Grace Hopper")
    IntegrationGrant.objects.create(
        integration=integration, user=grace, account=accounts[1], role="viewer"
    )
    stranger, _ = make_integration([accounts[1]], name="Other app")
    boss = UserFactory(username="boss")
    boss.user_permissions.add(
        Permission.objects.get(content_type__app_label="oauth", codename="change_integration")
    )
    client.force_login(boss)
    response = client.get(auth_url(integration), secure=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('type="radio" name="user"') == 2
    assert "Grace Hopper" in page
    assert "Ada Lovelace" in page
    assert "Club Sud" in page
    assert " checked" not in page  # two to choose from: none chosen for the user

    missing = client.post(auth_url(integration), {"decision": "allow"}, secure=True)
    assert missing.status_code == 400
    assert b"Choose the user to consent for." in missing.content
    foreign = stranger.users.get()
    wrong = client.post(
        auth_url(integration), {"decision": "allow", "user": str(foreign.user_id)}, secure=True
    )
    assert wrong.status_code == 400
    assert AuthorizationCode.objects.count() == 0

    allow(client, integration, user=str(grace.user_id))
    assert AuthorizationCode.objects.get().user == grace
    grace.refresh_from_db()
    ada_user.refresh_from_db()
    assert grace.consented_at is not None
    assert ada_user.consented_at is None


def test_a_linked_login_cannot_consent_for_another_user(ada, partner):
    integration = partner[0]
    other = IntegrationUser.objects.create(integration=integration, name="Grace Hopper")
    response = ada.post(
        auth_url(integration), {"decision": "allow", "user": str(other.user_id)}, secure=True
    )
    assert response.status_code == 400
    assert b"Choose the user to consent for." in response.content
    assert AuthorizationCode.objects.count() == 0
    other.refresh_from_db()
    assert other.consented_at is None


# The authorization code grant.


def test_the_code_gives_an_access_token_and_a_refresh_token(ada, partner, accounts):
    integration, user, _staff, _secret = partner
    code = allow(ada, integration)
    response = exchange(ada, partner, code)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == (
        "Bearer",
        28800,
        "signature impersonation",
    )
    assert response["Cache-Control"] == "no-store"

    issued = IssuedToken.objects.get()
    assert (issued.integration, issued.user, issued.grant_type, issued.scope) == (
        integration,
        user,
        GrantType.AUTHORIZATION_CODE,
        "signature impersonation",
    )
    credential = ApiCredential.objects.get(pk=issued.credential_id)
    assert credential.secret_hash == digest(body["access_token"])
    lifetime = credential.expires_at - timezone.now()
    assert datetime.timedelta(hours=7, minutes=59) < lifetime <= datetime.timedelta(hours=8)
    roles = set(AccountRole.objects.filter(credential=credential).values_list("account", "role"))
    grants = set(IntegrationGrant.objects.filter(user=user).values_list("account", "role"))
    assert roles == grants == {(accounts[0].pk, "admin")}

    stored = RefreshToken.objects.get()
    assert stored.token_hash == digest(body["refresh_token"])
    assert (stored.user, stored.access_token, stored.used_at, stored.revoked_at) == (
        user,
        issued,
        None,
        None,
    )
    assert datetime.timedelta(days=29, hours=23) < stored.expires_at - timezone.now()
    assert AuthorizationCode.objects.get().used_at is not None
    request = TokenRequest.objects.get()
    assert (request.outcome, request.token, request.grant_type) == (
        TokenRequest.Outcome.ISSUED,
        issued,
        "authorization_code",
    )

    # The token works on the DocuSign API (its account only) and on userinfo.
    assert api_status(ada, accounts[0], body["access_token"]) == 200
    assert api_status(ada, accounts[1], body["access_token"]) in (403, 404)
    info = ada.get(
        "/oauth/userinfo", secure=True, HTTP_AUTHORIZATION=f"Bearer {body['access_token']}"
    )
    assert info.status_code == 200
    assert info.json()["sub"] == str(user.user_id)
    assert [a["account_id"] for a in info.json()["accounts"]] == [str(accounts[0].guid)]


def test_client_credentials_in_the_form_work_too(ada, partner):
    integration, _user, _staff, secret = partner
    code = allow(ada, integration)
    response = token_post(
        ada,
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": str(integration.integration_key),
            "client_secret": secret,
            "redirect_uri": REDIRECT,
        },
    )
    assert response.status_code == 200, response.content


def test_a_code_exchanged_twice_is_refused_and_revokes_its_tokens(ada, partner, accounts):
    code = allow(ada, partner[0])
    first = exchange(ada, partner, code).json()
    again = exchange(ada, partner, code)
    refused(again, 400, "invalid_grant")
    assert again.json()["error_description"] == "The authorization code has been used already."
    assert api_status(ada, accounts[0], first["access_token"]) == 401
    assert ApiCredential.objects.get().revoked_at is not None
    assert RefreshToken.objects.get().revoked_at is not None
    refused(refresh(ada, partner, first["refresh_token"]), 400, "invalid_grant")
    assert IssuedToken.objects.count() == 1
    outcomes = list(TokenRequest.objects.order_by("pk").values_list("outcome", "error", "user"))
    assert outcomes[:2] == [
        ("issued", "", partner[1].pk),
        ("refused", "invalid_grant", partner[1].pk),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_code_exchanged_at_the_same_instant_is_issued_once(partner):
    """Four exchanges at once: the row lock lets one through; the others find the code used,
    which is a replay, so the one token issued is revoked too."""
    client = Client()
    client.force_login(partner[2])
    code = allow(client, partner[0])
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def run() -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=10)
            statuses.append(exchange(Client(), partner, code).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 400, 400, 400]
    assert IssuedToken.objects.count() == 1
    assert ApiCredential.objects.get().revoked_at is not None
    assert TokenRequest.objects.filter(outcome="issued").count() == 1
    assert TokenRequest.objects.filter(error="invalid_grant").count() == 3


def test_an_expired_code_is_refused(ada, partner):
    code = allow(ada, partner[0])
    AuthorizationCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    body = refused(exchange(ada, partner, code), 400, "invalid_grant")
    assert body["error_description"] == "The authorization code has expired."
    assert AuthorizationCode.objects.get().used_at is None
    assert IssuedToken.objects.count() == 0


def test_an_unknown_code_is_refused(ada, partner):
    allow(ada, partner[0])
    refused(exchange(ada, partner, "made-up"), 400, "invalid_grant")
    assert AuthorizationCode.objects.get().used_at is None


def test_a_code_is_only_the_integrations_it_was_given_to(ada, partner, accounts):
    code = allow(ada, partner[0])
    other, _user = make_integration([accounts[1]], name="Other app")
    other_secret = client_secret_set(other)
    response = exchange(ada, partner, code, auth=basic(other.integration_key, other_secret))
    refused(response, 400, "invalid_grant")
    assert AuthorizationCode.objects.get().used_at is None


def test_a_redirect_uri_sent_with_the_code_must_match(ada, partner):
    code = allow(ada, partner[0])
    refused(
        exchange(ada, partner, code, redirect_uri=REDIRECT + "/"),
        400,
        "invalid_grant",
    )
    assert exchange(ada, partner, code, redirect_uri=REDIRECT).status_code == 200


def test_a_missing_code_is_an_invalid_request(ada, partner):
    integration, _user, _staff, secret = partner
    response = token_post(
        ada, {"grant_type": "authorization_code"}, **basic(integration.integration_key, secret)
    )
    refused(response, 400, "invalid_request")
    assert TokenRequest.objects.get().integration == integration


# Client authentication.


def test_a_wrong_client_secret_is_401_invalid_client(ada, partner):
    integration = partner[0]
    code = allow(ada, integration)
    response = exchange(ada, partner, code, auth=basic(integration.integration_key, "wrong"))
    body = refused(response, 401, "invalid_client")
    assert body["error_description"] == "The client secret is not valid."
    assert response["WWW-Authenticate"] == 'Basic realm="oauth"'
    assert AuthorizationCode.objects.get().used_at is None
    row = TokenRequest.objects.get()
    assert (row.outcome, row.error, row.integration) == ("refused", "invalid_client", integration)


def test_a_new_client_secret_replaces_the_old(ada, partner):
    code = allow(ada, partner[0])
    client_secret_set(partner[0])
    refused(exchange(ada, partner, code), 401, "invalid_client")


def test_an_integration_without_a_secret_cannot_authenticate(ada, accounts):
    integration, _user = make_integration([accounts[0]], name="No secret")
    response = exchange(
        ada, (integration, None, None, ""), "x", auth=basic(integration.integration_key, "anything")
    )
    refused(response, 401, "invalid_client")


def test_a_revoked_integration_cannot_exchange(ada, partner):
    code = allow(ada, partner[0])
    integration_revoke(integration=partner[0])
    refused(exchange(ada, partner, code), 401, "invalid_client")


def test_no_client_authentication_is_401(ada, partner):
    code = allow(ada, partner[0])
    response = token_post(ada, {"grant_type": "authorization_code", "code": code})
    refused(response, 401, "invalid_client")
    assert response["WWW-Authenticate"] == 'Basic realm="oauth"'


@pytest.mark.parametrize(
    "header",
    [
        "Basic",
        "Basic !!!not base64!!!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\x00").decode(),
        "Basic " + base64.b64encode(b":").decode(),
        "Basic " + base64.b64encode(b"not-a-uuid:secret").decode(),
        "Bearer something",
        "Digest username=x",
    ],
)
def test_garbage_client_authentication_is_401(ada, partner, header):
    code = allow(ada, partner[0])
    response = token_post(
        ada, {"grant_type": "authorization_code", "code": code}, HTTP_AUTHORIZATION=header
    )
    refused(response, 401, "invalid_client")
    assert AuthorizationCode.objects.get().used_at is None
    assert TokenRequest.objects.get().error == "invalid_client"


def test_the_secret_sent_twice_is_an_invalid_request(ada, partner):
    integration, _user, _staff, secret = partner
    code = allow(ada, integration)
    response = exchange(ada, partner, code, client_secret=secret)
    refused(response, 400, "invalid_request")


def test_token_requests_are_rate_limited(ada, partner, settings):
    settings.OAUTH_TOKEN_RATE_LIMIT = 2
    integration = partner[0]
    for _ in range(2):
        refused(exchange(ada, partner, "x"), 400, "invalid_grant")
    response = exchange(ada, partner, "x")
    refused(response, 429, "too_many_requests")
    assert int(response["Retry-After"]) >= 1
    assert TokenRequest.objects.filter(integration=integration).count() == 2


# Refresh tokens: used once, replaced.


def test_a_refresh_token_gives_a_new_pair_and_rotates(ada, partner, accounts):
    first = exchange(ada, partner, allow(ada, partner[0])).json()
    response = refresh(ada, partner, first["refresh_token"])
    assert response.status_code == 200, response.content
    second = response.json()
    assert set(second) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert second["expires_in"] == 28800
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert api_status(ada, accounts[0], second["access_token"]) == 200
    assert api_status(ada, accounts[0], first["access_token"]) == 200  # still within its 8 hours
    old, new = RefreshToken.objects.order_by("pk")
    assert old.used_at is not None
    assert new.used_at is None
    assert new.token_hash == digest(second["refresh_token"])
    assert new.authorization_code_id == old.authorization_code_id is not None
    assert IssuedToken.objects.order_by("pk").last().grant_type == GrantType.REFRESH_TOKEN

    # The old refresh token again: refused, and the whole family stops.
    reused = refused(refresh(ada, partner, first["refresh_token"]), 400, "invalid_grant")
    assert reused["error_description"] == "The refresh token has been used already."
    assert api_status(ada, accounts[0], second["access_token"]) == 401
    assert api_status(ada, accounts[0], first["access_token"]) == 401
    assert not RefreshToken.objects.filter(revoked_at__isnull=True).exists()
    refused(refresh(ada, partner, second["refresh_token"]), 400, "invalid_grant")


def test_an_expired_refresh_token_is_refused(ada, partner):
    first = exchange(ada, partner, allow(ada, partner[0])).json()
    RefreshToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    body = refused(refresh(ada, partner, first["refresh_token"]), 400, "invalid_grant")
    assert body["error_description"] == "The refresh token has expired."
    assert RefreshToken.objects.get().used_at is None


def test_a_refresh_token_is_only_its_integrations(ada, partner, accounts):
    first = exchange(ada, partner, allow(ada, partner[0])).json()
    other, _user = make_integration([accounts[1]], name="Other app")
    response = token_post(
        ada,
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        **basic(other.integration_key, client_secret_set(other)),
    )
    refused(response, 400, "invalid_grant")
    assert RefreshToken.objects.get().used_at is None


def test_a_missing_or_unknown_refresh_token_is_refused(ada, partner):
    integration, _user, _staff, secret = partner
    response = token_post(
        ada, {"grant_type": "refresh_token"}, **basic(integration.integration_key, secret)
    )
    refused(response, 400, "invalid_request")
    refused(refresh(ada, partner, "made-up"), 400, "invalid_grant")


def test_a_registered_redirect_uri_with_a_query_keeps_it(ada, partner):
    integration = partner[0]
    integration.redirect_uri = REDIRECT + "?tenant=7"
    integration.save()
    url = auth_url(integration, redirect_uri=REDIRECT + "?tenant=7")
    response = ada.post(url, {"decision": "allow"}, secure=True)
    target, query = redirected(response)
    assert target == REDIRECT
    assert set(query) == {"tenant", "code", "state"}
    assert query["tenant"] == ["7"]
    assert AuthorizationCode.objects.get().redirect_uri == REDIRECT + "?tenant=7"


def test_revoking_the_integration_revokes_its_refresh_tokens(ada, partner, accounts):
    from oauth.services import integration_revoke

    integration, *_ = partner
    first = exchange(ada, partner, allow(ada, integration)).json()
    assert integration_revoke(integration=integration) == 1
    assert RefreshToken.objects.get().revoked_at is not None
    refused(refresh(ada, partner, first["refresh_token"]), 401, "invalid_client")
