"""Who changed a row and through which channel: the context pghistory stores with every event.

One `pghistory.context` is open per HTTP request (audit.middleware) and per management command
(manage.py); the triggers of audit.models attach it to each event they write. Partner credentials
are known only once DRF authenticates, so the Bearer authentication adds them (`note_credential`).

pghistory passes the context to PostgreSQL in the SQL of each statement (the app runs on
PostgreSQL only: billing_site/settings.py refuses any other database).
"""

import contextlib
import getpass

import pghistory
from django.db import connection, models

from payments.actors import Channel as MoneyChannel


class Channel(models.TextChoices):
    """Where a change came from. The API and system values are those recorded on payments
    (payments.actors.Channel); payments' `staff` is split here into `admin` and `backoffice`."""

    ADMIN = "admin", "Admin"
    BACKOFFICE = "backoffice", "Back office"
    DOCUSIGN_API = MoneyChannel.DOCUSIGN_API.value, "Account billing API (DocuSign)"
    LEGEND_API = MoneyChannel.LEGEND_API.value, "Billing payments API (Legend)"
    COMMAND = "command", "Management command"
    SYSTEM = MoneyChannel.SYSTEM.value, "System (anything else)"


# Path prefixes, compared in lower case (Legend's routes ignore case: /POS/ and /pos/).
PATH_CHANNELS = (
    ("/admin/", Channel.ADMIN),
    ("/backoffice/", Channel.BACKOFFICE),
    ("/restapi/", Channel.DOCUSIGN_API),
    ("/v2.1/", Channel.DOCUSIGN_API),
    ("/pos/", Channel.LEGEND_API),
)

# Commands that change nothing themselves, or that serve requests (each with its own context).
UNTRACKED_COMMANDS = frozenset({"runserver", "help", "version", "check", "makemigrations"})


def channel_for_path(path: str) -> Channel:
    lowered = path.lower()
    for prefix, channel in PATH_CHANNELS:
        if lowered.startswith(prefix):
            return channel
    return Channel.SYSTEM


def user_metadata(user) -> dict:
    """The staff user behind a change: id and username (the username as it was then)."""
    if user is None or not getattr(user, "is_authenticated", False) or not hasattr(user, "_meta"):
        return {}
    return {"user": user.pk, "username": user.get_username()}


def credential_metadata(credential) -> dict:
    return {
        "credential": credential.pk,
        "credential_prefix": credential.prefix,
        "credential_name": credential.name,
    }


def opened(**metadata):
    """`pghistory.context(**metadata)`: the triggers attach it to every event they write."""
    return pghistory.context(**metadata)


def request_context(request):
    """The context of one request. On the staff pages the session's user is the actor; the APIs
    authenticate inside the view (a partner key or a staff session) and note their actor there
    (`note_credential`, `note_user`), so an API request never looks its session up out here."""
    channel = channel_for_path(request.path)
    api = channel in (Channel.DOCUSIGN_API, Channel.LEGEND_API)
    return opened(
        channel=channel,
        path=request.path,
        method=request.method,
        **({} if api else user_metadata(getattr(request, "user", None))),
    )


def command_context(argv: list[str]):
    """The context of `manage.py <command>`: the command and the operating-system user."""
    command = argv[1] if len(argv) > 1 else "help"
    if command in UNTRACKED_COMMANDS or command.startswith("-"):
        return contextlib.nullcontext()
    try:
        os_user = getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        os_user = ""
    return opened(channel=Channel.COMMAND, command=command, os_user=os_user)


def note_credential(credential) -> None:
    """Add the partner credential to the open context (none open: nothing happens)."""
    pghistory.context(**credential_metadata(credential))


def note_user(user) -> None:
    """Add the staff user of an API request made with a session to the open context."""
    if metadata := user_metadata(user):
        pghistory.context(**metadata)


@contextlib.contextmanager
def untracked_statements():
    """Statements that write no tracked table (an idempotency record): sent as they are.

    pghistory puts the open context in front of every statement that is not a SELECT (a
    `set_config` of its id and metadata, serialized on each), for the triggers to read; a table
    with no trigger has nothing to read it. Inside this block its statement wrapper is set aside,
    and put back on the way out."""
    wrappers = connection.execute_wrappers
    kept = [wrapper for wrapper in wrappers if wrapper.__module__ != _PGHISTORY_WRAPPER_MODULE]
    if len(kept) == len(wrappers):
        yield
        return
    saved = wrappers[:]
    wrappers[:] = kept
    try:
        yield
    finally:
        wrappers[:] = saved


_PGHISTORY_WRAPPER_MODULE = "pghistory.runtime"  # where pghistory.context's wrapper lives
