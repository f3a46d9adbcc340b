"""Events in the admin, read-only: what happened to each account's money, in the order it was
recorded (events.models)."""

from django.contrib import admin

from billing_site.admin_helpers import ReadOnlyAdmin

from .models import Event


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "type", "account", "event_id"]
    list_select_related = ["account"]
    list_filter = ["type", "occurred_at"]
    search_fields = ["=event_id", "account__name", "=account__number"]
    date_hierarchy = "occurred_at"
    fields = ["event_id", "type", "account", "occurred_at", "data"]
    ordering = ["-pk"]
