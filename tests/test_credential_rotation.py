"""Partner credentials that expire and are rotated: the selector, `credential_rotate`, the
commands, the admin, and what the APIs answer to an expired key or a previous secret."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from contacts.credentials import secret_digest, secret_prefix
from contacts.models import ApiCredential
from contacts.selectors import active_credential_for_secret
from contacts.services import CredentialNotRotatable, credential_rotate
from tests.factories import AccountFactory, AccountRoleFactory, ApiCredentialFactory

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def rotated(credential, grace=HOUR):
    old_secret = credential.secret
    credential, new_secret = credential_rotate(credential=credential, grace=grace)
    return credential, old_secret, new_secret


# The selector.


def test_the_selector_takes_unrevoked_unexpired_keys_in_one_query(django_assert_num_queries):
    now = timezone.now()
    forever = ApiCredentialFactory()
    later = ApiCredentialFactory(expires_at=now + HOUR)
    expired = ApiCredentialFactory(expires_at=now - datetime.timedelta(seconds=1))
    revoked = ApiCredentialFactory(revoked_at=now)

    with django_assert_num_queries(1):
        assert active_credential_for_secret(forever.secret) == forever
    assert active_credential_for_secret(later.secret) == later
    assert active_credential_for_secret(expired.secret) is None
    assert active_credential_for_secret(revoked.secret) is None
    assert active_credential_for_secret("bk_unknown") is None


def test_the_previous_secret_works_during_its_grace_period_only():
    credential, old_secret, new_secret = rotated(ApiCredentialFactory())

    assert active_credential_for_secret(new_secret) == credential
    assert active_credential_for_secret(old_secret) == credential
    ApiCredential.objects.filter(pk=credential.pk).update(
        previous_secret_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert active_credential_for_secret(old_secret) is None
    assert active_credential_for_secret(new_secret) == credential


def test_an_expired_credential_refuses_its_previous_secret_too():
    credential, old_secret, new_secret = rotated(ApiCredentialFactory())
    ApiCredential.objects.filter(pk=credential.pk).update(expires_at=timezone.now())

    assert active_credential_for_secret(old_secret) is None
    assert active_credential_for_secret(new_secret) is None


# credential_rotate.


def test_rotation_moves_the_current_secret_to_previous_with_the_grace_end():
    original = ApiCredentialFactory()
    before = timezone.now()
    credential, old_secret, new_secret = rotated(original, grace=datetime.timedelta(hours=24))

    stored = ApiCredential.objects.get(pk=original.pk)
    assert (stored.prefix, stored.secret_hash) == (
        secret_prefix(new_secret),
        secret_digest(new_secret),
    )
    assert (stored.previous_prefix, stored.previous_secret_hash) == (
        original.prefix,
        secret_digest(old_secret),
    )
    assert before + datetime.timedelta(hours=24) <= stored.previous_secret_expires_at
    assert stored.previous_secret_expires_at <= timezone.now() + datetime.timedelta(hours=24)
    assert credential.secret_hash == stored.secret_hash
    assert new_secret != old_secret


def test_a_second_rotation_ends_the_first_previous_secret_at_once():
    credential, first_secret, second_secret = rotated(ApiCredentialFactory())
    credential.secret = second_secret
    credential, _, third_secret = rotated(credential)

    assert active_credential_for_secret(first_secret) is None
    assert active_credential_for_secret(second_secret) == credential
    assert active_credential_for_secret(third_secret) == credential
    assert (
        ApiCredential.objects.filter(previous_secret_hash=secret_digest(first_secret)).count() == 0
    )


def test_no_grace_ends_the_old_secret_now_and_revoked_keys_are_not_rotated():
    credential, old_secret, new_secret = rotated(
        ApiCredentialFactory(), grace=datetime.timedelta(0)
    )
    assert active_credential_for_secret(old_secret) is None
    assert active_credential_for_secret(new_secret) == credential

    revoked = ApiCredentialFactory(revoked_at=timezone.now())
    with pytest.raises(CredentialNotRotatable):
        credential_rotate(credential=revoked, grace=HOUR)
    with pytest.raises(ValueError, match="negative"):
        credential_rotate(credential=credential, grace=-HOUR)
    assert ApiCredential.objects.get(pk=revoked.pk).secret_hash == revoked.secret_hash


# The APIs.


def api_get(client, account, secret, remote="127.0.0.1"):
    return client.get(
        f"/restapi/v2.1/accounts/{account.number}/billing_invoices_past_due",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        REMOTE_ADDR=remote,
    )


def test_an_expired_key_or_a_previous_secret_past_grace_is_refused_like_a_wrong_key(
    client, settings
):
    settings.API_AUTH_FAILURE_LIMIT = 3
    role = AccountRoleFactory()
    expired = AccountRoleFactory(
        account=role.account, credential=ApiCredentialFactory(expires_at=timezone.now())
    )
    _, old_secret, new_secret = rotated(role.credential, grace=datetime.timedelta(0))

    wrong = api_get(client, role.account, "bk_wrong")
    answers = [
        api_get(client, role.account, secret) for secret in (expired.credential.secret, old_secret)
    ]

    assert wrong.status_code == 401
    for answer in answers:
        assert (answer.status_code, answer.json()) == (401, wrong.json())
        assert answer["WWW-Authenticate"] == wrong["WWW-Authenticate"]
    # Three failures from this address: now even the new secret is refused from here.
    assert api_get(client, role.account, new_secret).status_code == 429
    assert api_get(client, role.account, new_secret, remote="10.1.1.1").status_code == 200


def test_during_the_grace_period_both_secrets_work_over_the_api(client):
    role = AccountRoleFactory()
    _, old_secret, new_secret = rotated(role.credential)

    assert api_get(client, role.account, old_secret).status_code == 200
    assert api_get(client, role.account, new_secret).status_code == 200


# The commands.


def test_create_api_key_with_an_expiry():
    account = AccountFactory()
    before = timezone.now()
    output = run(
        "create_api_key", "Acme", "--account", str(account.number), "--expires-in-days", "30"
    )
    at = run(
        "create_api_key",
        "Till",
        "--account",
        str(account.number),
        "--expires-at",
        "2099-01-31T12:00",
    )

    in_30_days = ApiCredential.objects.get(name="Acme")
    assert before + datetime.timedelta(days=30) <= in_30_days.expires_at
    assert in_30_days.expires_at <= timezone.now() + datetime.timedelta(days=30)
    assert f"Expires at {in_30_days.expires_at.isoformat()}." in output
    assert ApiCredential.objects.get(name="Till").expires_at == datetime.datetime(
        2099, 1, 31, 12, tzinfo=datetime.UTC
    )
    assert "Expires at 2099-01-31T12:00:00+00:00." in at


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--expires-at", "2000-01-01T00:00:00Z", "--expires-at must be in the future."),
        ("--expires-at", "next week", "--expires-at 'next week' is not an ISO 8601 time."),
        ("--expires-in-days", "0", "--expires-in-days must be at least 1."),
    ],
)
def test_create_api_key_refuses_a_bad_expiry(option, value, message):
    account = AccountFactory()
    with pytest.raises(CommandError, match=message):
        run("create_api_key", "Acme", "--account", str(account.number), option, value)
    assert not ApiCredential.objects.exists()


def test_rotate_api_key_prints_the_new_secret_once():
    credential = ApiCredentialFactory()
    before = timezone.now()

    output = run("rotate_api_key", credential.prefix, "--grace-hours", "48")

    stored = ApiCredential.objects.get(pk=credential.pk)
    secret = output.rsplit("Secret (shown once, store it now): ", 1)[1].strip()
    assert stored.secret_hash == secret_digest(secret)
    assert stored.previous_secret_hash == credential.secret_hash
    assert stored.previous_secret_expires_at >= before + datetime.timedelta(hours=48)
    assert f"new prefix {stored.prefix}" in output
    assert f"previous secret (prefix {credential.prefix}) works until" in output
    quiet = run("rotate_api_key", str(credential.pk), "--quiet", "--grace-hours", "0").strip()
    assert ApiCredential.objects.get(pk=credential.pk).secret_hash == secret_digest(quiet)
    assert active_credential_for_secret(secret) is None  # the second rotation ended it


def test_rotate_api_key_refuses_unknown_and_revoked_keys():
    revoked = ApiCredentialFactory(revoked_at=timezone.now())
    with pytest.raises(CommandError, match="Unknown credential 'bk_nothing'"):
        run("rotate_api_key", "bk_nothing")
    with pytest.raises(CommandError, match=r"is revoked\. Nothing was rotated\."):
        run("rotate_api_key", str(revoked.pk))
    assert ApiCredential.objects.get(pk=revoked.pk).previous_secret_hash is None


# The admin.


def changelist():
    return reverse("admin:contacts_apicredential_changelist")


def test_the_admin_lists_expiry_status_and_the_previous_secret(admin_client):
    expired = ApiCredentialFactory(name="Old till", expires_at=timezone.now() - HOUR)
    credential, _, _ = rotated(ApiCredentialFactory(name="Acme"))

    page = admin_client.get(changelist()).content.decode()
    detail = admin_client.get(
        reverse("admin:contacts_apicredential_change", args=[credential.pk])
    ).content.decode()

    assert "Expired" in page
    assert "Active (previous secret in its grace period)" in page
    assert credential.previous_prefix in page
    assert credential.previous_prefix in detail
    assert 'name="expires_at_0"' in detail  # the expiry is editable
    assert credential.secret_hash not in detail
    assert credential.previous_secret_hash not in detail
    expired_only = admin_client.get(changelist(), {"expired": "yes"})
    assert list(expired_only.context["cl"].result_list) == [expired]


def test_the_rotate_action_asks_for_the_grace_period_then_shows_the_secret_once(admin_client):
    credential = ApiCredentialFactory()
    action = {"action": "rotate_secret", "_selected_action": [credential.pk]}

    confirm = admin_client.post(changelist(), action)
    assert confirm.status_code == 200
    assert confirm.templates[0].name == "admin/contacts/apicredential/rotate.html"
    assert ApiCredential.objects.get(pk=credential.pk).secret_hash == credential.secret_hash

    before = timezone.now()
    shown = admin_client.post(changelist(), {**action, "post": "yes", "grace_hours": "72"})

    assert shown.status_code == 200
    secret = shown.context["secret"]
    assert secret in shown.content.decode()
    assert secret not in str(shown.cookies)
    stored = ApiCredential.objects.get(pk=credential.pk)
    assert stored.secret_hash == secret_digest(secret)
    assert stored.previous_secret_hash == credential.secret_hash
    assert stored.previous_secret_expires_at >= before + datetime.timedelta(hours=72)
    assert active_credential_for_secret(credential.secret) == stored
    again = admin_client.get(reverse("admin:contacts_apicredential_change", args=[credential.pk]))
    assert secret not in again.content.decode()


def test_the_rotate_action_takes_one_unrevoked_credential(admin_client):
    first, second = ApiCredentialFactory(), ApiCredentialFactory()
    revoked = ApiCredentialFactory(revoked_at=timezone.now())

    def messages_after(data):
        response = admin_client.post(changelist(), data)
        assert response.status_code == 302
        return [str(message) for message in admin_client.get(response.url).context["messages"]]

    both = {"action": "rotate_secret", "_selected_action": [first.pk, second.pk]}
    assert messages_after(both) == ["Rotate one credential at a time."]
    confirmed = {"action": "rotate_secret", "_selected_action": [revoked.pk], "post": "yes"}
    assert messages_after({**confirmed, "grace_hours": "24"}) == [
        f"The credential {revoked} is revoked."
    ]
    assert ApiCredential.objects.filter(previous_secret_hash__isnull=False).count() == 0
