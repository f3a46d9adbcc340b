"""A real gunicorn with several worker processes, serving the test database.

For tests about what holds across processes (rate limits shared in Redis, a worker killed under
load, database connections cut): the data a test makes must be committed, so they are
`transaction=True` tests. `gunicorn_server(...)` yields a `Server` with its base URL and its master
process; `Server.workers()` lists the worker processes. The server's database connections carry
its own `application_name`, so `Server.backend_pids()` and `Server.terminate_backends()` see and
cut the app's connections only, never the test's own.
"""

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """The database the running test uses (pytest-django's test_<name>), as a URL."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: Path
    application_name: str = ""

    def workers(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def backend_pids(self) -> list[int]:
        """The PostgreSQL backends serving this server's workers (from the calling thread)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = %s AND pid <> pg_backend_pid()",
                [self.application_name],
            )
            return [row[0] for row in cursor.fetchall()]

    def terminate_backends(self, deadline: float = 10.0) -> int:
        """`pg_terminate_backend` every backend of this server; wait until they are gone.

        Returns how many were terminated."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = %s "
                "AND pid <> pg_backend_pid()",
                [self.application_name],
            )
            terminated = {pid for pid, done in cursor.fetchall() if done}
        stop = time.monotonic() + deadline
        while terminated & set(self.backend_pids()):
            if time.monotonic() > stop:
                raise RuntimeError(f"backends {terminated} still alive after {deadline} s")
            time.sleep(0.01)
        return len(terminated)


@contextmanager
def gunicorn_server(
    tmp_path: Path, *, workers: int = 3, env: dict[str, str] | None = None, timeout: int = 30
) -> Iterator[Server]:
    """Serve the app with `workers` sync workers on a free port until the block ends.

    The cache key prefix is fresh, so rate-limit counters are shared by this server's workers and
    by nothing else. `env` adds to or overrides the server's environment.
    """
    port = free_port()
    log_path = tmp_path / f"gunicorn-{port}.log"
    application_name = f"test-gunicorn-{port}"
    server_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "billing_site.settings",
        "DEBUG": "0",
        "SECRET_KEY": "test-only-secret-key",
        "DATABASE_URL": f"{test_database_url()}?application_name={application_name}",
        "DATABASE_REPLICA_URL": f"{test_database_url()}?application_name={application_name}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CACHE_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        **(env or {}),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            [
                sys.executable,
                "-m",
                "gunicorn",
                "billing_site.wsgi",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                str(timeout),
                "--graceful-timeout",
                "5",
            ],
            cwd=ROOT,
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(
        url=f"http://127.0.0.1:{port}",
        process=process,
        log_path=log_path,
        application_name=application_name,
    )
    try:
        _wait_until_serving(server, workers)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_serving(server: Server, workers: int, deadline: float = 30.0) -> None:
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}:\n{server.log()}")
        try:
            requests.get(f"{server.url}/POS/Billings", timeout=5)
        except requests.RequestException:  # not listening yet, or a worker still booting
            time.sleep(0.2)
            continue
        if len(server.workers()) >= workers:
            return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not start serving within {deadline} s:\n{server.log()}")
