"""The admin of DocuSign's sign-in (oauth/admin*.py): integrations with their keys, users and
roles, revoking, consent, and the read-only tokens and token requests. Every write goes through
oauth/services.py, so these check the database after each page, not just the status code."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import ApiCredential
from contacts.roles import Role
from oauth import services
from oauth.keys import fingerprint, load_public_key
from oauth.models import (
    GrantType,
    Integration,
    IntegrationGrant,
    IntegrationKey,
    IntegrationUser,
    IssuedToken,
    TokenRequest,
)
from tests.factories import AccountFactory
from tests.oauth_support import key_pair, make_integration

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)
INLINES = ("public_keys", "users", "grants")


def url(model, view, *args):
    return reverse(f"admin:oauth_{model._meta.model_name}_{view}", args=args)


def revoke_url(integration):
    return reverse("admin:oauth_integration_revoke", args=[integration.pk])


def issue(integration, user=None, lifetime=HOUR):
    token, _secret = services.access_token_issue(
        integration=integration,
        user=user,
        grant_type=GrantType.JWT_BEARER,
        scope="signature impersonation",
        lifetime=lifetime,
    )
    return token


def revoked(token) -> bool:
    return ApiCredential.objects.get(pk=token.credential_id).revoked_at is not None


def page_data(response) -> dict:
    """What the browser would post back unchanged: the change page's form and its inlines."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for bound in form:
            value = bound.value()
            if value not in (None, False, ""):
                data[bound.html_name] = value
    return data


def add_row(data, prefix, **fields):
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    data.update({f"{prefix}-{index}-{name}": value for name, value in fields.items()})
    return data


def empty_add_page(**fields):
    data = {"name": "Acme tills", "redirect_uri": "", **fields}
    for prefix in INLINES:
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return data


def formset_errors(response) -> str:
    errors = []
    for inline in response.context["inline_admin_formsets"]:
        errors += [str(error) for error in inline.formset.non_form_errors()]
        errors += [str(form.errors) for form in inline.formset.forms if form.errors]
    return " ".join(errors)


# Registering an integration and its keys.


def test_add_page_registers_an_integration_with_its_key_and_user(admin_client):
    account = AccountFactory()
    data = empty_add_page(name="Acme tills, prod", redirect_uri="https://acme.example/cb")
    add_row(data, "public_keys", public_key=key_pair(0)[1])
    add_row(data, "users", name="Ada Lovelace", email="ada@example.com")
    add_row(data, "grants", account=account.pk, role=Role.BILLING_PAYMENT)
    response = admin_client.post(url(Integration, "add"), data)
    assert response.status_code == 302, formset_errors(response)
    integration = Integration.objects.get()
    assert (integration.name, integration.redirect_uri) == (
        "Acme tills, prod",
        data["redirect_uri"],
    )
    key = integration.public_keys.get()
    assert key.fingerprint == fingerprint(load_public_key(key_pair(0)[1]))
    user = integration.users.get()
    assert (user.name, user.email, user.consented_at) == ("Ada Lovelace", "ada@example.com", None)
    grant = IntegrationGrant.objects.get()
    assert (grant.user, grant.account, grant.role) == (None, account, Role.BILLING_PAYMENT)

    page = admin_client.get(url(Integration, "change", integration.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'value="{integration.integration_key}"' in html  # copyable: the JWT's iss
    assert f'value="{user.user_id}"' in html  # and sub
    assert key.fingerprint in html


def test_sixth_key_is_a_form_error(admin_client):
    integration, _user = make_integration([AccountFactory()])
    for index in range(1, 5):
        services.public_key_add(integration=integration, pem=key_pair(index)[1])
    page = admin_client.get(url(Integration, "change", integration.pk))
    data = add_row(page_data(page), "public_keys", public_key=key_pair(5)[1])
    response = admin_client.post(url(Integration, "change", integration.pk), data)
    assert response.status_code == 200
    assert "at most 5 RSA public keys" in formset_errors(response)
    assert integration.public_keys.count() == 5


def test_six_keys_at_once_on_the_add_page_are_refused(admin_client):
    data = empty_add_page()
    for index in range(6):
        add_row(data, "public_keys", public_key=key_pair(index)[1])
    response = admin_client.post(url(Integration, "add"), data)
    assert response.status_code == 200
    assert "at most 5 RSA public keys" in formset_errors(response)
    assert not Integration.objects.exists()


@pytest.mark.parametrize(
    ("pem", "error"),
    [
        ("private", "This is a private key"),
        ("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----", "Not a PEM public key"),
        ("hello", "Not a PEM public key"),
    ],
)
def test_private_key_or_garbage_is_a_form_error(admin_client, pem, error):
    if pem == "private":
        pem = key_pair(0)[0].decode()
    data = add_row(empty_add_page(), "public_keys", public_key=pem)
    response = admin_client.post(url(Integration, "add"), data)
    assert response.status_code == 200
    assert error in formset_errors(response)
    assert not Integration.objects.exists()
    assert not IntegrationKey.objects.exists()


def test_same_key_twice_is_a_form_error(admin_client):
    integration, _user = make_integration([AccountFactory()])  # holds key_pair(0) already
    page = admin_client.get(url(Integration, "change", integration.pk))
    data = add_row(page_data(page), "public_keys", public_key=key_pair(0)[1])
    response = admin_client.post(url(Integration, "change", integration.pk), data)
    assert response.status_code == 200
    assert "The same public key is given twice" in formset_errors(response)
    assert integration.public_keys.count() == 1


def test_key_removed_and_another_added(admin_client):
    integration, _user = make_integration([AccountFactory()])
    page = admin_client.get(url(Integration, "change", integration.pk))
    data = add_row(page_data(page), "public_keys", public_key=key_pair(1)[1])
    data["public_keys-0-DELETE"] = "on"
    response = admin_client.post(url(Integration, "change", integration.pk), data)
    assert response.status_code == 302, formset_errors(response)
    assert [key.fingerprint for key in integration.public_keys.all()] == [
        fingerprint(load_public_key(key_pair(1)[1]))
    ]


# Roles: a token carries the roles copied when it was issued, so a change revokes it.


@pytest.fixture
def two_users():
    account, other_account = AccountFactory(), AccountFactory()
    integration, ada = make_integration([account])
    bob = services.user_add(integration=integration, name="Bob", email="bob@example.com")
    services.grant_add(integration=integration, user=bob, account=account, role=Role.ADMIN)
    return integration, ada, bob, other_account


def test_changing_a_users_role_revokes_that_users_tokens_only(admin_client, two_users):
    integration, ada, bob, other_account = two_users
    ada_token, bob_token, app_token = (
        issue(integration, ada),
        issue(integration, bob),
        issue(integration),
    )
    page = admin_client.get(url(IntegrationUser, "change", ada.pk))
    data = page_data(page)
    data["grants-0-role"] = Role.BILLING_PAYMENT
    data["grants-0-account"] = other_account.pk
    response = admin_client.post(url(IntegrationUser, "change", ada.pk), data)
    assert response.status_code == 302, formset_errors(response)
    grant = ada.grants.get()
    assert (grant.account, grant.role) == (other_account, Role.BILLING_PAYMENT)
    assert revoked(ada_token)
    assert not revoked(bob_token)
    assert not revoked(app_token)


def test_removing_a_users_role_revokes_that_users_tokens(admin_client, two_users):
    integration, ada, bob, _other = two_users
    ada_token, bob_token = issue(integration, ada), issue(integration, bob)
    data = page_data(admin_client.get(url(IntegrationUser, "change", ada.pk)))
    data["grants-0-DELETE"] = "on"
    response = admin_client.post(url(IntegrationUser, "change", ada.pk), data)
    assert response.status_code == 302, formset_errors(response)
    assert not ada.grants.exists()
    assert (revoked(ada_token), revoked(bob_token)) == (True, False)


def test_adding_a_role_keeps_the_tokens(admin_client, two_users):
    integration, ada, _bob, other_account = two_users
    ada_token = issue(integration, ada)
    data = page_data(admin_client.get(url(IntegrationUser, "change", ada.pk)))
    add_row(data, "grants", account=other_account.pk, role=Role.ADMIN)
    response = admin_client.post(url(IntegrationUser, "change", ada.pk), data)
    assert response.status_code == 302, formset_errors(response)
    assert ada.grants.count() == 2
    assert not revoked(ada_token)


def test_same_role_twice_is_a_form_error(admin_client, two_users):
    _integration, ada, _bob, _other = two_users
    data = page_data(admin_client.get(url(IntegrationUser, "change", ada.pk)))
    add_row(data, "grants", account=data["grants-0-account"], role=data["grants-0-role"])
    response = admin_client.post(url(IntegrationUser, "change", ada.pk), data)
    assert response.status_code == 200
    assert "granted twice" in formset_errors(response)
    assert ada.grants.count() == 1


def test_changing_an_application_role_revokes_application_tokens_only(admin_client, two_users):
    integration, ada, _bob, _other = two_users
    ada_token, app_token = issue(integration, ada), issue(integration)
    data = page_data(admin_client.get(url(Integration, "change", integration.pk)))
    data["grants-0-role"] = Role.BILLING_PAYMENT
    response = admin_client.post(url(Integration, "change", integration.pk), data)
    assert response.status_code == 302, formset_errors(response)
    assert IntegrationGrant.objects.get(user=None).role == Role.BILLING_PAYMENT
    assert (revoked(app_token), revoked(ada_token)) == (True, False)


def test_editing_users_name_keeps_its_tokens(admin_client, two_users):
    integration, ada, _bob, _other = two_users
    token = issue(integration, ada)
    data = page_data(admin_client.get(url(Integration, "change", integration.pk)))
    data["users-0-name"] = "Ada King"
    response = admin_client.post(url(Integration, "change", integration.pk), data)
    assert response.status_code == 302, formset_errors(response)
    ada.refresh_from_db()
    assert ada.name == "Ada King"
    assert not revoked(token)


def test_user_with_tokens_cannot_be_deleted(admin_client, two_users):
    integration, ada, _bob, _other = two_users
    issue(integration, ada)
    data = page_data(admin_client.get(url(Integration, "change", integration.pk)))
    index = next(i for i in range(2) if data[f"users-{i}-id"] == ada.pk)
    data[f"users-{index}-DELETE"] = "on"
    response = admin_client.post(url(Integration, "change", integration.pk), data)
    assert response.status_code == 200
    assert "protected related objects: access token" in formset_errors(response)
    assert IntegrationUser.objects.filter(pk=ada.pk).exists()


# Revoking an integration.


def test_revoke_asks_first_then_revokes_the_integration_and_its_live_tokens(admin_client):
    integration, user = make_integration([AccountFactory()])
    other, other_user = make_integration([AccountFactory()], name="Other")
    live = [issue(integration, user), issue(integration)]
    expired = issue(integration, user, lifetime=-HOUR)
    other_token = issue(other, other_user)

    confirmation = admin_client.get(revoke_url(integration))
    assert confirmation.status_code == 200
    assert "2 live tokens" in confirmation.content.decode()
    integration.refresh_from_db()
    assert integration.revoked_at is None
    assert not any(revoked(token) for token in live)

    response = admin_client.post(revoke_url(integration), {"post": "yes"})
    assert response.status_code == 302
    assert response.url == url(Integration, "change", integration.pk)
    integration.refresh_from_db()
    assert integration.revoked_at is not None
    assert all(revoked(token) for token in live)
    assert not revoked(expired)  # expired already: left as it is
    assert not revoked(other_token)
    other.refresh_from_db()
    assert other.revoked_at is None


def test_revoked_integration_is_read_only(admin_client):
    integration, user = make_integration([AccountFactory()])
    services.integration_revoke(integration=integration)
    page = admin_client.get(url(Integration, "change", integration.pk))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert "is revoked" in page.content.decode()
    assert "integration-revoke-link" not in page.content.decode()
    response = admin_client.post(url(Integration, "change", integration.pk), {"name": "Renamed"})
    assert response.status_code == 403
    integration.refresh_from_db()
    assert integration.name == "Acme tills"
    assert (
        admin_client.post(url(IntegrationUser, "change", user.pk), {"name": "X"}).status_code == 403
    )
    assert admin_client.get(revoke_url(integration)).status_code == 302  # revoked already


def test_revoke_action_confirms_then_revokes(admin_client):
    integration, user = make_integration([AccountFactory()])
    token = issue(integration, user)
    post = {"action": "revoke_integrations", "_selected_action": [integration.pk]}
    confirmation = admin_client.post(url(Integration, "changelist"), post)
    assert confirmation.status_code == 200
    assert "1 live token" in confirmation.content.decode()
    assert Integration.objects.get().revoked_at is None
    response = admin_client.post(url(Integration, "changelist"), {**post, "post": "yes"})
    assert response.status_code == 302
    assert Integration.objects.get().revoked_at is not None
    assert revoked(token)


def test_integration_with_tokens_cannot_be_deleted(admin_client):
    integration, user = make_integration([AccountFactory()])
    issue(integration, user)
    page = admin_client.get(url(Integration, "change", integration.pk))
    assert not page.context["has_delete_permission"]
    assert (
        admin_client.post(url(Integration, "delete", integration.pk), {"post": "yes"}).status_code
        == 403
    )
    assert Integration.objects.filter(pk=integration.pk).exists()
    actions = admin_client.get(url(Integration, "changelist")).context["action_form"]
    assert [name for name, _ in actions.fields["action"].choices] == ["", "revoke_integrations"]


def test_integration_never_used_can_be_deleted(admin_client):
    integration, _user = make_integration([AccountFactory()])
    response = admin_client.post(url(Integration, "delete", integration.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Integration.objects.exists()
    assert not IntegrationUser.objects.exists()


# Consent.


def consent_action(client, action, *users):
    return client.post(
        url(IntegrationUser, "changelist"),
        {"action": action, "_selected_action": [user.pk for user in users]},
    )


def test_record_and_withdraw_consent(admin_client):
    integration, user = make_integration([AccountFactory()], consent=False)
    response = consent_action(admin_client, "record_consent", user)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.consented_at is not None
    token, app_token = issue(integration, user), issue(integration)

    response = consent_action(admin_client, "withdraw_consent", user)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.consented_at is None
    assert revoked(token)
    assert not revoked(app_token)


def test_consent_not_recorded_for_a_revoked_integration(admin_client):
    integration, user = make_integration([AccountFactory()], consent=False)
    services.integration_revoke(integration=integration)
    assert consent_action(admin_client, "record_consent", user).status_code == 302
    user.refresh_from_db()
    assert user.consented_at is None


# Tokens and token requests: read-only.


def test_token_list_filters_and_revoke_action(admin_client):
    integration, user = make_integration([AccountFactory()])
    live, expired = issue(integration, user), issue(integration, user, lifetime=-HOUR)
    gone = issue(integration)
    services.tokens_revoke(IssuedToken.objects.filter(pk=gone.pk))
    changelist = url(IssuedToken, "changelist")

    def listed(**query):
        response = admin_client.get(changelist, query)
        assert response.status_code == 200
        return set(response.context["cl"].result_list)

    assert listed() == {live, expired, gone}
    assert listed(live="yes") == {live}
    assert listed(expired="yes") == {expired}
    assert listed(revoked="yes") == {gone}
    assert listed(integration__id__exact=integration.pk) == {live, expired, gone}

    response = admin_client.post(
        changelist,
        {"action": "revoke_tokens", "_selected_action": [live.pk, expired.pk, gone.pk]},
    )
    assert response.status_code == 302
    assert revoked(live)
    assert not revoked(expired)
    assert admin_client.get(url(IssuedToken, "add")).status_code == 403
    assert admin_client.post(url(IssuedToken, "change", live.pk), {"scope": "x"}).status_code == 403
    assert (
        admin_client.post(url(IssuedToken, "delete", live.pk), {"post": "yes"}).status_code == 403
    )


def test_token_request_is_read_only(admin_client):
    integration, user = make_integration([AccountFactory()])
    issued = services.token_request_record(
        grant_type=GrantType.JWT_BEARER, client_address="10.0.0.1", token=issue(integration, user)
    )
    refused = services.token_request_record(
        grant_type=GrantType.JWT_BEARER,
        client_address="10.0.0.2",
        error="consent_required",
        integration=integration,
        user=user,
    )
    changelist = url(TokenRequest, "changelist")
    response = admin_client.get(changelist, {"outcome__exact": "refused"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [refused]
    response = admin_client.get(changelist, {"error": "consent_required"})
    assert list(response.context["cl"].result_list) == [refused]
    assert admin_client.get(changelist).context["action_form"] is None  # no action at all
    assert admin_client.get(url(TokenRequest, "change", issued.pk)).status_code == 200
    assert admin_client.get(url(TokenRequest, "add")).status_code == 403
    post = admin_client.post(url(TokenRequest, "change", issued.pk), {"error": "x"})
    assert post.status_code == 403
    delete = admin_client.post(url(TokenRequest, "delete", issued.pk), {"post": "yes"})
    assert delete.status_code == 403
    assert TokenRequest.objects.count() == 2


# Changelists: a fixed number of queries, however many rows.


def make_rows():
    integration, user = make_integration([AccountFactory()], name="Many")
    token = issue(integration, user)
    issue(integration)
    services.token_request_record(grant_type="jwt", client_address="10.0.0.1", token=token)
    services.token_request_record(
        grant_type="jwt", client_address=None, error="invalid_grant", integration=integration
    )


@pytest.mark.parametrize("model", [Integration, IntegrationUser, IssuedToken, TokenRequest])
def test_changelist_queries_do_not_grow_with_rows(admin_client, model):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(url(model, "changelist"))
        assert response.status_code == 200
        return len(captured), len(response.context["cl"].result_list)

    make_rows()
    few, rows = queries()
    assert rows >= 1
    for _ in range(19):
        make_rows()
    many, rows = queries()
    assert rows >= 20
    assert many == few


# The services the admin writes through.


def test_services_refuse_writes_to_a_revoked_integration():
    integration, user = make_integration([AccountFactory()])
    grant = user.grants.get()
    services.integration_revoke(integration=integration)
    integration.refresh_from_db()
    with pytest.raises(services.IntegrationRevoked):
        services.integration_change(integration=integration, name="X", redirect_uri="")
    with pytest.raises(services.IntegrationRevoked):
        services.user_add(integration=integration, name="Bob")
    with pytest.raises(services.IntegrationRevoked):
        services.grant_change(grant=grant, account=grant.account, role=Role.BILLING_PAYMENT)
    with pytest.raises(services.IntegrationRevoked):
        services.public_key_delete(key=integration.public_keys.get())
    assert IntegrationGrant.objects.get(pk=grant.pk).role == Role.ADMIN


def test_integration_delete_refused_once_a_token_was_requested():
    integration, _user = make_integration([AccountFactory()])
    services.token_request_record(
        grant_type="jwt", client_address=None, error="invalid_grant", integration=integration
    )
    with pytest.raises(services.InUse):
        services.integration_delete(integration=integration)
    assert Integration.objects.filter(pk=integration.pk).exists()


def test_application_grant_delete_revokes_application_tokens_only():
    integration, user = make_integration([AccountFactory()])
    user_token, app_token = issue(integration, user), issue(integration)
    assert services.grant_delete(grant=IntegrationGrant.objects.get(user=None)) == 1
    assert (revoked(app_token), revoked(user_token)) == (True, False)


def test_a_new_client_secret_is_asked_for_then_shown_once(admin_client):
    from oauth.codes import client_secret_matches

    integration, _user = make_integration([AccountFactory()])
    page = reverse("admin:oauth_integration_client_secret", args=[integration.pk])

    asked = admin_client.get(page)
    assert asked.status_code == 200
    assert "no client secret yet" in asked.content.decode()
    assert Integration.objects.get(pk=integration.pk).client_secret_hash == ""
    shown = admin_client.post(page, {"post": "yes"})
    assert shown.status_code == 200
    secret = shown.context["secret"]
    assert f'<code id="client-secret">{secret}</code>' in shown.content.decode()
    stored = Integration.objects.get(pk=integration.pk)
    assert secret not in stored.client_secret_hash
    assert client_secret_matches(stored, secret)
    again = admin_client.post(page, {"post": "yes"})  # a new one: the first stops working
    stored.refresh_from_db()
    assert not client_secret_matches(stored, secret)
    assert client_secret_matches(stored, again.context["secret"])


def test_a_revoked_integration_gets_no_client_secret(admin_client):
    integration, _user = make_integration([AccountFactory()])
    services.integration_revoke(integration=integration)
    page = reverse("admin:oauth_integration_client_secret", args=[integration.pk])
    response = admin_client.post(page, {"post": "yes"})
    assert response.status_code == 302
    assert Integration.objects.get(pk=integration.pk).client_secret_hash == ""
