"""The project's background tasks (docs/worker.md).

A task is deferred with `task.defer(**kwargs)` from ordinary Django code: the job is a row written
through Django's connection, inside the caller's transaction, so it is queued if and only if that
transaction commits. `manage.py worker` runs it after the commit, at least once: a worker killed
mid-job leaves it to be run again, so a task must be safe to run twice.
"""

import logging

from procrastinate.contrib.django import app

logger = logging.getLogger(__name__)

# The project's queue (settings.WORKER_QUEUES lists the queues a worker runs).
QUEUE = "billing"


@app.task(name="worker.ping", queue=QUEUE)
def ping(note: str = "") -> str:
    """The smallest job: proves that a worker runs the queue (tests, a check after a deploy)."""
    logger.info("ping %s", note)
    return note
