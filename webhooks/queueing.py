"""Deliveries and their jobs, written in the transaction that records the event (the
transactional outbox).

The database makes them: inserting events into events_event runs, in the same statement, the
trigger `webhooks_queue` (webhooks/migrations/0003), which calls `webhooks_queue_deliveries` over
the new events: a `Delivery` for each active subscription that takes an event (its account, its
type), and one `webhooks.deliver` job for each, on the `webhooks` queue. They commit with the money
change or not at all, whoever inserts the event, and a money call pays no round trip for them; a
receiver that is slow or down costs it nothing.

The same SQL functions queue redeliveries and retries from Python, below. Jobs are written with
procrastinate's own SQL function (`procrastinate_defer_jobs_v1`, what `task.defer()` runs) in the
caller's transaction: in the worker, procrastinate's connection is not the task's transaction, and
a retry must be queued with the try that failed, or not at all.
"""

from collections.abc import Iterable

from django.db import connection

QUEUE = "webhooks"  # as written in the SQL functions
DELIVER_TASK = "webhooks.deliver"

REQUEUE = """
UPDATE webhooks_delivery AS d
SET status = 'pending', attempts = 0, ticket = gen_random_uuid(), next_attempt_at = now()
FROM webhooks_subscription s
WHERE d.id = ANY(%s) AND s.id = d.subscription_id AND s.is_active
RETURNING d.id
"""


# Pending deliveries of active subscriptions, due more than %s minutes ago, whose ticket no job
# waiting or running carries: their job was lost (it failed on an error past its retries, or was
# deleted). A new ticket each.
STUCK = """
UPDATE webhooks_delivery AS d
SET ticket = gen_random_uuid(), next_attempt_at = now()
FROM webhooks_subscription s
WHERE d.status = 'pending' AND s.id = d.subscription_id AND s.is_active
  AND d.next_attempt_at < now() - make_interval(mins => %s)
  AND NOT EXISTS (
      SELECT 1 FROM procrastinate_jobs j
      WHERE j.task_name = 'webhooks.deliver' AND j.status IN ('todo', 'doing')
        AND j.args->>'ticket' = d.ticket::text
  )
RETURNING d.id
"""


def _one(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def queue_deliveries(event_ids: Iterable[int], subscription_id: int | None = None) -> int:
    """A delivery and its job for each active subscription that takes each event (only
    `subscription_id`'s when given); a delivery already made is queued again. How many."""
    return _one("SELECT webhooks_queue_deliveries(%s, %s)", [list(event_ids), subscription_id])


def defer(delivery_ids: list[int]) -> int:
    """A job for each of these deliveries, at its `next_attempt_at`, carrying its ticket."""
    return _one("SELECT webhooks_defer(%s)", [delivery_ids])


def requeue(delivery_ids: Iterable[int]) -> int:
    """Send these deliveries again from the first try (those of active subscriptions); how
    many."""
    with connection.cursor() as cursor:
        cursor.execute(REQUEUE, [list(delivery_ids)])
        queued = [row[0] for row in cursor.fetchall()]
    return defer(queued)


def requeue_stuck(minutes: int) -> int:
    """A new job for each pending delivery whose job was lost (STUCK), keeping its tries; how
    many. The worker runs it every 10 minutes (webhooks.tasks)."""
    with connection.cursor() as cursor:
        cursor.execute(STUCK, [minutes])
        stuck = [row[0] for row in cursor.fetchall()]
    return defer(stuck)
