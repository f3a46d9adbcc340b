"""The webhooks' jobs (docs/worker.md: tasks are found in each app's tasks.py). Deliveries are
deferred in SQL (webhooks.queueing), on the `webhooks` queue, under DELIVER_TASK."""

import logging

from django.conf import settings
from django.db import transaction
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from .queueing import DELIVER_TASK, QUEUE, requeue_stuck
from .sending import attempt

logger = logging.getLogger(__name__)


# An error (the database away while logging the try) fails the job: procrastinate runs it again
# after 4, 16, 64 and 256 seconds, with the same ticket. Past that, requeue_stuck_deliveries
# gives the delivery a new job.
@app.task(name=DELIVER_TASK, queue=QUEUE, retry=RetryStrategy(max_attempts=5, exponential_wait=4))
def deliver(delivery_id: int, ticket: str) -> str:
    """One try of a webhook delivery (webhooks.sending)."""
    return attempt(delivery_id, ticket)


@app.periodic(cron="*/10 * * * *", periodic_id="requeue-stuck-deliveries")
@app.task(
    name="webhooks.requeue_stuck",
    queue=QUEUE,
    queueing_lock="webhooks.requeue_stuck",
)
def requeue_stuck_deliveries(timestamp: int) -> int:
    """Every 10 minutes: a new job for each pending delivery whose job was lost."""
    with transaction.atomic():
        requeued = requeue_stuck(settings.WEBHOOK_STUCK_MINUTES)
    if requeued:
        logger.warning("Requeued %s webhook delivery(ies) whose job was lost", requeued)
    return requeued
