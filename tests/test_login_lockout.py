"""Staff login lockout (django-axes): through the real admin login form, per username and client
address together; the lockout page; the cool-off; unlocking in the admin."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")
HERE, ELSEWHERE = "10.0.0.1", "10.0.0.2"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Every failed attempt checks a password: a fast hasher keeps this module quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def log_in(client, username, password, address=HERE):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def staff():
    return UserFactory(username="alice")  # password "password"


def lock_out(client, staff, failures=5):
    return [log_in(client, staff.username, "wrong").status_code for _ in range(failures)]


def test_five_bad_passwords_lock_the_user_out_from_that_address(client, staff):
    statuses = lock_out(client, staff)
    right = log_in(client, staff.username, "password")

    assert statuses == [200, 200, 200, 200, 429]  # the login page with its error, then locked
    assert right.status_code == 429
    assert not logged_in(client)
    page = right.content.decode()
    assert "Too many failed sign-ins for <strong>alice</strong>" in page
    assert "signing in is locked for 15 minutes" in page
    assert 'id="site-name"' in page  # the admin's look
    retry_after = int(right["Retry-After"])
    assert 14 * 60 < retry_after <= 15 * 60
    # The refused right password restarted the cool-off: 15 minutes from that attempt.
    retry_at = AccessAttempt.objects.get().attempt_time + datetime.timedelta(minutes=15)
    assert f'<strong id="lockout-retry-at">{retry_at:%Y-%m-%d %H:%M} UTC</strong>' in page


def test_another_user_from_the_address_and_the_user_from_elsewhere_still_sign_in(staff):
    bob = UserFactory(username="bob")
    lock_out(Client(), staff)

    other_user, from_elsewhere = Client(), Client()
    assert log_in(other_user, bob.username, "password").status_code == 302
    assert logged_in(other_user)
    assert log_in(from_elsewhere, staff.username, "password", ELSEWHERE).status_code == 302
    assert logged_in(from_elsewhere)


def test_the_lockout_ends_after_the_cool_off(client, staff, settings):
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
    lock_out(client, staff)
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))

    assert log_in(client, staff.username, "password").status_code == 302
    assert logged_in(client)


def test_the_limit_and_cool_off_are_settings(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=1)

    assert lock_out(client, staff, failures=2) == [200, 429]
    right = log_in(client, staff.username, "password")
    assert right.status_code == 429
    assert 1 <= int(right["Retry-After"]) <= 60
    assert "signing in is locked for 1 minute." in right.content.decode()


def test_staff_see_the_lockout_and_unlock_it_in_the_admin(client, admin_client, staff):
    lock_out(client, staff)
    changelist = reverse("admin:axes_accessattempt_changelist")

    listed = admin_client.get(changelist)
    assert listed.status_code == 200
    assert "Locked Out" in listed.content.decode()
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address, attempt.failures_since_start) == (
        "alice",
        HERE,
        5,
    )
    unlocked = admin_client.post(changelist, {"action": "unlock", "_selected_action": [attempt.pk]})

    assert unlocked.status_code == 302
    assert [str(m) for m in admin_client.get(unlocked.url).context["messages"]] == [
        f"Unlocked alice from {HERE}."
    ]
    assert not AccessAttempt.objects.exists()
    assert log_in(client, staff.username, "password").status_code == 302
    assert logged_in(client)


def test_staff_without_the_delete_permission_cannot_unlock(client, staff):
    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(*_permissions("view_accessattempt"))
    lock_out(Client(), staff)
    client.force_login(viewer)
    changelist = reverse("admin:axes_accessattempt_changelist")

    page = client.get(changelist)
    refused = client.post(
        changelist, {"action": "unlock", "_selected_action": [AccessAttempt.objects.get().pk]}
    )

    assert page.status_code == 200
    assert 'value="unlock"' not in page.content.decode()
    assert refused.status_code == 302
    assert [str(m) for m in client.get(refused.url).context["messages"]] == ["No action selected."]
    assert AccessAttempt.objects.count() == 1


def _permissions(*codenames):
    return Permission.objects.filter(content_type__app_label="axes", codename__in=codenames)


def test_a_successful_login_resets_the_failures(client, staff):
    assert lock_out(client, staff, failures=4) == [200] * 4
    assert log_in(client, staff.username, "password").status_code == 302
    client.logout()

    assert lock_out(client, staff, failures=4) == [200] * 4
    assert log_in(Client(), staff.username, "password").status_code == 302
