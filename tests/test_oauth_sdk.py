"""DocuSign's own sign-in, driven by the official `docusign-esign` SDK, unchanged, over TLS.

The partner's code is DocuSign's example flow; what changes is configuration only: the OAuth host
name (ours, with its port), the integration key and user id we registered, its RSA private key,
and (for a test CA) the certificate to trust. JWT grant, then userinfo, then `BillingApi` against
`accounts[0].base_uri + "/restapi"` with the account id from userinfo.
"""

from decimal import Decimal

import docusign_esign
import pytest
from docusign_esign.client.api_exception import ApiException
from docusign_esign.client.api_response import RESTClientObject
from docusign_esign.client.configuration import Configuration

from contacts.models import ApiCredential
from oauth.models import IssuedToken, TokenRequest
from payments.models import Payment
from tests.factories import AccountFactory, InvoiceFactory, days_ago
from tests.oauth_support import ca_path, key_pair, make_integration, tls_ca, tls_live_server

__all__ = ["ca_path", "tls_ca", "tls_live_server"]  # fixtures used here

pytestmark = pytest.mark.django_db(transaction=True)

SCOPES = ["signature", "impersonation"]


def sdk_client(server, ca: str) -> docusign_esign.ApiClient:
    """DocuSign's ApiClient pointed at our OAuth host, trusting the test CA."""
    configuration = Configuration()
    configuration.ssl_ca_cert = ca
    client = docusign_esign.ApiClient(oauth_host_name=server.host_name)
    client.rest_client = RESTClientObject(configuration=configuration)
    return client


@pytest.fixture
def books():
    """Two accounts: the integration's (30.00 + 45.50 past due) and another one."""
    mine = AccountFactory(currency="EUR", name="Club Nord")
    InvoiceFactory(account=mine, due_date=days_ago(20), amount=Decimal("30.00"))
    InvoiceFactory(account=mine, due_date=days_ago(10), amount=Decimal("45.50"))
    other = AccountFactory(currency="EUR", name="Club Sud")
    InvoiceFactory(account=other, due_date=days_ago(5), amount=Decimal("99.00"))
    return mine, other


def pay_through_sdk(client, info) -> None:
    """DocuSign's flow after sign-in, as its examples write it."""
    account = info.accounts[0]
    client.host = account.base_uri + "/restapi"
    billing = docusign_esign.BillingApi(client)
    summary = billing.list_invoices_past_due(account.account_id)
    assert Decimal(summary.past_due_balance) == Decimal("75.50")
    made = billing.make_payment(
        account.account_id,
        billing_payment_request=docusign_esign.BillingPaymentRequest(
            payment_amount=summary.past_due_balance
        ),
    )
    assert [p.amount for p in made.billing_payments] == ["30.00", "45.50"]
    (payment_id,) = {p.payment_id for p in made.billing_payments}
    listed = billing.list_payments(account.account_id)
    assert [p.payment_id for p in listed.billing_payments] == [payment_id]
    assert billing.get_payment(account.account_id, payment_id).amount == "75.50"


def test_jwt_user_token_then_userinfo_then_billing_api(tls_live_server, ca_path, books):
    mine, other = books
    integration, user = make_integration([mine])
    client = sdk_client(tls_live_server, ca_path)

    token = client.request_jwt_user_token(
        client_id=str(integration.integration_key),
        user_id=str(user.user_id),
        oauth_host_name=tls_live_server.host_name,
        private_key_bytes=key_pair(0)[0],
        expires_in=3600,
        scopes=SCOPES,
    )
    assert token.token_type == "Bearer"
    assert int(token.expires_in) == 3600
    assert token.refresh_token is None
    info = client.get_user_info(token.access_token)
    assert info.sub == str(user.user_id)
    assert (info.name, info.given_name, info.family_name, info.email) == (
        "Ada Lovelace",
        "Ada",
        "Lovelace",
        "ada@example.com",
    )
    assert [(a.account_id, a.account_name, a.base_uri) for a in info.accounts] == [
        (str(mine.guid), "Club Nord", tls_live_server.url)
    ]
    pay_through_sdk(client, info)

    payment = Payment.objects.get()
    issued = IssuedToken.objects.get()
    assert (payment.account, payment.amount, payment.recorded_by_credential) == (
        mine,
        Decimal("75.50"),
        issued.credential,
    )
    assert (issued.integration, issued.user, issued.scope) == (
        integration,
        user,
        "signature impersonation",
    )
    assert TokenRequest.objects.get().outcome == TokenRequest.Outcome.ISSUED

    # The same token cannot reach the other account.
    client.host = tls_live_server.url + "/restapi"
    with pytest.raises(ApiException) as refused:
        docusign_esign.BillingApi(client).list_invoices_past_due(str(other.guid))
    assert refused.value.status in (401, 403, 404)
    assert Payment.objects.count() == 1


def test_jwt_application_token_acts_with_the_integrations_roles(tls_live_server, ca_path, books):
    mine, _other = books
    integration, _user = make_integration([mine])
    client = sdk_client(tls_live_server, ca_path)

    token = client.request_jwt_application_token(
        client_id=str(integration.integration_key),
        oauth_host_name=tls_live_server.host_name,
        private_key_bytes=key_pair(0)[0],
        expires_in=3600,
        scopes=SCOPES,
    )
    info = client.get_user_info(token.access_token)
    assert info.sub == str(integration.integration_key)
    assert [a.account_id for a in info.accounts] == [str(mine.guid)]
    pay_through_sdk(client, info)
    issued = IssuedToken.objects.get()
    assert issued.user is None
    assert Payment.objects.get().recorded_by_credential == issued.credential
    assert ApiCredential.objects.get(pk=issued.credential_id).expires_at is not None
