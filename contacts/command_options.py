"""The `--account NUMBER_OR_GUID` option of the management commands that act on accounts
(create_api_key, create_integration, create_webhook)."""

from collections.abc import Iterable

from django.core.management.base import CommandError

from .models import Account
from .selectors import account_by_reference


def add_account_option(parser, help_text: str) -> None:
    parser.add_argument(
        "--account",
        action="append",
        required=True,
        metavar="NUMBER_OR_GUID",
        help=f"{help_text}, by external number or GUID. Repeatable.",
    )


def accounts_named(references: Iterable[str], nothing_done: str) -> list[Account]:
    """The accounts, in the order named, each once; an unknown one stops the command with
    "Unknown account 'X': `nothing_done`"."""
    accounts: dict[int, Account] = {}
    for reference in references:
        account = account_by_reference(reference)
        if account is None:
            raise CommandError(f"Unknown account {reference!r}: {nothing_done}")
        accounts.setdefault(account.pk, account)
    return list(accounts.values())
