"""Roles granted per account, and the privileges each one carries.

A role is granted to a staff user or to a partner credential on one account (`AccountRole`). An
API operation asks for a privilege; any role that carries it will do. The account administrator
carries every privilege; a till that should only post payments gets `billing_payment` alone.
"""

from functools import cache

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Account administrator"
    BILLING_PAYMENT = "billing_payment", "Billing payments only"


class Privilege(models.TextChoices):
    ACCOUNT_ADMIN = "account_admin", "Administer the account's billing (DocuSign API)"
    BILLING_PAYMENT = "billing_payment", "Post billing-item payments (Legend API)"
    BILLING_WRITE_DOWN = "billing_write_down", "Write down billing items (Legend API)"


ROLE_PRIVILEGES: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(Privilege.values),
    Role.BILLING_PAYMENT: frozenset({Privilege.BILLING_PAYMENT}),
}


@cache
def roles_with(privilege: str) -> tuple[str, ...]:
    """The roles that carry `privilege` (asked on every API request: computed once)."""
    return tuple(role for role, privileges in ROLE_PRIVILEGES.items() if privilege in privileges)
