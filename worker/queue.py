"""What `manage.py worker` runs: procrastinate's worker on the project's queues, its own
connection, graceful stop on SIGTERM or SIGINT, and the retry of jobs whose worker died.

A worker writes a heartbeat every WORKER_HEARTBEAT_SECONDS. A worker killed mid-job (SIGKILL, a
lost machine) leaves its job `doing` for good: once its heartbeat is WORKER_STALLED_SECONDS old,
`retry_stalled_jobs` puts the job back to `todo` and the next worker runs it again (at least once:
tasks must be safe to run twice). Every worker does so at its start and every
WORKER_STALLED_SWEEP_SECONDS.
"""

import asyncio
import contextlib
import logging
import signal

from django.conf import settings
from django.db import connections
from django.db.utils import ConnectionHandler
from procrastinate import App, exceptions, psycopg_connector

logger = logging.getLogger("worker")


def connection_params() -> dict:
    """psycopg's connection keywords for the worker's own connection: WORKER_DATABASE_URL when set
    (PostgreSQL directly, for LISTEN behind PgBouncer), else Django's default database."""
    if settings.WORKER_DATABASE is not None:
        wrapper = ConnectionHandler({"default": settings.WORKER_DATABASE})["default"]
    else:
        wrapper = connections["default"]
    params = wrapper.get_connection_params()
    params.pop("cursor_factory", None)  # Django's own, not procrastinate's
    params.pop("context", None)
    return params


def worker_connector() -> psycopg_connector.PsycopgConnector:
    # A small pool: the listener holds one connection, fetching and heartbeats share the rest. A
    # query waits at most POOL_TIMEOUT seconds for a connection (the database is away: the worker
    # starts again, below, or stops sooner when asked to).
    return psycopg_connector.PsycopgConnector(
        kwargs=connection_params(),
        min_size=1,
        max_size=settings.WORKER_CONCURRENCY + 2,
        timeout=POOL_TIMEOUT,
    )


POOL_TIMEOUT = 10  # seconds
RESTART_DELAY = 5  # seconds between a worker that stopped on an error and the next


async def retry_stalled_jobs(app: App) -> int:
    """Put back to `todo` the running jobs of workers silent for WORKER_STALLED_SECONDS; how many.

    Forgets those workers first (their jobs keep no worker), as procrastinate's own start does."""
    timeout = settings.WORKER_STALLED_SECONDS
    await app.job_manager.prune_stalled_workers(timeout)
    retried = 0
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=timeout):
        try:
            await app.job_manager.retry_job(job)
        except exceptions.ConnectorException as error:  # finished or retried meanwhile
            logger.info("Stalled job %s not retried: %s", job.call_string, error)
            continue
        retried += 1
        logger.warning(
            "Retrying stalled job %s: its worker gave no heartbeat for %s s (attempt %s)",
            job.call_string,
            timeout,
            job.attempts + 2,
        )
    return retried


async def _sweep_stalled_jobs(app: App) -> None:
    while True:
        await asyncio.sleep(settings.WORKER_STALLED_SWEEP_SECONDS)
        try:
            await retry_stalled_jobs(app)
        except exceptions.ConnectorException:  # the database is away: try again next time
            logger.exception("Could not look for stalled jobs")


def worker_options(queues: list[str], concurrency: int, name: str) -> dict:
    return {
        "queues": queues,
        "name": name,
        "concurrency": concurrency,
        "wait": True,
        "listen_notify": settings.WORKER_LISTEN_NOTIFY,
        "fetch_job_polling_interval": settings.WORKER_POLL_SECONDS,
        "update_heartbeat_interval": settings.WORKER_HEARTBEAT_SECONDS,
        "stalled_worker_timeout": settings.WORKER_STALLED_SECONDS,
        "shutdown_graceful_timeout": settings.WORKER_SHUTDOWN_SECONDS,
        # Ours below: the first SIGTERM or SIGINT stops gracefully, later ones do not cut it short.
        "install_signal_handlers": False,
    }


async def run(app: App, *, queues: list[str], concurrency: int, name: str) -> None:
    """Run the worker until SIGTERM or SIGINT, then let the running jobs finish (for up to
    WORKER_SHUTDOWN_SECONDS; jobs still running then are aborted and retried later).

    procrastinate's worker stops when its database connection fails for good (a heartbeat or the
    listener cannot reach the server: a restart, a failover): it is started again after
    RESTART_DELAY seconds, in the same process, until a signal says to stop."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    work: asyncio.Task | None = None

    def stop(signum: int) -> None:
        if stopping.is_set():
            logger.info("%s: already stopping", signal.Signals(signum).name)
            return
        logger.info(
            "%s: stopping, waiting up to %s s for the running jobs",
            signal.Signals(signum).name,
            settings.WORKER_SHUTDOWN_SECONDS,
        )
        stopping.set()
        if work is not None:
            work.cancel()  # procrastinate's worker then stops gracefully

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop, signum)
    try:
        async with app.open_async():
            retried = await retry_stalled_jobs(app)
            if retried:
                logger.warning("Retried %s stalled job(s) at start", retried)
            sweeper = asyncio.create_task(_sweep_stalled_jobs(app), name="stalled jobs")
            try:
                while not stopping.is_set():
                    work = asyncio.create_task(
                        app.run_worker_async(**worker_options(queues, concurrency, name)),
                        name="worker",
                    )
                    try:
                        await work
                    except asyncio.CancelledError:
                        pass
                    except Exception:
                        if stopping.is_set():  # e.g. it could not say goodbye to the database
                            logger.exception("The worker stopped with an error")
                            break
                        logger.exception(
                            "The worker stopped on an error: starting again in %s s", RESTART_DELAY
                        )
                    else:  # procrastinate stopped it: a side task (heartbeat, listener) failed
                        if not stopping.is_set():
                            logger.error(
                                "The worker stopped (its database connection failed): starting "
                                "again in %s s",
                                RESTART_DELAY,
                            )
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stopping.wait(), RESTART_DELAY)
            finally:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
