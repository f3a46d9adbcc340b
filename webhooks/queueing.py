"""Deliveries and their jobs, written in the caller's transaction (the transactional outbox).

`queue_deliveries` runs in the money service's transaction, right after its events are written
(events.recording.record): one statement makes a `Delivery` for each active subscription that
takes the event (its account, its type) and defers one `webhooks.deliver` job for each. Both commit
with the money change or not at all, and a receiver that is slow or down costs the payment request
nothing more than that statement. The same statement queues a redelivery (admin): a delivery that
exists is made pending again, with a new ticket and a new job.

The jobs are written with procrastinate's own SQL function (`procrastinate_defer_jobs_v1`, what
`task.defer()` runs) through Django's connection: in the worker, procrastinate's connection is not
the task's transaction, and a retry must be queued with the try that failed, or not at all.
"""

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db import connection

DELIVER_TASK = "webhooks.deliver"

# The rows of the CTE `delivery` (id, ticket, next_attempt_at) become one job each, in one call.
_DEFER_JOBS = """
SELECT count(*), procrastinate_defer_jobs_v1(array_agg(
    ROW(%(queue)s, %(task)s, 0, NULL, NULL,
        jsonb_build_object('delivery_id', id, 'ticket', ticket), next_attempt_at
    )::procrastinate_job_to_defer_v1 ORDER BY id
))
FROM delivery HAVING count(*) > 0
"""

QUEUE_FOR_EVENTS = (
    """
WITH delivery AS (
    INSERT INTO webhooks_delivery AS d
        (subscription_id, event_id, status, attempts, ticket, created_at, next_attempt_at)
    SELECT s.id, e.id, 'pending', 0, gen_random_uuid(), now(), now()
    FROM events_event e
    JOIN webhooks_subscription_accounts sa ON sa.account_id = e.account_id
    JOIN webhooks_subscription s ON s.id = sa.subscription_id
    WHERE e.id = ANY(%(events)s) AND s.is_active
      AND (s.event_types = '{}' OR e.type = ANY(s.event_types))
      AND (%(subscription)s::bigint IS NULL OR s.id = %(subscription)s::bigint)
    ON CONFLICT (subscription_id, event_id) DO UPDATE
        SET status = 'pending', attempts = 0, ticket = excluded.ticket,
            next_attempt_at = excluded.next_attempt_at
    RETURNING d.id, d.ticket, d.next_attempt_at
)"""  # noqa: S608 - constant SQL pieces; the values are parameters
    + _DEFER_JOBS
)

REQUEUE = (
    """
WITH delivery AS (
    UPDATE webhooks_delivery AS d
    SET status = 'pending', attempts = 0, ticket = gen_random_uuid(), next_attempt_at = now()
    FROM webhooks_subscription s
    WHERE d.id = ANY(%(deliveries)s) AND s.id = d.subscription_id AND s.is_active
    RETURNING d.id, d.ticket, d.next_attempt_at
)"""  # noqa: S608 - constant SQL pieces; the values are parameters
    + _DEFER_JOBS
)

RETRY = (
    """
WITH delivery AS (
    UPDATE webhooks_delivery
    SET ticket = gen_random_uuid(), next_attempt_at = %(at)s
    WHERE id = %(delivery)s
    RETURNING id, ticket, next_attempt_at
)"""  # noqa: S608 - constant SQL pieces; the values are parameters
    + _DEFER_JOBS
)


def _run(sql: str, **params) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, {"queue": settings.WEBHOOK_QUEUE, "task": DELIVER_TASK, **params})
        row = cursor.fetchone()
    return row[0] if row else 0


def queue_deliveries(event_ids: Iterable[int], subscription_id: int | None = None) -> int:
    """A delivery and its job for each active subscription that takes each event (only
    `subscription_id`'s when given); a delivery already made is queued again. How many."""
    return _run(QUEUE_FOR_EVENTS, events=list(event_ids), subscription=subscription_id)


def requeue(delivery_ids: Iterable[int]) -> int:
    """Send these deliveries again from the first try (those of active subscriptions); how
    many."""
    return _run(REQUEUE, deliveries=list(delivery_ids))


def schedule_retry(delivery_id: int, at: datetime.datetime) -> None:
    """The next try of a delivery at `at`: a new ticket (the job that failed is done with it) and
    its job, in the transaction that logs the failed try."""
    _run(RETRY, delivery=delivery_id, at=at)
