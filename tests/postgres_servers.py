"""Throwaway PostgreSQL servers and a PgBouncer for the replica and pooling tests.

`streaming_pair()` starts a primary (initdb) and a hot standby made from it with
`pg_basebackup -R` (streaming replication), on free ports, in a temporary directory, and stops both
when the block ends. `pgbouncer()` starts Debian's PgBouncer in transaction pooling mode in front
of a server. As root (CI), the servers run as the `postgres` system user (as in
scripts/with-postgres). Both skip the test, saying why, when the programs are not installed.
"""

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.servers import free_port

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def postgres_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parent.parent)
    return found[-1].parent if found else None


def _as_owner() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _run(*command, timeout: float = 60) -> None:
    subprocess.run(  # noqa: S603 - fixed arguments
        [*_as_owner(), *map(str, command)], check=True, capture_output=True, timeout=timeout
    )


@contextmanager
def _owned_tempdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="billing-replica-test-"))
    path.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(path, "postgres")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass
class Pair:
    primary: str  # conninfo of each
    replica: str


def _start(bindir: Path, data: Path, port: int, socket_dir: Path) -> None:
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {socket_dir} -c fsync=off"
    _run(
        bindir / "pg_ctl",
        "-D",
        data,
        "-l",
        data.parent / f"{data.name}.log",
        "-w",
        "-o",
        options,
        "start",
    )


def _stop(bindir: Path, data: Path) -> None:
    with contextlib.suppress(subprocess.CalledProcessError):  # never started
        _run(bindir / "pg_ctl", "-D", data, "-m", "immediate", "stop", timeout=30)


@contextmanager
def streaming_pair() -> Iterator[Pair]:
    bindir = postgres_bindir()
    if bindir is None or (os.geteuid() == 0 and shutil.which("runuser") is None):
        pytest.skip("no PostgreSQL binaries (/usr/lib/postgresql/*/bin) to start a replica pair")
    with _owned_tempdir() as tmp:
        primary, replica = tmp / "primary", tmp / "replica"
        primary_port, replica_port = free_port(), free_port()
        try:
            _run(bindir / "initdb", "-D", primary, "-U", "postgres", "--auth=trust", "-E", "UTF8")
            _start(bindir, primary, primary_port, tmp)
            _run(
                bindir / "pg_basebackup", "-h", "127.0.0.1", "-p", primary_port, "-U", "postgres",
                "-D", replica, "-R", "-X", "stream",
            )  # fmt: skip
            _start(bindir, replica, replica_port, tmp)
            yield Pair(
                primary=f"host=127.0.0.1 port={primary_port} user=postgres dbname=postgres",
                replica=f"host=127.0.0.1 port={replica_port} user=postgres dbname=postgres",
            )
        finally:
            _stop(bindir, replica)
            _stop(bindir, primary)


def pgbouncer_version() -> tuple[int, ...]:
    done = subprocess.run([PGBOUNCER, "--version"], capture_output=True, text=True, check=True)  # noqa: S603
    return tuple(int(part) for part in re.search(r"(\d+)\.(\d+)", done.stdout).groups())


@contextmanager
def pgbouncer(host: str, port: int, dbname: str, pool_size: int = 4) -> Iterator[int]:
    """PgBouncer in transaction mode on a free port, in front of `dbname` at host:port.

    Servers are handed out round-robin (`server_round_robin`), so consecutive transactions of one
    client land on different server sessions, as they do under load: anything a client leaves in
    a session (a WITH HOLD cursor, a prepared statement) is then missing on its next transaction.
    """
    if not Path(PGBOUNCER).exists():
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer; .ci/run does)")
    listen = free_port()
    with _owned_tempdir() as tmp:
        extra = "max_prepared_statements = 0\n" if pgbouncer_version() >= (1, 21) else ""
        (tmp / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host={host} port={port} dbname={dbname} user=postgres\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {listen}\nunix_socket_dir =\n"
            "auth_type = any\npool_mode = transaction\nserver_round_robin = 1\n"
            f"default_pool_size = {pool_size}\nmax_client_conn = 200\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
            f"logfile = {tmp / 'pgbouncer.log'}\n{extra}"
        )
        process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [*_as_owner(), PGBOUNCER, "--quiet", str(tmp / "pgbouncer.ini")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(listen, dbname, process)
            _fill_pool(listen, dbname, pool_size)
            yield listen
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _wait_for(port: int, dbname: str, process: subprocess.Popen, deadline: float = 15) -> None:
    stop = time.monotonic() + deadline
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited with {process.returncode}")
        try:
            psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname=dbname).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > stop:
                raise
            time.sleep(0.1)


def _fill_pool(port: int, dbname: str, size: int) -> None:
    """Open `size` server sessions at once (each client holds one in a transaction), so that
    round-robin has several to alternate between from the first request on."""
    clients = [
        psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname=dbname)
        for _ in range(size)
    ]
    for client in clients:
        client.execute("SELECT 1")  # opens a transaction: the client keeps its server
    for client in clients:
        client.commit()  # the server goes back to the pool (closing in a transaction drops it)
        client.close()


def another_connection(settings_dict: dict, **options) -> psycopg.Connection:
    """A connection of its own to the database of Django's `settings_dict` (another session)."""
    return psycopg.connect(
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
        user=settings_dict["USER"] or None,
        password=settings_dict["PASSWORD"] or None,
        dbname=settings_dict["NAME"],
        **options,
    )
