"""The page a staff login locked out by django-axes gets (AXES_LOCKOUT_CALLABLE), in the admin's
look: status 429, Retry-After, and when the lockout ends. Staff unlock in the admin (Access
attempts, action "Unlock"), see docs/limits.md."""

import math

from axes.admin import AccessAttemptAdmin
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone

from billing_site.api.throttles import client_address


def lockout_response(request, original_response=None, credentials=None):
    username = get_client_username(request, credentials) or ""
    cool_off = get_cool_off(request)
    retry_at = None
    if cool_off:
        latest = (
            AccessAttempt.objects.filter(username=username, ip_address=client_address(request))
            .order_by("-attempt_time")
            .values_list("attempt_time", flat=True)
            .first()
        )
        retry_at = (latest or timezone.now()) + cool_off
    context = {
        **admin.site.each_context(request),
        "title": "Sign-in locked",
        "username": username,
        "retry_at": retry_at,
        "cool_off_minutes": math.ceil(cool_off.total_seconds() / 60) if cool_off else None,
    }
    response = TemplateResponse(request, "admin/login_locked_out.html", context, status=429)
    if retry_at is not None:
        wait = (retry_at - timezone.now()).total_seconds()
        response["Retry-After"] = str(max(1, math.ceil(wait)))
    return response.render()


class LockoutAttemptAdmin(AccessAttemptAdmin):
    """Axes' failed sign-ins, with "Unlock": deleting a user's attempts from an address lets that
    user sign in from there again at once (staff need the permission to delete access attempts).
    Registered by contacts/admin.py in place of axes' own."""

    actions = ["unlock", *AccessAttemptAdmin.actions]

    @admin.action(description="Unlock: forget the selected failed sign-ins", permissions=["delete"])
    def unlock(self, request, queryset):
        unlocked = sorted({f"{a.username} from {a.ip_address}" for a in queryset})
        queryset.delete()
        self.message_user(request, f"Unlocked {', '.join(unlocked)}.", messages.SUCCESS)
