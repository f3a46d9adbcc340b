import uuid

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Q, Value
from django.utils import timezone

from .credentials import secret_digest
from .models import Account, AccountRole, ApiCredential, Contact
from .roles import Role, roles_with


def account_by_reference(reference: str | int) -> Account | None:
    """The account whose external number or GUID is `reference` (DocuSign's `{accountId}`)."""
    text = str(reference).strip()
    if text.isascii() and text.isdigit():
        lookup = Q(number=int(text))
    else:
        try:
            lookup = Q(guid=uuid.UUID(text))
        except ValueError:
            return None
    return Account.objects.filter(lookup).first()


def active_credential_for_secret(secret: str) -> ApiCredential | None:
    """The credential that `secret` authenticates, or None: unrevoked, not expired, and `secret`
    is its current secret or its previous one within the grace period of the last rotation.

    One query, with the roles the credential holds (`credential.grants`: account id -> roles),
    so that no permission check of the request asks again; both digests are unique (indexed)
    columns.
    """
    digest, now = secret_digest(secret), timezone.now()
    credential = (
        ApiCredential.objects.filter(
            Q(secret_hash=digest)
            | Q(previous_secret_hash=digest, previous_secret_expires_at__gt=now),
            Q(expires_at__isnull=True) | Q(expires_at__gt=now),
            revoked_at__isnull=True,
        )
        .annotate(
            grant_accounts=ArrayAgg("account_roles__account_id", default=Value([])),
            grant_roles=ArrayAgg("account_roles__role", default=Value([])),
        )
        .order_by()
        .first()
    )
    if credential is not None:
        grants: dict[int, set[str]] = {}
        for account_id, role in zip(credential.grant_accounts, credential.grant_roles, strict=True):
            if account_id is not None:
                grants.setdefault(account_id, set()).add(role)
        credential.grants = {account: frozenset(roles) for account, roles in grants.items()}
    return credential


def has_privilege(*, account_id: int, privilege: str, user=None, credential=None) -> bool:
    """Whether the staff user or partner credential holds `privilege` on the account.

    Superusers hold every privilege on every account; other users and credentials need a role.
    """
    roles = roles_on_account(account_id=account_id, user=user, credential=credential)
    return not roles.isdisjoint(roles_with(privilege))


def roles_on_account(*, account_id: int, user=None, credential=None) -> frozenset[str]:
    """The roles the staff user or partner credential holds on the account (every role for a
    superuser); empty when the account is outside what they may see."""
    if user is not None and user.is_active and user.is_superuser:
        return frozenset(Role.values)
    if user is None and credential is None:
        return frozenset()
    if user is None and hasattr(credential, "grants"):  # read with the credential
        return credential.grants.get(account_id, frozenset())
    grantee = Q(user=user) if user is not None else Q(credential=credential)
    roles = AccountRole.objects.filter(grantee, account_id=account_id).values_list(
        "role", flat=True
    )
    return frozenset(roles)


def has_privilege_anywhere(*, privilege: str, user=None, credential=None) -> bool:
    """Whether the user or credential holds `privilege` on at least one account."""
    if user is not None and user.is_active and user.is_superuser:
        return True
    if user is None and credential is None:
        return False
    if user is None and hasattr(credential, "grants"):  # read with the credential
        wanted = roles_with(privilege)
        return any(not roles.isdisjoint(wanted) for roles in credential.grants.values())
    grantee = Q(user=user) if user is not None else Q(credential=credential)
    return AccountRole.objects.filter(grantee, role__in=roles_with(privilege)).exists()


def contact_by_guid(guid: uuid.UUID) -> Contact | None:
    """The contact with this GUID (Legend's ContactId), with its account."""
    return Contact.objects.select_related("account").filter(guid=guid).first()
