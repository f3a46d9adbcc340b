"""The quick start's own PostgreSQL (scripts/quickstart-postgres, `make run`): exact money.

The server is started as `make run` starts it, but in a temporary folder on a free port
(QUICKSTART_PG_DIR, QUICKSTART_PG_PORT), never var/quickstart-pg. The app reaches it as the quick
start does: DEBUG on and no DATABASE_URL, so the settings' default is what is tested. Skipped only
where no PostgreSQL binaries are installed (the script would install them with apt-get as root).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "quickstart-postgres"


def postgres_binaries_installed() -> bool:
    """As scripts/lib/postgres.sh finds them: pg_config --bindir, else /usr/lib/postgresql/*/bin."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = subprocess.run(  # noqa: S603 - fixed arguments
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if (Path(bindir) / "initdb").exists():
            return True
    return any(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


pytestmark = pytest.mark.skipif(
    not postgres_binaries_installed(),
    reason="no PostgreSQL binaries (pg_config --bindir, /usr/lib/postgresql/*/bin) to start the "
    "quick start's server from",
)

# Pay, reverse, pay on demo account 900001 through the money services, then every money cell of
# the admin's changelists, as JSON on the last line.
SEQUENCE = """
import json, re
from django.contrib.auth import get_user_model
from django.test import Client
from contacts.models import Account
from payments import services
from payments.actors import SYSTEM

account = Account.objects.get(number=900001)
first = services.invoices_pay(account_id=account.pk, amount="33.33", actor=SYSTEM)
services.payment_reverse(payment_id=first.payment.pk, reason="quick start check", actor=SYSTEM)
services.invoices_pay(account_id=account.pk, amount="106.92", actor=SYSTEM)

client = Client()
client.force_login(get_user_model().objects.get(username="demo"))
cells = {}
for path in [
    "/admin/contacts/account/",
    "/admin/invoices/invoice/",
    "/admin/invoices/billingitem/",
    "/admin/payments/payment/",
    "/admin/payments/paymentallocation/",
]:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    # A cell's class names its column (money_ when formatted as the back office does), its text
    # is the amount, then the currency where the list mixes currencies.
    money_cell = (
        r'<td class="field-(?:money_)?(\\w*(?:balance|amount|past_due))[^"]*">([^<]*?) ?'
        r'(?:<span class="currency">[A-Z]{3}</span>)?</td>'
    )
    cells[path] = re.findall(money_cell, response.content.decode())
print(json.dumps(cells))
"""


class QuickStart:
    def __init__(self, folder: Path, port: int):
        self.folder, self.port = folder, port
        self.env = {
            key: value
            for key, value in os.environ.items()
            # The quick start's environment: no database, replica or Redis of the test run's.
            if key not in {"DATABASE_URL", "DATABASE_REPLICA_URL", "REDIS_URL", "SECRET_KEY"}
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="billing_site.settings",
            DEBUG="1",
            QUICKSTART_PG_DIR=str(folder),
            QUICKSTART_PG_PORT=str(port),
            ALLOWED_HOSTS="testserver",  # the Django test client's host
        )
        self.url = f"postgres://postgres@127.0.0.1:{port}/billing"

    def script(self, *args: str) -> subprocess.CompletedProcess:
        return self._run([str(SCRIPT), *args], timeout=60)

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return self._run([sys.executable, "manage.py", *args], timeout=120)

    def _run(self, command: list[str], timeout: float) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 - our own script and interpreter
            command,
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@pytest.fixture(scope="module")
def quickstart():
    """Started, migrated and seeded as `make run` does (with the demo logins); stopped and
    removed afterwards. `.first_start` is the first `start`'s result."""
    parent = Path(tempfile.mkdtemp(prefix="billing-quickstart-test-"))
    parent.chmod(0o755)  # as root the server runs as 'postgres', which must reach its folder
    server = QuickStart(parent / "quickstart-pg", free_port())
    try:
        server.first_start = server.script("start")
        assert server.first_start.returncode == 0, server.first_start.stderr
        for command in (["migrate", "--noinput"], ["seed_demo", "--demo-login"]):
            done = server.manage(*command)
            assert done.returncode == 0, done.stderr
        yield server
    finally:
        server.script("stop")
        shutil.rmtree(parent, ignore_errors=True)


def test_start_creates_its_own_server_in_its_folder(quickstart):
    stderr = quickstart.first_start.stderr
    assert "quickstart-postgres: creating the quick start's PostgreSQL" in stderr
    assert "quickstart-postgres: created the database billing" in stderr
    assert stderr.splitlines()[-1].startswith("quickstart-postgres: PostgreSQL ")
    assert f"on 127.0.0.1:{quickstart.port}, data in {quickstart.folder}" in stderr
    assert (quickstart.folder / "data" / "PG_VERSION").exists()
    assert (quickstart.folder / f".s.PGSQL.{quickstart.port}").is_socket()  # its socket, there

    status = quickstart.script("status")
    assert status.returncode == 0, status.stderr
    assert status.stdout == (
        f"quickstart-postgres: running on 127.0.0.1:{quickstart.port}, "
        f"data in {quickstart.folder}\n"
    )


def test_the_settings_default_is_the_scripts_url(quickstart):
    """With DEBUG on and no DATABASE_URL, the app uses what `scripts/quickstart-postgres url`
    prints: the server `make run` started."""
    url = quickstart.script("url")
    assert url.returncode == 0
    assert url.stdout == f"{quickstart.url}\n"

    shown = quickstart._run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "db = settings.DATABASES['default']; "
            "print(f\"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}\")",
        ],
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == url.stdout


def test_money_stays_exact_after_pay_reverse_pay(quickstart):
    done = quickstart.manage("shell", "-c", SEQUENCE)
    assert done.returncode == 0, done.stderr
    cells = json.loads(done.stdout.splitlines()[-1])

    # Every balance and amount in the admin has exactly two places (SQLite showed
    # 106.920000000000 and 714), with thousands separators as in the back office.
    assert [name for name, _ in cells["/admin/contacts/account/"]][:2] == [
        "balance",
        "past_due",
    ]
    for path, found in cells.items():
        assert found, f"no money column found on {path}"
        wrong = [value for _, value in found if not re.fullmatch(r"\d{1,3}(,\d{3})*\.\d\d", value)]
        assert wrong == [], f"{path}: {wrong}"

    ledger = quickstart.manage("verify_ledger")
    assert ledger.returncode == 0, ledger.stdout + ledger.stderr
    assert ledger.stdout.splitlines()[-1].endswith(": no drift.")


def test_stop_keeps_the_data_and_start_reuses_it(quickstart):
    with psycopg.connect(quickstart.url) as connection:
        accounts = connection.execute("SELECT count(*) FROM contacts_account").fetchone()[0]
    assert accounts >= 5  # the demo accounts

    stopped = quickstart.script("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stderr == f"quickstart-postgres: stopped (data kept in {quickstart.folder})\n"
    assert quickstart.script("status").returncode == 3
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(quickstart.url, connect_timeout=5)

    again = quickstart.script("start")
    assert again.returncode == 0, again.stderr
    assert "creating" not in again.stderr  # the same cluster, started again
    assert "created the database" not in again.stderr
    with psycopg.connect(quickstart.url) as connection:
        assert connection.execute("SELECT count(*) FROM contacts_account").fetchone()[0] == (
            accounts
        )


def test_a_port_taken_by_another_server_is_refused(quickstart, tmp_path):
    """Never somebody else's server (the machine's own on 5432, another checkout's quick start):
    a second quick start on the first one's port stops, saying so, and creates nothing."""
    env = {**quickstart.env, "QUICKSTART_PG_DIR": str(tmp_path / "pg")}

    done = subprocess.run(  # noqa: S603 - our own script
        [str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 1
    assert done.stderr == (
        f"quickstart-postgres: port {quickstart.port} of 127.0.0.1 is taken by another program, "
        "and the quick start uses only a server of its own: set QUICKSTART_PG_PORT to a free "
        "port.\n"
    )
    assert not (tmp_path / "pg").exists()


def test_a_bad_port_is_one_line():
    done = subprocess.run(  # noqa: S603 - our own script
        [str(SCRIPT), "url"],
        env={**os.environ, "QUICKSTART_PG_PORT": "abc"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == (
        "quickstart-postgres: QUICKSTART_PG_PORT must be a port number (1-65535), not 'abc'.\n"
    )
