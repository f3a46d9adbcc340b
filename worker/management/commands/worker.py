"""manage.py worker: run the jobs of the project's queues until SIGTERM (docs/worker.md)."""

import asyncio
import logging
import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from procrastinate.contrib.django import app

from worker import queue


class Command(BaseCommand):
    help = (
        "Run the background worker on the project's queues (WORKER_QUEUES) until SIGTERM or "
        "Ctrl-C, which let the running jobs finish. Jobs whose worker died are retried."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--queue",
            action="append",
            dest="queues",
            help="a queue to run (repeat for more); default: WORKER_QUEUES",
        )
        parser.add_argument(
            "--concurrency", type=int, help="jobs at once; default: WORKER_CONCURRENCY"
        )
        parser.add_argument("--name", default="worker", help="the worker's name in its logs")

    def handle(self, *args, queues=None, concurrency=None, name="worker", **options):
        self._log_with_times()
        queues = queues or settings.WORKER_QUEUES
        concurrency = concurrency or settings.WORKER_CONCURRENCY
        logging.getLogger("worker").info(
            "Worker on queues %s: %s, %s job(s) at once, heartbeat every %s s, stalled after %s s",
            ", ".join(queues),
            "LISTEN/NOTIFY" if settings.WORKER_LISTEN_NOTIFY else "polling (no LISTEN)",
            concurrency,
            settings.WORKER_HEARTBEAT_SECONDS,
            settings.WORKER_STALLED_SECONDS,
        )
        with app.replace_connector(queue.worker_connector()):
            asyncio.run(queue.run(app, queues=queues, concurrency=concurrency, name=name))
        logging.getLogger("worker").info("Worker stopped")

    @staticmethod
    def _log_with_times() -> None:
        """Each job's start and end (procrastinate's INFO lines) and ours, with the time: the
        worker's log is a file of its own in the stack."""
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        for name in ("procrastinate", "worker"):
            logger = logging.getLogger(name)
            logger.handlers = [handler]
            logger.setLevel(logging.INFO)
            logger.propagate = False
