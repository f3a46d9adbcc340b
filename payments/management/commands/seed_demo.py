import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from payments import demo


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

    def handle(self, *args, **options) -> None:
        if options["demo_login"] and not settings.DEBUG:
            raise CommandError(
                "--demo-login is refused: DEBUG is off, and the demo login has a published "
                "password. Nothing was changed."
            )
        created = demo.seed(demo_login=options["demo_login"])
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

    def _finance_login(self) -> dict:
        return {
            "demo_only": True,
            "username": demo.FINANCE_USERNAME,
            "password": demo.FINANCE_PASSWORD,
            "url": demo.BACKOFFICE_URL,
        }

    def _login(self) -> dict:
        return {
            "demo_only": True,
            "username": demo.DEMO_USERNAME,
            "password": demo.DEMO_PASSWORD,
            "url": demo.ADMIN_URL,
        }
