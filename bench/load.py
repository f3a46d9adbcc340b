"""Load on the payment endpoints under gunicorn, against a bare Django reference in the same run.

    make bench-load                                  # or: .venv/bin/python bench/load.py
    make bench-load BENCH_ARGS="--quick"             # a smoke run, about 2 minutes
    .venv/bin/python bench/load.py --duration 10 --rounds 5 --only legend

Builds its data once in its own PostgreSQL database (BENCH_LOAD_DATABASE_URL, by default
postgres://postgres@127.0.0.1:5432/billing_load; bench/load_data.py), serves the product with
production settings and the reference project (bench/reference/) with gunicorn, 4 sync workers
each (ports 8301 and 8302), drives every target with wrk (8 connections) round after round in a
rotating order, and prints requests per second, p50 and p99, failed requests, transactions and
SQL statements per request, and the product's ratio to the reference. Ends with
`manage.py verify_ledger` on the bench database. Figures, not a test: see bench/README.md.
"""

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from wrk import ensure_wrk  # bench/ is the script's own folder

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/billing_load"
PRODUCT_PORT, REFERENCE_PORT = 8301, 8302
KEY_PREFIX = "benchload"  # the Redis keys of this benchmark: benchload:*, and only those
SECRET_KEY = "bench-load-only-secret-key"  # noqa: S105 - the bench database's server only
LOG_DIR = ROOT / "var" / "benchload"
# Rows per request file: more than any target sends in one run here (a run past the end says so).
LINES_PER_TARGET = 40_000
# What the product's processes must not inherit from the caller's shell.
APP_VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "DATABASE_URL",
    "DATABASE_REPLICA_URL",
    "DB_TRANSACTION_POOLING",
    "DB_CONN_MAX_AGE",
    "REDIS_URL",
    "CACHE_KEY_PREFIX",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "DJANGO_SETTINGS_MODULE",
    "NUM_PROXIES",
    "API_BURST_LIMIT",
    "API_BURST_WINDOW",
    "API_HOURLY_LIMIT",
    "API_AUTH_FAILURE_LIMIT",
    "API_AUTH_FAILURE_WINDOW",
)


@dataclass(frozen=True)
class Target:
    name: str
    label: str
    lines: str  # which request file (bench/load_data.request_lines)
    pays: bool = False  # writes: restore after each run
    keys: bool = False  # a fresh Idempotency-Key on every request
    reference: bool = True  # the reference runs it too (else: compared with `lines`' run)
    consumes: bool = False  # a request uses its row up (the file's rows must last a run)


TARGETS = (
    Target("legend1", "Legend pay, 1 line", "legend1", pays=True),
    Target("legend1_key", "  + Idempotency-Key", "legend1", pays=True, keys=True, reference=False),
    Target("legend10", "Legend pay, 10 lines", "legend10", pays=True),
    Target(
        "legend10_key", "  + Idempotency-Key", "legend10", pays=True, keys=True, reference=False
    ),
    Target("ds_one", "DocuSign pay, 1 invoice", "ds_one", pays=True, consumes=True),
    Target(
        "ds_one_key",
        "  + Idempotency-Key",
        "ds_one",
        pays=True,
        keys=True,
        reference=False,
        consumes=True,
    ),
    Target("ds_all", "DocuSign pay, all past due", "ds_all", pays=True, consumes=True),
    Target(
        "ds_all_key",
        "  + Idempotency-Key",
        "ds_all",
        pays=True,
        keys=True,
        reference=False,
        consumes=True,
    ),
    Target("hot", "Hot row: 1 item, all clients", "hot", pays=True),
    Target("past_due", "GET billing_invoices_past_due", "past_due"),
    Target("payments", "GET billing_payments (list)", "payments"),
    Target("payment", "GET billing_payments/{id}", "payment"),
    Target("billings", "GET /POS/Billings?ContactId=", "billings"),
)
BY_NAME = {target.name: target for target in TARGETS}
SIDES = ("product", "reference", "pgbench")


@dataclass
class Run:
    """One wrk (or pgbench) run of one target on one side."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors and timeouts
    non2xx: int
    refused: int  # 200 with "Success": false
    lines: int
    xacts: int
    rollbacks: int
    statements: int | None  # pg_stat_statements calls, when available
    samples: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


# Set-up: the database, Django (the product's settings, for building and counting).


def database_url() -> str:
    return os.environ.get("BENCH_LOAD_DATABASE_URL") or DEFAULT_URL


def with_application_name(url: str, name: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}application_name={name}"


def product_environment(url: str) -> dict:
    """Production settings on the bench database; DB_CONN_MAX_AGE and the limits at defaults."""
    env = {k: v for k, v in os.environ.items() if k not in APP_VARIABLES}
    env.update(
        DJANGO_SETTINGS_MODULE="billing_site.settings",
        DEBUG="0",
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=url,
        REDIS_URL=os.environ.get("BENCH_LOAD_REDIS_URL", "redis://127.0.0.1:6379/0"),
        CACHE_KEY_PREFIX=KEY_PREFIX,
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    return env


def configure(url: str) -> dict:
    import dj_database_url

    db = dj_database_url.parse(url)
    if db["ENGINE"] != "django.db.backends.postgresql":
        sys.exit(f"bench: PostgreSQL only, not {db['ENGINE']} (BENCH_LOAD_DATABASE_URL).")
    create_database(db)
    os.environ.update(product_environment(url))
    sys.path.insert(0, str(ROOT))
    import django
    from django.test.utils import override_settings

    django.setup()
    warnings.filterwarnings("ignore", "No directory at", UserWarning)  # no collectstatic here
    override_settings(ALLOWED_HOSTS=["testserver", "127.0.0.1"]).enable()
    return db


def server_arguments(db: dict) -> dict:
    return {
        "host": db["HOST"] or None,
        "port": db["PORT"] or None,
        "user": db["USER"] or None,
        "password": db["PASSWORD"] or None,
    }


def create_database(db: dict) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dbname="postgres", autocommit=True, **server_arguments(db)) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
        ).fetchone()
        if not exists:
            print(f"bench: creating database {db['NAME']}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))


RUN_LOCK = 20261206  # pg_advisory_lock key: one run of load.py or cpu.py per database at a time
_run_lock_holder = None


def hold_database(url: str) -> None:
    """Take the bench database for this run, or stop: a second run on it (load.py or cpu.py)
    would reverse and truncate the money rows under this one, and a payment committed between
    its reversal and its truncation would leave a balance no payment explains (drift that the
    run's verify_ledger would then report). A session lock on a connection of its own, released
    when this process ends."""
    import psycopg

    global _run_lock_holder
    conninfo = url.replace("postgres://", "postgresql://", 1)
    _run_lock_holder = psycopg.connect(conninfo, autocommit=True)
    held = _run_lock_holder.execute("SELECT pg_try_advisory_lock(%s)", [RUN_LOCK]).fetchone()[0]
    if not held:
        sys.exit(
            "bench: another run of load.py or cpu.py is using this database; wait for it to end, "
            "or give this one a database of its own (BENCH_LOAD_DATABASE_URL)."
        )


def refuse_foreign_database() -> None:
    """Stop before migrating or truncating a database that holds data the bench did not make."""
    from django.db import connection
    from load_data import ACCOUNT_NAME

    from contacts.models import Account

    if Account._meta.db_table not in connection.introspection.table_names():
        return
    foreign = Account.objects.exclude(name__startswith=ACCOUNT_NAME).count()
    if foreign:
        sys.exit(
            f"bench: the database holds accounts the benchmark did not make ({foreign:,}); "
            "point BENCH_LOAD_DATABASE_URL at a database of its own (default billing_load)."
        )


def clear_redis_keys() -> int:
    """Delete this benchmark's rate-limit counters (keys benchload:*), and no other key."""
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    keys = list(client.scan_iter(match=f"{KEY_PREFIX}:*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])
    return len(keys)


# The database's own counters.


class Counters:
    """Transactions (pg_stat_database) and, where pg_stat_statements is loaded, statements of
    the bench database, read on a connection of its own."""

    def __init__(self, db: dict) -> None:
        import psycopg

        self.conn = psycopg.connect(dbname=db["NAME"], autocommit=True, **server_arguments(db))
        self.statements = self._statements_available()

    def _statements_available(self) -> bool:
        import psycopg

        preload = self.conn.execute("SHOW shared_preload_libraries").fetchone()[0]
        if "pg_stat_statements" not in preload:
            return False
        try:
            self.conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            self.conn.execute("SELECT 1 FROM pg_stat_statements LIMIT 1")
        except psycopg.Error:  # any refusal: count by replaying instead
            return False
        return True

    def read(self) -> tuple[int, int, int | None]:
        self.conn.execute("SELECT pg_stat_clear_snapshot()")
        commits, rollbacks = self.conn.execute(
            "SELECT xact_commit, xact_rollback FROM pg_stat_database "
            "WHERE datname = current_database()"
        ).fetchone()
        calls = None
        if self.statements:
            calls = self.conn.execute(
                "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ).fetchone()[0]
        return commits, rollbacks, calls


# Servers.


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def gunicorn(name: str, module: str, port: int, env: dict, workers: int):
    """gunicorn serving `module` on 127.0.0.1:`port` with `workers` sync workers until the block
    ends (also on Ctrl-C or an error): its own process group, stopped with SIGTERM, then SIGKILL."""
    if port_in_use(port):
        sys.exit(f"bench: port {port} is already in use; stop what listens there first.")
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        module,
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "--chdir",
        str(ROOT),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_serving(process, f"http://127.0.0.1:{port}/healthz", log_path)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process_group(process)


def wait_until_serving(process, url: str, log_path: Path, deadline: float = 60.0) -> None:
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        if process.poll() is not None:
            sys.exit(f"bench: gunicorn exited ({process.returncode}); see {log_path}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    sys.exit(f"bench: {url} did not answer within {deadline:.0f} s; see {log_path}")


def stop_process_group(process) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):  # workers left behind by a killed master
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


# Driving: wrk and pgbench.

SUMMARY = re.compile(r"^BENCHLOAD (.*)$", re.MULTILINE)


def run_wrk(wrk: str, base: str, request_file: Path, target: Target, args) -> dict:
    token = f"load-{uuid.uuid4().hex[:12]}"
    command = [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / "load.lua"),
        base,
        "--",
        str(request_file),
        str(args.threads),
        "key" if target.keys else "none",
        token,
    ]
    done = subprocess.run(  # noqa: S603 - wrk, our arguments
        command, capture_output=True, text=True, check=False, timeout=args.duration + 60
    )
    found = SUMMARY.search(done.stdout)
    if done.returncode != 0 or found is None:
        sys.exit(f"bench: wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    values = {k: int(v) for k, v in (pair.split("=") for pair in found.group(1).split())}
    samples = re.findall(r"^BENCHLOAD-SAMPLE (.*)$", done.stdout, re.MULTILINE)
    return {
        "requests": values["requests"],
        "seconds": values["duration_us"] / 1e6,
        "p50_ms": values["p50_us"] / 1000,
        "p99_ms": values["p99_us"] / 1000,
        "errors": sum(values[k] for k in ("connect", "read", "write", "timeout")),
        "non2xx": values["non2xx"],
        "refused": values["refused"],
        "lines": values["lines"],
        "samples": samples,
    }


PGBENCH_STATEMENTS = 6  # BEGIN, SELECT ... FOR UPDATE, 2 INSERTs, UPDATE, END
PGBENCH_SCRIPT = """
\\set item random(1, {items})
BEGIN;
SELECT b.account_id, b.contact_id FROM invoices_billingitem b WHERE b.id = :item FOR UPDATE \\gset
INSERT INTO payments_payment (channel, amount, currency, payment_date, processed_at, description, reference, authorization_code, notes, account_id, contact_id, tender_type_id) SELECT 'legend_api', 1.00, a.currency, now(), now(), '', '', '', '', a.id, :contact_id, 3 FROM contacts_account a WHERE a.id = :account_id RETURNING id AS payment_id \\gset
INSERT INTO payments_paymentallocation (account_id, payment_id, billing_item_id, amount, reference, authorization_code, notes) VALUES (:account_id, :payment_id, :item, 1.00, '', '', '');
UPDATE invoices_billingitem SET balance = balance - 1.00 WHERE id = :item;
END;
"""  # noqa: E501


def run_pgbench(db: dict, folder: Path, items: int, args) -> dict:
    """The Legend 1-line payment's transaction in raw SQL, no HTTP and no Python: the database's
    own ceiling for it (random small-account billing items, 1.00 each)."""
    script = folder / "pay.sql"
    script.write_text(PGBENCH_SCRIPT.format(items=items))
    logs = folder / "pgbench-log"
    for old in folder.glob("pgbench-log*"):
        old.unlink()
    command = [
        shutil.which("pgbench") or "pgbench",
        "-n",
        "-c",
        str(args.connections),
        "-j",
        "1",
        "-T",
        str(args.duration),
        "-f",
        str(script),
        "-l",
        "--log-prefix",
        str(logs),
        "-h",
        db["HOST"] or "127.0.0.1",
        "-p",
        str(db["PORT"] or 5432),
        "-U",
        db["USER"] or "postgres",
        db["NAME"],
    ]
    env = {**os.environ, **({"PGPASSWORD": db["PASSWORD"]} if db["PASSWORD"] else {})}
    done = subprocess.run(  # noqa: S603 - pgbench, our arguments
        command, capture_output=True, text=True, check=False, env=env, cwd=folder
    )
    if done.returncode != 0:
        sys.exit(f"bench: pgbench failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    latencies = []
    for path in folder.glob("pgbench-log*"):
        for row in path.read_text().splitlines():
            parts = row.split()
            if len(parts) >= 3 and parts[2].isdigit():
                latencies.append(int(parts[2]))
    latencies.sort()
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    seconds = float(args.duration)
    return {
        "requests": len(latencies),
        "seconds": seconds,
        "p50_ms": percentile(latencies, 50) / 1000,
        "p99_ms": percentile(latencies, 99) / 1000,
        "errors": int(failed.group(1)) if failed else 0,
        "non2xx": 0,
        "refused": 0,
        "lines": items,
        "samples": [],
    }


def percentile(values: list[int], share: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(len(values) * share / 100))]


# Statements per request, when pg_stat_statements is not loaded: one request of each kind
# replayed through Django's test client, its queries captured.


def replay(specs: list[dict]) -> dict[str, int]:
    """The queries of each spec's request through the test client of the configured project:
    the first spec of a kind warms up, the second is counted."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    counts: dict[str, int] = {}
    for spec in specs:
        headers = {"Authorization": f"Bearer {spec['bearer']}"}
        if spec.get("key"):
            headers["Idempotency-Key"] = f"replay-{uuid.uuid4().hex}"
        kwargs = {"headers": headers}
        if spec["body"]:
            kwargs.update(data=spec["body"], content_type="application/json")
        call = client.post if spec["method"] == "POST" else client.get
        with CaptureQueriesContext(connection) as captured:
            response = call(spec["path"], **kwargs)
        if not 200 <= response.status_code < 300 or b'"Success":false' in response.content:
            raise SystemExit(
                f"bench: replaying {spec['name']} answered {response.status_code}: "
                f"{response.content[:300]!r}"
            )
        counts[spec["name"]] = len(captured.captured_queries)
    return counts


def replay_specs(lines: dict[str, list[str]], targets, side: str) -> list[dict]:
    specs, used = [], {}
    for target in targets:
        if side == "reference" and not target.reference:
            continue
        pool = lines[target.lines]
        # Two rows no other target replays: a payment's row is then paid (a DocuSign one in full).
        first = used[target.lines] = used.get(target.lines, -1 + 2) - 2
        for position in (first, first - 1):
            method, path, bearer, body = pool[position].split("\t", 3)
            specs.append(
                {
                    "name": target.name,
                    "method": method,
                    "path": path,
                    "bearer": bearer,
                    "body": body,
                    "key": target.keys,
                }
            )
    return specs


def replay_reference(specs_path: str) -> None:
    """In a process of its own (the reference's settings): print the counts as JSON."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.reference.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    print(json.dumps(replay(json.loads(Path(specs_path).read_text()))))


def count_by_replay(lines, targets, folder: Path, url: str, ledger) -> dict[tuple[str, str], int]:
    product = replay(replay_specs(lines, targets, "product"))
    counts = {("product", name): n for name, n in product.items()}
    ledger.restore()  # the reference pays the same rows
    specs_path = folder / "reference-specs.json"
    specs_path.write_text(json.dumps(replay_specs(lines, targets, "reference")))
    done = subprocess.run(  # noqa: S603 - this script
        [sys.executable, __file__, "--replay-reference", str(specs_path)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DATABASE_URL": url},
    )
    if done.returncode != 0:
        sys.exit(f"bench: replaying on the reference failed:\n{done.stdout}\n{done.stderr}")
    counts.update(
        {("reference", name): n for name, n in json.loads(done.stdout.splitlines()[-1]).items()}
    )
    return counts


# The run.


def plan(args) -> list[tuple[str, Target]]:
    chosen = [t for t in TARGETS if not args.only or any(o in t.name for o in args.only)]
    runs = []
    for target in chosen:
        runs.append(("product", target))
        if target.reference:
            runs.append(("reference", target))
        if target.name == "legend1" and args.pgbench:
            runs.append(("pgbench", target))
    return runs


def rotated(runs: list, round_index: int) -> list:
    shift = round_index % len(runs)
    return runs[shift:] + runs[:shift]


def measure(side, target, files, counters, ledger, wrk, bases, db, folder, args) -> Run:
    before = counters.read()
    if side == "pgbench":
        from load_data import Sizes

        sizes = Sizes()
        items = sizes.small_accounts * sizes.contacts_per_small * sizes.items_per_contact
        raw = run_pgbench(db, folder, items, args)
    else:
        raw = run_wrk(wrk, bases[side], files[target.lines], target, args)
    time.sleep(args.settle)  # idle backends report their counters within a second
    after = counters.read()
    if target.pays:
        ledger.restore()
    return Run(
        xacts=after[0] - before[0],
        rollbacks=after[1] - before[1],
        statements=None if after[2] is None else after[2] - before[2],
        **raw,
    )


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def report(results, statement_counts, statements_live: bool) -> list[str]:
    """The table: per target, product and reference (and pgbench) side by side."""
    rows = []
    header = (
        f"{'target':<30} {'side':<9} {'req/s':>6} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
        f"{'non-2xx':>7} {'refused':>7} {'xact/req':>8} {'SQL/req':>7} {'req/s ratio':>11} "
        f"{'p99 ratio':>9}"
    )
    rows.append(header)
    rows.append("-" * len(header))
    for target in TARGETS:
        for side in SIDES:
            runs = results.get((side, target.name))
            if not runs:
                continue
            requests = sum(r.requests for r in runs)
            xact = sum(r.xacts + r.rollbacks for r in runs) / requests if requests else 0
            if side == "pgbench":
                sql_text = f"{PGBENCH_STATEMENTS:>7}"
            elif statements_live:
                sql = sum(r.statements or 0 for r in runs) / requests if requests else 0
                sql_text = f"{sql:7.1f}"
            else:
                count = statement_counts.get((side, target.name))
                sql_text = f"{count:>7}" if count is not None else f"{'-':>7}"
            ratio_rps = ratio_p99 = ""
            reference = results.get(("reference", target.lines))
            if side == "product" and reference:
                pairs = list(zip(runs, reference, strict=False))
                rps = median([p.rps / r.rps if r.rps else None for p, r in pairs])
                p99 = median([p.p99_ms / r.p99_ms if r.p99_ms else None for p, r in pairs])
                ratio_rps = f"{rps:.2f}x" if rps is not None else ""
                ratio_p99 = f"{p99:.2f}x" if p99 is not None else ""
            shown = side == "product" or not results.get(("product", target.name))
            rows.append(
                f"{target.label if shown else '':<30} {side:<9} "
                f"{median([r.rps for r in runs]):>6.0f} "
                f"{median([r.p50_ms for r in runs]):>7.1f} "
                f"{median([r.p99_ms for r in runs]):>7.1f} "
                f"{sum(r.errors for r in runs):>6} {sum(r.non2xx for r in runs):>7} "
                f"{sum(r.refused for r in runs):>7} {xact:>8.2f} {sql_text} "
                f"{ratio_rps:>11} {ratio_p99:>9}"
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per target per round (5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each in a new order (3)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (8)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (4)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds per target before (1)")
    parser.add_argument("--settle", type=float, default=0.5, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 round of 2 s")
    parser.add_argument("--rebuild", action="store_true", help="build the data again")
    parser.add_argument("--no-pgbench", dest="pgbench", action="store_false")
    parser.add_argument(
        "--only",
        action="append",
        help=f"targets whose name has this, repeatable: {', '.join(BY_NAME)}",
    )
    parser.add_argument(
        "--product-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting of the product's servers, repeatable (e.g. DB_CONN_MAX_AGE=0)",
    )
    parser.add_argument("--replay-reference", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replay_reference:
        return replay_reference(args.replay_reference)
    if args.quick:
        args.duration, args.rounds, args.warmup = 2, 1, 1
    overrides = dict(item.partition("=")[::2] for item in args.product_env)
    if any(not name for name in overrides):
        sys.exit("bench: --product-env takes NAME=VALUE")
    runs = plan(args)
    if not runs:
        sys.exit(f"bench: --only matches no target ({', '.join(BY_NAME)})")
    # Ctrl-C (even where the caller's shell ignored SIGINT) and SIGTERM end the run; the servers
    # are stopped on the way out (gunicorn's context manager), and a running wrk is killed.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench: terminated"))
    sys.path.insert(0, str(BENCH))
    started = time.perf_counter()

    url = database_url()
    db = configure(url)
    import load_data
    from django.core.management import call_command

    from invoices.due import today

    hold_database(url)
    refuse_foreign_database()
    call_command("migrate", verbosity=0)
    sizes = load_data.Sizes()
    day = today()
    built_on = load_data.built_with(sizes)
    if built_on is None or args.rebuild:
        print(f"bench: building {sizes.describe()} in {db['NAME']}")
        seconds = load_data.build(sizes, day)
        print(f"bench: built in {seconds:.0f} s")
        built_on = day.isoformat()
    else:
        print(f"bench: reusing the data built on {built_on} (--rebuild to build again)")
    ledger = load_data.Ledger()
    print(f"bench: reset the money rows of earlier runs in {ledger.reset():.1f} s")
    if ledger.repaired:
        print(
            f"bench: {ledger.repaired:,} billing items owed less than their total, left by an "
            "interrupted or concurrent earlier run: given their totals back",
            file=sys.stderr,
        )
    clear_redis_keys()
    wrk = ensure_wrk()
    counters = Counters(db)
    targets = [target for side, target in runs if side == "product"]

    with tempfile.TemporaryDirectory(prefix="benchload-") as tmp:
        folder = Path(tmp)
        lines = load_data.request_lines(sizes, day, cap=LINES_PER_TARGET)
        files = {}
        for name, pool in lines.items():
            files[name] = folder / f"{name}.txt"
            files[name].write_text("\n".join(pool) + "\n")
        statement_counts = {}
        if not counters.statements:
            statement_counts = count_by_replay(lines, targets, folder, url, ledger)
            ledger.restore()
        shape = load_data.shape(sizes, day)

        env = product_environment(with_application_name(url, "benchload-product"))
        env.update(overrides)
        ref_env = {
            **{k: v for k, v in env.items() if k not in APP_VARIABLES},
            "DJANGO_SETTINGS_MODULE": "bench.reference.settings",
            "DATABASE_URL": with_application_name(url, "benchload-reference"),
        }
        results: dict[tuple[str, str], list[Run]] = {}
        with (
            gunicorn("product", "billing_site.wsgi", PRODUCT_PORT, env, args.workers) as product,
            gunicorn(
                "reference", "bench.reference.wsgi", REFERENCE_PORT, ref_env, args.workers
            ) as reference,
        ):
            bases = {"product": product, "reference": reference}
            print(
                f"bench: product {product}, reference {reference} ({args.workers} sync workers "
                f"each); wrk {args.connections} connections, {args.duration} s a target, "
                f"{args.rounds} rounds; {os.cpu_count()} cores"
                + (f"; product with {' '.join(args.product_env)}" if overrides else "")
            )
            if args.warmup:
                warm = argparse.Namespace(**{**vars(args), "duration": args.warmup})
                for side, target in runs:
                    if side != "pgbench":
                        measure(side, target, files, counters, ledger, wrk, bases, db, folder, warm)
                print(f"bench: warmed up ({args.warmup} s a target)")
            for round_index in range(args.rounds):
                for side, target in rotated(runs, round_index):
                    run = measure(
                        side, target, files, counters, ledger, wrk, bases, db, folder, args
                    )
                    results.setdefault((side, target.name), []).append(run)
                    failed = run.errors + run.non2xx + run.refused
                    wrapped = (
                        " (past the end of its rows: failures expected)"
                        if target.consumes and run.requests > run.lines
                        else ""
                    )
                    print(
                        f"  round {round_index + 1}/{args.rounds} {side:<9} {target.name:<12} "
                        f"{run.rps:7.0f} req/s  p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms"
                        f"  failed {failed}{wrapped}",
                        flush=True,
                    )
    clear_redis_keys()
    print()
    for row in report(results, statement_counts, counters.statements):
        print(row)
    print_notes(results, counters.statements, shape, built_on)
    verify_ledger(url)
    print(f"\nbench: done in {time.perf_counter() - started:.0f} s")


def print_notes(results, statements_live, shape, built_on) -> None:
    print()
    print(
        "req/s, p50, p99: medians over the rounds. errors: socket errors and timeouts; non-2xx: "
        'answers outside 200-299; refused: 200s whose body says "Success": false (a Legend '
        "line not applied); all three summed over the rounds, and all must be 0.\n"
        "xact/req: commits and rollbacks of the bench database (pg_stat_database) per request, "
        "Django's connection health check and autovacuum included.\n"
        "Ratios: product / reference (req/s: below 1 is slower; p99: above 1 is slower), the "
        "median of each round's pair; the Idempotency-Key rows against the reference without "
        "one (the reference has no such key)."
    )
    if statements_live:
        print(
            "SQL/req: pg_stat_statements calls per request in the same runs (top-level "
            "statements: BEGIN and COMMIT, the health check, and the deferred foreign-key "
            "checks that COMMIT runs, one per key per row written)."
        )
    else:
        print(
            "SQL/req: pg_stat_statements is not loaded here (shared_preload_libraries needs a "
            "server restart), so one request of each kind was replayed through Django's test "
            "client and its queries counted (CaptureQueriesContext: one per execute, BEGIN and "
            "COMMIT included, the health check not)."
        )
    print(
        f"Past-due list: {shape['past_due']}; payment list: {shape['payments']}; "
        f"DocuSign pay all past due: {shape['ds_all']}. Data built on {built_on}."
    )
    for (side, name), runs in sorted(results.items()):
        samples = [sample for run in runs for sample in run.samples]
        if samples:
            print(f"first failure, {side} {name}: {samples[0]}")


def verify_ledger(url: str) -> None:
    env = product_environment(url)
    print("\nmanage.py verify_ledger on the bench database:")
    done = subprocess.run(  # noqa: S603 - our manage.py
        [sys.executable, str(ROOT / "manage.py"), "verify_ledger"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    output = [
        row
        for row in (done.stdout + done.stderr).strip().splitlines()
        if not row.startswith("AXES")
    ]
    print("\n".join(output[-5:]))
    if done.returncode != 0:
        sys.exit(done.returncode)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("\nbench: interrupted (servers stopped; the next run reverses what this one paid)")
