from django.core.management.base import BaseCommand

from events.past_due import record_past_due_events


class Command(BaseCommand):
    help = (
        "Record invoice.past_due for every invoice past due today that has none yet (the "
        "worker does it every 10 minutes); print how many."
    )

    def handle(self, *args, **options) -> None:
        recorded = record_past_due_events()
        self.stdout.write(f"Recorded {recorded} invoice.past_due event(s).")
