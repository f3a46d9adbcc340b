import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from contacts.command_options import accounts_named, add_account_option
from contacts.models import ApiCredential
from contacts.roles import Role
from contacts.services import credential_create

NAME_MAX_LENGTH = ApiCredential._meta.get_field("name").max_length


class Command(BaseCommand):
    help = (
        "Create a partner API key with a role on one or more accounts, and print its secret once "
        "(only a digest is stored)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="Who uses the key, e.g. 'Acme payments, prod'.")
        add_account_option(parser, "An account the key may act on")
        parser.add_argument(
            "--role",
            choices=Role.values,
            default=Role.ADMIN,
            help="The role granted on each account (default: admin).",
        )
        expiry = parser.add_mutually_exclusive_group()
        expiry.add_argument(
            "--expires-in-days",
            type=int,
            metavar="DAYS",
            help="The key stops working this many days from now (default: never).",
        )
        expiry.add_argument(
            "--expires-at",
            metavar="DATETIME",
            help="The key stops working at this ISO 8601 time (UTC without an offset).",
        )
        parser.add_argument(
            "--quiet", action="store_true", help="Print only the secret (for scripts)."
        )

    def expiry(self, options) -> datetime.datetime | None:
        if options["expires_in_days"] is not None:
            if options["expires_in_days"] < 1:
                raise CommandError("--expires-in-days must be at least 1.")
            return timezone.now() + datetime.timedelta(days=options["expires_in_days"])
        if options["expires_at"] is None:
            return None
        try:
            moment = parse_datetime(options["expires_at"])
        except ValueError:
            moment = None
        if moment is None:
            raise CommandError(f"--expires-at {options['expires_at']!r} is not an ISO 8601 time.")
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, datetime.UTC)
        if moment <= timezone.now():
            raise CommandError("--expires-at must be in the future.")
        return moment

    def handle(self, *args, **options) -> None:
        name = options["name"].strip()
        if not name or len(name) > NAME_MAX_LENGTH:
            raise CommandError(f"The name must be 1 to {NAME_MAX_LENGTH} characters.")
        expires_at = self.expiry(options)
        accounts = accounts_named(options["account"], "no API key was created.")

        credential, secret = credential_create(
            name=name, accounts=accounts, role=options["role"], expires_at=expires_at
        )
        if options["quiet"]:
            self.stdout.write(secret)
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Created API credential {credential.pk} {credential.name!r} "
                f"(prefix {credential.prefix}) with role {options['role']} on:"
            )
        )
        for account in accounts:
            self.stdout.write(f"  {account.number}  {account.guid}  {account.name}")
        if expires_at is not None:
            self.stdout.write(f"Expires at {expires_at.isoformat()}.")
        self.stdout.write(f"Secret (shown once, store it now): {secret}")
