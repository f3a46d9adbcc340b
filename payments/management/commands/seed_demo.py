import json
import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from payments import demo, demo_reset

PROGRESS_FROM = 500  # a progress bar on stderr from this --size on


class Progress:
    """A `\r`-updated count and percentage on a terminal; otherwise a line every 10%."""

    def __init__(self, stream) -> None:
        self.stream, self.shown, self.tenth = stream, -1, 0
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        percent = done * 100 // total
        if self.tty:
            if percent != self.shown or done == total:
                end = "\n" if done == total else ""
                self.stream.write(f"\rBulk invoices: {done}/{total} ({percent}%)", ending=end)
                self.stream.flush()
        elif percent // 10 > self.tenth:
            self.tenth = percent // 10
            self.stream.write(f"Bulk invoices: {done}/{total} ({percent}%)")
        self.shown = percent


class Command(BaseCommand):
    help = (
        "Create the demo accounts, contacts, invoices, billing items and payments (safe to re-run: "
        "nothing is duplicated) and print a summary."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--json", action="store_true", help="Print only a JSON summary of the demo data."
        )
        parser.add_argument(
            "--demo-login",
            action="store_true",
            help=f"Also create or reset the staff superuser '{demo.DEMO_USERNAME}' and the "
            f"read-only finance user '{demo.FINANCE_USERNAME}' with published passwords. "
            "Refused unless DEBUG is on.",
        )
        parser.add_argument(
            "--size",
            type=int,
            default=0,
            metavar="N",
            help="Also create N bulk invoices on demo accounts 910001 and up (250 each), with a "
            "contact every 20 invoices and some partial payments, so the lists page. "
            "Deterministic; re-running with the same N adds nothing. A progress bar on stderr "
            f"from N={PROGRESS_FROM}.",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo data first, then build it again. Refused unless DEBUG is on, and "
            "refused if any account is not a demo account: it empties the app's data tables "
            "with TRUNCATE ... CASCADE (triggers refuse DELETE of money rows). Users, tender "
            "types and API keys are kept.",
        )
        parser.add_argument(
            "--host",
            default=os.environ.get("DEMO_HOST") or demo.DEFAULT_HOST,
            help="host:port the server runs on, for the printed URLs (default: $DEMO_HOST, else "
            f"{demo.DEFAULT_HOST}).",
        )

    def handle(self, *args, **options) -> None:
        if options["demo_login"] and not settings.DEBUG:
            raise CommandError(
                "--demo-login is refused: DEBUG is off, and the demo login has a published "
                "password. Nothing was changed."
            )
        if options["size"] < 0:
            raise CommandError("--size must be 0 or more.")
        if options["reset"] and not settings.DEBUG:
            raise CommandError(
                "--reset is refused: DEBUG is off, and a reset deletes data. Nothing was deleted."
            )
        self.host = options["host"]
        progress = Progress(self.stderr) if options["size"] >= PROGRESS_FROM else None
        with transaction.atomic():  # a reset whose rebuild fails deletes nothing
            if options["reset"]:
                try:
                    demo_reset.reset(account.number for account in demo.ACCOUNTS)
                except demo_reset.DemoResetRefused as refused:
                    raise CommandError(str(refused)) from refused
            created = demo.seed(
                demo_login=options["demo_login"], size=options["size"], progress=progress
            )
        document = demo.summary()
        if options["json"]:
            if options["demo_login"]:
                document["demo_login"] = self._login()
                document["finance_login"] = self._finance_login()
            self.stdout.write(json.dumps(document, indent=2))
            return
        self._print(created, document)
        if options["demo_login"]:
            login = self._login()
            self.stdout.write(self.style.WARNING("\nDemo only - never use this login for real:"))
            self.stdout.write(f"  URL:      {login['url']}")
            self.stdout.write(f"  Username: {login['username']}")
            self.stdout.write(f"  Password: {login['password']}")
            finance = self._finance_login()
            self.stdout.write(
                f"  Read-only finance login: {finance['username']} / {finance['password']}"
                f" ({finance['url']})"
            )

    def _print(self, created, document: dict) -> None:
        made = ", ".join(f"{kind} {count}" for kind, count in created.items()) or "nothing"
        self.stdout.write(self.style.SUCCESS(f"Demo data ready; created {made}."))
        for account in document["accounts"]:
            blocked = "  [API payments blocked]" if account["api_payments_blocked"] else ""
            self.stdout.write(
                f"  {account['number']}  {account['name']:<22} {account['currency']}  "
                f"balance {account['account_balance']:>9}  "
                f"past due {account['past_due_balance']:>9}{blocked}"
            )
        contacts = document["contacts"]
        outstanding = sum(len(c["outstanding_billing_item_ids"]) for c in contacts)
        self.stdout.write(f"  {len(contacts)} contacts, {outstanding} outstanding billing items.")
        tender_types = ", ".join(f"{t['id']} {t['name']}" for t in document["tender_types"])
        self.stdout.write(f"  Tender types: {tender_types}.")
        self.stdout.write(f"  Back office: {demo.backoffice_url(self.host)}")

    def _finance_login(self) -> dict:
        return {
            "demo_only": True,
            "username": demo.FINANCE_USERNAME,
            "password": demo.FINANCE_PASSWORD,
            "url": demo.backoffice_url(self.host),
        }

    def _login(self) -> dict:
        return {
            "demo_only": True,
            "username": demo.DEMO_USERNAME,
            "password": demo.DEMO_PASSWORD,
            "url": demo.admin_url(self.host),
        }
