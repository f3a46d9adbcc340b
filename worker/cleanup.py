"""Finished jobs are removed after WORKER_KEEP_JOBS_DAYS: every webhook try and scheduled run is a
job, and the rows would otherwise grow for ever. What matters of them is kept elsewhere (a
delivery's tries in webhooks.DeliveryAttempt, the events in events.Event). Jobs waiting or running
are never touched. procrastinate's own query (`delete_old_jobs`: the time a job last changed state
is in procrastinate_events), run through Django's connection."""

from django.db import connection
from procrastinate.sql import queries

FINISHED = ["succeeded", "failed", "cancelled", "aborted"]


def remove_finished_jobs(days: int) -> int:
    """Remove the jobs that finished more than `days` days ago; how many."""
    with connection.cursor() as cursor:
        cursor.execute(
            queries["delete_old_jobs"], {"nb_hours": days * 24, "queue": None, "statuses": FINISHED}
        )
        return cursor.rowcount
