from django.core.management.base import BaseCommand, CommandError

from payments.ledger import ledger_drift


class Command(BaseCommand):
    help = (
        "Recompute every invoice and billing-item balance and every payment amount from the "
        "allocations, write-downs and reversals; print any drift and exit non-zero if there is one."
    )

    def handle(self, *args, **options) -> None:
        drifts = ledger_drift()
        for drift in drifts:
            self.stdout.write(str(drift))
        if drifts:
            raise CommandError(f"Ledger drift found in {len(drifts)} row(s).")
        self.stdout.write(self.style.SUCCESS("Ledger is consistent: no drift."))
