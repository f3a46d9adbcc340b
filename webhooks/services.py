"""Every write to a subscription: made (its secret returned once), changed, secret replaced,
disabled, enabled (what was not delivered is sent again), and redeliveries. The admin and `manage.py
create_webhook` call these."""

from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from contacts.models import Account
from events.models import EventType

from . import signing
from .endpoints import validate_url
from .models import Delivery, DeliveryStatus, Subscription
from .queueing import queue_deliveries, requeue


def _check_event_types(event_types: Sequence[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(EventType.values))
    if unknown:
        raise ValidationError(
            f"Unknown event type(s): {', '.join(unknown)}. Known: {', '.join(EventType.values)}.",
            code="event_type",
        )
    return sorted(set(event_types))


@transaction.atomic
def subscription_create(
    *,
    url: str,
    accounts: Iterable[Account],
    event_types: Sequence[str] = (),
    description: str = "",
) -> tuple[Subscription, str]:
    """A subscription and its signing secret (`whsec_...`), which is shown once: the caller gives
    it to the receiver."""
    validate_url(url)
    accounts = list(accounts)
    if not accounts:
        raise ValidationError("A subscription needs at least one account.", code="accounts")
    secret = signing.new_secret()
    subscription = Subscription.objects.create(
        url=url,
        description=description,
        event_types=_check_event_types(event_types),
        secret_encrypted=signing.encrypt(secret),
    )
    subscription.accounts.set(accounts)
    return subscription, secret


@transaction.atomic
def subscription_change(
    subscription: Subscription,
    *,
    url: str,
    accounts: Iterable[Account],
    event_types: Sequence[str] = (),
    description: str = "",
) -> Subscription:
    """Its URL (checked again), description, accounts and event types. Deliveries already queued
    are sent to the new URL; an event of an account taken off is not sent (webhooks.sending)."""
    validate_url(url)
    accounts = list(accounts)
    if not accounts:
        raise ValidationError("A subscription needs at least one account.", code="accounts")
    subscription.url = url
    subscription.description = description
    subscription.event_types = _check_event_types(event_types)
    subscription.save(update_fields=["url", "description", "event_types"])
    subscription.accounts.set(accounts)
    return subscription


def secret_replace(subscription: Subscription) -> str:
    """A new signing secret (deliveries from now on are signed with it); returned once."""
    secret = signing.new_secret()
    subscription.secret_encrypted = signing.encrypt(secret)
    subscription.save(update_fields=["secret_encrypted"])
    return secret


def subscription_disable(subscription: Subscription, reason: str) -> None:
    Subscription.objects.filter(pk=subscription.pk, is_active=True).update(
        is_active=False, disabled_at=timezone.now(), disabled_reason=reason
    )
    subscription.refresh_from_db()


@transaction.atomic
def subscription_enable(subscription: Subscription) -> int:
    """Enable it and send again what it was not delivered (pending or failed deliveries);
    how many are queued."""
    Subscription.objects.filter(pk=subscription.pk).update(
        is_active=True, disabled_at=None, disabled_reason=""
    )
    subscription.refresh_from_db()
    undelivered = Delivery.objects.filter(
        subscription=subscription, status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED]
    ).values_list("pk", flat=True)
    return requeue(list(undelivered))


@transaction.atomic
def deliveries_resend(deliveries: Iterable[Delivery]) -> int:
    """Send these deliveries again, from the first try (those of active subscriptions)."""
    return requeue([delivery.pk for delivery in deliveries])


@transaction.atomic
def events_redeliver(event_ids: Iterable[int], subscription: Subscription | None = None) -> int:
    """Send these events again to every active subscription that takes them (or to
    `subscription` only), whether or not they were delivered before; how many deliveries."""
    return queue_deliveries(
        list(event_ids), subscription_id=subscription.pk if subscription else None
    )
