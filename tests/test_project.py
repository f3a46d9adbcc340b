"""The project as a whole: configuration from the environment, migrations, database engine."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
PRINT_DATABASE = (
    "import django; django.setup(); from django.conf import settings; "
    "db = settings.DATABASES['default']; "
    "print(db['ENGINE'], db['HOST'], db['PORT'], db['NAME'], db['USER'], settings.DEBUG)"
)


def environment(env_overrides: dict[str, str | None]) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "billing_site.settings"}
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_python(args: list[str], env_overrides: dict[str, str | None], timeout=60):
    return subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, *args],
        cwd=ROOT,
        env=environment(env_overrides),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def run_settings(env_overrides: dict[str, str | None]) -> subprocess.CompletedProcess:
    return run_python(["-c", PRINT_DATABASE], env_overrides)


def test_tests_run_on_postgresql(db):
    assert connection.vendor == "postgresql"


def test_missing_secret_key_stops_the_start_outside_debug():
    result = run_settings({"DEBUG": "0", "SECRET_KEY": None})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(("port", "expected"), [(None, "5440"), ("5441", "5441")])
def test_debug_without_database_url_uses_the_quick_starts_own_postgresql(port, expected):
    """scripts/quickstart-postgres (make run): 127.0.0.1 on QUICKSTART_PG_PORT, default 5440."""
    result = run_settings(
        {"DEBUG": "1", "SECRET_KEY": None, "DATABASE_URL": None, "QUICKSTART_PG_PORT": port}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "billing_site.postgres_backend",  # Django's, with a cheaper health check
        "127.0.0.1",
        expected,
        "billing",
        "postgres",
        "True",
    ]


def test_a_malformed_boolean_is_refused():
    result = run_settings({"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


# A configuration error is one line on stderr and exit status 1, not a traceback.
CONFIGURATION_ERRORS = [
    (
        {"DEBUG": "0", "SECRET_KEY": None},
        "SECRET_KEY must be set in the environment when DEBUG is off.",
    ),
    (
        {"DEBUG": "0", "REDIS_URL": ""},
        "REDIS_URL must be set when DEBUG is off: rate limits are counted in Redis, shared by "
        "every worker.",
    ),
    ({"DEBUG": "maybe"}, "DEBUG must be a boolean (1/0, true/false), not 'maybe'."),
    (
        {"SESSION_COOKIE_SECURE": "si"},
        "SESSION_COOKIE_SECURE must be a boolean (1/0, true/false), not 'si'.",
    ),
    ({"DB_CONN_MAX_AGE": "soon"}, "DB_CONN_MAX_AGE must be a whole number, not 'soon'."),
    ({"API_BURST_LIMIT": "-1"}, "API_BURST_LIMIT must not be negative, not '-1'."),
    # Money needs PostgreSQL's exact numerics: SQLite (floats) and other databases are refused.
    (
        {"DATABASE_URL": "sqlite:///db.sqlite3"},
        "DATABASE_URL names SQLite, which stores money as floating point (106.92 comes back as "
        "106.920000000000): money needs PostgreSQL's exact numerics. Unset it for the quick "
        "start's own PostgreSQL (`make run` starts it, scripts/quickstart-postgres), or name a "
        "PostgreSQL server: postgres://USER[:PASSWORD]@HOST[:PORT]/NAME.",
    ),
    (
        {"DEBUG": "1", "DATABASE_URL": "sqlite://"},
        "DATABASE_URL names SQLite, which stores money as floating point (106.92 comes back as "
        "106.920000000000): money needs PostgreSQL's exact numerics. Unset it for the quick "
        "start's own PostgreSQL (`make run` starts it, scripts/quickstart-postgres), or name a "
        "PostgreSQL server: postgres://USER[:PASSWORD]@HOST[:PORT]/NAME.",
    ),
    (
        {"DATABASE_REPLICA_URL": "sqlite:///replica.sqlite3"},
        "DATABASE_REPLICA_URL names SQLite, which stores money as floating point (106.92 comes "
        "back as 106.920000000000): money needs PostgreSQL's exact numerics. Name a PostgreSQL "
        "server: postgres://USER[:PASSWORD]@HOST[:PORT]/NAME.",
    ),
    (
        {"DATABASE_URL": "mysql://app@127.0.0.1:3306/billing"},
        "DATABASE_URL must name a PostgreSQL database "
        "(postgres://USER[:PASSWORD]@HOST[:PORT]/NAME), not django.db.backends.mysql: the money "
        "rules, row locks and audit trail are PostgreSQL's.",
    ),
    # A malformed URL (dj_database_url raises ValueError) is one line too; a password is hidden.
    (
        {"DATABASE_URL": "nonsense"},
        "DATABASE_URL is not a database URL: 'nonsense' (expected "
        "postgres://USER[:PASSWORD]@HOST[:PORT]/NAME, special characters %-quoted).",
    ),
    (
        {"DATABASE_URL": "postgres://host:notaport/x"},
        "DATABASE_URL is not a database URL: 'postgres://host:notaport/x' (expected "
        "postgres://USER[:PASSWORD]@HOST[:PORT]/NAME, special characters %-quoted).",
    ),
    (
        {"DATABASE_URL": "postgres://app:p@ss@db.example:notaport/billing"},
        "DATABASE_URL is not a database URL: 'postgres://app:***@db.example:notaport/billing' "
        "(expected postgres://USER[:PASSWORD]@HOST[:PORT]/NAME, special characters %-quoted).",
    ),
    (
        {"DATABASE_URL": "postgres://db.example:5432"},
        "DATABASE_URL names no database: 'postgres://db.example:5432' (expected "
        "postgres://USER[:PASSWORD]@HOST[:PORT]/NAME).",
    ),
    (
        {"DEBUG": "0", "DATABASE_URL": None},
        "DATABASE_URL must be set when DEBUG is off (postgres://USER[:PASSWORD]@HOST[:PORT]/NAME).",
    ),
    (
        {"DEBUG": "0", "DATABASE_URL": ""},
        "DATABASE_URL must be set when DEBUG is off (postgres://USER[:PASSWORD]@HOST[:PORT]/NAME).",
    ),
    (
        {"DEBUG": "1", "DATABASE_URL": None, "QUICKSTART_PG_PORT": "0"},
        "QUICKSTART_PG_PORT must be a port number, not 0.",
    ),
]


@pytest.mark.parametrize(("env_overrides", "message"), CONFIGURATION_ERRORS)
@pytest.mark.parametrize("command", ["check", "migrate", "verify_ledger"])
def test_manage_py_says_a_configuration_error_in_one_line(env_overrides, message, command):
    result = run_python(["manage.py", command], env_overrides)

    assert result.returncode == 1
    assert result.stderr == f"manage.py: configuration error: {message}\n"
    assert result.stdout == ""


def test_manage_py_runs_with_a_good_configuration():
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "ERROR"], {})

    assert result.returncode == 0, result.stderr
    assert "configuration error" not in result.stderr


@pytest.mark.parametrize("module", ["billing_site.wsgi", "billing_site.asgi"])
def test_a_server_importing_the_application_gets_the_error_as_its_last_line(module):
    result = run_python(["-c", f"import {module}"], {"DEBUG": "0", "SECRET_KEY": None})

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"billing_site.startup.ConfigurationError: {module}: configuration error: "
        "SECRET_KEY must be set in the environment when DEBUG is off."
    )
    # Only our own frame: the settings' traceback is not chained in.
    assert "settings.py" not in result.stderr


def test_gunicorn_logs_a_configuration_error_as_one_line_and_stops(tmp_path):
    result = run_python(
        [
            "-m",
            "gunicorn",
            "billing_site.wsgi",
            "--bind",
            "127.0.0.1:0",
            "--workers",
            "1",
            "--control-socket",
            str(tmp_path / "gunicorn.ctl"),
        ],
        {"DEBUG": "0", "SECRET_KEY": None},
    )

    assert result.returncode == 4  # gunicorn's "App failed to load"
    lines = result.stderr.splitlines()
    assert [line for line in lines if "configuration error" in line] == [
        "billing_site.wsgi: configuration error: "
        "SECRET_KEY must be set in the environment when DEBUG is off."
    ]
    assert "Traceback" not in result.stderr
    assert lines[-1].endswith("Reason: App failed to load.")


@pytest.mark.django_db
def test_migrations_match_the_models():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
def test_tender_type_presets_are_seeded_by_migration():
    from payments.models import TenderType

    assert list(TenderType.objects.values_list("id", "name")) == [
        (1, "Cash"),
        (2, "Cheque"),
        (3, "Card"),
        (4, "E Card"),
        (5, "Credit"),
        (6, "Credit Note"),
        (7, "Voucher"),
        (8, "EFT"),
        (28, "External Payment"),
    ]
