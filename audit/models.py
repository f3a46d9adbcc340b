"""The audit trail: one event table per tracked model, written by PostgreSQL triggers.

pghistory installs AFTER INSERT/UPDATE/DELETE triggers on each tracked table that copy the row
into its event table together with the context of the change (audit.context): so saves, bulk
`QuerySet.update()`, raw SQL and changes made outside the app are all recorded. Event tables are
append-only (a trigger refuses UPDATE and DELETE on them too).

Models of django.contrib.auth are tracked through proxy models declared here, so their triggers'
migrations live in this app, not in Django's folders.
"""

import pghistory
from django.contrib.auth.models import Group, User
from django.db import models
from pghistory.models import Events

from contacts.models import Account, AccountRole, ApiCredential
from invoices.models import BillingItem, Invoice
from oauth.models import (
    Integration,
    IntegrationGrant,
    IntegrationKey,
    IntegrationUser,
    IssuedToken,
    TokenRequest,
)
from webhooks.models import Subscription


def _kinds(update_condition=None):
    """Insert, update and delete events, labelled `insert`, `update` and `delete`; their
    triggers are named audit_insert, audit_update and audit_delete in PostgreSQL."""
    update = {"condition": update_condition} if update_condition is not None else {}
    return (
        pghistory.InsertEvent(trigger_name="audit_insert"),
        pghistory.UpdateEvent(trigger_name="audit_update", **update),
        pghistory.DeleteEvent(trigger_name="audit_delete"),
    )


def _event_model(tracked, name, *, fields=None, exclude=None, update_condition=None):
    return pghistory.create_event_model(
        tracked,
        *_kinds(update_condition),
        fields=fields,
        exclude=exclude,
        obj_field=pghistory.ObjForeignKey(related_name="audit_events"),
        append_only=True,
        model_name=name,
        app_label="audit",
        abstract=False,
        meta={"verbose_name": f"{tracked._meta.verbose_name} event"},
    )


# Accounts (the API payment switch), invoices and billing items (balances), account roles.
AccountEvent = _event_model(Account, "AccountEvent")
InvoiceEvent = _event_model(Invoice, "InvoiceEvent")
# A billing item's `account` is its contact's, which the event keeps (`contact_id`) and which the
# database keeps equal (a composite foreign key): not copied again, and a change of it alone (the
# backfill that added it) makes no event.
BillingItemEvent = _event_model(BillingItem, "BillingItemEvent", exclude=["account"])
AccountRoleEvent = _event_model(AccountRole, "AccountRoleEvent")

# Credentials: never the secret digests; and every API request sets `last_used_at`, which alone
# makes no event (a change of any other column does, the digests included).
CREDENTIAL_SECRETS = ["secret_hash", "previous_secret_hash"]
ApiCredentialEvent = _event_model(
    ApiCredential,
    "ApiCredentialEvent",
    exclude=[*CREDENTIAL_SECRETS, "last_used_at"],
    update_condition=pghistory.AnyChange(
        *(field.name for field in ApiCredential._meta.fields if field.name != "last_used_at")
    ),
)


# DocuSign's sign-in (oauth/): the integrations, their keys, users (consent) and roles; every
# token issued (its credential's insert above, and `IssuedToken`), refused (`TokenRequest`) and
# revoked (its credential's `revoked_at`, above).
IntegrationEvent = _event_model(Integration, "IntegrationEvent", exclude=["client_secret_hash"])
IntegrationKeyEvent = _event_model(IntegrationKey, "IntegrationKeyEvent")
IntegrationUserEvent = _event_model(IntegrationUser, "IntegrationUserEvent")
IntegrationGrantEvent = _event_model(IntegrationGrant, "IntegrationGrantEvent")
IssuedTokenEvent = _event_model(IssuedToken, "IssuedTokenEvent")
TokenRequestEvent = _event_model(TokenRequest, "TokenRequestEvent")

# Webhook subscriptions (webhooks/): who made, disabled or enabled one, never its secret.
SubscriptionEvent = _event_model(
    Subscription, "WebhookSubscriptionEvent", exclude=["secret_encrypted"]
)


class StaffUser(User):
    """auth.User, tracked for what grants access: never the password hash, not `last_login`."""

    class Meta:
        proxy = True
        verbose_name = "user"


class UserGroupMembership(User.groups.through):
    class Meta:
        proxy = True
        verbose_name = "user's group"


class UserPermissionGrant(User.user_permissions.through):
    class Meta:
        proxy = True
        verbose_name = "user's permission"


class GroupPermissionGrant(Group.permissions.through):
    class Meta:
        proxy = True
        verbose_name = "group's permission"


UserEvent = _event_model(
    StaffUser, "UserEvent", fields=["username", "is_staff", "is_superuser", "is_active"]
)
UserGroupEvent = _event_model(UserGroupMembership, "UserGroupEvent", fields=["user", "group"])
UserPermissionEvent = _event_model(
    UserPermissionGrant, "UserPermissionEvent", fields=["user", "permission"]
)
GroupPermissionEvent = _event_model(
    GroupPermissionGrant, "GroupPermissionEvent", fields=["group", "permission"]
)


def _context(key: str, field: models.Field) -> models.Field:
    return pghistory.ProxyField(f"pgh_context__{key}", field)


class AuditEvent(Events):
    """Every event of every tracked model, with its context as columns (read in the admin)."""

    channel = _context("channel", models.TextField(null=True))
    user = _context(
        "user",
        models.ForeignKey(
            User, on_delete=models.DO_NOTHING, null=True, db_constraint=False, related_name="+"
        ),
    )
    username = _context("username", models.TextField(null=True))
    credential = _context(
        "credential",
        models.ForeignKey(
            ApiCredential,
            on_delete=models.DO_NOTHING,
            null=True,
            db_constraint=False,
            related_name="+",
        ),
    )
    credential_prefix = _context("credential_prefix", models.TextField(null=True))
    credential_name = _context("credential_name", models.TextField(null=True))
    path = _context("path", models.TextField(null=True))
    method = _context("method", models.TextField(null=True))
    command = _context("command", models.TextField(null=True))

    class Meta:
        proxy = True
        verbose_name = "audit event"
        verbose_name_plural = "audit trail"
