"""`manage.py create_webhook`: what scripts use to subscribe a partner's URL to accounts' events;
the signing secret is printed once."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import AccountFactory
from webhooks import signing
from webhooks.models import Subscription

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("create_webhook", *args, stdout=out)
    return out.getvalue()


def test_prints_the_subscription_and_its_secret(settings):
    first = AccountFactory(number=700001, name="Acme")
    second = AccountFactory(number=700002, name="Beta")

    printed = run(
        "https://hooks.example.com/acme",
        "--account",
        "700001",
        "--account",
        str(second.guid),
        "--event",
        "payment.created",
        "--event",
        "invoice.paid",
        "--description",
        "Acme tills",
    )

    subscription = Subscription.objects.get()
    secret = signing.decrypt(subscription.secret_encrypted)
    assert printed == (
        f"Subscription {subscription.pk} created.\n"
        "URL:         https://hooks.example.com/acme\n"
        "Accounts:    700001 Acme, 700002 Beta\n"
        "Event types: invoice.paid, payment.created\n"
        "Description: Acme tills\n"
        f"Signing secret (shown once): {secret}\n"
    )
    assert (subscription.url, subscription.description, subscription.is_active) == (
        "https://hooks.example.com/acme",
        "Acme tills",
        True,
    )
    assert subscription.event_types == ["invoice.paid", "payment.created"]
    assert set(subscription.accounts.all()) == {first, second}


def test_without_events_it_takes_every_type():
    AccountFactory(number=700003, name="Gamma")
    printed = run("https://hooks.example.com/all", "--account", "700003")
    subscription = Subscription.objects.get()
    assert subscription.event_types == []
    assert printed == (
        f"Subscription {subscription.pk} created.\n"
        "URL:         https://hooks.example.com/all\n"
        "Accounts:    700003 Gamma\n"
        "Event types: every type\n"
        f"Signing secret (shown once): {signing.decrypt(subscription.secret_encrypted)}\n"
    )


def test_quiet_prints_the_secret_alone():
    AccountFactory(number=700004)
    printed = run("https://hooks.example.com/q", "--account", "700004", "--quiet")
    secret = signing.decrypt(Subscription.objects.get().secret_encrypted)
    assert printed == f"{secret}\n"
    assert secret.startswith("whsec_")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["https://hooks.example.com/x", "--account", "999999"],
            "Unknown account '999999': nothing was created.",
        ),
        (
            ["https://hooks.example.com/x", "--account", "700005", "--account", "not-a-guid"],
            "Unknown account 'not-a-guid': nothing was created.",
        ),
        (
            ["http://hooks.example.com/x", "--account", "700005"],
            "The URL must be https:// (http:// is allowed only in DEBUG). Nothing was created.",
        ),
        (
            ["hooks.example.com/x", "--account", "700005"],
            "Enter a full http(s):// URL. Nothing was created.",
        ),
        (
            ["https://hooks.example.com/x", "--account", "700005", "--description", "d" * 201],
            "The description is longer than 200 characters: nothing was created.",
        ),
    ],
)
def test_errors_create_nothing(args, message):
    AccountFactory(number=700005)
    with pytest.raises(CommandError) as error:
        run(*args)
    assert str(error.value) == message
    assert not Subscription.objects.exists()


def test_an_unknown_event_type_is_refused_by_its_choices(capsys):
    AccountFactory(number=700006)
    with pytest.raises(CommandError) as error:
        run("https://hooks.example.com/x", "--account", "700006", "--event", "payment.made")
    assert "argument --event: invalid choice: 'payment.made' (choose from " in str(error.value)
    assert "payment.created" in str(error.value)
    assert not Subscription.objects.exists()


def test_http_is_allowed_in_debug(settings):
    settings.DEBUG = True
    AccountFactory(number=700007)
    printed = run("http://hooks.example.com/dev", "--account", "700007", "--quiet")
    assert signing.decrypt(Subscription.objects.get().secret_encrypted) == printed.strip()
