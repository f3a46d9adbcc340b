import datetime

from django.core.management.base import BaseCommand, CommandError

from contacts.models import ApiCredential
from contacts.services import CredentialNotRotatable, credential_rotate


class Command(BaseCommand):
    help = (
        "Issue a new secret for a partner API key and print it once; the current secret keeps "
        "working for the grace period (a secret kept from an earlier rotation stops at once)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("credential", help="The credential's id or its current prefix.")
        parser.add_argument(
            "--grace-hours",
            type=int,
            default=24,
            metavar="HOURS",
            help="How long the current secret keeps working (default 24; 0: stops now).",
        )
        parser.add_argument(
            "--quiet", action="store_true", help="Print only the new secret (for scripts)."
        )

    def handle(self, *args, **options) -> None:
        if options["grace_hours"] < 0:
            raise CommandError("--grace-hours cannot be negative.")
        reference = options["credential"].strip()
        lookup = {"pk": int(reference)} if reference.isdigit() else {"prefix": reference}
        credential = ApiCredential.objects.filter(**lookup).first()
        if credential is None:
            raise CommandError(f"Unknown credential {reference!r}: nothing was rotated.")
        try:
            credential, secret = credential_rotate(
                credential=credential, grace=datetime.timedelta(hours=options["grace_hours"])
            )
        except CredentialNotRotatable as refusal:
            raise CommandError(f"{refusal} Nothing was rotated.") from None
        if options["quiet"]:
            self.stdout.write(secret)
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Rotated API credential {credential.pk} {credential.name!r}: new prefix "
                f"{credential.prefix}."
            )
        )
        self.stdout.write(
            f"The previous secret (prefix {credential.previous_prefix}) works until "
            f"{credential.previous_secret_expires_at.isoformat()}."
        )
        self.stdout.write(f"Secret (shown once, store it now): {secret}")
