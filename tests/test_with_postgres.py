"""scripts/with-postgres: `make test` runs on PostgreSQL even where no server is running."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "with-postgres"
PROBE = (
    "import os, psycopg; url = os.environ['DATABASE_URL']; "
    "conn = psycopg.connect(url.rsplit('/', 1)[0] + '/postgres'); "
    "print(url); print(conn.execute('select 1').fetchone()[0])"
)
HAS_BINARIES = any(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


def run(env: dict[str, str]) -> subprocess.CompletedProcess:
    """The script running PROBE, with our interpreter (it has psycopg)."""
    return subprocess.run(  # noqa: S603 - our own script and interpreter
        [str(SCRIPT), sys.executable, "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def throwaway_dirs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("billing-pg.*"))


def test_a_given_database_url_is_used_as_it_is():
    url = os.environ["DATABASE_URL"]

    result = run({**os.environ, "DATABASE_URL": url})

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [url, "1"]


@pytest.mark.skipif(not HAS_BINARIES, reason="no PostgreSQL binaries to start a server from")
def test_without_a_server_it_starts_a_throwaway_one_and_removes_it():
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["WITH_POSTGRES_PORT"] = "1"  # nothing listens there
    before = throwaway_dirs()

    result = run(env)

    assert result.returncode == 0, result.stderr
    url, answer = result.stdout.splitlines()
    assert url.startswith("postgres://postgres@127.0.0.1:")
    assert not url.startswith("postgres://postgres@127.0.0.1:5432/")
    assert answer == "1"
    assert "starting a throwaway PostgreSQL" in result.stderr
    assert throwaway_dirs() == before  # stopped and removed
