"""One try of a delivery, in the worker (webhooks.tasks): POST the signed event, log the try, and
on failure queue the next one after an exponential backoff with jitter, or give up.

The request is sent outside any transaction (a slow receiver holds no lock), then the try is
logged and the next step queued in one transaction, under the delivery's row lock. Only the job
holding the delivery's current `ticket` acts on it: a job run twice (its worker was killed after
the POST and before the commit) finds the ticket changed and stops, or, killed before the commit,
sends the same `webhook-id` again, which receivers drop as a duplicate (at least once).

A 2xx answer is a success. Anything else (another status, a redirect, which is not followed, a
timeout, a refused connection, a URL no longer allowed) is a failure. After WEBHOOK_MAX_ATTEMPTS
failed tries the delivery fails and the subscription is disabled, with the reason for staff.
"""

import datetime
import secrets
import time
import uuid
from dataclasses import dataclass

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import signing
from .endpoints import url_problem
from .models import Delivery, DeliveryAttempt, DeliveryStatus, Subscription
from .queueing import defer
from .services import subscription_disable

EXCERPT_CHARACTERS = 500
USER_AGENT = "billing-webhooks/1 (Standard Webhooks)"
_random = secrets.SystemRandom()


@dataclass(frozen=True)
class Outcome:
    started_at: datetime.datetime
    duration_ms: int
    status_code: int | None = None
    excerpt: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def summary(self) -> str:
        if self.status_code is None:
            return self.error
        excerpt = f": {self.excerpt[:200]!r}" if self.excerpt else ""
        return f"HTTP {self.status_code}{excerpt}"


def backoff(failed_tries: int) -> datetime.timedelta:
    """The wait after the n-th failed try: WEBHOOK_RETRY_BASE_SECONDS doubled at each failure,
    at most WEBHOOK_RETRY_MAX_SECONDS, times a random 0.5 to 1 (so that the retries of many
    deliveries that failed together do not all come back at once)."""
    ceiling = min(
        settings.WEBHOOK_RETRY_MAX_SECONDS,
        settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (failed_tries - 1),
    )
    return datetime.timedelta(seconds=ceiling * _random.uniform(0.5, 1.0))


def post(subscription: Subscription, delivery: Delivery) -> Outcome:
    started_at = timezone.now()
    clock = time.monotonic()

    def outcome(**result) -> Outcome:
        elapsed = round((time.monotonic() - clock) * 1000)
        return Outcome(started_at=started_at, duration_ms=elapsed, **result)

    problem = url_problem(subscription.url)
    if problem:
        return outcome(error=f"Not sent: {problem}")
    try:
        secret = signing.decrypt(subscription.secret_encrypted)
    except signing.SecretUnreadable as error:
        return outcome(error=f"Not sent: {error}")
    event = delivery.event
    payload = signing.body(event)
    headers = {
        **signing.headers(secret, event, payload, started_at),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    timeout = (settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS, settings.WEBHOOK_TIMEOUT_SECONDS)
    try:
        with requests.post(
            subscription.url,
            data=payload,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        ) as response:
            raw = response.raw.read(EXCERPT_CHARACTERS * 4, decode_content=True) or b""
            excerpt = raw.decode(response.encoding or "utf-8", errors="replace")
            return outcome(status_code=response.status_code, excerpt=excerpt[:EXCERPT_CHARACTERS])
    except requests.Timeout:
        return outcome(error=f"No answer within {settings.WEBHOOK_TIMEOUT_SECONDS} s.")
    except requests.RequestException as error:
        return outcome(error=f"{type(error).__name__}: {error}"[:EXCERPT_CHARACTERS])


def attempt(delivery_id: int, ticket: str) -> str:
    """Try the delivery if `ticket` is still its own; what happened, for the worker's log."""
    delivery = (
        Delivery.objects.select_related("subscription", "event").filter(pk=delivery_id).first()
    )
    if delivery is None or delivery.ticket is None or str(delivery.ticket) != ticket:
        return "superseded"
    if delivery.status != DeliveryStatus.PENDING:
        return delivery.status
    subscription = delivery.subscription
    if not subscription.is_active:
        return "subscription disabled: sent when it is enabled again"
    if not subscription.accounts.filter(pk=delivery.event.account_id).exists():
        result = Outcome(
            started_at=timezone.now(),
            duration_ms=0,
            error="Not sent: the subscription no longer covers the event's account.",
        )
        return _settle(delivery_id, ticket, result, give_up=True)
    return _settle(delivery_id, ticket, post(subscription, delivery))


@transaction.atomic
def _settle(delivery_id: int, ticket: str, outcome: Outcome, give_up: bool = False) -> str:
    delivery = Delivery.objects.select_for_update().select_related("event").get(pk=delivery_id)
    DeliveryAttempt.objects.create(
        delivery=delivery,
        started_at=outcome.started_at,
        duration_ms=outcome.duration_ms,
        status_code=outcome.status_code,
        succeeded=outcome.succeeded,
        response_excerpt=outcome.excerpt,
        error=outcome.error,
    )
    if str(delivery.ticket) != ticket or delivery.status != DeliveryStatus.PENDING:
        return f"tried ({outcome.summary()}), but it was queued again meanwhile"
    delivery.attempts += 1
    delivery.last_attempt_at = outcome.started_at
    fields = ["attempts", "last_attempt_at"]
    if outcome.succeeded:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = timezone.now()
        delivery.ticket = delivery.next_attempt_at = None
        delivery.save(
            update_fields=[*fields, "status", "delivered_at", "ticket", "next_attempt_at"]
        )
        return f"delivered ({outcome.summary()})"
    if not give_up and delivery.attempts < settings.WEBHOOK_MAX_ATTEMPTS:
        # The next try: a new ticket (the job that failed is done with it) and its job.
        delivery.ticket = uuid.uuid4()
        delivery.next_attempt_at = timezone.now() + backoff(delivery.attempts)
        delivery.save(update_fields=[*fields, "ticket", "next_attempt_at"])
        defer([delivery.pk])
        return f"failed ({outcome.summary()}): try {delivery.attempts + 1} queued"
    delivery.status = DeliveryStatus.FAILED
    delivery.ticket = delivery.next_attempt_at = None
    delivery.save(update_fields=[*fields, "status", "ticket", "next_attempt_at"])
    if give_up:
        return f"not sent ({outcome.summary()})"
    _disable_after(delivery, outcome)
    return f"failed ({outcome.summary()}): gave up, subscription disabled"


def _disable_after(delivery: Delivery, outcome: Outcome) -> None:
    first = delivery.attempt_log.order_by("-pk").values_list("started_at", flat=True)[
        delivery.attempts - 1
    ]
    reason = (
        f"Event {signing.message_id(delivery.event)} ({delivery.event.type}) failed "
        f"{delivery.attempts} tries from {first:%Y-%m-%d %H:%M:%S} to "
        f"{outcome.started_at:%Y-%m-%d %H:%M:%S} UTC; the last: {outcome.summary()}"
    )
    subscription_disable(delivery.subscription, reason)
