from django.core.management.base import BaseCommand, CommandError

from billing_site.db_router import replica_reads
from payments.ledger import ledger_drift


class Command(BaseCommand):
    help = (
        "Recompute every invoice and billing-item balance and every payment amount from the "
        "allocations, write-downs and reversals; print any drift and exit non-zero if there is one."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--replica",
            action="store_true",
            help="Read from the streaming replica (DATABASE_REPLICA_URL), sparing the primary; "
            "without a replica configured, the primary is read.",
        )

    def handle(self, *args, replica: bool = False, **options) -> None:
        if replica:
            with replica_reads():
                drifts = ledger_drift()
        else:
            drifts = ledger_drift()
        for drift in drifts:
            self.stdout.write(str(drift))
        if drifts:
            raise CommandError(f"Ledger drift found in {len(drifts)} row(s).")
        self.stdout.write(self.style.SUCCESS("Ledger is consistent: no drift."))
