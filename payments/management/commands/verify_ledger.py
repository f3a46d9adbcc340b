import contextlib
from time import perf_counter

from django.core.management.base import BaseCommand, CommandError

from billing_site.db_router import replica_reads
from payments.ledger import LedgerCheck, ledger_check


def counted(number: int, singular: str, plural: str) -> str:
    return f"{number:,} {singular if number == 1 else plural}"


def summary(check: LedgerCheck, seconds: float) -> str:
    """e.g. 'Checked 1,234 invoices, 56 billing items, 789 payments and the credit of 12
    accounts in 0.12 s'."""
    return (
        f"Checked {counted(check.invoices, 'invoice', 'invoices')}, "
        f"{counted(check.billing_items, 'billing item', 'billing items')}, "
        f"{counted(check.payments, 'payment', 'payments')} and the credit of "
        f"{counted(check.accounts, 'account', 'accounts')} in {seconds:.2f} s"
    )


class Command(BaseCommand):
    help = (
        "Recompute every invoice and billing-item balance, every payment amount and every "
        "account's credit from the allocations, credit applications, releases, refunds, "
        "write-downs and reversals; print any drift and exit non-zero if there is "
        "one. The last line says how many rows of each kind were checked and how long it took."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--replica",
            action="store_true",
            help="Read from the streaming replica (DATABASE_REPLICA_URL), sparing the primary; "
            "without a replica configured, the primary is read.",
        )

    def handle(self, *args, replica: bool = False, **options) -> None:
        started = perf_counter()
        with replica_reads() if replica else contextlib.nullcontext():
            check = ledger_check()
        checked = summary(check, perf_counter() - started)
        for drift in check.drifts:
            self.stdout.write(str(drift))
        if check.drifts:
            self.stdout.write(f"{checked}: drift in {len(check.drifts)} row(s).")
            raise CommandError(f"Ledger drift found in {len(check.drifts)} row(s).")
        self.stdout.write(self.style.SUCCESS(f"{checked}: no drift."))
