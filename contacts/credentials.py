"""How partner API secrets are made and recognised. Only the SHA-256 digest is ever stored.

The secrets are 256 random bits, so a fast digest is safe here (no password stretching needed) and
lets a request find its credential with one indexed lookup.
"""

import hashlib
import secrets

SECRET_PREFIX = "bk_"  # noqa: S105 - a marker, not a secret


def new_secret(prefix: str = SECRET_PREFIX) -> str:
    """256 random bits after `prefix` (three characters: `secret_prefix` keeps eight more)."""
    return prefix + secrets.token_urlsafe(32)


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_prefix(secret: str) -> str:
    """The start of a secret, stored in clear so staff can tell keys apart."""
    return secret[: len(SECRET_PREFIX) + 8]
