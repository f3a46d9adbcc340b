"""Webhooks delivered by a real `manage.py worker` (docs/webhooks.md): a payment through each
channel (both APIs, the back office, the admin) reaches the subscriber's receiver once per event,
signed (verified with the `standardwebhooks` library); a 500 is retried; a worker killed
mid-delivery leaves it to the next worker, which delivers it again; another account's subscriber
gets nothing."""

import threading
import time
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from contacts.roles import Role
from events.models import Event
from payments.actors import SYSTEM
from payments.models import TenderType
from payments.services import invoices_pay
from tests.backoffice_pages import cashier_user, preview_then_confirm, with_permissions
from tests.docusign_api import post as docusign_post
from tests.docusign_api import url as docusign_url
from tests.factories import (
    AccountFactory,
    AccountRoleFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    days_ago,
)
from tests.pay_books import DETAILS, EFT
from tests.webhook_receiver import webhook_receiver
from tests.workers import worker_process
from webhooks import services
from webhooks.models import Delivery, DeliveryAttempt
from webhooks.queueing import QUEUE

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue():
    """The deliveries' queue. Jobs left on it by earlier tests find their delivery gone, or its
    ticket changed, and do nothing."""
    return QUEUE


def webhook_worker(tmp_path, queue, name="worker", **env):
    return worker_process(
        tmp_path,
        queue=queue,
        name=name,
        env={
            "WEBHOOK_ALLOW_HTTP_LOOPBACK": "1",
            "WEBHOOK_RETRY_BASE_SECONDS": "1",
            **env,
        },
    )


def wait_until_delivered(count: int, deadline: float = 20.0) -> None:
    stop = time.monotonic() + deadline
    while Delivery.objects.filter(status="succeeded").count() < count:
        assert time.monotonic() < stop, list(Delivery.objects.values("status", "attempts"))
        time.sleep(0.05)


def test_payments_through_every_channel_reach_the_subscriber_once_per_event(tmp_path, queue):
    # The presets the tills and the pay page use (an earlier transaction=True test's flush may
    # have removed the migration's rows).
    for pk, name in [(2, "Cheque"), (EFT, "EFT")]:
        TenderType.objects.get_or_create(pk=pk, defaults={"name": name})
    account = AccountFactory(currency="EUR")
    docusign = AccountRoleFactory(account=account, role=Role.ADMIN).credential
    till = AccountRoleFactory(account=account, role=Role.BILLING_PAYMENT).credential
    contact = ContactFactory(account=account)
    item = BillingItemFactory(contact=contact, total_amount=Decimal("12.00"))
    for amount in ("100.00", "25.50"):
        InvoiceFactory(account=account, due_date=days_ago(10), amount=Decimal(amount))
    other = AccountFactory(currency="EUR")
    InvoiceFactory(account=other, due_date=days_ago(10), amount=Decimal("9.00"))

    with (
        webhook_receiver() as receiver,
        webhook_receiver() as elsewhere,
        webhook_worker(tmp_path, queue),
    ):
        _, secret = services.subscription_create(url=receiver.url, accounts=[account])
        services.subscription_create(url=elsewhere.url, accounts=[other])

        # DocuSign's API: the past-due balance (invoices 100.00 and 25.50).
        response = docusign_post(
            Client(),
            docusign_url("restapi", account, "billing_payments"),
            {"paymentAmount": "125.50"},
            docusign,
        )
        assert response.status_code == 201, response.content
        # Legend's API: one billing item.
        response = Client().post(
            "/POS/BillingPayments",
            {
                "ContactId": str(contact.guid),
                "PaymentDate": days_ago(0).isoformat() + "T09:00:00+00:00",
                "TenderTypeId": 2,
                "BillingPayments": [{"BillingId": item.pk, "Amount": 12.0}],
            },
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {till.secret}",
        )
        assert response.status_code == 200, response.content
        assert response.json()["Success"] is True, response.json()
        # The back office: a clerk pays a new past-due invoice.
        owed = InvoiceFactory(account=account, due_date=days_ago(3), amount=Decimal("40.00"))
        clerk = Client()
        clerk.force_login(cashier_user())
        response = preview_then_confirm(
            clerk,
            f"/backoffice/accounts/{account.pk}/pay/",
            {"invoices": [owed.pk], "amount": "40.00", **DETAILS},
        )
        assert response.status_code == 302
        # The admin: money received into the account's credit.
        staff = Client()
        staff.force_login(
            with_permissions(cashier_user(), "contacts.view_account", "contacts.change_account")
        )
        response = staff.post(
            reverse("admin:contacts_account_receive", args=[account.pk]),
            {"amount": "7.25", "payment_date": days_ago(0).isoformat()},
        )
        assert response.status_code == 302
        # A payment on the other account, for the other subscriber only.
        invoices_pay(account_id=other.pk, amount="9.00", actor=SYSTEM)

        events = list(Event.objects.filter(account=account).order_by("pk"))
        received = receiver.wait_for(len(events))
        wait_until_delivered(len(events) + 2)

    payments = [e.data["channel"] for e in events if e.type == "payment.created"]
    assert payments == ["docusign_api", "legend_api", "staff", "staff"]
    # Exactly one request per event, each signed with the subscription's secret.
    assert len(received) == len(events)
    by_id = {r.webhook_id: r.verified(secret) for r in received}
    assert by_id == {
        str(e.event_id): {
            "type": e.type,
            "timestamp": e.occurred_at.isoformat().replace("+00:00", "Z"),
            "data": e.data,
        }
        for e in events
    }
    # The other account's events went to its own subscriber only.
    other_events = {str(e.event_id) for e in Event.objects.filter(account=other)}
    assert {r.webhook_id for r in elsewhere.requests} == other_events
    assert len(elsewhere.requests) == 2  # payment.created, invoice.paid
    assert not other_events & set(by_id)


def test_a_500_is_retried_by_the_worker_until_it_is_delivered(tmp_path, queue):
    account = AccountFactory()
    InvoiceFactory(account=account, due_date=days_ago(3), amount=Decimal("20.00"))
    with webhook_receiver(statuses=[500, 502]) as receiver, webhook_worker(tmp_path, queue):
        _, secret = services.subscription_create(
            url=receiver.url, accounts=[account], event_types=["payment.created"]
        )
        invoices_pay(account_id=account.pk, amount="20.00", actor=SYSTEM)
        received = receiver.wait_for(3)
        wait_until_delivered(1)
    assert len({r.webhook_id for r in received}) == 1  # the same message, three tries
    for request in received:
        assert request.verified(secret)["type"] == "payment.created"
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("succeeded", 3)
    log = DeliveryAttempt.objects.filter(delivery=delivery).order_by("pk")
    assert [(a.status_code, a.succeeded) for a in log] == [(500, False), (502, False), (200, True)]
    first, second, third = log
    # The backoff: 0.5-1 s after the first failure, 1-2 s after the second (plus polling).
    assert (second.started_at - first.started_at).total_seconds() >= 0.5
    assert (third.started_at - second.started_at).total_seconds() >= 1.0


def test_a_worker_killed_mid_delivery_leaves_it_to_the_next_worker(tmp_path, queue):
    account = AccountFactory()
    InvoiceFactory(account=account, due_date=days_ago(3), amount=Decimal("20.00"))
    held = threading.Event()
    with webhook_receiver(hold=held) as receiver:
        _, secret = services.subscription_create(
            url=receiver.url, accounts=[account], event_types=["payment.created"]
        )
        invoices_pay(account_id=account.pk, amount="20.00", actor=SYSTEM)
        with webhook_worker(tmp_path, queue, name="first") as first:
            receiver.wait_for(1)  # the request is in flight, unanswered
            first.kill()  # SIGKILL: no answer read, nothing logged
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts) == ("pending", 0)
        assert not DeliveryAttempt.objects.exists()

        held.set()  # the receiver answers from now on
        with webhook_worker(tmp_path, queue, name="second") as second:
            received = receiver.wait_for(2)
            wait_until_delivered(1)
            second.wait_for_log("Retrying stalled job webhooks.deliver")
    assert received[0].webhook_id == received[1].webhook_id  # the same event, sent again
    assert received[1].verified(secret)["type"] == "payment.created"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 1)
    assert [(a.status_code, a.succeeded) for a in DeliveryAttempt.objects.all()] == [(200, True)]
