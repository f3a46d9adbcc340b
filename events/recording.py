"""Recording events, inside the money service's transaction (events.models)."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from .models import Event


@dataclass(frozen=True)
class NewEvent:
    type: str
    account_id: int
    data: dict
    occurred_at: datetime.datetime | None = field(default=None)


def record(events: Iterable[NewEvent]) -> list[Event]:
    """Write `events` in one statement, in the caller's transaction: they commit with the money
    change that made them, or not at all. The same statement queues their webhook deliveries (a
    trigger: webhooks.queueing)."""
    now = timezone.now()
    rows = [
        Event(
            type=event.type,
            account_id=event.account_id,
            data=event.data,
            occurred_at=event.occurred_at or now,
        )
        for event in events
    ]
    return Event.objects.bulk_create(rows) if rows else []


def when(moment: datetime.datetime | datetime.date | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, datetime.datetime):
        return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    return moment.isoformat()
