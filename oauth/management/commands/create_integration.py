import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from contacts.command_options import accounts_named, add_account_option
from contacts.roles import Role
from oauth.codes import client_secret_set
from oauth.models import MAX_PUBLIC_KEYS, Integration
from oauth.services import TooManyKeys, integration_create

NAME_MAX_LENGTH = Integration._meta.get_field("name").max_length


class Command(BaseCommand):
    help = (
        "Register a partner's DocuSign integration (OAuth JWT grant): its RSA public key, one user "
        "it may act for and that user's role on accounts. Prints the integration key (the JWT's "
        "iss, DocuSign's client_id) and the user id (the JWT's sub)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="The partner's app, e.g. 'Acme tills, prod'.")
        parser.add_argument(
            "--public-key",
            action="append",
            required=True,
            metavar="PEM_FILE",
            help=f"A file with the RSA public key (PEM). Repeatable, up to {MAX_PUBLIC_KEYS}.",
        )
        add_account_option(parser, "An account the user may act on")
        parser.add_argument(
            "--role",
            choices=Role.values,
            default=Role.ADMIN,
            help="The role on each account (default: admin).",
        )
        parser.add_argument("--user-name", default="", help="The user's name (default: NAME).")
        parser.add_argument("--user-email", default="", help="The user's email, for userinfo.")
        parser.add_argument(
            "--grant-consent",
            action="store_true",
            help="Record the user's consent now (else the JWT grant answers consent_required "
            "until the user consents on /oauth/auth or staff record it in the admin).",
        )
        parser.add_argument(
            "--no-application-roles",
            dest="application_roles",
            action="store_false",
            help="Do not give the integration itself the roles (application tokens, a JWT "
            "without sub, then reach no account).",
        )
        parser.add_argument("--redirect-uri", default="", help="For the consent page's code.")
        parser.add_argument(
            "--client-secret",
            action="store_true",
            help="Also make a client secret (the authorization code grant's client "
            "authentication) and print it, once: only its digest is stored.",
        )
        parser.add_argument("--json", action="store_true", help="Print JSON (for scripts).")

    def handle(self, *args, **options) -> None:
        name = options["name"].strip()
        if not name or len(name) > NAME_MAX_LENGTH:
            raise CommandError(f"The name must be 1 to {NAME_MAX_LENGTH} characters.")
        if len(options["public_key"]) > MAX_PUBLIC_KEYS:
            raise CommandError(f"At most {MAX_PUBLIC_KEYS} public keys.")
        pems = []
        for path in options["public_key"]:
            try:
                pems.append(Path(path).read_text())
            except (OSError, UnicodeDecodeError) as error:
                raise CommandError(f"Cannot read the public key {path!r}: {error}") from None
        accounts = accounts_named(options["account"], "nothing was created.")
        try:
            integration, user = integration_create(
                name=name,
                public_keys=pems,
                grants=[(account, options["role"]) for account in accounts],
                user_name=options["user_name"].strip(),
                user_email=options["user_email"].strip(),
                consent=options["grant_consent"],
                application_grants=options["application_roles"],
                redirect_uri=options["redirect_uri"].strip(),
            )
        except (ValidationError, TooManyKeys) as error:
            messages = getattr(error, "messages", None) or [str(error)]
            raise CommandError(f"{' '.join(messages)} Nothing was created.") from None
        result = {"integration_key": str(integration.integration_key), "user_id": str(user.user_id)}
        if options["client_secret"]:
            result["client_secret"] = client_secret_set(integration)
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"Integration {integration.name!r} registered.")
        self.stdout.write(f"Integration key (iss, client_id): {result['integration_key']}")
        self.stdout.write(f"User id (sub):                    {result['user_id']}")
        if "client_secret" in result:
            self.stdout.write(f"Client secret (shown once):       {result['client_secret']}")
        if not options["grant_consent"]:
            self.stdout.write("The user has not consented yet: tokens answer consent_required.")
