import uuid

from django.db.models import Q
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

    One query; both digests are unique (indexed) columns.
    """
    digest, now = secret_digest(secret), timezone.now()
    return (
        ApiCredential.objects.filter(
            Q(secret_hash=digest)
            | Q(previous_secret_hash=digest, previous_secret_expires_at__gt=now),
            Q(expires_at__isnull=True) | Q(expires_at__gt=now),
            revoked_at__isnull=True,
        )
        .order_by()
        .first()
    )


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
    grantee = Q(user=user) if user is not None else Q(credential=credential)
    return AccountRole.objects.filter(grantee, role__in=roles_with(privilege)).exists()


def contact_by_guid(guid: uuid.UUID) -> Contact | None:
    """The contact with this GUID (Legend's ContactId), with its account."""
    return Contact.objects.select_related("account").filter(guid=guid).first()
