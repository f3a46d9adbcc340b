"""A real `manage.py worker` on the test database, for the worker tests (docs/worker.md).

The jobs a test defers must be committed for the worker to see them: `transaction=True` tests.
Each test runs its own queue (`worker_process(..., queue=...)`), so it never meets another test's
jobs. The worker's timings are short (a heartbeat every second, stalled after 3 s, looked for every
second) so that a killed worker's job is retried within seconds.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

from tests.servers import ROOT, test_database_url

FAST_TIMINGS = {
    "WORKER_HEARTBEAT_SECONDS": "1",
    "WORKER_STALLED_SECONDS": "3",
    "WORKER_STALLED_SWEEP_SECONDS": "1",
    "WORKER_POLL_SECONDS": "1",
    "WORKER_SHUTDOWN_SECONDS": "10",
}


def new_queue() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    log_path: Path
    application_name: str

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, deadline: float = 20.0) -> None:
        stop = time.monotonic() + deadline
        while text not in self.log():
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited ({self.process.returncode}):\n{self.log()}")
            if time.monotonic() > stop:
                raise RuntimeError(
                    f"no {text!r} in the worker's log within {deadline} s:\n{self.log()}"
                )
            time.sleep(0.05)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def worker_env(application_name: str = "", **extra: str) -> dict[str, str]:
    """A worker's environment: the test database, under `application_name`."""
    application_name = application_name or f"test-worker-{uuid.uuid4().hex[:8]}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "billing_site.settings",
        "DEBUG": "0",
        "SECRET_KEY": "test-only-secret-key",
        "DATABASE_URL": f"{test_database_url()}?application_name={application_name}",
        "DATABASE_REPLICA_URL": f"{test_database_url()}?application_name={application_name}",
        "WORKER_IMPORT_PATHS": "tests.worker_tasks",
        **FAST_TIMINGS,
        **extra,
    }


@contextmanager
def worker_process(
    tmp_path: Path, *, queue: str, name: str = "worker", env: dict[str, str] | None = None
) -> Iterator[WorkerProcess]:
    """`manage.py worker --queue QUEUE`, started (its log says so) until the block ends; then
    stopped with SIGTERM (SIGKILL after 15 s) unless the test already ended it. `env` adds to or
    overrides its environment."""
    log_path = tmp_path / f"{name}.log"
    application_name = f"test-worker-{uuid.uuid4().hex[:8]}"
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            [sys.executable, "manage.py", "worker", "--queue", queue, "--name", name],
            cwd=ROOT,
            env=worker_env(application_name, **(env or {})),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    worker = WorkerProcess(process, log_path, application_name)
    try:
        worker.wait_for_log("Starting worker on")
        yield worker
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def job_row(job_id: int) -> tuple[str, int] | None:
    """(status, attempts) of a job, None when there is no such job."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, attempts FROM procrastinate_jobs WHERE id = %s", [job_id])
        return cursor.fetchone()


def wait_for_status(job_id: int, status: str, deadline: float = 20.0) -> tuple[str, int]:
    stop = time.monotonic() + deadline
    while (row := job_row(job_id)) is None or row[0] != status:
        if time.monotonic() > stop:
            raise AssertionError(f"job {job_id} is {row} after {deadline} s, not {status!r}")
        time.sleep(0.05)
    return row
