"""The webhooks admin (webhooks/admin*.py, events/admin.py): subscriptions made and changed through
webhooks.services, the signing secret shown once and never again, disabling and enabling,
deliveries and their tries, sending again, and who may do it. Each test checks the database (and
the jobs queued), not just the status code."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from events.models import Event
from payments.actors import SYSTEM
from payments.services import invoices_pay
from tests.factories import AccountFactory, InvoiceFactory, UserFactory, days_ago
from tests.test_webhooks import jobs_of
from webhooks import services, signing
from webhooks.models import Delivery, DeliveryAttempt, Subscription

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = reverse("admin:webhooks_subscription_changelist")
DELIVERIES = reverse("admin:webhooks_delivery_changelist")
EVENTS = reverse("admin:events_event_changelist")


def change_url(subscription):
    return reverse("admin:webhooks_subscription_change", args=[subscription.pk])


def secret_url(subscription):
    return reverse("admin:webhooks_subscription_secret", args=[subscription.pk])


def redeliver_url(subscription):
    return reverse("admin:webhooks_subscription_redeliver", args=[subscription.pk])


def messages_after(client, response):
    assert response.status_code == 302, response.content.decode()[:2000]
    return [str(message) for message in client.get(response.url).context["messages"]]


def run_action(client, changelist, action, *rows):
    return client.post(
        changelist, {"action": action, "_selected_action": [row.pk for row in rows], "index": 0}
    )


@pytest.fixture
def books():
    account = AccountFactory(currency="EUR", number=610001)
    InvoiceFactory(account=account, due_date=days_ago(5), amount=Decimal("30.00"))
    return account


def subscribe(accounts, url="https://hooks.example.com/in", event_types=(), description=""):
    return services.subscription_create(
        url=url, accounts=accounts, event_types=event_types, description=description
    )[0]


def pay(account, amount="30.00"):
    return invoices_pay(account_id=account.pk, amount=amount, actor=SYSTEM)


def staff_with(client, *codenames):
    user = UserFactory()
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return user


# Adding: the secret once, on the page that answers the add.


def test_add_makes_the_subscription_and_shows_its_secret_once(admin_client, books):
    other = AccountFactory()
    response = admin_client.post(
        reverse("admin:webhooks_subscription_add"),
        {
            "url": "https://hooks.example.com/acme",
            "description": "Acme tills",
            "accounts": [books.pk, other.pk],
            "event_types": ["payment.created", "invoice.paid"],
        },
    )

    assert response.status_code == 200
    assert response.templates[0].name == "admin/webhooks/subscription/secret.html"
    subscription = Subscription.objects.get()
    assert (subscription.url, subscription.description, subscription.is_active) == (
        "https://hooks.example.com/acme",
        "Acme tills",
        True,
    )
    assert subscription.event_types == ["invoice.paid", "payment.created"]
    assert set(subscription.accounts.all()) == {books, other}
    secret = response.context["secret"]
    assert secret.startswith("whsec_")
    assert signing.decrypt(subscription.secret_encrypted) == secret
    html = response.content.decode()
    assert html.count(secret) == 1
    assert f'<code id="signing-secret">{secret}</code>' in html
    assert f'href="{change_url(subscription)}"' in html
    # Never in a message, the log, or the change page.
    assert list(get_messages(response.wsgi_request)) == []
    assert secret not in str(list(LogEntry.objects.values_list("change_message", flat=True)))
    change_page = admin_client.get(change_url(subscription))
    assert secret not in change_page.content.decode()
    assert secret[6:] not in change_page.content.decode()
    assert list(change_page.context["messages"]) == []


def test_add_without_event_types_takes_every_type(admin_client, books):
    add_page = admin_client.get(reverse("admin:webhooks_subscription_add")).content.decode()
    assert 'name="_save"' in add_page
    assert 'name="_continue"' not in add_page  # the page after the add shows the secret
    assert 'name="_addanother"' not in add_page
    response = admin_client.post(
        reverse("admin:webhooks_subscription_add"),
        {"url": "https://hooks.example.com/all", "accounts": [books.pk]},
    )
    assert response.status_code == 200
    subscription = Subscription.objects.get()
    assert subscription.event_types == []
    pay(books)
    assert Delivery.objects.filter(subscription=subscription).count() == 2


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"url": "http://hooks.example.com/x"}, "The URL must be https://"),
        ({"url": "https://me:pw@hooks.example.com/x"}, "may not carry a user name"),
        ({"accounts": []}, "This field is required."),
        ({"event_types": ["payment.made"]}, "Select a valid choice."),
    ],
)
def test_add_refuses_a_bad_subscription_with_a_form_error(admin_client, books, fields, error):
    data = {"url": "https://hooks.example.com/x", "accounts": [books.pk], **fields}
    response = admin_client.post(reverse("admin:webhooks_subscription_add"), data)
    assert response.status_code == 200
    assert error in str(response.context["adminform"].form.errors)
    assert "secret" not in response.context
    assert not Subscription.objects.exists()


# Changing: fields checked again, the secret never shown, why it was disabled shown.


def test_change_page_edits_through_the_service_and_checks_the_url_again(admin_client, books):
    other = AccountFactory()
    subscription = subscribe([books], event_types=["payment.created"])
    secret = signing.decrypt(subscription.secret_encrypted)
    data = {
        "url": "http://hooks.example.com/clear",
        "description": "Changed",
        "accounts": [other.pk],
        "event_types": [],
    }
    refused = admin_client.post(change_url(subscription), data)
    assert refused.status_code == 200
    assert "must be https://" in str(refused.context["adminform"].form.errors)
    assert secret not in refused.content.decode()
    subscription.refresh_from_db()
    assert (subscription.url, subscription.event_types) == (
        "https://hooks.example.com/in",
        ["payment.created"],
    )

    data["url"] = "https://hooks.example.com/new"
    response = admin_client.post(change_url(subscription), data)
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.url, subscription.description, subscription.event_types) == (
        "https://hooks.example.com/new",
        "Changed",
        [],
    )
    assert list(subscription.accounts.all()) == [other]
    assert signing.decrypt(subscription.secret_encrypted) == secret  # the same secret


def test_change_page_of_a_disabled_subscription_says_why_and_never_shows_the_secret(
    admin_client, books
):
    subscription = subscribe([books])
    secret = signing.decrypt(subscription.secret_encrypted)
    services.subscription_disable(subscription, "Event 123 failed 8 tries; the last: HTTP 500")

    html = admin_client.get(change_url(subscription)).content.decode()

    assert '<p class="errornote" id="disabled-note">Disabled ' in html
    assert "Why: Event 123 failed 8 tries; the last: HTTP 500" in html
    assert secret not in html
    assert secret[6:] not in html
    assert subscription.secret_encrypted not in html
    active = subscribe([books], url="https://hooks.example.com/ok")
    assert 'id="disabled-note"' not in admin_client.get(change_url(active)).content.decode()


def test_a_new_secret_is_asked_for_then_shown_once(admin_client, books):
    subscription = subscribe([books])
    old = signing.decrypt(subscription.secret_encrypted)

    asked = admin_client.get(secret_url(subscription))
    assert asked.status_code == 200
    assert "secret" not in asked.context
    assert "Yes, make a new signing secret" in asked.content.decode()
    subscription.refresh_from_db()
    assert signing.decrypt(subscription.secret_encrypted) == old

    shown = admin_client.post(secret_url(subscription), {"post": "yes"})
    secret = shown.context["secret"]
    assert secret != old
    assert shown.content.decode().count(secret) == 1
    subscription.refresh_from_db()
    assert signing.decrypt(subscription.secret_encrypted) == secret
    assert list(get_messages(shown.wsgi_request)) == []
    assert secret not in admin_client.get(change_url(subscription)).content.decode()


# Disabling, enabling, deleting.


def test_disable_action_records_who_disabled_it(admin_client, books):
    subscription = subscribe([books])
    already = subscribe([books], url="https://hooks.example.com/off")
    services.subscription_disable(already, "Earlier")

    response = run_action(
        admin_client, SUBSCRIPTIONS, "disable_subscriptions", subscription, already
    )

    assert messages_after(admin_client, response) == [
        "1 subscription(s) disabled: nothing is sent to them until they are enabled again."
    ]
    subscription.refresh_from_db()
    assert subscription.is_active is False
    assert subscription.disabled_reason == "Disabled by admin in the admin"
    assert subscription.disabled_at is not None
    already.refresh_from_db()
    assert already.disabled_reason == "Earlier"
    pay(books)
    assert not Delivery.objects.exists()


def test_enable_action_queues_what_was_not_delivered(admin_client, books):
    subscription = subscribe([books])
    pay(books)
    failed, delivered = Delivery.objects.order_by("pk")
    Delivery.objects.filter(pk=failed.pk).update(status="failed", ticket=None)
    Delivery.objects.filter(pk=delivered.pk).update(status="succeeded", ticket=None)
    services.subscription_disable(subscription, "Gave up")

    response = run_action(admin_client, SUBSCRIPTIONS, "enable_subscriptions", subscription)

    assert messages_after(admin_client, response) == [
        f"{subscription} is enabled: 1 undelivered delivery(ies) queued to be sent again."
    ]
    subscription.refresh_from_db()
    assert (subscription.is_active, subscription.disabled_at, subscription.disabled_reason) == (
        True,
        None,
        "",
    )
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)
    assert jobs_of(failed)[-1][0] == {"delivery_id": failed.pk, "ticket": str(failed.ticket)}
    delivered.refresh_from_db()
    assert delivered.status == "succeeded"
    assert len(jobs_of(delivered)) == 1  # only the first one


def test_a_subscription_is_deleted_only_while_it_has_no_deliveries(admin_client, books):
    used = subscribe([books])
    pay(books)
    unused = subscribe([books], url="https://hooks.example.com/unused")
    delete = "admin:webhooks_subscription_delete"

    assert admin_client.get(reverse(delete, args=[used.pk])).status_code == 403
    assert admin_client.post(reverse(delete, args=[used.pk]), {"post": "yes"}).status_code == 403
    assert Subscription.objects.filter(pk=used.pk).exists()
    action_form = admin_client.get(SUBSCRIPTIONS).context["action_form"]
    assert set(dict(action_form.fields["action"].choices)) == {
        "",
        "disable_subscriptions",
        "enable_subscriptions",
    }

    response = admin_client.post(reverse(delete, args=[unused.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Subscription.objects.filter(pk=unused.pk).exists()


def test_subscription_list_shows_counts_and_filters(admin_client, books):
    every = subscribe([books], description="Every type")
    payments = subscribe([books], url="https://hooks.example.com/p", event_types=["refund.created"])
    pay(books)
    Delivery.objects.filter(event__type="invoice.paid").update(status="failed", ticket=None)

    response = admin_client.get(SUBSCRIPTIONS)
    assert response.status_code == 200
    rows = {row.pk: row for row in response.context["cl"].result_list}
    assert (rows[every.pk].pending_total, rows[every.pk].failed_total) == (1, 1)
    assert (rows[payments.pk].pending_total, rows[payments.pk].failed_total) == (0, 0)
    html = response.content.decode()
    assert "every type" in html
    assert "refund.created" in html

    filtered = admin_client.get(SUBSCRIPTIONS, {"event_type": "refund.created"})
    assert set(filtered.context["cl"].result_list) == {every, payments}
    filtered = admin_client.get(SUBSCRIPTIONS, {"event_type": "invoice.paid"})
    assert set(filtered.context["cl"].result_list) == {every}
    found = admin_client.get(SUBSCRIPTIONS, {"q": "610001"})
    assert set(found.context["cl"].result_list) == {every, payments}


# Deliveries.


def test_delivery_page_shows_its_tries(admin_client, books):
    subscription = subscribe([books], event_types=["payment.created"])
    pay(books)
    delivery = Delivery.objects.get()
    started = timezone.now()
    DeliveryAttempt.objects.create(
        delivery=delivery,
        started_at=started,
        duration_ms=1234,
        status_code=503,
        succeeded=False,
        response_excerpt="upstream down",
    )
    DeliveryAttempt.objects.create(
        delivery=delivery,
        started_at=started + datetime.timedelta(minutes=1),
        duration_ms=5000,
        succeeded=False,
        error="No answer within 5 s.",
    )

    page = admin_client.get(reverse("admin:webhooks_delivery_change", args=[delivery.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "upstream down" in html
    assert "No answer within 5 s." in html
    assert "1234" in html
    assert f"{timezone.localtime(started):%Y-%m-%d %H:%M:%S}" in html
    assert str(delivery.event.event_id) in html
    (inline,) = page.context["inline_admin_formsets"]
    assert [form.original.status_code for form in inline] == [503, None]
    listed = admin_client.get(DELIVERIES, {"q": str(delivery.event.event_id)})
    assert list(listed.context["cl"].result_list) == [delivery]
    assert str(subscription) in listed.content.decode()


def test_send_again_queues_the_deliveries_of_active_subscriptions(admin_client, books):
    active = subscribe([books], event_types=["payment.created"])
    disabled = subscribe([books], url="https://hooks.example.com/off", event_types=["invoice.paid"])
    pay(books)
    Delivery.objects.update(status="succeeded", ticket=None)
    services.subscription_disable(disabled, "Off")
    to_active = Delivery.objects.get(subscription=active)
    to_disabled = Delivery.objects.get(subscription=disabled)

    response = run_action(admin_client, DELIVERIES, "send_again", to_active, to_disabled)

    assert messages_after(admin_client, response) == [
        "1 delivery(ies) queued to be sent again.",
        "1 not queued: their subscription is disabled (enable it, which sends what it was not "
        "delivered).",
    ]
    to_active.refresh_from_db()
    assert (to_active.status, to_active.attempts) == ("pending", 0)
    assert jobs_of(to_active)[-1][0] == {
        "delivery_id": to_active.pk,
        "ticket": str(to_active.ticket),
    }
    to_disabled.refresh_from_db()
    assert (to_disabled.status, to_disabled.ticket) == ("succeeded", None)
    assert len(jobs_of(to_disabled)) == 1


# Events: sent again from their list, their deliveries on their page, or some days' to one
# subscription.


def test_event_action_sends_the_chosen_events_again(admin_client, books):
    first = subscribe([books])
    second = subscribe([books], url="https://hooks.example.com/2", event_types=["invoice.paid"])
    pay(books)
    Delivery.objects.update(status="succeeded", ticket=None)
    paid = Event.objects.get(type="invoice.paid")

    asked = run_action(admin_client, EVENTS, "send_to_webhooks", paid)
    assert asked.status_code == 200  # a page first: how many, to whom; nothing queued yet
    page = asked.content.decode()
    assert '<p id="event-count"><strong>1</strong> event(s)' in page
    assert f'href="{change_url(first)}"' in page
    assert f'href="{change_url(second)}"' in page
    assert str(paid.event_id) in page
    assert not Delivery.objects.filter(status="pending").exists()

    response = admin_client.post(
        EVENTS,
        {
            "action": "send_to_webhooks",
            "_selected_action": [paid.pk],
            "index": 0,
            "select_across": "0",
            "post": "yes",
        },
    )

    assert messages_after(admin_client, response) == [
        "1 event(s): 2 delivery(ies) queued to the active subscriptions that take them."
    ]
    assert set(Delivery.objects.filter(status="pending").values_list("subscription", "event")) == {
        (first.pk, paid.pk),
        (second.pk, paid.pk),
    }
    for delivery in Delivery.objects.filter(status="pending"):
        assert jobs_of(delivery)[-1][0] == {
            "delivery_id": delivery.pk,
            "ticket": str(delivery.ticket),
        }

    page = admin_client.get(reverse("admin:events_event_change", args=[paid.pk]))
    (inline,) = page.context["inline_admin_formsets"]
    assert {form.original.subscription for form in inline} == {first, second}


def test_redeliver_some_days_to_one_subscription_asks_first(admin_client, books):
    subscription = subscribe([books], event_types=["payment.created"])
    other = subscribe([books], url="https://hooks.example.com/other")
    pay(books)
    Delivery.objects.update(status="succeeded", ticket=None)
    today = timezone.localdate().isoformat()
    days = {"date_from": today, "date_to": today}

    form = admin_client.get(redeliver_url(subscription))
    assert form.status_code == 200
    counted = admin_client.post(redeliver_url(subscription), days)
    assert counted.context["event_count"] == 1
    assert "<strong>1</strong> event(s)" in counted.content.decode()
    assert not Delivery.objects.filter(status="pending").exists()

    response = admin_client.post(redeliver_url(subscription), {**days, "post": "yes"})

    assert messages_after(admin_client, response) == [
        f"1 event(s) from {today} to {today} queued to be sent to {subscription}."
    ]
    (pending,) = Delivery.objects.filter(status="pending")
    assert (pending.subscription, pending.event.type) == (subscription, "payment.created")
    assert jobs_of(pending)[-1][0] == {"delivery_id": pending.pk, "ticket": str(pending.ticket)}
    assert not Delivery.objects.filter(subscription=other, status="pending").exists()

    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    none = admin_client.post(
        redeliver_url(subscription), {"date_from": yesterday, "date_to": yesterday}
    )
    assert none.context["event_count"] == 0
    backwards = admin_client.post(
        redeliver_url(subscription), {"date_from": today, "date_to": yesterday}
    )
    assert "The first day is after the last." in backwards.content.decode()


def test_redeliver_refuses_a_disabled_subscription(admin_client, books):
    subscription = subscribe([books])
    pay(books)
    services.subscription_disable(subscription, "Off")
    Delivery.objects.update(status="succeeded", ticket=None)
    today = timezone.localdate().isoformat()
    response = admin_client.post(
        redeliver_url(subscription), {"date_from": today, "date_to": today, "post": "yes"}
    )
    assert messages_after(admin_client, response) == [
        f"{subscription} is disabled: enable it before sending it events."
    ]
    assert not Delivery.objects.filter(status="pending").exists()


# Who may.


def test_staff_who_may_only_view_cannot_write_or_send(client, books):
    subscription = subscribe([books])
    pay(books)
    Delivery.objects.update(status="succeeded", ticket=None)
    delivery = Delivery.objects.first()
    event = Event.objects.first()
    staff_with(client, "view_subscription", "view_delivery", "view_event")
    today = timezone.localdate().isoformat()

    for changelist in (SUBSCRIPTIONS, DELIVERIES, EVENTS):
        page = client.get(changelist)
        assert page.status_code == 200
        assert page.context["action_form"] is None
    assert client.get(change_url(subscription)).status_code == 200
    assert client.post(secret_url(subscription), {"post": "yes"}).status_code == 403
    days = {"date_from": today, "date_to": today, "post": "yes"}
    assert client.post(redeliver_url(subscription), days).status_code == 403
    assert client.get(reverse("admin:webhooks_subscription_add")).status_code == 403
    run_action(client, SUBSCRIPTIONS, "disable_subscriptions", subscription)
    run_action(client, DELIVERIES, "send_again", delivery)
    run_action(client, EVENTS, "send_to_webhooks", event)
    original = subscription.secret_encrypted
    subscription.refresh_from_db()
    assert (subscription.is_active, subscription.secret_encrypted) == (True, original)
    assert not Delivery.objects.filter(status="pending").exists()


def test_changing_subscriptions_does_not_let_one_send_events_again(client, books):
    subscription = subscribe([books])
    pay(books)
    Delivery.objects.update(status="succeeded", ticket=None)
    staff_with(client, "view_subscription", "change_subscription", "view_delivery", "view_event")
    today = timezone.localdate().isoformat()

    page = client.get(change_url(subscription)).content.decode()
    assert 'id="new-secret-link"' in page
    assert 'id="redeliver-link"' not in page
    days = {"date_from": today, "date_to": today, "post": "yes"}
    assert client.post(redeliver_url(subscription), days).status_code == 403
    assert client.get(DELIVERIES).context["action_form"] is None
    assert not Delivery.objects.filter(status="pending").exists()

    staff_with(client, "view_subscription", "view_delivery", "change_delivery", "view_event")
    choices = dict(client.get(EVENTS).context["action_form"].fields["action"].choices)
    assert "send_to_webhooks" in choices
    response = client.post(redeliver_url(subscription), days)
    assert response.status_code == 302
    assert Delivery.objects.filter(status="pending").count() == 2


def test_send_to_webhooks_again_for_a_whole_filtered_range(admin_client, books):
    subscribe([books])
    InvoiceFactory(account=books, due_date=days_ago(4), amount=Decimal("20.00"))
    pay(books, "50.00")  # two invoices paid: two invoice.paid events
    Delivery.objects.update(status="succeeded", ticket=None)
    filtered = f"{EVENTS}?type__exact=invoice.paid"
    # "Select all" of the filtered list: the page's checked row, and select_across.
    across = {
        "action": "send_to_webhooks",
        "_selected_action": [Event.objects.filter(type="invoice.paid").first().pk],
        "index": 0,
        "select_across": "1",
    }

    asked = admin_client.post(filtered, across)
    assert asked.status_code == 200
    assert '<input type="hidden" name="select_across" value="1">' in asked.content.decode()
    assert '<p id="event-count"><strong>2</strong> event(s)' in asked.content.decode()
    response = admin_client.post(filtered, {**across, "post": "yes"})

    assert response.status_code == 302
    pending = Delivery.objects.filter(status="pending").select_related("event")
    assert [d.event.type for d in pending] == ["invoice.paid", "invoice.paid"]
