"""The stack tests: `deploy/stack up` once for the session, in its own folder and on its own ports.

The stack (nginx, two gunicorn app servers, PgBouncer in transaction mode, a PostgreSQL primary
and its streaming replica, Redis) runs from STACK_TEST_DIR (default var/test-stack) on the ports
from STACK_TEST_PORT_BASE (default 28440: 28440 HTTPS, 28441 HTTP, 28442/28443 app servers, 28444
PgBouncer, 28445 primary, 28446 replica, 28447 Redis), so it never meets a developer's stack or the
machine's own servers. It is stopped at the end of the session; its folder (logs) stays until the
next run. Without nginx, pgbouncer, the PostgreSQL binaries or redis-server, every stack test is
skipped, and the end of the run says why. The promotion test changes the topology: it runs last.
"""

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent.parent
STACK = ROOT / "deploy" / "stack"
UP_TIMEOUT = 240  # seconds: first run initdb, base backup, migrate, collectstatic
skipped_key = pytest.StashKey[str]()


def missing_binaries() -> list[str]:
    missing = [
        name
        for name in ("nginx", "pgbouncer", "redis-server", "openssl")
        if not (shutil.which(name) or Path("/usr/sbin", name).exists())
    ]
    bindirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not (shutil.which("initdb") or any((d / "initdb").exists() for d in bindirs)):
        missing.append("initdb/pg_ctl (PostgreSQL)")
    return missing


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    ours = [item for item in items if here in Path(item.path).parents]
    for item in ours:
        item.add_marker(pytest.mark.stack)
    # The promotion stops the primary for good: after every other stack test.
    last = [item for item in items if item.path.name == "test_promotion.py"]
    items[:] = [item for item in items if item not in last] + last


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if skipped := config.stash.get(skipped_key, None):
        terminalreporter.write_sep("-", "stack tests")
        terminalreporter.write_line(skipped, yellow=True, bold=True)


@dataclass
class Stack:
    folder: Path
    ports: dict[str, int]
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.ports['https']}"

    @property
    def ca(self) -> str:
        return str(self.folder / "tls" / "ca.pem")

    def app_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports['apps'][index]}"

    def run(self, *args: str, timeout: float = 120) -> str:
        """deploy/stack ARGS; its output (fails the test on a non-zero exit)."""
        done = subprocess.run(  # noqa: S603 - our own script
            [str(STACK), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, f"deploy/stack {' '.join(args)}:\n{done.stdout}{done.stderr}"
        return done.stdout

    def manage(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> str:
        done = subprocess.run(  # noqa: S603 - our own script
            [str(STACK), "manage", *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, f"manage {' '.join(args)}:\n{done.stdout}{done.stderr}"
        return done.stdout

    def seed(self, **variables: str) -> object:
        """tests/stack/seed.py inside the stack; its JSON answer."""
        env = {f"STACK_SEED_{name.upper()}": str(value) for name, value in variables.items()}
        env["STACK_SEED"] = env.pop("STACK_SEED_WHAT")
        code = "from tests.stack.seed import main; main()"
        output = self.manage("shell", "-c", code, env=env)
        return json.loads(output.strip().splitlines()[-1])

    def sql(self, query: str, params=(), *, port: str = "primary") -> list[tuple]:
        """Rows of one query, straight on the primary (or "replica"), not through PgBouncer."""
        with psycopg.connect(
            host="127.0.0.1",
            port=self.ports[port],
            user="postgres",
            dbname="billing",
            autocommit=True,
            connect_timeout=5,
        ) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def log(self, name: str) -> str:
        path = self.folder / "logs" / name
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        """The tail of every log, for a failure's message."""
        parts = []
        for path in sorted((self.folder / "logs").glob("*.log")):
            tail = path.read_text(errors="replace")[-3000:]
            parts.append(f"--- {path.name} ---\n{tail}")
        return "\n".join(parts)


def stack_ports(base: int) -> dict:
    return {
        "https": base,
        "http": base + 1,
        "apps": [base + 2, base + 3],
        "pgbouncer": base + 4,
        "primary": base + 5,
        "replica": base + 6,
        "redis": base + 7,
    }


@pytest.fixture(scope="session")
def stack(request) -> Iterator[Stack]:
    if missing := missing_binaries():
        message = (
            f"Stack tests skipped: {', '.join(missing)} not installed "
            "(.ci/run installs Debian's nginx and pgbouncer; deploy/stack up installs them too)"
        )
        request.config.stash[skipped_key] = message
        pytest.skip(message)
    folder = Path(os.environ.get("STACK_TEST_DIR", ROOT / "var" / "test-stack"))
    base = int(os.environ.get("STACK_TEST_PORT_BASE", "28440"))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STACK_", "PYTEST_", "DJANGO_"))
    }
    env.update(STACK_DIR=str(folder), STACK_PORT_BASE=str(base), STACK_NO_SEED="1")
    stack = Stack(folder, stack_ports(base), env)
    if folder.exists():  # a previous run's: stop whatever it left, start afresh
        subprocess.run([str(STACK), "down"], env=env, capture_output=True, timeout=60, check=False)  # noqa: S603
        shutil.rmtree(folder)
    started = time.monotonic()
    try:
        stack.run("up", timeout=UP_TIMEOUT)
        response = requests.get(f"{stack.url}/healthz", verify=stack.ca, timeout=5)
        assert response.status_code == 200, response.text
        print(f"\nstack up in {time.monotonic() - started:.1f} s ({folder})")
        yield stack
    finally:
        subprocess.run([str(STACK), "down"], env=env, capture_output=True, timeout=120, check=False)  # noqa: S603


@pytest.fixture
def https(stack) -> requests.Session:
    """A session that trusts the stack's generated CA (and nothing else)."""
    session = requests.Session()
    session.verify = stack.ca
    session.trust_env = False  # else REQUESTS_CA_BUNDLE, if set, would replace `verify`
    return session
