"""The stack's background worker (docs/worker.md): one `manage.py worker` process, started with
the stack and shown by its status, runs the jobs the app defers through PgBouncer in transaction
mode, woken by LISTEN on its own connection straight to the primary."""

import json
import subprocess
import sys
import time

from .conftest import ROOT

DEFER = """
import json
from django.db import transaction
from worker.tasks import ping

class Rollback(Exception):
    pass

try:
    with transaction.atomic():
        rolled_back = ping.defer(note="rolled back")
        raise Rollback
except Rollback:
    pass
with transaction.atomic():
    committed = ping.defer(note="through the stack")
print(json.dumps({"rolled_back": rolled_back, "committed": committed}))
"""


def app_env(stack) -> dict[str, str]:
    """The app servers' settings (deploy/stack app_env): the database through PgBouncer."""
    return {
        **stack.env,
        "DJANGO_SETTINGS_MODULE": "billing_site.settings",
        "DEBUG": "0",
        "SECRET_KEY": "stack-test-only",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{stack.ports['pgbouncer']}/billing",
        "DB_TRANSACTION_POOLING": "1",
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": f"redis://127.0.0.1:{stack.ports['redis']}/0",
        "ALLOWED_HOSTS": "127.0.0.1",
    }


def test_the_stacks_worker_runs_a_job_the_app_deferred_through_pgbouncer(stack):
    status = stack.run("status")
    assert "worker (manage.py worker)" in status
    assert "running (pid" in status.split("worker (manage.py worker)")[1].splitlines()[0], status

    # The worker's queue connection is the primary's own session (its application name, set in
    # WORKER_DATABASE_URL: PgBouncer's pooled sessions carry none), once the worker, which may
    # have just started, is connected: polled, with a deadline. Which statement it ran last
    # depends on what it is doing (LISTEN, a periodic job's defer), so it is not asked.
    deadline = time.monotonic() + 20
    while True:
        direct = stack.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'billing-worker'"
        )
        if direct[0][0] >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert direct[0][0] >= 1, stack.log("worker.log")

    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "manage.py", "shell", "-c", DEFER],
        cwd=ROOT,
        env=app_env(stack),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ids = json.loads(done.stdout.strip().splitlines()[-1])

    assert stack.sql("SELECT id FROM procrastinate_jobs WHERE id = %s", [ids["rolled_back"]]) == []
    # Woken by NOTIFY, not its polling (5 s): done well within that.
    stop = time.monotonic() + 4
    while (
        rows := stack.sql("SELECT status FROM procrastinate_jobs WHERE id = %s", [ids["committed"]])
    ) != [("succeeded",)]:
        assert time.monotonic() < stop, f"{rows}\n{stack.log('worker.log')}"
        time.sleep(0.05)
    log = stack.log("worker.log")
    assert f"Starting job worker.ping[{ids['committed']}](note='through the stack')" in log
    assert (
        f"Job worker.ping[{ids['committed']}](note='through the stack') ended with status: Success"
        in log
    )
