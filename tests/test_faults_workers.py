"""A gunicorn worker SIGKILLed under load: its request dies with it, the client sees a lost
connection and retries with the same Idempotency-Key; nothing acknowledged is lost, nothing is
half-written, nothing is paid twice.

The worker to kill is, when one can be found, one whose database connection is inside a
transaction at that moment (PostgreSQL's `client_port` matched to the worker's sockets), so the
kill lands between the first write of a payment and its COMMIT, the case that must leave nothing.
"""

import os
import signal
import time

import psutil
import pytest
from django.db import connection

from tests.fault_load import Load, arrange, check_ledger, summary
from tests.servers import Server, gunicorn_server

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 3
KILLS = 2
LOST = {"ConnectionError", "ChunkedEncodingError"}  # how requests reports a reset connection


def worker_in_a_transaction(server: Server, deadline: float = 3.0) -> int | None:
    """The pid of a worker whose database backend is inside a transaction, if one shows up."""
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT client_port FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = %s AND xact_start IS NOT NULL",
                [server.application_name],
            )
            ports = {row[0] for row in cursor.fetchall()}
        for worker in server.workers():
            try:
                local_ports = {sock.laddr.port for sock in worker.net_connections(kind="tcp")}
            except Exception:  # noqa: S112 - a worker gone meanwhile: look at the next one
                continue
            if ports & local_ports:
                return worker.pid
        time.sleep(0.005)
    return None


def test_workers_killed_under_load_lose_no_acknowledged_payment(tmp_path):
    """Four partners pay 80 invoices and billing items while two workers are SIGKILLed, mid-
    transaction when possible; gunicorn's master starts new ones. Every payment acknowledged is in
    the ledger exactly once and whole; the killed requests were retried and applied once."""
    plan = arrange(clients=4, per_client=10)
    killed: list[tuple[int, bool]] = []  # (pid, killed inside a transaction)

    def kill_two_workers(load: Load) -> None:
        for share in (0.25, 0.6):
            if not load.wait_for_acknowledged(int(load.total * share)):
                return
            pid = worker_in_a_transaction(load.server)
            mid_transaction = pid is not None
            if pid is None:
                pid = load.server.workers()[0].pid
            os.kill(pid, signal.SIGKILL)
            killed.append((pid, mid_transaction))

    env = {"DB_CONN_MAX_AGE": "60", "DB_UNAVAILABLE_RETRY_AFTER": "1"}
    with gunicorn_server(tmp_path, workers=WORKERS, env=env) as server:
        outcomes = Load(server, plan).run(kill_two_workers)
        respawned = wait_for_workers(server, WORKERS, gone={pid for pid, _ in killed})
        log = server.log()

    attempts = summary(outcomes)
    context = f"killed {killed}, attempts {dict(attempts)}\n{log}"
    assert len(killed) == KILLS, context
    assert any(mid_transaction for _, mid_transaction in killed), context
    assert respawned, context  # the master replaced both
    assert set(attempts) <= {200, 201} | LOST, context  # no 5xx: the others carried on
    lost = sum(attempts[name] for name in LOST)
    assert lost <= KILLS, context  # a sync worker dies with at most the one request it serves
    check_ledger(outcomes, plan, log)


def wait_for_workers(server: Server, count: int, gone: set[int], deadline: float = 15.0) -> bool:
    """True once the server has `count` live workers again, none of them the killed ones."""
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        try:
            pids = {w.pid for w in server.workers() if w.status() != psutil.STATUS_ZOMBIE}
        except psutil.NoSuchProcess:
            pids = set()
        if len(pids) == count and not pids & gone:
            return True
        time.sleep(0.1)
    return False
