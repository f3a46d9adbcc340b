"""Signing secrets and signed requests, as the Standard Webhooks specification says
(https://www.standardwebhooks.com/): the body is JSON `{"type", "timestamp", "data"}`; the
headers `webhook-id` (the event's id, the same on every retry: receivers drop duplicates by it),
`webhook-timestamp` (seconds since the epoch, of this try) and `webhook-signature` (`v1,` and the
base64 HMAC-SHA256 of `id.timestamp.body` under the secret). The `standardwebhooks` package signs,
so receivers can verify with it or any library of the specification.

A secret is `whsec_` and 32 random bytes in base64. It must be kept to sign, so it is stored
encrypted (Fernet) under a key derived from SECRET_KEY; SECRET_KEY_FALLBACKS still decrypt, so
rotating SECRET_KEY the Django way keeps the subscriptions working.
"""

import base64
import datetime
import json
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from standardwebhooks.webhooks import Webhook

from events.models import Event
from events.recording import when

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _fernet(key: str) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"billing webhook secrets"
    ).derive(key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _keys() -> MultiFernet:
    return MultiFernet(
        [_fernet(key) for key in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]]
    )


def encrypt(secret: str) -> str:
    return _keys().encrypt(secret.encode()).decode()


class SecretUnreadable(Exception):
    """Encrypted under a SECRET_KEY that is neither the current one nor a fallback."""


def decrypt(encrypted: str) -> str:
    try:
        return _keys().decrypt(encrypted.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "The signing secret cannot be decrypted: it was encrypted under a SECRET_KEY that is "
            "neither SECRET_KEY nor in SECRET_KEY_FALLBACKS. Give the subscription a new secret."
        ) from None


def message_id(event: Event) -> str:
    """`webhook-id`: the event's public id, as the events list shows it (`eventId`)."""
    return str(event.event_id)


def body(event: Event) -> bytes:
    """The same bytes on every try of an event (only the headers' timestamp changes)."""
    payload = {"type": event.type, "timestamp": when(event.occurred_at), "data": event.data}
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def headers(secret: str, event: Event, payload: bytes, moment: datetime.datetime) -> dict:
    msg_id = message_id(event)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, moment, payload),
    }
