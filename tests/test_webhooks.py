"""Webhooks in one process (webhooks/): which subscriptions get a delivery, made with its job in
the money change's transaction; a try signed as Standard Webhooks say (verified with the
`standardwebhooks` library), logged, retried with backoff, given up on with the subscription
disabled; redelivery. The worker itself runs them in tests/test_webhooks_worker.py."""

import datetime
import json
import threading
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from events.models import Event
from payments.actors import SYSTEM
from payments.services import invoices_pay, payment_reverse
from tests.docusign_api import post as docusign_post
from tests.docusign_api import url as docusign_url
from tests.factories import AccountFactory, InvoiceFactory, days_ago
from tests.webhook_receiver import webhook_receiver
from webhooks import queueing, sending, services, signing
from webhooks.models import Delivery, DeliveryAttempt, Subscription
from webhooks.queueing import DELIVER_TASK

pytestmark = pytest.mark.django_db


def jobs_of(delivery: Delivery) -> list[tuple[dict, datetime.datetime | None, str]]:
    """The delivery's jobs (args, scheduled_at, status), oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT args, scheduled_at, status FROM procrastinate_jobs "
            "WHERE task_name = %s AND queue_name = %s AND (args->>'delivery_id')::bigint = %s "
            "ORDER BY id",
            [DELIVER_TASK, "webhooks", delivery.pk],
        )
        return [(json.loads(args), at, status) for args, at, status in cursor.fetchall()]


@pytest.fixture
def books():
    account = AccountFactory(currency="EUR")
    InvoiceFactory(account=account, due_date=days_ago(5), amount=Decimal("30.00"))
    return account


def subscribe(url, accounts, event_types=()):
    return services.subscription_create(url=url, accounts=accounts, event_types=event_types)


def test_a_payment_makes_one_delivery_and_one_job_per_subscription_that_takes_its_events(books):
    other = AccountFactory()
    InvoiceFactory(account=other, due_date=days_ago(5), amount=Decimal("30.00"))
    every, _ = subscribe("https://hooks.example.com/every", [books])
    payments_only, _ = subscribe("https://hooks.example.com/pay", [books], ["payment.created"])
    others, _ = subscribe("https://hooks.example.com/other", [other])
    disabled, _ = subscribe("https://hooks.example.com/off", [books])
    services.subscription_disable(disabled, "by hand")

    invoices_pay(account_id=books.pk, amount="30.00", actor=SYSTEM)

    events = {e.type: e for e in Event.objects.filter(account=books)}
    assert set(events) == {"payment.created", "invoice.paid"}
    made = sorted(
        (d.subscription_id, d.event.type, d.status, d.attempts)
        for d in Delivery.objects.select_related("event")
    )
    assert made == sorted(
        [
            (every.pk, "payment.created", "pending", 0),
            (every.pk, "invoice.paid", "pending", 0),
            (payments_only.pk, "payment.created", "pending", 0),
        ]
    )
    for delivery in Delivery.objects.all():
        assert [job[0] for job in jobs_of(delivery)] == [
            {"delivery_id": delivery.pk, "ticket": str(delivery.ticket)}
        ]
        assert jobs_of(delivery)[0][2] == "todo"
    assert not Delivery.objects.filter(subscription__in=[others, disabled]).exists()


def test_a_rolled_back_money_call_leaves_no_event_delivery_or_job(books):
    subscribe("https://hooks.example.com/every", [books])
    with transaction.atomic():
        invoices_pay(account_id=books.pk, amount="30.00", actor=SYSTEM)
        assert Delivery.objects.count() == 2
        transaction.set_rollback(True)
    assert not Event.objects.exists()
    assert not Delivery.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s", [DELIVER_TASK]
        )
        assert cursor.fetchone() == (0,)


def test_a_try_posts_the_event_signed_as_standard_webhooks_say(books):
    with webhook_receiver() as receiver:
        _subscription, secret = subscribe(receiver.url, [books], ["payment.created"])
        payment = invoices_pay(account_id=books.pk, amount="30.00", actor=SYSTEM).payment
        delivery = Delivery.objects.get()
        ticket = str(delivery.ticket)
        assert sending.attempt(delivery.pk, ticket).startswith("delivered (HTTP 200")

    (received,) = receiver.requests
    event = Event.objects.get(type="payment.created")
    assert received.webhook_id == str(event.event_id)
    assert received.headers["content-type"] == "application/json"
    payload = received.verified(secret)  # raises unless the signature and timestamp are right
    assert payload == {
        "type": "payment.created",
        "timestamp": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": event.data,
    }
    assert payload["data"]["paymentId"] == str(payment.pk)
    assert payload["data"]["amount"] == "30.00"
    assert abs(int(received.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    with pytest.raises(Exception, match="signature"):
        received.verified(signing.new_secret())  # another secret does not verify it

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.ticket) == ("succeeded", 1, None)
    (logged,) = DeliveryAttempt.objects.filter(delivery=delivery)
    assert (logged.status_code, logged.succeeded, logged.response_excerpt, logged.error) == (
        200,
        True,
        "ok",
        "",
    )
    assert logged.duration_ms >= 0
    # Run again (a job run twice): the delivery is done, nothing is sent.
    assert sending.attempt(delivery.pk, ticket) == "superseded"
    assert len(receiver.requests) == 1


def test_a_failed_try_is_logged_and_retried_later_by_a_new_job(books, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 100
    with webhook_receiver(statuses=[500]) as receiver:
        subscribe(receiver.url, [books], ["payment.created"])
        invoices_pay(account_id=books.pk, amount="30.00", actor=SYSTEM)
        delivery = Delivery.objects.get()
        first_ticket = str(delivery.ticket)
        before = timezone.now()
        result = sending.attempt(delivery.pk, first_ticket)
        assert result == "failed (HTTP 500: 'receiver says no'): try 2 queued"

        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert str(delivery.ticket) != first_ticket
        # The retry's job, 50 to 100 seconds on (the base, with jitter).
        _first_job, retry_job = jobs_of(delivery)
        assert retry_job[0] == {"delivery_id": delivery.pk, "ticket": str(delivery.ticket)}
        wait = (retry_job[1] - before).total_seconds()
        assert 50 <= wait <= 101
        assert retry_job[1] == delivery.next_attempt_at
        # The first job, run again, is done with it.
        assert sending.attempt(delivery.pk, first_ticket) == "superseded"
        assert sending.attempt(delivery.pk, str(delivery.ticket)).startswith("delivered")

    assert len(receiver.requests) == 2
    assert receiver.requests[0].webhook_id == receiver.requests[1].webhook_id
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    log = list(DeliveryAttempt.objects.filter(delivery=delivery).order_by("pk"))
    assert [(a.status_code, a.succeeded, a.response_excerpt) for a in log] == [
        (500, False, "receiver says no"),
        (200, True, "ok"),
    ]


def test_backoff_doubles_with_jitter_up_to_its_ceiling(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 60
    settings.WEBHOOK_RETRY_MAX_SECONDS = 6 * 3600
    for tries, ceiling in [(1, 60), (2, 120), (5, 960), (9, 15360), (10, 21600), (11, 21600)]:
        waits = {sending.backoff(tries).total_seconds() for _ in range(50)}
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits), (tries, waits)
        assert len(waits) > 1  # jittered


def test_retries_exhausted_fail_the_delivery_and_disable_the_subscription(books, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    with webhook_receiver(statuses=[503, 500]) as receiver:
        subscription, _ = subscribe(receiver.url, [books], ["payment.created"])
        invoices_pay(account_id=books.pk, amount="30.00", actor=SYSTEM)
        delivery = Delivery.objects.get()
        sending.attempt(delivery.pk, str(delivery.ticket))
        delivery.refresh_from_db()
        result = sending.attempt(delivery.pk, str(delivery.ticket))
    assert result == "failed (HTTP 500: 'receiver says no'): gave up, subscription disabled"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.ticket) == ("failed", 2, None)
    subscription.refresh_from_db()
    assert subscription.is_active is False
    event = Event.objects.get(type="payment.created")
    assert subscription.disabled_reason.startswith(
        f"Event {event.event_id} (payment.created) failed 2 tries from "
    )
    assert subscription.disabled_reason.endswith("UTC; the last: HTTP 500: 'receiver says no'")

    # A disabled subscription gets no new delivery; enabling it sends the failed one again.
    InvoiceFactory(account=books, due_date=days_ago(1), amount=Decimal("5.00"))
    invoices_pay(account_id=books.pk, amount="5.00", actor=SYSTEM)
    assert Delivery.objects.count() == 1
    assert services.subscription_enable(subscription) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert jobs_of(delivery)[-1][0] == {"delivery_id": delivery.pk, "ticket": str(delivery.ticket)}


def test_no_answer_is_a_failure_with_its_reason(books, settings):
    settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS = 1
    subscribe("http://127.0.0.1:9/closed", [books], ["payment.created"])
    invoices_pay(account_id=books.pk, amount="30.00", actor=SYSTEM)
    delivery = Delivery.objects.get()
    assert sending.attempt(delivery.pk, str(delivery.ticket)).startswith("failed (ConnectionError")
    (logged,) = DeliveryAttempt.objects.all()
    assert (logged.status_code, logged.succeeded) == (None, False)
    assert logged.error.startswith("ConnectionError: ")


def test_a_url_no_longer_allowed_is_not_sent_to(books, settings):
    with webhook_receiver() as receiver:
        subscribe(receiver.url, [books], ["payment.created"])
        settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = False
        invoices_pay(account_id=books.pk, amount="30.00", actor=SYSTEM)
        delivery = Delivery.objects.get()
        sending.attempt(delivery.pk, str(delivery.ticket))
    assert receiver.requests == []
    assert DeliveryAttempt.objects.get().error == (
        "Not sent: The URL must be https:// (http:// is allowed only in DEBUG)."
    )


def test_an_account_taken_off_the_subscription_is_not_sent(books):
    other = AccountFactory()
    with webhook_receiver() as receiver:
        subscription, _ = subscribe(receiver.url, [books, other], ["payment.created"])
        invoices_pay(account_id=books.pk, amount="30.00", actor=SYSTEM)
        subscription.accounts.set([other])
        delivery = Delivery.objects.get()
        assert sending.attempt(delivery.pk, str(delivery.ticket)).startswith("not sent")
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    subscription.refresh_from_db()
    assert subscription.is_active  # not the receiver's fault


def test_redelivery_of_events_and_of_deliveries(books):
    with webhook_receiver() as receiver:
        first, _ = subscribe(receiver.url, [books])
        second, _ = subscribe(receiver.url + "/2", [books], ["invoice.paid"])
        invoices_pay(account_id=books.pk, amount="30.00", actor=SYSTEM)
        for delivery in Delivery.objects.all():
            sending.attempt(delivery.pk, str(delivery.ticket))
    assert set(Delivery.objects.values_list("status", flat=True)) == {"succeeded"}
    events = list(Event.objects.order_by("pk").values_list("pk", flat=True))

    # One event, to one subscription.
    assert services.events_redeliver(events[:1], subscription=first) == 1
    redone = Delivery.objects.get(subscription=first, event_id=events[0])
    assert (redone.status, redone.attempts) == ("pending", 0)
    assert jobs_of(redone)[-1][0] == {"delivery_id": redone.pk, "ticket": str(redone.ticket)}
    assert Delivery.objects.filter(status="succeeded").count() == 2

    # A range of events, to every subscription that takes them.
    assert services.events_redeliver(events) == 3
    assert Delivery.objects.filter(status="pending").count() == 3
    # Deliveries picked one by one.
    Delivery.objects.update(status="succeeded", ticket=None)
    assert services.deliveries_resend(Delivery.objects.filter(subscription=second)) == 1
    assert Delivery.objects.get(subscription=second).status == "pending"


def test_subscription_urls_and_event_types_are_checked(books, settings):
    with pytest.raises(ValidationError, match="must be https"):
        subscribe("http://hooks.example.com/x", [books])
    with pytest.raises(ValidationError, match="user name or password"):
        subscribe("https://me:pw@hooks.example.com/x", [books])
    with pytest.raises(ValidationError, match="Enter a full"):
        subscribe("hooks.example.com/x", [books])
    with pytest.raises(ValidationError, match=r"Unknown event type\(s\): payment\.made"):
        subscribe("https://hooks.example.com/x", [books], ["payment.made"])
    with pytest.raises(ValidationError, match="at least one account"):
        subscribe("https://hooks.example.com/x", [])
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = False
    with pytest.raises(ValidationError, match="must be https"):
        subscribe("http://127.0.0.1:8080/x", [books])
    settings.DEBUG = True
    subscribe("http://hooks.example.com/x", [books])
    assert Subscription.objects.count() == 1


def test_the_secret_is_stored_encrypted_and_survives_a_secret_key_rotation(books, settings):
    _subscription, secret = subscribe("https://hooks.example.com/x", [books])
    assert secret.startswith("whsec_")
    assert len(signing.Webhook(secret)._whsecret) == 32
    stored = Subscription.objects.values_list("secret_encrypted", flat=True).get()
    assert secret not in stored
    assert secret[6:] not in stored
    assert signing.decrypt(stored) == secret
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key"
    assert signing.decrypt(stored) == secret
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(signing.SecretUnreadable):
        signing.decrypt(stored)


def test_reversal_events_are_delivered_too(books):
    subscribe("https://hooks.example.com/x", [books], ["payment.reversed"])
    payment = invoices_pay(account_id=books.pk, amount="30.00", actor=SYSTEM).payment
    assert not Delivery.objects.exists()
    payment_reverse(payment_id=payment.pk, reason="bounced", actor=SYSTEM)
    delivery = Delivery.objects.select_related("event").get()
    assert delivery.event.type == "payment.reversed"
    assert json.loads(signing.body(delivery.event))["data"]["paymentId"] == str(payment.pk)


def test_a_delivery_whose_job_was_lost_gets_a_new_one_and_keeps_its_tries(books, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 1
    with webhook_receiver(statuses=[500]) as receiver:
        subscribe(receiver.url, [books], ["payment.created"])
        invoices_pay(account_id=books.pk, amount="30.00", actor=SYSTEM)
        lost = Delivery.objects.get()
        sending.attempt(lost.pk, str(lost.ticket))  # failed once, its retry queued
    InvoiceFactory(account=books, due_date=days_ago(1), amount=Decimal("5.00"))
    invoices_pay(account_id=books.pk, amount="5.00", actor=SYSTEM)
    waiting = Delivery.objects.exclude(pk=lost.pk).get()  # its job is there: left alone
    long_ago = timezone.now() - datetime.timedelta(minutes=20)
    Delivery.objects.update(next_attempt_at=long_ago)
    with connection.cursor() as cursor:  # the lost one's jobs are gone
        cursor.execute(
            "DELETE FROM procrastinate_jobs WHERE (args->>'delivery_id')::bigint = %s", [lost.pk]
        )
    old_ticket = str(Delivery.objects.get(pk=lost.pk).ticket)

    assert queueing.requeue_stuck(15) == 1

    lost.refresh_from_db()
    assert (lost.status, lost.attempts) == ("pending", 1)
    assert str(lost.ticket) != old_ticket
    assert [job[0] for job in jobs_of(lost)] == [
        {"delivery_id": lost.pk, "ticket": str(lost.ticket)}
    ]
    assert Delivery.objects.get(pk=waiting.pk).ticket == waiting.ticket
    assert queueing.requeue_stuck(15) == 0  # it has a job now


def test_a_payment_request_never_waits_for_the_receiver(client, account, credential):
    InvoiceFactory(account=account, due_date=days_ago(3), amount=Decimal("12.00"))
    held = threading.Event()
    with webhook_receiver(hold=held) as receiver:  # it would never answer
        subscribe(receiver.url, [account])
        started = time.monotonic()
        response = docusign_post(
            client,
            docusign_url("restapi", account, "billing_payments"),
            {"paymentAmount": "12.00"},
            credential,
        )
        elapsed = time.monotonic() - started
        assert response.status_code == 201, response.content
        assert receiver.requests == []  # nothing is sent in the request
    assert elapsed < 2
    assert sorted(Delivery.objects.values_list("event__type", flat=True)) == [
        "invoice.paid",
        "payment.created",
    ]
