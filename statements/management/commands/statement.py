import contextlib
import datetime
import json
import uuid

from django.core.management.base import BaseCommand, CommandError

from contacts.models import Account, Contact
from invoices.due import today
from statements.render import statement_data, statement_text
from statements.selectors import account_statement, contact_statement


def _day(option: str, value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option}: {value!r} is not a date (YYYY-MM-DD).") from None


def _account(number_or_guid: str) -> Account:
    found = None
    if number_or_guid.isascii() and number_or_guid.isdigit():
        found = Account.objects.filter(number=int(number_or_guid)).first()
    else:
        with contextlib.suppress(ValueError):
            found = Account.objects.filter(guid=uuid.UUID(number_or_guid)).first()
    if found is None:
        raise CommandError(f"No account {number_or_guid} (give its number or its account ID).")
    return found


def _contact(account: Account, guid: str) -> Contact:
    try:
        found = Contact.objects.filter(account=account, guid=uuid.UUID(guid)).first()
    except ValueError:
        found = None
    if found is None:
        raise CommandError(f"No contact {guid} in account {account.number}.")
    return found


class Command(BaseCommand):
    help = (
        "Print an account's statement (its invoices less its credit) or, with --contact, a "
        "contact's (its billing items) for a period: the opening balance, every movement with "
        "the running balance, the closing balance and the ageing on the last day "
        "(docs/statements.md)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("account", help="The account's number or account ID (GUID).")
        parser.add_argument("--from", dest="start", required=True, help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="end", help="Last day, YYYY-MM-DD (default: today).")
        parser.add_argument("--contact", help="A contact's ID (GUID): its billing items instead.")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="Print JSON for scripts."
        )

    def handle(self, *args, account, start, end=None, contact=None, as_json=False, **options):
        start = _day("--from", start)
        end = _day("--to", end) if end else today()
        if start > end:
            raise CommandError(f"--from {start} is after --to {end}.")
        found = _account(account)
        if contact:
            statement = contact_statement(_contact(found, contact), start, end)
        else:
            statement = account_statement(found, start, end)
        if as_json:
            self.stdout.write(json.dumps(statement_data(statement), indent=2))
        else:
            self.stdout.write(statement_text(statement), ending="")
