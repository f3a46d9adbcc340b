"""The webhooks' job (docs/worker.md: tasks are found in each app's tasks.py). Its jobs are
deferred in SQL (webhooks.queueing), on the `webhooks` queue, under this name."""

from procrastinate.contrib.django import app

from .queueing import DELIVER_TASK
from .sending import attempt


@app.task(name=DELIVER_TASK)
def deliver(delivery_id: int, ticket: str) -> str:
    """One try of a webhook delivery (webhooks.sending)."""
    return attempt(delivery_id, ticket)
