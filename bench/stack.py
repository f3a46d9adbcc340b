"""Requests per second through the running stack (deploy/stack), with one and with two app servers.

    deploy/stack up && .venv/bin/python bench/stack.py [--duration 10] [--connections 32]
    .venv/bin/python bench/stack.py --worker-classes   # also sync against gthread workers

Runs wrk (Debian's package; installed with apt-get if missing) against nginx on HTTPS, for two
requests: `GET /healthz` (nginx and gunicorn, no database) and `GET billing_invoices_past_due` of a
partner's account (authentication, rate-limit counters in Redis, queries through PgBouncer). Its
partners are 40 credentials on accounts of their own (made once, kept in STACK_DIR), so that no
rate limit is reached. One app server: nginx is reloaded with the first one only
(`STACK_APP_SERVERS=1 deploy/stack up`), then with both again. Prints the figures side by side and
their ratio; see docs/scaling.md for what they mean. The stack is left as it was found (two app
servers, sync workers).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from wrk import ensure_wrk  # bench/ is the script's own folder

ROOT = Path(__file__).resolve().parent.parent
STACK = ROOT / "deploy" / "stack"
PARTNERS = 40
SEED = """
import json
from tests.stack.seed import clients
print(json.dumps(clients({count}, 2)))
"""
ROTATING = """
local requests = {{}}
for line in io.lines("{partners}") do
  local token, path = line:match("([^ ]+) ([^ ]+)")
  local headers = {{["Host"] = "{host}", ["Authorization"] = "Bearer " .. token}}
  requests[#requests + 1] = wrk.format("GET", path, headers)
end
local n = 0
request = function()
  n = n + 1
  return requests[(n % #requests) + 1]
end
"""


def stack_env(**extra: str) -> dict:
    return {**os.environ, **extra}


def stack(*args: str, **extra: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own script
        [str(STACK), *args], env=stack_env(**extra), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"bench: deploy/stack {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def partners_file(stack_dir: Path) -> Path:
    """`<secret> <path>` a line: one past-due list per partner, made on the first run."""
    path = stack_dir / "bench-partners.txt"
    if not path.exists():
        output = stack("manage", "shell", "-c", SEED.format(count=PARTNERS))
        made = json.loads(output.strip().splitlines()[-1])
        lines = [
            f"{c['secret']} /restapi/v2.1/accounts/{c['account']}/billing_invoices_past_due"
            for c in made
        ]
        path.write_text("\n".join(lines) + "\n")
    return path


def run_wrk(wrk: str, url: str, script: Path | None, args) -> tuple[float, float, int]:
    """Requests per second, the 99th percentile latency (ms), and non-2xx/3xx answers."""
    command = [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--latency",
    ]
    if script is not None:
        command += ["-s", str(script)]
    done = subprocess.run(  # noqa: S603 - wrk, fixed arguments
        [*command, url], capture_output=True, text=True, check=True
    )
    text = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", text)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return rps, float(p99.group(1)) * scale, int(bad.group(1)) if bad else 0


def measure(wrk: str, base: str, script: Path, args) -> dict:
    return {
        "GET /healthz": run_wrk(wrk, f"{base}/healthz", None, args),
        "GET past due (API)": run_wrk(wrk, base, script, args),
    }


def print_table(title: str, left: str, right: str, a: dict, b: dict) -> None:
    print(f"\n{title}")
    print(f"{'request':<22} {left:>18} {right:>18} {'ratio':>7}")
    for name in a:
        (ra, pa, ba), (rb, pb, bb) = a[name], b[name]
        note = f"   (non-2xx: {ba}/{bb})" if ba or bb else ""
        print(
            f"{name:<22} {ra:>8.0f} r/s {pa:>5.0f} ms {rb:>8.0f} r/s {pb:>5.0f} ms "
            f"{rb / ra:>6.2f}x{note}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--worker-classes", action="store_true", help="also sync vs gthread")
    args = parser.parse_args()

    wrk = ensure_wrk()
    stack_dir = Path(os.environ.get("STACK_DIR", ROOT / "var" / "stack")).resolve()
    status = stack("status")
    if "stopped" in status:
        sys.exit(f"bench: the stack is not (wholly) up; run deploy/stack up first\n{status}")
    port = re.search(r"nginx https :(\d+)", status).group(1)
    base = f"https://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "partners.lua"
        script.write_text(
            ROTATING.format(partners=partners_file(stack_dir), host=f"127.0.0.1:{port}")
        )
        print(
            f"bench: {args.duration} s each, {args.connections} connections, {os.cpu_count()} cores"
        )
        try:
            stack("up", STACK_APP_SERVERS="1")
            time.sleep(1)
            one = measure(wrk, base, script, args)
        finally:
            stack("up")
        time.sleep(1)
        two = measure(wrk, base, script, args)
        print_table("App servers behind nginx (sync workers)", "one", "two", one, two)
        if args.worker_classes:
            try:
                stack("restart-app", GUNICORN_WORKER_CLASS="gthread", GUNICORN_THREADS="4")
                time.sleep(1)
                threaded = measure(wrk, base, script, args)
            finally:
                stack("restart-app")
            print_table(
                "Two app servers: sync (3 workers) vs gthread (3 x 4 threads)",
                "sync",
                "gthread",
                two,
                threaded,
            )


if __name__ == "__main__":
    main()
