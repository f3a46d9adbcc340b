"""`POST /oauth/token` (the JWT bearer grant) and `GET /oauth/userinfo`: every refusal with its
OAuth error, the tokens' life (expiry, revocation, scope to their accounts), the audit rows and
the rate limits. Django's test client, over "HTTPS" (`secure=True`): plain HTTP is refused."""

import datetime
import time
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from contacts.models import AccountRole, ApiCredential
from oauth.models import IssuedToken, TokenRequest
from oauth.services import integration_revoke
from tests.factories import AccountFactory, ContactFactory, InvoiceFactory, days_ago
from tests.oauth_support import assertion, key_pair, make_integration

pytestmark = pytest.mark.django_db

HOST = "testserver"  # the test client's host: the default audience
JWT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def ask(client, body: dict, **extra):
    return client.post("/oauth/token", body, secure=True, **extra)


def ask_jwt(client, claims: dict, **options):
    return ask(client, {"grant_type": JWT, "assertion": assertion(claims, **options)})


@pytest.fixture
def setup():
    account = AccountFactory(currency="EUR")
    InvoiceFactory(account=account, due_date=days_ago(3), amount=Decimal("12.00"))
    integration, user = make_integration([account])
    return account, integration, user


def user_claims(integration, user, **extra) -> dict:
    return {"iss": str(integration.integration_key), "sub": str(user.user_id), "aud": HOST, **extra}


def refused(response, status: int, error: str) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error
    assert set(body) == {"error", "error_description"}
    assert response["Cache-Control"] == "no-store"
    return body["error_description"]


def test_a_user_token_is_issued_as_docusign_answers(client, setup):
    account, integration, user = setup
    response = ask_jwt(client, user_claims(integration, user))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
    issued = IssuedToken.objects.get()
    credential = issued.credential
    assert (issued.integration, issued.user, issued.grant_type) == (integration, user, JWT)
    assert body["access_token"] not in str(ApiCredential.objects.values_list())  # a digest only
    assert abs(credential.expires_at - (timezone.now() + datetime.timedelta(hours=1))) < (
        datetime.timedelta(seconds=10)
    )
    assert list(
        AccountRole.objects.filter(credential=credential).values_list("account", "role")
    ) == [(account.pk, "admin")]
    request = TokenRequest.objects.get()
    assert (request.outcome, request.token, request.user, request.client_address) == (
        "issued",
        issued,
        user,
        "127.0.0.1",
    )


def test_the_token_works_on_both_apis_scoped_to_its_accounts(client, setup):
    account, integration, user = setup
    other = AccountFactory(currency="EUR")
    token = ask_jwt(client, user_claims(integration, user)).json()["access_token"]
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    mine = client.get(f"/restapi/v2.1/accounts/{account.guid}/billing_invoices_past_due", **bearer)
    assert mine.status_code == 200
    assert mine.json()["pastDueBalance"] == "12.00"
    theirs = client.get(f"/restapi/v2.1/accounts/{other.guid}/billing_invoices_past_due", **bearer)
    assert theirs.status_code in (401, 403, 404)
    assert str(other.guid) not in theirs.content.decode()
    # Legend's API takes it too, for the same account's contacts only.
    contact = ContactFactory(account=account)
    stranger = ContactFactory(account=other)
    billings = client.get(f"/POS/Billings?ContactId={contact.guid}", **bearer)
    assert (billings.status_code, billings.json()["ContactId"]) == (200, str(contact.guid))
    assert client.get(f"/POS/Billings?ContactId={stranger.guid}", **bearer).status_code == 404


def test_an_expired_or_revoked_token_gets_the_apis_401(client, setup):
    account, integration, user = setup
    url = f"/restapi/v2.1/accounts/{account.guid}/billing_invoices_past_due"
    first = ask_jwt(client, user_claims(integration, user)).json()["access_token"]
    second = ask_jwt(client, user_claims(integration, user)).json()["access_token"]
    oldest = IssuedToken.objects.order_by("pk").first()
    ApiCredential.objects.filter(pk=oldest.credential_id).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )

    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {first}").status_code == 401
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {second}").status_code == 200
    assert integration_revoke(integration=integration) == 1  # the live one
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {second}").status_code == 401
    assert (
        client.get(
            "/oauth/userinfo", secure=True, HTTP_AUTHORIZATION=f"Bearer {second}"
        ).status_code
        == 401
    )
    assert refused(ask_jwt(client, user_claims(integration, user)), 400, "invalid_client")


def test_userinfo_lists_only_the_users_accounts(client, setup):
    account, integration, user = setup
    second = AccountFactory(currency="USD", name="Second")
    user.grants.create(integration=integration, account=second, role="billing_payment")
    token = ask_jwt(client, user_claims(integration, user)).json()["access_token"]

    response = client.get("/oauth/userinfo", secure=True, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    body = response.json()
    assert list(body) == [
        "sub",
        "name",
        "given_name",
        "family_name",
        "created",
        "email",
        "accounts",
    ]
    assert (body["sub"], body["name"], body["email"]) == (
        str(user.user_id),
        "Ada Lovelace",
        "ada@example.com",
    )
    expected = sorted([account, second], key=lambda a: a.number)
    assert body["accounts"] == [
        {
            "account_id": str(a.guid),
            "is_default": index == 0,
            "account_name": a.name,
            "base_uri": "https://testserver",
        }
        for index, a in enumerate(expected)
    ]


def test_a_static_key_or_nothing_is_not_a_token_for_userinfo(client, credential):
    assert refused(client.get("/oauth/userinfo", secure=True), 401, "invalid_token")
    static = client.get(
        "/oauth/userinfo", secure=True, HTTP_AUTHORIZATION=f"Bearer {credential.secret}"
    )
    refused(static, 401, "invalid_token")
    assert static["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


@pytest.mark.parametrize(
    ("change", "error", "says"),
    [
        ({"iss": str(uuid.uuid4())}, "invalid_client", "not registered"),
        ({"iss": "not-a-guid"}, "invalid_client", "not registered"),
        ({"iss": None}, "invalid_client", "not registered"),
        ({"aud": "account-d.docusign.com"}, "invalid_grant", "audience"),
        ({"aud": None}, "invalid_grant", "audience"),
        ({"iat": -300, "exp": -120}, "invalid_grant", "expired"),
        ({"iat": 600}, "invalid_grant", "future"),
        ({"exp": 3600 + 600}, "invalid_grant", "one hour"),
        ({"iat": -3600, "exp": 120}, "invalid_grant", "one hour"),
        ({"sub": str(uuid.uuid4())}, "invalid_grant", "may not act"),
        ({"sub": "nobody"}, "invalid_grant", "may not act"),
        ({"scope": "impersonation"}, "invalid_scope", "signature"),
        ({"iat": None}, "invalid_grant", "numeric"),
        ({"exp": "soon"}, "invalid_grant", "numeric"),
    ],
)
def test_refusals_each_with_its_oauth_error(client, setup, change, error, says):
    _account, integration, user = setup
    claims = user_claims(integration, user)
    now = int(time.time())
    for name in ("iat", "exp"):
        if isinstance(change.get(name), int):
            change = {**change, name: now + change[name]}
    response = ask_jwt(client, {**claims, **change})

    assert says in refused(response, 400, error)
    assert not IssuedToken.objects.exists()
    request = TokenRequest.objects.get()
    assert (request.outcome, request.error, request.token) == ("refused", error, None)


def test_a_key_the_integration_did_not_register_is_refused(client, setup):
    _account, integration, user = setup
    response = ask_jwt(client, user_claims(integration, user), key=1)
    assert refused(response, 400, "invalid_grant") == "no_valid_keys_or_signatures"


def test_any_of_the_integrations_keys_verifies(client, setup):
    from oauth.services import public_key_add

    _account, integration, user = setup
    public_key_add(integration=integration, pem=key_pair(1)[1])
    assert ask_jwt(client, user_claims(integration, user), key=1).status_code == 200


def test_a_user_who_has_not_consented_gets_consent_required(client):
    account = AccountFactory()
    integration, user = make_integration([account], consent=False)
    refused(ask_jwt(client, user_claims(integration, user)), 400, "consent_required")


def test_an_unsigned_or_hs256_assertion_is_refused(client, setup):
    import jwt

    _account, integration, user = setup
    claims = {
        **user_claims(integration, user),
        "iat": int(time.time()),
        "exp": int(time.time()) + 60,
    }
    for token in (
        jwt.encode(claims, "shared-secret-of-32-bytes-at-least!", algorithm="HS256"),
        "a.b.c",
        "garbage",
    ):
        refused(ask(client, {"grant_type": JWT, "assertion": token}), 400, "invalid_grant")


def test_the_grant_type_and_the_request_itself_are_checked(client, setup):
    refused(ask(client, {"grant_type": "password", "username": "x"}), 400, "unsupported_grant_type")
    refused(ask(client, {}), 400, "invalid_request")
    refused(ask(client, {"grant_type": JWT}), 400, "invalid_request")
    refused(client.get("/oauth/token", secure=True), 400, "invalid_request")
    assert TokenRequest.objects.filter(outcome="refused").count() == 4


def test_plain_http_is_refused_outside_debug(client, setup):
    _account, integration, user = setup
    body = {"grant_type": JWT, "assertion": assertion(user_claims(integration, user))}
    assert "HTTPS" in refused(client.post("/oauth/token", body), 400, "invalid_request")
    assert not IssuedToken.objects.exists()


def test_the_configured_host_name_is_the_audience(client, setup, settings):
    _account, integration, user = setup
    settings.OAUTH_HOST_NAME = "oauth.billing.example"
    refused(ask_jwt(client, user_claims(integration, user)), 400, "invalid_grant")
    assert (
        ask_jwt(client, user_claims(integration, user, aud="oauth.billing.example")).status_code
        == 200
    )


def test_an_application_token_has_the_integrations_own_roles(client, setup):
    account, integration, _user = setup
    claims = {"iss": str(integration.integration_key), "aud": HOST}
    response = ask_jwt(client, claims)
    assert response.status_code == 200
    issued = IssuedToken.objects.get()
    assert issued.user is None
    assert list(
        AccountRole.objects.filter(credential=issued.credential).values_list("account", "role")
    ) == [(account.pk, "admin")]


def test_token_requests_are_rate_limited_per_address_and_integration(client, setup, settings):
    _account, integration, user = setup
    settings.OAUTH_TOKEN_RATE_LIMIT = 3
    statuses = [ask_jwt(client, user_claims(integration, user)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    last = ask_jwt(client, user_claims(integration, user))
    refused(last, 429, "too_many_requests")
    assert 1 <= int(last["Retry-After"]) <= 60
    assert IssuedToken.objects.count() == 3
    # Another integration from another address is counted on its own.
    other, other_user = make_integration([AccountFactory()], name="Other")
    response = ask(
        client,
        {"grant_type": JWT, "assertion": assertion(user_claims(other, other_user))},
        REMOTE_ADDR="10.0.0.9",
    )
    assert response.status_code == 200


def test_bad_tokens_at_userinfo_count_as_failed_authentications(client, setup, settings):
    _account, integration, user = setup
    settings.API_AUTH_FAILURE_LIMIT = 2
    token = ask_jwt(client, user_claims(integration, user)).json()["access_token"]

    def userinfo(secret):
        return client.get("/oauth/userinfo", secure=True, HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert [userinfo("oa_wrong").status_code for _ in range(2)] == [401, 401]
    refused(userinfo("oa_wrong"), 429, "too_many_requests")
    locked = userinfo(token)  # a good token from that address too, until the window ends
    refused(locked, 429, "too_many_requests")
    assert 1 <= int(locked["Retry-After"]) <= settings.API_AUTH_FAILURE_WINDOW
    assert userinfo(token).status_code == 429
    assert (
        client.get(
            "/oauth/userinfo",
            secure=True,
            REMOTE_ADDR="10.0.0.7",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        ).status_code
        == 200
    )


def test_issued_refused_and_revoked_tokens_are_in_the_audit_trail(client, setup):
    _account, integration, user = setup
    ask_jwt(client, user_claims(integration, user))
    ask_jwt(client, user_claims(integration, user, aud="elsewhere"))
    integration_revoke(integration=integration)

    credential = IssuedToken.objects.get().credential
    events = AuditEvent.objects.order_by("pgh_created_at", "pgh_id")
    labels = [(e.pgh_model, e.pgh_label) for e in events]
    assert ("audit.IssuedTokenEvent", "insert") in labels
    assert labels.count(("audit.TokenRequestEvent", "insert")) == 2
    revoked = [
        e for e in events if e.pgh_model == "audit.ApiCredentialEvent" and e.pgh_label == "update"
    ]
    assert [e.pgh_obj_id for e in revoked] == [str(credential.pk)]
    assert revoked[0].pgh_data["revoked_at"] is not None
    assert ("audit.IntegrationEvent", "update") in labels
