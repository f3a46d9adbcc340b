import uuid
from functools import cache

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from billing_site import model_sql

from .credentials import secret_digest
from .models import Account, AccountRole, ApiCredential, Contact
from .roles import Role, roles_with


def account_by_reference(reference: str | int) -> Account | None:
    """The account whose external number or GUID is `reference` (DocuSign's `{accountId}`).

    Every DocuSign request asks it (with the key's query, `active_credential_for_secret`, when a
    partner key calls): written once as SQL (billing_site/model_sql.py)."""
    field, value = _reference_lookup(reference)
    if field is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_account_sql(field), [value])
        row = cursor.fetchone()
    return None if row is None else model_sql.instance(Account, row)


def _reference_lookup(reference: str | int) -> tuple[str | None, object]:
    """("number", int) or ("guid", UUID) for an account reference; (None, None) for one that can
    name no account (not a number or a GUID, or a number no column could hold)."""
    text = str(reference).strip()
    if text.isascii() and text.isdigit():
        number = int(text)
        return ("number", number) if number <= model_sql.BIGINT_MAX else (None, None)
    try:
        return "guid", uuid.UUID(text)
    except ValueError:
        return None, None


@cache
def _account_sql(field: str) -> str:
    return model_sql.sql(f"SELECT {{a.all}} FROM {{a.table}} a WHERE {{a.{field}}} = %s", a=Account)  # noqa: S608


NOT_ASKED = object()  # `credential.account_in_path` when the request named no account
EVERY_ACCOUNT = object()  # `credential.roles_read_for` when every account's roles were read
ROLES = tuple(Role.values)


def active_credential_for_secret(secret: str, account_reference=None) -> ApiCredential | None:
    """The credential that `secret` authenticates, or None: unrevoked, not expired, and `secret`
    is its current secret or its previous one within the grace period of the last rotation.

    One query, with the roles the credential holds (`credential.role_accounts`: role -> account
    ids), so that no permission check of the request asks again. For a request that names an
    account (DocuSign's `{accountId}`, `account_reference`), that account comes too
    (`credential.account_in_path`, None if there is none) and only the roles on it are read
    (`credential.roles_read_for` is its id, None if there is none): such a request is scoped to
    that account, and reading every account the key holds (hundreds, for a processor's key) on
    every request would cost as many index entries. Otherwise every account's roles are read
    (`roles_read_for` is `EVERY_ACCOUNT`). Both digests are unique (indexed) columns. Written
    once as SQL (billing_site/model_sql.py): every API request sends it.
    """
    field, value = (None, None)
    if account_reference is not None:
        field, value = _reference_lookup(account_reference)
    digest, now = secret_digest(secret), timezone.now()
    parameters = {"digest": digest, "now": now, "account": value, **_ROLE_PARAMETERS}
    with connection.cursor() as cursor:
        cursor.execute(_credential_sql(field, account_reference is not None), parameters)
        row = cursor.fetchone()
    if row is None:
        return None
    credential = model_sql.instance(ApiCredential, row)
    start = model_sql.width(ApiCredential)
    held = row[start : start + len(ROLES)]
    credential.account_in_path = NOT_ASKED
    credential.roles_read_for = EVERY_ACCOUNT
    if account_reference is None:
        credential.role_accounts = {
            role: frozenset(accounts) for role, accounts in zip(ROLES, held, strict=True)
        }
        return credential
    start += len(ROLES)
    found = field is not None and row[start] is not None
    account = model_sql.instance(Account, row, start) if found else None
    credential.account_in_path = account
    credential.roles_read_for = None if account is None else account.pk
    credential.role_accounts = {
        role: frozenset({account.pk}) if account is not None and on_it else frozenset()
        for role, on_it in zip(ROLES, held, strict=True)
    }
    return credential


_ROLE_PARAMETERS = {f"role_{index}": role for index, role in enumerate(ROLES)}


@cache
def _credential_sql(account_field: str | None, account_named: bool = False) -> str:
    """The key's query. With `account_named` (a request that names an account), per role whether
    the key holds it on the account named by `account_field` ("number" or "guid"; None: a
    reference that can name no account), and that account; else per role the ids of the accounts
    it holds it on."""
    if account_named:
        per_role = ", ".join(
            f"EXISTS (SELECT 1 FROM {{r.table}} r WHERE {{r.credential}} = {{c.id}} "  # noqa: S608
            f"AND {{r.role}} = %({name})s AND {{r.account}} = {{a.id}})"
            for name in _ROLE_PARAMETERS
        )
        match = f"{{a.{account_field}}} = %(account)s" if account_field is not None else "false"
        account, join = ", {a.all}", f" LEFT JOIN {{a.table}} a ON {match}"
    else:
        per_role = ", ".join(
            f"ARRAY(SELECT {{r.account}} FROM {{r.table}} r WHERE {{r.credential}} = {{c.id}} "  # noqa: S608
            f"AND {{r.role}} = %({name})s)"
            for name in _ROLE_PARAMETERS
        )
        account, join = "", ""
    return model_sql.sql(
        f"SELECT {{c.all}}, {per_role}{account} FROM {{c.table}} c{join} "  # noqa: S608 - names from the models
        "WHERE ({c.secret_hash} = %(digest)s "
        "OR ({c.previous_secret_hash} = %(digest)s AND {c.previous_secret_expires_at} > %(now)s)) "
        "AND ({c.expires_at} IS NULL OR {c.expires_at} > %(now)s) AND {c.revoked_at} IS NULL "
        "LIMIT 1",
        c=ApiCredential,
        r=AccountRole,
        a=Account,
    )


def _roles_read_with(credential, account_id: int) -> bool:
    """Whether the key's query read the credential's roles on `account_id`."""
    if not hasattr(credential, "role_accounts"):
        return False
    read_for = credential.roles_read_for
    return read_for is EVERY_ACCOUNT or read_for == account_id


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
        return frozenset(ROLES)
    if user is None and credential is None:
        return frozenset()
    if user is None and _roles_read_with(credential, account_id):  # read with the credential
        held = credential.role_accounts.items()
        return frozenset(role for role, accounts in held if account_id in accounts)
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
    if user is None and hasattr(credential, "role_accounts"):  # read with the credential
        if any(credential.role_accounts.get(role) for role in roles_with(privilege)):
            return True
        if credential.roles_read_for is EVERY_ACCOUNT:
            return False
    grantee = Q(user=user) if user is not None else Q(credential=credential)
    return AccountRole.objects.filter(grantee, role__in=roles_with(privilege)).exists()


def contact_by_guid(guid: uuid.UUID) -> Contact | None:
    """The contact with this GUID (Legend's ContactId), with its account: one statement, written
    once (billing_site/model_sql.py), as every Legend request asks it."""
    with connection.cursor() as cursor:
        cursor.execute(_contact_sql(), [guid])
        row = cursor.fetchone()
    return None if row is None else contact_with_account(row)


def contact_with_account(row) -> Contact:
    """The contact of a row that selects `{c.all}, {a.all}` (contact, then its account), with its
    account cached on it, as `select_related("account")` leaves it."""
    contact = model_sql.instance(Contact, row)
    account = model_sql.instance(Account, row, model_sql.width(Contact))
    Contact.account.field.set_cached_value(contact, account)
    return contact


@cache
def _contact_sql() -> str:
    return model_sql.sql(
        "SELECT {c.all}, {a.all} FROM {c.table} c JOIN {a.table} a ON {a.id} = {c.account} "
        "WHERE {c.guid} = %s",
        c=Contact,
        a=Account,
    )
