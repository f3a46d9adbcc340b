"""Recording events, inside the money service's transaction (events.models)."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from webhooks.queueing import queue_deliveries

from .models import Event


@dataclass(frozen=True)
class NewEvent:
    type: str
    account_id: int
    data: dict
    occurred_at: datetime.datetime | None = field(default=None)


def record(events: Iterable[NewEvent]) -> list[Event]:
    """Write `events` in one statement, and their webhook deliveries in a second, in the caller's
    transaction: they commit with the money change that made them, or not at all."""
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
    if not rows:
        return []
    Event.objects.bulk_create(rows)
    # Their webhook deliveries and jobs, in the same transaction (webhooks.queueing).
    queue_deliveries(row.pk for row in rows)
    return rows


def when(moment: datetime.datetime | datetime.date | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, datetime.datetime):
        return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    return moment.isoformat()
