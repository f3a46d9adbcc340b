"""The integrations' RSA public keys: parsed from PEM, told apart by a fingerprint."""

import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ValidationError

MIN_KEY_BITS = 2048


def load_public_key(pem: str) -> rsa.RSAPublicKey:
    """The RSA public key in `pem` (a PUBLIC KEY or RSA PUBLIC KEY block), or ValidationError.

    A private key is refused: it must never be given to us (only its public half)."""
    text = pem.strip().encode()
    if b"PRIVATE KEY" in text:
        raise ValidationError("This is a private key: register only the public key (PEM).")
    try:
        key = serialization.load_pem_public_key(text)
    except ValueError:
        raise ValidationError("Not a PEM public key (-----BEGIN PUBLIC KEY-----).") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValidationError("Only RSA keys are accepted (the JWTs are signed with RS256).")
    if key.key_size < MIN_KEY_BITS:
        raise ValidationError(f"The RSA key must have at least {MIN_KEY_BITS} bits.")
    return key


def fingerprint(key: rsa.RSAPublicKey) -> str:
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def normalized_pem(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
