"""The audit trail (audit/): PostgreSQL triggers record every change of accounts, invoices,
billing items, credentials, roles and staff users' access, with who made it and through which
channel (pghistory's context, opened by audit.middleware, the Bearer authentication and manage.py).
"""

import datetime
import getpass
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import ProgrammingError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import (
    AccountEvent,
    AccountRoleEvent,
    ApiCredentialEvent,
    BillingItemEvent,
    GroupPermissionEvent,
    InvoiceEvent,
    UserEvent,
    UserGroupEvent,
    UserPermissionEvent,
    WebhookSubscriptionEvent,
)
from contacts.models import Account, AccountRole, ApiCredential
from contacts.roles import Role
from invoices.models import Invoice
from tests import servers
from tests.backoffice_pages import cashier_user, preview_then_confirm
from tests.docusign_api import post as docusign_post
from tests.docusign_api import url as docusign_url
from tests.factories import (
    AccountFactory,
    AccountRoleFactory,
    ApiCredentialFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    UserFactory,
    days_ago,
)
from tests.pay_books import DETAILS
from webhooks.services import subscription_create

pytestmark = pytest.mark.django_db

AUDIT = reverse("admin:audit_auditevent_changelist")


def events(event_model, obj) -> list:
    return list(event_model.objects.filter(pgh_obj_id=obj.pk).order_by("pgh_id"))


def context_of(event) -> dict | None:
    return event.pgh_context.metadata if event.pgh_context_id else None


def staff(user) -> dict:
    return {"user": user.pk, "username": user.username}


def partner(credential) -> dict:
    return {
        "credential": credential.pk,
        "credential_prefix": credential.prefix,
        "credential_name": credential.name,
    }


@pytest.fixture
def superuser():
    return UserFactory(username="boss", is_superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


# Recorded by the database, whatever writes.


def test_queryset_update_and_raw_sql_are_both_recorded():
    account = AccountFactory(name="Acme")

    Account.objects.filter(pk=account.pk).update(api_payments_blocked=True)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE contacts_account SET name = 'Acme Ltd' WHERE id = %s", [account.pk])
        cursor.execute("UPDATE contacts_account SET name = name WHERE id = %s", [account.pk])

    rows = [(e.pgh_label, e.api_payments_blocked, e.name) for e in events(AccountEvent, account)]
    assert rows == [
        ("insert", False, "Acme"),
        ("update", True, "Acme"),
        ("update", True, "Acme Ltd"),  # an UPDATE that changes nothing records nothing
    ]
    assert [context_of(e) for e in events(AccountEvent, account)] == [None, None, None]


def test_the_trail_itself_cannot_be_edited_or_deleted():
    event = events(AccountEvent, AccountFactory())[0]

    for sql in (
        "UPDATE audit_accountevent SET name = 'forged' WHERE pgh_id = %s",
        "DELETE FROM audit_accountevent WHERE pgh_id = %s",
    ):
        with (
            pytest.raises(ProgrammingError, match=r"^pgtrigger: Cannot update or delete rows"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pgh_id])

    assert AccountEvent.objects.get(pgh_id=event.pgh_id).name == event.name


def test_last_used_at_alone_makes_no_credential_event_and_no_secret_is_kept():
    credential = ApiCredentialFactory(name="Till")

    ApiCredential.objects.filter(pk=credential.pk).update(last_used_at=timezone.now())
    ApiCredential.objects.filter(pk=credential.pk).update(name="Till 2")
    ApiCredential.objects.filter(pk=credential.pk).update(secret_hash="f" * 64)

    rows = [(e.pgh_label, e.name) for e in events(ApiCredentialEvent, credential)]
    assert rows == [("insert", "Till"), ("update", "Till 2"), ("update", "Till 2")]
    kept = {field.name for field in ApiCredentialEvent._meta.fields}
    assert not kept & {"secret_hash", "previous_secret_hash", "last_used_at"}


# Each channel, with its actor.


def account_change_form(client, account, **changes) -> dict:
    page = client.get(reverse("admin:contacts_account_change", args=[account.pk]))
    form = {"number": account.number, "name": account.name, **changes}
    for inline in page.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        form |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    return form


def test_an_admin_change_is_recorded_with_the_staff_user(admin_client, superuser):
    account = AccountFactory()
    address = reverse("admin:contacts_account_change", args=[account.pk])

    response = admin_client.post(
        address, account_change_form(admin_client, account, api_payments_blocked="on")
    )

    assert response.status_code == 302
    insert, update = events(AccountEvent, account)
    assert (update.pgh_label, insert.api_payments_blocked, update.api_payments_blocked) == (
        "update",
        False,
        True,
    )
    assert context_of(update) == {
        "channel": "admin",
        "path": address,
        "method": "POST",
        **staff(superuser),
    }


def test_a_back_office_payment_records_the_invoice_balances_with_the_staff_user(client):
    cashier = cashier_user(username="cashier")
    client.force_login(cashier)
    invoice = InvoiceFactory(due_date=days_ago(20), amount=Decimal("80.00"))
    address = f"/backoffice/accounts/{invoice.account_id}/pay/"

    form = {"invoices": [invoice.pk], "amount": "30.00", **DETAILS}
    response = preview_then_confirm(client, address, form)

    assert response.status_code == 302
    update = events(InvoiceEvent, invoice)[-1]
    assert (update.pgh_label, update.balance, update.status) == ("update", Decimal("50.00"), "open")
    assert context_of(update) == {
        "channel": "backoffice",
        "path": address,
        "method": "POST",
        **staff(cashier),
    }


def test_a_docusign_api_payment_records_the_invoice_balances_with_the_credential(client):
    role = AccountRoleFactory(account=AccountFactory(currency="EUR"))
    older = InvoiceFactory(account=role.account, due_date=days_ago(30), amount=Decimal("70.00"))
    newer = InvoiceFactory(account=role.account, due_date=days_ago(3), amount=Decimal("5.25"))
    address = docusign_url("restapi", role.account, "billing_payments")

    response = docusign_post(client, address, {"paymentAmount": "75.25"}, role.credential)

    assert response.status_code == 201, response.content
    for invoice in (older, newer):
        update = events(InvoiceEvent, invoice)[-1]
        assert (update.pgh_label, update.balance, update.status) == ("update", 0, "paid")
        assert context_of(update) == {
            "channel": "docusign_api",
            "path": address,
            "method": "POST",
            **partner(role.credential),
        }
    # Authenticating set last_used_at, which is no event of the credential.
    assert ApiCredential.objects.get(pk=role.credential.pk).last_used_at is not None
    assert [e.pgh_label for e in events(ApiCredentialEvent, role.credential)] == ["insert"]


def test_an_api_payment_with_a_staff_session_records_the_staff_user(client):
    """The API looks the session up itself (StaffSessionAuthentication), not the audit middleware:
    with the database down an API request must still answer in the API's shape."""
    user = UserFactory(is_superuser=True)
    invoice = InvoiceFactory(due_date=days_ago(10), amount=Decimal("12.50"))
    address = docusign_url("restapi", invoice.account, "billing_payments")
    client.force_login(user)

    response = client.post(address, {"paymentAmount": "12.50"}, content_type="application/json")

    assert response.status_code == 201, response.content
    update = events(InvoiceEvent, invoice)[-1]
    assert (update.pgh_label, update.balance) == ("update", 0)
    assert context_of(update) == {
        "channel": "docusign_api",
        "path": address,
        "method": "POST",
        **staff(user),
    }


def test_a_legend_api_payment_records_the_billing_item_balances_with_the_credential(client):
    till = AccountRoleFactory(role=Role.BILLING_PAYMENT)
    item = BillingItemFactory(
        contact=ContactFactory(account=till.account), total_amount=Decimal("10.00")
    )
    body = {
        "ContactId": str(item.contact.guid),
        "PaymentDate": "2026-11-21T10:00:00+00:00",
        "TenderTypeId": 3,
        "BillingPayments": [{"BillingId": item.pk, "Amount": 4.0}],
    }

    response = client.post(
        "/pos/billingpayments",  # Legend's routes ignore case; so does the channel
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {till.credential.secret}",
    )

    assert response.status_code == 200, response.content
    update = events(BillingItemEvent, item)[-1]
    assert (update.pgh_label, update.balance) == ("update", Decimal("6.00"))
    assert context_of(update) == {
        "channel": "legend_api",
        "path": "/pos/billingpayments",
        "method": "POST",
        **partner(till.credential),
    }


@pytest.mark.django_db(transaction=True)
def test_a_management_command_is_recorded_with_its_name(tmp_path):
    account = AccountFactory(number=900123)
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "test-only-secret-key",
        "DATABASE_URL": servers.test_database_url(),
    }

    done = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", "Cron job", "--account", "900123"],
        cwd=servers.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    credential = ApiCredential.objects.get(name="Cron job")
    role = AccountRole.objects.get(credential=credential)
    expected = {"channel": "command", "command": "create_api_key", "os_user": getpass.getuser()}
    (created,) = events(ApiCredentialEvent, credential)
    (granted,) = events(AccountRoleEvent, role)
    assert (created.pgh_label, created.name) == ("insert", "Cron job")
    assert (granted.pgh_label, granted.account_id, granted.role) == ("insert", account.pk, "admin")
    assert context_of(created) == context_of(granted) == expected


# Access: roles, superusers, groups and permissions.


def test_a_role_granted_and_removed_in_the_admin_is_recorded(admin_client, superuser):
    account, user = AccountFactory(), UserFactory(username="clerk")

    added = admin_client.post(
        reverse("admin:contacts_accountrole_add"),
        {"account": account.pk, "role": Role.ADMIN, "user": user.pk},
    )
    role = AccountRole.objects.get(account=account, user=user)
    address = reverse("admin:contacts_accountrole_delete", args=[role.pk])
    removed = admin_client.post(address, {"post": "yes"})

    assert (added.status_code, removed.status_code) == (302, 302)
    assert not AccountRole.objects.filter(pk=role.pk).exists()
    grant, removal = events(AccountRoleEvent, role)
    rows = [
        (e.pgh_label, e.account_id, e.role, e.user_id, e.credential_id) for e in (grant, removal)
    ]
    assert rows == [
        ("insert", account.pk, "admin", user.pk, None),
        ("delete", account.pk, "admin", user.pk, None),
    ]
    assert context_of(removal) == {
        "channel": "admin",
        "path": address,
        "method": "POST",
        **staff(superuser),
    }


def test_superuser_group_and_permission_changes_are_recorded_without_the_password():
    user = UserFactory(username="newhire", is_staff=True)
    group = Group.objects.create(name="Auditors")
    permission = Permission.objects.get(codename="view_payment")

    user.is_superuser = True
    user.save()
    user.set_password("another-password")  # the hash and last_login are not tracked: no events
    user.last_login = timezone.now()
    user.save()
    user.groups.add(group)
    user.user_permissions.add(permission)
    group.permissions.add(permission)
    user.groups.remove(group)

    rows = [(e.pgh_label, e.is_staff, e.is_superuser, e.is_active) for e in events(UserEvent, user)]
    assert rows == [("insert", True, False, True), ("update", True, True, True)]
    assert "password" not in {field.name for field in UserEvent._meta.fields}
    memberships = UserGroupEvent.objects.filter(user_id=user.pk).order_by("pgh_id")
    assert [(e.pgh_label, e.group_id) for e in memberships] == [
        ("insert", group.pk),
        ("delete", group.pk),
    ]
    grants = UserPermissionEvent.objects.filter(user_id=user.pk)
    assert [(e.pgh_label, e.permission_id) for e in grants] == [("insert", permission.pk)]
    group_grants = GroupPermissionEvent.objects.filter(group_id=group.pk)
    assert [(e.pgh_label, e.permission_id) for e in group_grants] == [("insert", permission.pk)]


def test_staff_access_changed_in_the_admin_user_form_is_recorded(admin_client, superuser):
    user = UserFactory(username="newhire", is_staff=True)
    group = Group.objects.create(name="Auditors")
    permission = Permission.objects.get(codename="view_payment")
    address = reverse("admin:auth_user_change", args=[user.pk])

    response = admin_client.post(
        address,
        {
            "username": "newhire",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [group.pk],
            "user_permissions": [permission.pk],
            "date_joined_0": user.date_joined.date().isoformat(),
            "date_joined_1": "00:00:00",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    made_superuser = events(UserEvent, user)[-1]
    (membership,) = UserGroupEvent.objects.filter(user_id=user.pk)
    (grant,) = UserPermissionEvent.objects.filter(user_id=user.pk)
    assert (made_superuser.pgh_label, made_superuser.is_superuser) == ("update", True)
    assert (membership.pgh_label, membership.group_id) == ("insert", group.pk)
    assert (grant.pgh_label, grant.permission_id) == ("insert", permission.pk)
    expected = {"channel": "admin", "path": address, "method": "POST", **staff(superuser)}
    assert [context_of(e) for e in (made_superuser, membership, grant)] == [expected] * 3


# Reading the trail in the admin.


def midnight(day: datetime.date) -> datetime.datetime:
    """As the admin's date filter sends it: the start of the day, in the current time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def listed(response) -> list[tuple]:
    assert response.status_code == 200
    return [
        (e.pgh_obj_model, e.pgh_obj_id, e.pgh_label) for e in response.context["cl"].result_list
    ]


def test_the_admin_trail_filters_by_model_object_kind_channel_and_actor(admin_client, superuser):
    # Made before the request: a request's context lasts to the end of the transaction, and
    # here the whole test is one transaction.
    blocked, other = AccountFactory(), AccountFactory()
    credential = ApiCredentialFactory()
    invoice = InvoiceFactory(account=other)
    Invoice.objects.filter(pk=invoice.pk).update(balance=Decimal("1.00"))
    admin_client.post(
        reverse("admin:contacts_account_change", args=[blocked.pk]),
        account_change_form(admin_client, blocked, api_payments_blocked="on"),
    )

    by_channel = listed(admin_client.get(AUDIT, {"channel": "admin"}))
    by_user = listed(admin_client.get(AUDIT, {"user": superuser.pk}))
    accounts = listed(admin_client.get(AUDIT, {"model": "contacts.account"}))
    one = listed(admin_client.get(AUDIT, {"model": "contacts.account", "object": blocked.pk}))
    updates = listed(admin_client.get(AUDIT, {"kind": "update"}))
    credentials = listed(admin_client.get(AUDIT, {"model": "contacts.apicredential"}))
    today, tomorrow = (
        listed(
            admin_client.get(
                AUDIT, {"model": "contacts.account", "pgh_created_at__gte": str(midnight(day))}
            )
        )
        for day in (timezone.localdate(), timezone.localdate() + datetime.timedelta(days=1))
    )

    assert by_channel == by_user == [("contacts.Account", str(blocked.pk), "update")]
    assert sorted(accounts) == sorted(
        [
            ("contacts.Account", str(blocked.pk), "insert"),
            ("contacts.Account", str(blocked.pk), "update"),
            ("contacts.Account", str(other.pk), "insert"),
        ]
    )
    assert sorted(one) == [
        ("contacts.Account", str(blocked.pk), "insert"),
        ("contacts.Account", str(blocked.pk), "update"),
    ]
    assert sorted(updates) == [
        ("contacts.Account", str(blocked.pk), "update"),
        ("invoices.Invoice", str(invoice.pk), "update"),
    ]
    assert credentials == [("contacts.ApiCredential", str(credential.pk), "insert")]
    assert (sorted(today), tomorrow) == (sorted(accounts), [])
    assert listed(admin_client.get(AUDIT, {"model": "no.such"})) == []


def test_the_admin_trail_shows_the_changes_and_who_made_them(admin_client, superuser):
    account = AccountFactory()
    invoice = InvoiceFactory(account=account, amount=Decimal("1250.00"))
    Invoice.objects.filter(pk=invoice.pk).update(balance=Decimal("1249.90"))
    admin_client.post(
        reverse("admin:contacts_account_change", args=[account.pk]),
        account_change_form(admin_client, account, api_payments_blocked="on"),
    )

    page = admin_client.get(AUDIT, {"model": "contacts.account", "kind": "update"})

    html = page.content.decode()
    assert "api_payments_blocked: False → True" in html
    assert f"boss (user #{superuser.pk})" in html
    assert "Admin<br><small>POST /admin/contacts/account/" in html
    invoices = admin_client.get(AUDIT, {"model": "invoices.invoice"}).content.decode()
    assert "balance: 1250.00 → 1249.90" in invoices  # amounts as amounts, not floats
    assert "amount: 1250.00<br>balance: 1250.00<br>" in invoices  # the inserted row


def test_the_change_pages_link_to_their_audit_trail(admin_client):
    account = AccountFactory()
    invoice = InvoiceFactory(account=account)

    for name, obj, model in [
        ("admin:contacts_account_change", account, "contacts.account"),
        ("admin:invoices_invoice_change", invoice, "invoices.invoice"),
    ]:
        page = admin_client.get(reverse(name, args=[obj.pk])).content.decode()
        link = f"{AUDIT}?model={model}&amp;object={obj.pk}"
        assert f'<a class="audit-history-link" href="{link}">History of changes (audit)</a>' in page


def test_the_trail_is_read_only_and_for_those_who_may_view_it(admin_client, client):
    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    client.force_login(UserFactory(username="clerk", is_staff=True))
    assert client.get(AUDIT).status_code == 403


def test_untracked_statements_set_pghistorys_wrapper_aside_and_put_it_back():
    from django.db import connection

    from audit.context import opened, untracked_statements

    with opened(channel="system"):
        wrappers = list(connection.execute_wrappers)
        assert any(wrapper.__module__ == "pghistory.runtime" for wrapper in wrappers)
        with untracked_statements():
            assert not any(w.__module__ == "pghistory.runtime" for w in connection.execute_wrappers)
        assert connection.execute_wrappers == wrappers
        with pytest.raises(ZeroDivisionError), untracked_statements():
            1 / 0  # noqa: B018
        assert connection.execute_wrappers == wrappers
    with untracked_statements():  # no context open: nothing to set aside
        assert connection.execute_wrappers == []


def test_a_webhook_subscription_disabled_in_the_admin_is_recorded_without_its_secret(
    admin_client, superuser
):
    subscription, _ = subscription_create(
        url="https://hooks.example.com/x", accounts=[AccountFactory()]
    )
    changelist = reverse("admin:webhooks_subscription_changelist")

    response = admin_client.post(
        changelist,
        {"action": "disable_subscriptions", "_selected_action": [subscription.pk], "index": 0},
    )

    assert response.status_code == 302
    insert, update = events(WebhookSubscriptionEvent, subscription)
    assert (insert.pgh_label, insert.is_active, update.pgh_label, update.is_active) == (
        "insert",
        True,
        "update",
        False,
    )
    assert update.disabled_reason == "Disabled by boss in the admin"
    assert context_of(update) == {
        "channel": "admin",
        "path": changelist,
        "method": "POST",
        **staff(superuser),
    }
    assert "secret_encrypted" not in {f.name for f in WebhookSubscriptionEvent._meta.fields}
