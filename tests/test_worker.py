"""The background worker (docs/worker.md): a job is queued with the transaction that defers it,
a real `manage.py worker` runs it, stops gracefully on SIGTERM, and a job whose worker was killed
is run again by the next worker, once."""

import contextlib
import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest
import requests
from django.db import connection, transaction

from tests.servers import ROOT, free_port
from tests.servers import test_database_url as database_url
from tests.worker_tasks import hold, lines
from tests.workers import job_row, new_queue, wait_for_status, worker_env, worker_process
from worker.cleanup import remove_finished_jobs
from worker.tasks import ping

pytestmark = pytest.mark.django_db(transaction=True)


class Rollback(Exception):
    pass


def queue_jobs(queue: str) -> list[tuple[int, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, status FROM procrastinate_jobs WHERE queue_name = %s ORDER BY id", [queue]
        )
        return cursor.fetchall()


def test_a_job_deferred_in_a_rolled_back_transaction_is_never_queued():
    queue = new_queue()
    seen_inside = []
    with contextlib.suppress(Rollback), transaction.atomic():
        job_id = ping.configure(queue=queue).defer(note="never")
        seen_inside.append(job_row(job_id))  # written in this transaction...
        raise Rollback
    assert seen_inside == [("todo", 0)]
    assert job_row(job_id) is None  # ...and gone with it
    assert queue_jobs(queue) == []


def test_a_job_deferred_in_a_committed_transaction_is_queued_once_at_the_commit():
    queue = new_queue()
    with transaction.atomic():
        job_id = ping.configure(queue=queue).defer(note="once")
        # Another session (a worker) does not see it before the commit.
        with psycopg.connect(database_url(), autocommit=True) as other:
            seen = other.execute("SELECT 1 FROM procrastinate_jobs WHERE id = %s", [job_id])
            assert seen.fetchall() == []
    assert queue_jobs(queue) == [(job_id, "todo")]


def test_the_worker_runs_a_committed_job_and_logs_its_start_and_end(tmp_path):
    queue = new_queue()
    with worker_process(tmp_path, queue=queue) as worker:
        with transaction.atomic():
            job_id = ping.configure(queue=queue).defer(note="hello")
        wait_for_status(job_id, "succeeded")
        worker.wait_for_log("ended with status: Success")
        worker.process.send_signal(signal.SIGTERM)
        assert worker.process.wait(timeout=15) == 0
    log = worker.log()
    assert f"Starting job worker.ping[{job_id}](note='hello')" in log
    assert f"Job worker.ping[{job_id}](note='hello') ended with status: Success" in log
    assert "Worker stopped" in log


def test_behind_transaction_pooling_without_a_direct_url_the_worker_polls(tmp_path):
    """LISTEN needs a session, which PgBouncer's transaction pooling does not keep: without
    WORKER_DATABASE_URL the worker does not LISTEN, and finds jobs by polling (every second)."""
    queue = new_queue()
    with worker_process(tmp_path, queue=queue, env={"DB_TRANSACTION_POOLING": "1"}) as worker:
        assert "polling (no LISTEN)" in worker.log()
        job_id = ping.configure(queue=queue).defer(note="polled")
        wait_for_status(job_id, "succeeded", deadline=5)


def test_the_worker_outlives_its_database_connections(tmp_path):
    """Its connections cut (a database restart, a failover): it reconnects, or starts its worker
    again, and runs the next job."""
    queue = new_queue()
    with worker_process(tmp_path, queue=queue) as worker:
        application_name = worker.application_name
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s",
                [application_name],
            )
            assert cursor.fetchone()[0] >= 1
        time.sleep(2.5)  # a heartbeat or two on the cut connections
        job_id = ping.configure(queue=queue).defer(note="after the cut")
        wait_for_status(job_id, "succeeded", deadline=20)
        assert worker.process.poll() is None


def test_sigterm_lets_the_running_job_finish(tmp_path):
    queue = new_queue()
    with worker_process(tmp_path, queue=queue) as worker:
        job_id = hold.configure(queue=queue).defer(folder=str(tmp_path))
        wait_for_status(job_id, "doing")
        worker.process.send_signal(signal.SIGTERM)
        worker.wait_for_log("SIGTERM: stopping")
        time.sleep(0.5)
        assert worker.process.poll() is None, "the worker left before its running job finished"
        (tmp_path / "release").touch()
        assert worker.process.wait(timeout=15) == 0
    assert job_row(job_id) == ("succeeded", 1)  # procrastinate counts the finished attempt
    assert len(lines(tmp_path / "attempts")) == len(lines(tmp_path / "done")) == 1


def test_a_job_whose_worker_was_killed_is_run_again_by_the_next_worker_once(tmp_path):
    queue = new_queue()
    with worker_process(tmp_path, queue=queue, name="first") as first:
        job_id = hold.configure(queue=queue).defer(folder=str(tmp_path))
        stop = time.monotonic() + 20
        while not lines(tmp_path / "attempts"):
            assert time.monotonic() < stop, first.log()
            time.sleep(0.02)
        first.kill()  # SIGKILL mid-job: nothing runs on its way out
    assert job_row(job_id) == ("doing", 0)
    assert lines(tmp_path / "done") == []

    (tmp_path / "release").touch()  # the next attempt may finish
    with worker_process(tmp_path, queue=queue, name="second") as second:
        assert wait_for_status(job_id, "succeeded") == ("succeeded", 2)
        second.wait_for_log(f"Retrying stalled job tests.hold[{job_id}]")
        time.sleep(2.5)  # more sweeps for stalled jobs: none runs it a third time
    attempts = lines(tmp_path / "attempts")
    assert len(attempts) == 2
    assert lines(tmp_path / "done") == [attempts[1]]  # the second worker finished it, once
    assert job_row(job_id) == ("succeeded", 2)


def test_run_with_worker_serves_and_works_until_ctrl_c_stops_both(tmp_path):
    """`make run`'s last step (scripts/run-with-worker): the dev server and the worker; a Ctrl-C
    (SIGINT to the terminal's foreground process group) stops both."""
    queue = new_queue()
    port = free_port()
    log_path = tmp_path / "run.log"
    env = worker_env(WORKER_QUEUES=queue, DEBUG="1", ALLOWED_HOSTS="127.0.0.1")
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own script
            [str(ROOT / "scripts" / "run-with-worker"), sys.executable, f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )
    try:
        stop = time.monotonic() + 30
        while True:
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < stop, log_path.read_text()
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            except requests.RequestException:
                time.sleep(0.2)
                continue
            if "Starting worker on" in log_path.read_text():
                break
            time.sleep(0.1)
        job_id = ping.configure(queue=queue).defer(note="run")
        wait_for_status(job_id, "succeeded")
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
        process.wait(timeout=20)
        time.sleep(0.2)
        with connection.cursor() as cursor:  # the worker said goodbye to the database
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                [env["DATABASE_URL"].rpartition("application_name=")[2]],
            )
            assert cursor.fetchone()[0] == 0
        assert "Worker stopped" in log_path.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def test_finished_jobs_are_removed_after_the_days_kept_and_waiting_ones_never():
    queue = new_queue()
    old_done, new_done, old_waiting, old_failed = (
        ping.configure(queue=queue).defer(note=str(n)) for n in range(4)
    )
    with connection.cursor() as cursor:
        # Finished as the worker finishes them (a trigger logs each change in procrastinate_events).
        cursor.execute(
            "UPDATE procrastinate_jobs SET status = 'doing' WHERE id = ANY(%s)",
            [[old_done, new_done, old_failed]],
        )
        cursor.execute(
            "UPDATE procrastinate_jobs SET status = 'succeeded' WHERE id = ANY(%s)",
            [[old_done, new_done]],
        )
        cursor.execute(
            "UPDATE procrastinate_jobs SET status = 'failed' WHERE id = %s", [old_failed]
        )
        cursor.execute(
            "UPDATE procrastinate_events SET at = at - interval '8 days' WHERE job_id = ANY(%s)",
            [[old_done, old_waiting, old_failed]],
        )

    assert remove_finished_jobs(7) == 2

    assert queue_jobs(queue) == [(new_done, "succeeded"), (old_waiting, "todo")]
    assert remove_finished_jobs(7) == 0
