import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from .credentials import new_secret, secret_digest, secret_prefix
from .models import Account, AccountRole, ApiCredential
from .roles import Role


@transaction.atomic
def credential_create(
    *,
    name: str,
    accounts: Iterable[Account],
    role: str = Role.ADMIN,
    expires_at: datetime.datetime | None = None,
) -> tuple[ApiCredential, str]:
    """Create a partner credential with `role` on each of `accounts`, valid until `expires_at`
    (None: until revoked).

    Returns the credential and its secret; the secret is not stored and cannot be shown again.
    """
    secret = new_secret()
    credential = ApiCredential.objects.create(
        name=name,
        prefix=secret_prefix(secret),
        secret_hash=secret_digest(secret),
        expires_at=expires_at,
    )
    distinct = {account.pk: account for account in accounts}.values()
    AccountRole.objects.bulk_create(
        AccountRole(account=account, credential=credential, role=role) for account in distinct
    )
    return credential, secret


def credentials_revoke(*, credential_ids: Iterable[int]) -> int:
    """Revoke the credentials (from now on they authenticate nothing); returns how many changed."""
    return ApiCredential.objects.filter(
        pk__in=list(credential_ids), revoked_at__isnull=True
    ).update(revoked_at=timezone.now())


class CredentialNotRotatable(Exception):
    """A revoked credential gets no new secret."""


@transaction.atomic
def credential_rotate(
    *, credential: ApiCredential, grace: datetime.timedelta
) -> tuple[ApiCredential, str]:
    """Give the credential a new secret; the current one keeps working for `grace` (then it is
    refused like a wrong key). A secret kept from an earlier rotation stops working at once.

    Returns the credential, as stored, and the new secret (not stored, shown once).
    """
    if grace < datetime.timedelta(0):
        raise ValueError("The grace period cannot be negative.")
    locked = ApiCredential.objects.select_for_update().get(pk=credential.pk)
    if locked.revoked_at is not None:
        raise CredentialNotRotatable(f"The credential {locked} is revoked.")
    secret = new_secret()
    locked.previous_prefix = locked.prefix
    locked.previous_secret_hash = locked.secret_hash
    locked.previous_secret_expires_at = timezone.now() + grace
    locked.prefix = secret_prefix(secret)
    locked.secret_hash = secret_digest(secret)
    locked.save(
        update_fields=[
            "prefix",
            "secret_hash",
            "previous_prefix",
            "previous_secret_hash",
            "previous_secret_expires_at",
        ]
    )
    return locked, secret
