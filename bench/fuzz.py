"""A longer fuzz of both APIs than CI's (tests/test_api_fuzz.py): schemathesis, in process.

    .venv/bin/python bench/fuzz.py [--examples 500] [--seed N] [--operation billing_payments]

On a throwaway PostgreSQL database (`test_<name>` of DATABASE_URL, by default
postgres://postgres@127.0.0.1:5432/billing_fuzz, created, migrated and dropped again), with the demo
data and an admin key on the demo accounts. Prints per operation the examples run, their statuses
and the failures by check; exits 1 on any failure, or if the ledger drifted.
"""

import argparse
import os
import sys
import time
import uuid
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/billing_fuzz"


def configure() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_site.settings")
    os.environ.setdefault("SECRET_KEY", "fuzz-only-secret-key")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ.setdefault("CACHE_KEY_PREFIX", f"fuzz-{uuid.uuid4().hex}")
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("LOG_LEVEL", "ERROR")  # not a line per refused request
    sys.path.insert(0, str(ROOT))
    if not os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        sys.exit("fuzz: PostgreSQL only (set DATABASE_URL=postgres://...).")
    import django

    django.setup()
    warnings.filterwarnings("ignore", "No directory at", UserWarning)  # no collectstatic


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="per operation and mode")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--operation", help="only operations whose label contains this")
    args = parser.parse_args()
    configure()

    from django.db import connection, transaction
    from django.test.utils import override_settings, setup_test_environment

    from payments.ledger import ledger_drift
    from tests.api_fuzz import CHECKS, demo_world, fuzz

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    started = time.monotonic()
    try:
        with override_settings(ALLOWED_HOSTS=["localhost"]), transaction.atomic():
            world = demo_world()
            tally = fuzz(world, examples=args.examples, seed=args.seed, operations=args.operation)
            drift = ledger_drift()
            transaction.set_rollback(True)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    checks = [check.__name__ for check in CHECKS]
    print(f"seed {args.seed}, {args.examples} examples per operation and mode, checks:")
    print("  " + ", ".join(checks))
    print(f"{'operation':<66} {'run':>5} {'2xx':>5} {'4xx':>5} {'5xx':>5} failures")
    for label, count in tally.examples.items():
        by_class = {
            band: sum(
                n for (op, status), n in tally.statuses.items() if op == label and band(status)
            )
            for band in (lambda s: s < 300, lambda s: 400 <= s < 500, lambda s: s >= 500)
        }
        failures = {check: n for (op, check), n in tally.failures.items() if op == label and n}
        print(
            f"{label:<66} {count:>5} "
            + " ".join(f"{n:>5}" for n in by_class.values())
            + f" {failures or '-'}"
        )
    for key, sample in tally.samples.items():
        print(f"\n=== {key[0]}: {key[1]}\n{sample}")
    for line in drift:
        print(f"LEDGER DRIFT: {line}")
    total = sum(tally.examples.values())
    print(
        f"\n{total} requests in {time.monotonic() - started:.0f} s; "
        f"{sum(tally.failures.values())} failures; ledger drift: {len(drift)}"
    )
    return 1 if tally.failures or drift else 0


if __name__ == "__main__":
    sys.exit(main())
