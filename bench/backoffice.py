"""How fast the finance dashboard and the past-due list are with 100,000 invoices.

    .venv/bin/python bench/backoffice.py [--rebuild] [--runs 5] [--explain]
    make bench BENCH_ARGS="--rebuild"

PostgreSQL only: DATABASE_URL, by default postgres://postgres@127.0.0.1:5432/billing_bench (created
if missing). Migrates, builds the data once (reused by later runs; --rebuild builds it again), then
prints the median time and the query count of the receivables selector and of each page. See
bench/README.md.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import time
import warnings
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/billing_bench"

ACCOUNTS = 2_000
INVOICES = 100_000
CURRENCIES = (("USD", 0.6), ("EUR", 0.3), ("GBP", 0.1))
PAID_SHARE = 0.30  # of invoices, partly or fully paid through a payment
REVERSED_SHARE = 0.03  # of those payments, reversed later (the invoice owes it all again)
VOID_SHARE = 0.01
BATCH = 5_000
SLOW_MS = 300  # a page slower than this is worth a look


def configure() -> None:
    """Settings from the environment as in production (DEBUG off), on PostgreSQL only."""
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_site.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("DEBUG", "0")
    # Production settings need Redis (rate limits); the pages timed here make no API call.
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")  # the test client speaks plain HTTP
    sys.path.insert(0, str(ROOT))

    import dj_database_url

    db = dj_database_url.parse(os.environ["DATABASE_URL"])
    if db["ENGINE"] != "django.db.backends.postgresql":
        sys.exit(f"bench: PostgreSQL only, not {db['ENGINE']} (set DATABASE_URL=postgres://...).")
    create_database(db)

    import django
    from django.test.utils import override_settings

    django.setup()
    warnings.filterwarnings(
        "ignore", "No directory at", UserWarning
    )  # WhiteNoise, no collectstatic
    # No collectstatic here: serve static names unhashed, as the tests do; the test client's host.
    override_settings(
        ALLOWED_HOSTS=["testserver"],
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ).enable()


def create_database(db: dict) -> None:
    import psycopg
    from psycopg import sql

    server = {
        "host": db["HOST"] or None,
        "port": db["PORT"] or None,
        "user": db["USER"] or None,
        "password": db["PASSWORD"] or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
        ).fetchone()
        if not exists:
            print(f"bench: creating database {db['NAME']}")
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))


# The data: accounts, invoices over the last 200 days and the next 30, payments and reversals.


CHUNK = 50_000  # invoices built, with their payments, per round trip of bulk inserts


def build(today: datetime.date, total: int) -> None:
    """`total` invoices over `ACCOUNTS` accounts, built and inserted a chunk at a time (memory
    stays that of one chunk), with a progress line on stderr."""
    from django.db import connection, transaction

    from contacts.models import Account
    from invoices.models import Invoice
    from payments.models import Payment, PaymentAllocation, Reversal

    rng = random.Random(2024)
    started = time.perf_counter()
    counts = {"payments": 0, "reversed": 0}
    with transaction.atomic():
        with connection.cursor() as cursor:
            tables = [
                model._meta.db_table
                for model in (Reversal, PaymentAllocation, Payment, Invoice, Account)
            ]
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        codes, weights = zip(*CURRENCIES, strict=True)
        accounts = Account.objects.bulk_create(
            (
                Account(
                    number=500_000 + n,
                    name=f"Bench account {n}",
                    currency=rng.choices(codes, weights)[0],
                )
                for n in range(ACCOUNTS)
            ),
            batch_size=BATCH,
        )
    # A transaction a chunk: one for everything made each chunk slower than the last (its
    # deferred foreign-key checks and trigger events pile up until the COMMIT).
    for first in range(0, total, CHUNK):
        with transaction.atomic():
            _build_chunk(rng, today, accounts, range(first, min(first + CHUNK, total)), counts)
        done = min(first + CHUNK, total)
        print(
            f"\rbench: building {done:,} / {total:,} invoices "
            f"({time.perf_counter() - started:.0f} s)",
            end="",
            file=sys.stderr,
            flush=True,
        )
    print(file=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"bench: built {len(accounts):,} accounts, {total:,} invoices, "
        f"{counts['payments']:,} payments ({counts['reversed']:,} reversed) "
        f"in {time.perf_counter() - started:.1f} s"
    )


def _build_chunk(rng, today: datetime.date, accounts, numbers: range, counts: dict) -> None:
    from django.utils import timezone

    from invoices.models import Invoice, InvoiceStatus
    from payments.actors import Channel
    from payments.models import Payment, PaymentAllocation, Reversal

    now = timezone.now()
    cent = Decimal("0.01")
    invoices, paid = [], []
    for n in numbers:
        account = accounts[n % ACCOUNTS]
        due = today + datetime.timedelta(days=rng.randint(-200, 30))
        amount = Decimal(rng.randint(1_000, 500_000)) * cent
        invoice = Invoice(
            account=account,
            number=f"B-{n:06d}",
            issue_date=due - datetime.timedelta(days=30),
            due_date=due,
            amount=amount,
            balance=amount,
            status=InvoiceStatus.VOID if rng.random() < VOID_SHARE else InvoiceStatus.OPEN,
        )
        invoices.append(invoice)
        if invoice.status == InvoiceStatus.OPEN and rng.random() < PAID_SHARE:
            paid.append(invoice)

    payments, reversed_ = [], set()
    for invoice in paid:
        full = rng.random() < 0.5
        share = 1 if full else Decimal(rng.randint(10, 90)) / 100
        applied = max((invoice.amount * share).quantize(cent), cent)
        days = (today - invoice.issue_date).days
        dated = datetime.datetime.combine(
            invoice.issue_date + datetime.timedelta(days=rng.randint(0, max(days, 0))),
            datetime.time(rng.randint(0, 23), rng.randint(0, 59)),
            datetime.UTC,
        )
        dated = min(dated, now)
        payment = Payment(
            account=invoice.account,
            amount=applied,
            currency=invoice.account.currency,
            payment_date=dated,
            processed_at=dated,
            channel=Channel.SYSTEM,
        )
        payments.append((payment, invoice))
        if rng.random() < REVERSED_SHARE:
            reversed_.add(id(payment))
        else:
            invoice.balance -= applied
            if invoice.balance == 0:
                invoice.status = InvoiceStatus.PAID

    Invoice.objects.bulk_create(invoices, batch_size=BATCH)
    Payment.objects.bulk_create((payment for payment, _ in payments), batch_size=BATCH)
    PaymentAllocation.objects.bulk_create(
        (
            PaymentAllocation(
                account=payment.account, payment=payment, invoice=invoice, amount=payment.amount
            )
            for payment, invoice in payments
        ),
        batch_size=BATCH,
    )
    Reversal.objects.bulk_create(
        (
            Reversal(
                account=payment.account,
                payment=payment,
                reason="Bench: returned",
                reversed_at=min(
                    payment.payment_date + datetime.timedelta(days=rng.randint(1, 20)), now
                ),
                channel=Channel.SYSTEM,
            )
            for payment, _ in payments
            if id(payment) in reversed_
        ),
        batch_size=BATCH,
    )
    counts["payments"] += len(payments)
    counts["reversed"] += len(reversed_)


def ensure_data(today: datetime.date, total: int, rebuild: bool) -> None:
    from invoices.models import Invoice

    count = Invoice.objects.count()
    if count == total and not rebuild:
        print(f"bench: reusing the {count:,} invoices already built (--rebuild to build again)")
        return
    build(today, total)


def refuse_foreign_database() -> None:
    """Stop before migrating or truncating a database that holds data the bench did not make."""
    from django.db import connection

    from contacts.models import Account

    if Account._meta.db_table not in connection.introspection.table_names():
        return
    foreign = Account.objects.exclude(name__startswith="Bench account").count()
    if foreign:
        sys.exit(
            f"bench: the database holds accounts the benchmark did not make ({foreign:,}); "
            "point DATABASE_URL at a database of its own (default billing_bench)."
        )


def bench_user():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    return user


# Measuring.


def measure(call, runs: int) -> dict:
    """Median, min and max wall time (ms) of `runs` calls after a warm-up, and the query count
    (and the slowest queries) of one more call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    note = call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        call()
    queries = sorted(captured.captured_queries, key=lambda q: float(q["time"]), reverse=True)
    return {
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "queries": len(queries),
        "slowest": queries[:3],
        "note": note,
    }


def page_call(client, url: str):
    def call() -> str:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"bench: GET {url} answered {response.status_code}")
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return f"{len(body) / 1024:.0f} KiB"

    return call


def pages_missing() -> str:
    """Why the back-office pages cannot be timed, or "" when they can."""
    from django.apps import apps
    from django.urls import NoReverseMatch, reverse

    if not apps.is_installed("backoffice"):
        return "no backoffice app"
    try:
        reverse("backoffice:dashboard")
    except (ImportError, NoReverseMatch) as error:
        return repr(error)
    return ""


def busiest_account() -> int:
    """The account with the most past-due invoices: the longest one-account export."""
    from django.db.models import Count

    from invoices.due import past_due_q
    from invoices.models import Invoice

    row = (
        Invoice.objects.filter(past_due_q())
        .values("account")
        .annotate(n=Count("pk"))
        .order_by("-n", "account")
        .first()
    )
    return row["account"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rebuild", action="store_true", help="build the data again")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per line (default 5)")
    parser.add_argument(
        "--invoices",
        type=int,
        default=INVOICES,
        help=f"invoices to build (default {INVOICES:,}; e.g. 1000000); a new count rebuilds",
    )
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE the slowest query of a slow line"
    )
    options = parser.parse_args()

    configure()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from invoices.due import today
    from payments.receivables import receivables_on

    refuse_foreign_database()  # the data is built with TRUNCATE
    call_command("migrate", verbosity=0)
    as_of = today()
    ensure_data(as_of, options.invoices, options.rebuild)
    sixty_days_ago = as_of - datetime.timedelta(days=60)

    lines = {
        "receivables_on(today)": lambda: f"{len(receivables_on(as_of))} currencies",
        "receivables_on(60 days ago)": lambda: f"{len(receivables_on(sixty_days_ago))} currencies",
    }
    if not (missing := pages_missing()):
        client = Client()
        client.force_login(bench_user())
        account = busiest_account()
        for url in (
            "/backoffice/",
            f"/backoffice/?as_of={sixty_days_ago.isoformat()}",
            "/backoffice/past-due/",
            "/backoffice/past-due/?bucket=90%2B&sort=-balance",
            "/backoffice/past-due/?page=100",
            "/backoffice/past-due/?kind=items",
            f"/backoffice/past-due/?as_of={sixty_days_ago.isoformat()}",
            f"/backoffice/past-due/?as_of={sixty_days_ago.isoformat()}&sort=-balance&page=20",
            f"/backoffice/past-due/export.csv?account={account}",
        ):
            lines[f"GET {url}"] = page_call(client, url)
    else:
        print(f"bench: the back-office pages cannot be timed ({missing}): selectors only")

    print(f"\nmedian of {options.runs} runs after a warm-up; PostgreSQL {connection.pg_version}\n")
    width = max(map(len, lines))
    print(f"{'what':<{width}}  {'median ms':>9}  {'min':>7}  {'max':>7}  {'queries':>7}  result")
    results = {}
    for name, call in lines.items():
        results[name] = result = measure(call, options.runs)
        flag = "  SLOW" if name.startswith("GET") and result["median"] > SLOW_MS else ""
        print(
            f"{name:<{width}}  {result['median']:>9.1f}  {result['min']:>7.1f}  "
            f"{result['max']:>7.1f}  {result['queries']:>7}  {result['note']}{flag}"
        )

    slow = {name: r for name, r in results.items() if r["median"] > SLOW_MS}
    for name, result in slow.items():
        print(f"\n{name}: slowest queries")
        for query in result["slowest"]:
            print(f"  {float(query['time']) * 1000:8.1f} ms  {query['sql'][:300]}")
        if options.explain and result["slowest"]:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + result["slowest"][0]["sql"])
                print("\n".join(f"    {row[0]}" for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
