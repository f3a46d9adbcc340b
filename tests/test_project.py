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
    "print(settings.DATABASES['default']['ENGINE'], settings.DEBUG)"
)


def run_settings(env_overrides: dict[str, str | None]) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "billing_site.settings"}
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", PRINT_DATABASE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_tests_run_on_postgresql(db):
    assert connection.vendor == "postgresql"


def test_missing_secret_key_stops_the_start_outside_debug():
    result = run_settings({"DEBUG": "0", "SECRET_KEY": None})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_debug_without_database_url_uses_the_embedded_sqlite_file():
    result = run_settings({"DEBUG": "1", "SECRET_KEY": None, "DATABASE_URL": None})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"]


def test_a_malformed_boolean_is_refused():
    result = run_settings({"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


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
