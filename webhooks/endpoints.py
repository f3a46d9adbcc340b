"""Which URLs a subscription may send to: https:// only, since the events carry account data and
the signature does not hide it. http:// is allowed in DEBUG (a developer's receiver), and to this
machine's loopback addresses when WEBHOOK_ALLOW_HTTP_LOOPBACK is on (the tests' receivers). The
rule is checked when a subscription is saved and again before each try: a subscription made in
DEBUG is not sent in clear by a production worker."""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

MAX_URL_LENGTH = 500


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: str) -> str | None:
    """Why `url` may not receive webhooks; None when it may."""
    if len(url) > MAX_URL_LENGTH:
        return f"The URL is longer than {MAX_URL_LENGTH} characters."
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return "Enter a full http(s):// URL."
    parts = urlsplit(url)
    if parts.username or parts.password:
        return "The URL may not carry a user name or password."
    if parts.scheme == "https":
        return None
    if settings.DEBUG:
        return None
    if settings.WEBHOOK_ALLOW_HTTP_LOOPBACK and _loopback(parts.hostname or ""):
        return None
    return "The URL must be https:// (http:// is allowed only in DEBUG)."


def validate_url(url: str) -> None:
    problem = url_problem(url)
    if problem:
        raise ValidationError(problem, code="webhook_url")
