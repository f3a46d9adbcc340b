"""The events app's scheduled job (docs/worker.md: tasks are found in each app's tasks.py)."""

from procrastinate.contrib.django import app

from worker.tasks import QUEUE

from .past_due import record_past_due_events


@app.periodic(cron="*/10 * * * *", periodic_id="record-past-due-events")
@app.task(name="events.record_past_due", queue=QUEUE, queueing_lock="events.record_past_due")
def record_past_due(timestamp: int) -> int:
    """Every 10 minutes: the invoices that became past due get their `invoice.past_due` event."""
    return record_past_due_events()
