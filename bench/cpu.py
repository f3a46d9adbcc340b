"""CPU per request of the load benchmark's targets, in process, product against reference.

    .venv/bin/python bench/cpu.py                          # every target, 300 requests each
    .venv/bin/python bench/cpu.py --only legend1_key --requests 1000 --cprofile 25

Calls each project's WSGI application directly (no server, no network, no concurrency), with the
same requests as `make bench-load` (bench/load_data.py) on its database (BENCH_LOAD_DATABASE_URL,
by default billing_load, built by `make bench-load` if missing), and prints per request the CPU
time of this process (the app: Django, DRF, the ORM, psycopg) and of its PostgreSQL backend (read
from /proc), for the product and for the reference, and their ratio. Under load every worker
shares the machine's cores, so CPU per request is what bounds requests per second; measured one
request at a time it moves far less with the machine's noise than wrk's figures.

`--cprofile N`: also profile the product's requests with cProfile and print the N functions with
the most time of their own and the N with the most cumulative time. What a paying target paid is
reversed after it (bench/load_data.Ledger), as in `make bench-load`.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import time
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from load import (  # noqa: E402 - bench/ is the script's own folder
    BY_NAME,
    TARGETS,
    clear_redis_keys,
    configure,
    database_url,
    hold_database,
    refuse_foreign_database,
)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def backend_cpu(pid: int) -> float:
    """User and system CPU seconds of the PostgreSQL backend `pid` (same machine)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def environ(method: str, path: str, bearer: str, body: str, key: str | None) -> dict:
    path, _, query = path.partition("?")
    data = body.encode()
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8301",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8301",
        "HTTP_ACCEPT": "application/json",
        "HTTP_AUTHORIZATION": f"Bearer {bearer}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if data:
        env.update(CONTENT_TYPE="application/json", CONTENT_LENGTH=str(len(data)))
    if key:
        env["HTTP_IDEMPOTENCY_KEY"] = key
    return env


def call(app, line: str, key: str | None) -> None:
    method, path, bearer, body = line.split("\t", 3)
    status = []
    chunks = app(environ(method, path, bearer, body, key), lambda s, h, e=None: status.append(s))
    content = b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
    if not status[0].startswith("2") or b'"Success":false' in content:
        raise SystemExit(f"bench: {method} {path} answered {status[0]}: {content[:300]!r}")


def run(app, pool: list[str], requests: int, keys: bool, profiler=None) -> dict:
    """CPU seconds per request of this process and of its database backend, and wall time."""
    from django.db import connection

    warm = min(20, len(pool) // 4)
    for line in pool[:warm]:
        call(app, line, f"warm-{uuid.uuid4().hex}" if keys else None)
    connection.ensure_connection()
    backend = connection.connection.info.backend_pid
    todo = [pool[warm + i % (len(pool) - warm)] for i in range(requests)]
    keys_ = [f"profile-{uuid.uuid4().hex}" if keys else None for _ in todo]
    db_before, cpu_before, wall_before = (
        backend_cpu(backend),
        time.process_time(),
        time.perf_counter(),
    )
    if profiler:
        profiler.enable()
    for line, key in zip(todo, keys_, strict=True):
        call(app, line, key)
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu_before, time.perf_counter() - wall_before
    if connection.connection is None or connection.connection.info.backend_pid != backend:
        db = float("nan")  # the connection was replaced (CONN_MAX_AGE, health check): unknown
    else:
        db = backend_cpu(backend) - db_before
    return {
        "app_ms": 1000 * cpu / requests,
        "db_ms": 1000 * db / requests,
        "wall_ms": 1000 * wall / requests,
    }


def measure(names: list[str], requests: int, cprofile: int, settings: str) -> dict:
    """In this process, on the project `settings`: every target's figures."""
    import load_data
    from django.core.wsgi import get_wsgi_application

    from invoices.due import today

    sizes = load_data.Sizes()
    lines = load_data.request_lines(sizes, today(), cap=max(requests + 40, 400))
    ledger = load_data.Ledger()
    ledger.restore()
    app = get_wsgi_application()
    figures = {}
    for name in names:
        target = BY_NAME[name]
        if settings != "billing_site.settings" and not target.reference:
            continue
        profiler = cProfile.Profile() if cprofile else None
        figures[name] = run(app, lines[target.lines], requests, target.keys, profiler)
        if target.pays:
            ledger.restore()
        if profiler:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).strip_dirs()
            stats.sort_stats("tottime").print_stats(cprofile)
            stats.sort_stats("cumulative").print_stats(cprofile)
            print(
                f"\n== cProfile of {name} ({requests} requests) ==\n{out.getvalue()}",
                file=sys.stderr,
            )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--only", action="append", help=f"part of a target's name: {', '.join(BY_NAME)}"
    )
    parser.add_argument("--requests", type=int, default=300, help="timed requests per target (300)")
    parser.add_argument(
        "--cprofile", type=int, default=0, metavar="N", help="print the top N functions"
    )
    parser.add_argument("--side", help=argparse.SUPPRESS)
    args = parser.parse_args()
    names = [t.name for t in TARGETS if not args.only or any(o in t.name for o in args.only)]
    if not names:
        sys.exit(f"bench: --only matches no target ({', '.join(BY_NAME)})")

    url = database_url()
    if args.side:  # the reference, in a process of its own
        os.environ["DJANGO_SETTINGS_MODULE"] = "bench.reference.settings"
        os.environ["DATABASE_URL"] = url
        sys.path.insert(0, str(BENCH.parent))
        import django

        django.setup()
        print(json.dumps(measure(names, args.requests, 0, args.side)))
        return

    configure(url)
    import load_data
    from django.core.management import call_command

    from invoices.due import today

    hold_database(url)
    refuse_foreign_database()
    call_command("migrate", verbosity=0)
    sizes = load_data.Sizes()
    if load_data.built_with(sizes) is None:
        print(f"bench: building {sizes.describe()} (as make bench-load does)", file=sys.stderr)
        load_data.build(sizes, today())
    load_data.Ledger().reset()
    clear_redis_keys()
    product = measure(names, args.requests, args.cprofile, "billing_site.settings")
    clear_redis_keys()
    done = subprocess.run(  # noqa: S603 - this script
        [sys.executable, __file__, "--side", "reference", "--requests", str(args.requests)]
        + [f"--only={name}" for name in names],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench.reference.settings"},
    )
    if done.returncode != 0:
        sys.exit(f"bench: the reference failed:\n{done.stdout}\n{done.stderr}")
    reference = json.loads(done.stdout.splitlines()[-1])

    print(f"CPU per request, {args.requests} requests a target, one at a time (ms)")
    header = (
        f"{'target':<14}{'app':>8}{'db':>8}{'wall':>8}   "
        f"{'ref app':>8}{'ref db':>8}{'ref wall':>9}   {'app x':>6}{'wall x':>7}"
    )
    print(header)
    print("-" * len(header))
    for name, mine in product.items():
        ref = reference.get(name) or reference.get(BY_NAME[name].lines)
        row = f"{name:<14}{mine['app_ms']:8.2f}{mine['db_ms']:8.2f}{mine['wall_ms']:8.2f}"
        if ref:
            row += (
                f"   {ref['app_ms']:8.2f}{ref['db_ms']:8.2f}{ref['wall_ms']:9.2f}"
                f"   {mine['app_ms'] / ref['app_ms']:6.2f}{mine['wall_ms'] / ref['wall_ms']:7.2f}"
            )
        print(row)


if __name__ == "__main__":
    main()
