"""DocuSign's sign-in through the whole stack: the SDK's JWT grant and userinfo at nginx over
HTTPS (the stack's own CA), then the billing API with the token it got. The OAuth host name is the
stack's host and port, which nginx passes on (`Host: $http_host`), so the default audience and
userinfo's `base_uri` are what the partner configured."""

import json
from decimal import Decimal

import docusign_esign
import pytest
import requests
from docusign_esign.client.api_client import RESTClientObject

from tests.oauth_support import key_pair


@pytest.fixture(scope="module")
def client(stack):
    (made,) = stack.seed(what="clients", count=1, each=2)
    return made


def test_the_sdk_signs_in_and_pays_through_the_stack(stack, client, tmp_path):
    private_key, public_key = key_pair(0)
    pem = tmp_path / "partner.pem"
    pem.write_text(public_key)
    printed = stack.manage(
        "create_integration",
        "Stack partner",
        "--public-key",
        str(pem),
        "--account",
        str(client["account"]),
        "--grant-consent",
        "--json",
    )
    ids = json.loads(printed.strip().splitlines()[-1])
    host_name = f"127.0.0.1:{stack.ports['https']}"
    api_client = docusign_esign.ApiClient(oauth_host_name=host_name)
    configuration = docusign_esign.Configuration()
    configuration.ssl_ca_cert = stack.ca
    api_client.rest_client = RESTClientObject(configuration=configuration)

    token = api_client.request_jwt_user_token(
        ids["integration_key"],
        ids["user_id"],
        host_name,
        private_key,
        3600,
        ["signature", "impersonation"],
    )
    info = api_client.get_user_info(token.access_token)
    (account,) = info.accounts
    assert account.base_uri == stack.url
    api_client.host = account.base_uri + "/restapi"
    api = docusign_esign.BillingApi(api_client)
    before = api.list_invoices_past_due(account.account_id)
    assert Decimal(before.past_due_balance) > 0
    paid = api.make_payment(
        account.account_id,
        billing_payment_request=docusign_esign.BillingPaymentRequest(
            payment_amount=before.past_due_balance
        ),
    )
    assert sum(Decimal(line.amount) for line in paid.billing_payments) == Decimal(
        before.past_due_balance
    )


def test_plain_http_to_the_oauth_host_is_redirected_never_answered(stack):
    response = requests.post(
        f"http://127.0.0.1:{stack.ports['http']}/oauth/token",
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "x"},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 301
    assert response.headers["Location"] == f"{stack.url}/oauth/token"
