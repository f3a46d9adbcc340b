"""DocuSign's authorization code grant in a real headless Chromium, then the official SDK.

A partner app sends the browser to the consent URL the SDK builds (`get_authorization_uri`); the
staff user linked to the integration's user logs in through the admin login, comes back to the
consent page, sees who the app will act for and with which accounts and roles, and clicks Allow.
The browser lands on the partner's redirect_uri (another origin: 127.0.0.1 instead of localhost,
so the page's Content-Security-Policy must let the form's redirect go there) with a code and the
state; the partner exchanges the code with `ApiClient.generate_access_token` over TLS and calls
userinfo and the billing API with the token.
"""

import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import docusign_esign
import pytest
from docusign_esign.client.api_response import RESTClientObject
from docusign_esign.client.configuration import Configuration
from playwright.sync_api import expect

from oauth.codes import client_secret_set
from oauth.models import AuthorizationCode, GrantType, IssuedToken, RefreshToken
from tests.browser.conftest import TIMEOUT_MS, VIEWPORT, screenshots_key
from tests.factories import AccountFactory, InvoiceFactory, UserFactory, days_ago
from tests.oauth_support import ca_path, make_integration, tls_ca, tls_live_server

__all__ = ["ca_path", "tls_ca", "tls_live_server"]  # fixtures used here

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STATE = "partner-state-42"


@pytest.fixture
def tls_page(browser, tls_live_server):
    """A fresh context on the TLS live server; the browser does not know the test CA."""
    context = browser.new_context(
        base_url=tls_live_server.url, viewport=VIEWPORT, ignore_https_errors=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def shots(request, screenshot_path):
    screenshot_path.mkdir(parents=True, exist_ok=True)
    request.config.stash[screenshots_key] = screenshot_path
    return screenshot_path


def sdk_client(server, ca: str) -> docusign_esign.ApiClient:
    configuration = Configuration()
    configuration.ssl_ca_cert = ca
    client = docusign_esign.ApiClient(oauth_host_name=server.host_name)
    client.rest_client = RESTClientObject(configuration=configuration)
    return client


def test_log_in_allow_then_exchange_the_code_with_the_sdk(
    tls_page, tls_live_server, ca_path, shots
):
    page = tls_page
    mine = AccountFactory(currency="EUR", name="Club Nord")
    InvoiceFactory(account=mine, due_date=days_ago(20), amount=Decimal("30.00"))
    port = tls_live_server.host_name.rsplit(":", 1)[1]
    redirect_uri = f"https://127.0.0.1:{port}/partner/callback"
    integration, user = make_integration([mine], consent=False, redirect_uri=redirect_uri)
    staff = UserFactory(username="ada")
    user.staff_user = staff
    user.save()
    client_secret = client_secret_set(integration)

    client = sdk_client(tls_live_server, ca_path)
    consent_url = client.get_authorization_uri(
        client_id=str(integration.integration_key),
        scopes=["signature", "extended"],
        redirect_uri=redirect_uri,
        response_type="code",
        state=STATE,
    )
    assert consent_url.startswith(tls_live_server.url + "/oauth/auth?")

    page.goto(consent_url)
    expect(page).to_have_url(
        re.compile(r"/admin/login/\?next=/oauth/auth%3Fresponse_type%3Dcode%26")
    )
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "password")
    page.click("input[type=submit]")
    expect(page).to_have_url(re.compile(r"/oauth/auth\?response_type=code&"))
    expect(page.locator("h1")).to_have_text("Allow Acme tills?")
    expect(page.locator("#integration-name")).to_have_text("Acme tills")
    expect(page.locator(".user-name")).to_have_text("Ada Lovelace")
    expect(page.locator(".grant")).to_have_count(1)
    expect(page.locator(".grant td")).to_have_text(
        ["Club Nord", str(mine.number), "Account administrator"]
    )
    expect(page.locator(".scope code")).to_have_text(["signature", "extended"])
    page.screenshot(path=str(shots / "oauth-consent.png"), full_page=True)
    user.refresh_from_db()
    assert user.consented_at is None

    page.click("#consent-allow")
    page.wait_for_url(re.compile(re.escape(redirect_uri) + r"\?code="))
    landed = urlsplit(page.url)
    assert f"{landed.scheme}://{landed.netloc}{landed.path}" == redirect_uri
    query = parse_qs(landed.query)
    assert query["state"] == [STATE]
    (code,) = query["code"]
    user.refresh_from_db()
    assert user.consented_at is not None
    assert AuthorizationCode.objects.get().used_at is None

    token = client.generate_access_token(str(integration.integration_key), client_secret, code)
    assert token.token_type == "Bearer"
    assert int(token.expires_in) == 28800
    assert token.refresh_token
    issued = IssuedToken.objects.get()
    assert (issued.user, issued.grant_type) == (user, GrantType.AUTHORIZATION_CODE)
    assert AuthorizationCode.objects.get().used_at is not None
    assert RefreshToken.objects.get().access_token == issued

    info = client.get_user_info(token.access_token)
    assert info.sub == str(user.user_id)
    assert [a.account_id for a in info.accounts] == [str(mine.guid)]
    # As DocuSign's examples do after the code grant (the JWT helpers set it themselves).
    client.set_default_header("Authorization", f"Bearer {token.access_token}")
    client.host = info.accounts[0].base_uri + "/restapi"
    summary = docusign_esign.BillingApi(client).list_invoices_past_due(str(mine.guid))
    assert Decimal(summary.past_due_balance) == Decimal("30.00")
