"""Who may open which back-office page: one mixin per permission.

Every page needs an active staff user holding `payments.view_payment` (the Finance group has it,
superusers have every permission). Anonymous visitors are sent to the admin login; a logged-in
user without the permission gets 403 (Django's `PermissionRequiredMixin` decides which).
"""

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.shortcuts import render

from payments.actors import Actor, Channel

FINANCE_GROUP = "Finance"  # read-only: every view_* permission of contacts, invoices, payments

VIEW = "payments.view_payment"
RECORD = "payments.add_payment"
REVERSE = "payments.add_reversal"


def may_record(user) -> bool:
    return user.has_perm(RECORD)


def may_reverse(user) -> bool:
    return user.has_perm(REVERSE)


class StaffPageMixin(PermissionRequiredMixin):
    """Read access: an active staff user with `payments.view_payment`."""

    permission_required = (VIEW,)
    permission_denied_message = "You do not have permission to use the back office"

    def has_permission(self) -> bool:
        user = self.request.user
        return user.is_active and user.is_staff and super().has_permission()

    def render(self, template: str, **context):
        """The template with what the user may do, for the links and buttons it shows."""
        user = self.request.user
        context.update(may_record=may_record(user), may_reverse=may_reverse(user))
        return render(self.request, template, context)

    def actor(self) -> Actor:
        return Actor(channel=Channel.STAFF, user=self.request.user)


class RecordPaymentMixin(StaffPageMixin):
    permission_required = (VIEW, RECORD)
    permission_denied_message = "You do not have permission to record payments"


class ReversePaymentMixin(StaffPageMixin):
    permission_required = (VIEW, REVERSE)
    permission_denied_message = "You do not have permission to reverse payments"
