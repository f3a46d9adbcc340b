from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from contacts.command_options import accounts_named, add_account_option
from events.models import EventType
from webhooks.models import Subscription
from webhooks.services import subscription_create

DESCRIPTION_MAX_LENGTH = Subscription._meta.get_field("description").max_length


class Command(BaseCommand):
    help = (
        "Subscribe a partner's URL to the events of some accounts (webhooks). Prints the "
        "subscription and its signing secret, which is shown once: give it to the receiver."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("url", help="Where the events are POSTed (https://).")
        add_account_option(parser, "An account whose events it receives")
        parser.add_argument(
            "--event",
            action="append",
            default=[],
            choices=EventType.values,
            metavar="TYPE",
            help=f"An event type it receives (default: every type). Repeatable. One of: "
            f"{', '.join(EventType.values)}.",
        )
        parser.add_argument("--description", default="", help="Whose, and what for.")
        parser.add_argument(
            "--quiet", action="store_true", help="Print the signing secret alone (for scripts)."
        )

    def handle(self, *args, **options) -> None:
        description = options["description"].strip()
        if len(description) > DESCRIPTION_MAX_LENGTH:
            raise CommandError(
                f"The description is longer than {DESCRIPTION_MAX_LENGTH} characters: nothing "
                "was created."
            )
        accounts = accounts_named(options["account"], "nothing was created.")
        try:
            subscription, secret = subscription_create(
                url=options["url"].strip(),
                accounts=accounts,
                event_types=options["event"],
                description=description,
            )
        except ValidationError as error:
            raise CommandError(f"{' '.join(error.messages)} Nothing was created.") from None
        if options["quiet"]:
            self.stdout.write(secret)
            return
        types = ", ".join(subscription.event_types) or "every type"
        self.stdout.write(f"Subscription {subscription.pk} created.")
        self.stdout.write(f"URL:         {subscription.url}")
        self.stdout.write(f"Accounts:    {', '.join(str(account) for account in accounts)}")
        self.stdout.write(f"Event types: {types}")
        if subscription.description:
            self.stdout.write(f"Description: {subscription.description}")
        self.stdout.write(f"Signing secret (shown once): {secret}")
