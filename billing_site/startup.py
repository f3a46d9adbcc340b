"""A configuration error at start is one clear line, not a traceback.

The settings (billing_site/settings.py) raise ImproperlyConfigured for a missing SECRET_KEY or
REDIS_URL outside DEBUG, or a malformed boolean or whole number. Django loads them lazily, deep
inside whatever touches them first; manage.py, wsgi.py and asgi.py load them first, here, so only
an error of the settings themselves is caught, never one of a command or a request.
"""

import sys

from django.core.exceptions import ImproperlyConfigured

try:  # gunicorn prints an AppImportError as one line (its traceback only at --log-level debug)
    from gunicorn.errors import AppImportError as _ServerLoadError
except ImportError:  # pragma: no cover - gunicorn is in requirements.txt
    _ServerLoadError = RuntimeError


class ConfigurationError(_ServerLoadError):
    """The settings cannot load: the message says which variable, for the server's log."""


def configuration_message(program: str, error: ImproperlyConfigured) -> str:
    return f"{program}: configuration error: {error}"


def load_settings() -> None:
    """Import the settings now (raises ImproperlyConfigured from settings.py)."""
    from django.conf import settings

    settings.INSTALLED_APPS  # noqa: B018 - the first access imports the settings module


def load_settings_or_exit(program: str) -> None:
    """For commands: print the one line to stderr and exit with status 1."""
    try:
        load_settings()
    except ImproperlyConfigured as error:
        print(configuration_message(program, error), file=sys.stderr)
        raise SystemExit(1) from None


def load_settings_for_server(program: str) -> None:
    """For a WSGI/ASGI server: raise ConfigurationError, whose message is the one line (the
    last line of the log whatever the server prints before it)."""
    try:
        load_settings()
    except ImproperlyConfigured as error:
        raise ConfigurationError(configuration_message(program, error)) from None
