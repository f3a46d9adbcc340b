"""`manage.py create_integration`: what scripts use to register a partner's integration."""

import json
import uuid

import pytest
from django.core.management import CommandError, call_command

from oauth.models import Integration, IntegrationGrant, IntegrationKey, IntegrationUser
from tests.factories import AccountFactory
from tests.oauth_support import key_pair

pytestmark = pytest.mark.django_db


@pytest.fixture
def pem(tmp_path):
    path = tmp_path / "public.pem"
    path.write_text(key_pair(0)[1])
    return str(path)


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("create_integration", *args, stdout=out)
    return out.getvalue()


def test_json_gives_the_integration_key_and_the_user_id(pem):
    first, second = AccountFactory(number=700001), AccountFactory()
    printed = run(
        "Acme tills",
        "--public-key",
        pem,
        "--account",
        "700001",
        "--account",
        str(second.guid),
        "--role",
        "billing_payment",
        "--grant-consent",
        "--json",
    )

    result = json.loads(printed)
    assert set(result) == {"integration_key", "user_id"}
    integration = Integration.objects.get(integration_key=uuid.UUID(result["integration_key"]))
    user = IntegrationUser.objects.get(user_id=uuid.UUID(result["user_id"]))
    assert (integration.name, user.integration, user.name) == (
        "Acme tills",
        integration,
        "Acme tills",
    )
    assert user.consented_at is not None
    grants = IntegrationGrant.objects.filter(integration=integration)
    assert set(grants.values_list("user", "account", "role")) == {
        (user.pk, first.pk, "billing_payment"),
        (user.pk, second.pk, "billing_payment"),
        (None, first.pk, "billing_payment"),
        (None, second.pk, "billing_payment"),
    }
    assert (
        IntegrationKey.objects.get(integration=integration).public_key.strip()
        == key_pair(0)[1].strip()
    )


def test_a_client_secret_is_printed_once_and_stored_as_a_digest(pem):
    from oauth.codes import client_secret_matches

    account = AccountFactory()
    result = json.loads(
        run(
            "Acme",
            "--public-key",
            pem,
            "--account",
            str(account.number),
            "--client-secret",
            "--json",
        )
    )
    assert set(result) == {"integration_key", "user_id", "client_secret"}
    integration = Integration.objects.get()
    assert result["client_secret"] not in integration.client_secret_hash
    assert client_secret_matches(integration, result["client_secret"])


def test_without_consent_it_says_so(pem):
    account = AccountFactory()
    printed = run("Acme", "--public-key", pem, "--account", str(account.number))
    assert "consent_required" in printed
    assert IntegrationUser.objects.get().consented_at is None


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("not a key", "Not a PEM public key"),
        (key_pair(0)[0].decode(), "private key"),
    ],
)
def test_a_bad_key_creates_nothing(tmp_path, content, says):
    account = AccountFactory()
    path = tmp_path / "key.pem"
    path.write_text(content)
    with pytest.raises(CommandError, match=says):
        run("Acme", "--public-key", str(path), "--account", str(account.number))
    assert not Integration.objects.exists()


def test_an_unknown_account_or_a_missing_file_creates_nothing(pem, tmp_path):
    with pytest.raises(CommandError, match="Unknown account '999'"):
        run("Acme", "--public-key", pem, "--account", "999")
    account = AccountFactory()
    with pytest.raises(CommandError, match="Cannot read"):
        run("Acme", "--public-key", str(tmp_path / "missing.pem"), "--account", str(account.number))
    assert not Integration.objects.exists()


def test_the_same_key_twice_or_a_bad_redirect_uri_creates_nothing(pem):
    account = AccountFactory()
    with pytest.raises(CommandError, match="registered already"):
        run("Acme", "--public-key", pem, "--public-key", pem, "--account", str(account.number))
    with pytest.raises(CommandError, match="redirect URI"):
        run("Acme", "--public-key", pem, "--account", str(account.number), "--redirect-uri", "nope")
    assert not Integration.objects.exists()


def test_at_most_five_keys(pem):
    account = AccountFactory()
    with pytest.raises(CommandError, match="At most 5"):
        run("Acme", *["--public-key", pem] * 6, "--account", str(account.number))
