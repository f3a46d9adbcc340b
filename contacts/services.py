from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from .credentials import new_secret, secret_digest, secret_prefix
from .models import Account, AccountRole, ApiCredential
from .roles import Role


@transaction.atomic
def credential_create(
    *, name: str, accounts: Iterable[Account], role: str = Role.ADMIN
) -> tuple[ApiCredential, str]:
    """Create a partner credential with `role` on each of `accounts`.

    Returns the credential and its secret; the secret is not stored and cannot be shown again.
    """
    secret = new_secret()
    credential = ApiCredential.objects.create(
        name=name, prefix=secret_prefix(secret), secret_hash=secret_digest(secret)
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
