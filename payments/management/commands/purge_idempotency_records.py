import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from payments.models import IdempotencyRecord

MINIMUM_HOURS = 24  # the contract: keys are kept at least 24 hours


class Command(BaseCommand):
    help = "Delete stored Idempotency-Key responses older than --older-than hours (default 48)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=48,
            metavar="HOURS",
            help=f"Delete responses stored more than HOURS ago (default 48, at least "
            f"{MINIMUM_HOURS}: the contract keeps a key that long).",
        )

    def handle(self, *args, older_than: int, **options) -> None:
        if older_than < MINIMUM_HOURS:
            raise CommandError(f"Keys must be kept at least {MINIMUM_HOURS} hours.")
        cutoff = timezone.now() - datetime.timedelta(hours=older_than)
        deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(f"Deleted {deleted} idempotency record(s) older than {older_than} hours.")
