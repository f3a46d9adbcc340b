"""The project's background tasks (docs/worker.md).

A task is deferred with `task.defer(**kwargs)` from ordinary Django code: the job is a row written
through Django's connection, inside the caller's transaction, so it is queued if and only if that
transaction commits. `manage.py worker` runs it after the commit, at least once: a worker killed
mid-job leaves it to be run again, so a task must be safe to run twice.
"""

import logging

from django.conf import settings
from procrastinate.contrib.django import app

from .cleanup import remove_finished_jobs

logger = logging.getLogger(__name__)

# The project's queue (settings.WORKER_QUEUES lists the queues a worker runs).
QUEUE = "billing"


@app.task(name="worker.ping", queue=QUEUE)
def ping(note: str = "") -> str:
    """The smallest job: proves that a worker runs the queue (tests, a check after a deploy)."""
    logger.info("ping %s", note)
    return note


@app.periodic(cron="37 3 * * *", periodic_id="remove-finished-jobs")
@app.task(name="worker.remove_finished_jobs", queue=QUEUE, queueing_lock="worker.remove_finished")
def remove_finished(timestamp: int) -> int:
    """Every night: the jobs finished more than WORKER_KEEP_JOBS_DAYS ago are removed."""
    removed = remove_finished_jobs(settings.WORKER_KEEP_JOBS_DAYS)
    logger.info(
        "Removed %s job(s) finished more than %s days ago", removed, settings.WORKER_KEEP_JOBS_DAYS
    )
    return removed
