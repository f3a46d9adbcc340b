"""Webhook deliveries in the admin, read-only, each with the log of its tries; "Send again" queues
chosen ones from the first try (services.deliveries_resend)."""

from django.contrib import admin, messages
from django.utils import timezone

from billing_site.admin_helpers import ReadOnlyAdmin, ReadOnlyInline

from . import services
from .models import Delivery, DeliveryAttempt

# Sending again (deliveries, or events to subscriptions) makes deliveries pending again.
RESEND = "webhooks.change_delivery"


class AttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = [
        "started",
        "status_code",
        "succeeded",
        "duration_ms",
        "response_excerpt",
        "error",
    ]
    ordering = ["pk"]
    show_change_link = False
    verbose_name = "try"
    verbose_name_plural = "Tries, oldest first"

    @admin.display(description="started at")
    def started(self, attempt):
        return f"{timezone.localtime(attempt.started_at):%Y-%m-%d %H:%M:%S}"

    def has_view_permission(self, request, obj=None):
        # The log is part of the delivery: whoever sees the delivery sees its tries.
        return request.user.has_perm("webhooks.view_delivery")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "event_type",
        "event_id",
        "account",
        "subscription",
        "status",
        "attempts",
        "last_attempt_at",
        "next_attempt_at",
        "delivered_at",
    ]
    list_select_related = ["event__account", "subscription"]
    list_filter = ["status", ("subscription", admin.RelatedOnlyFieldListFilter), "event__type"]
    search_fields = ["=event__event_id"]
    search_help_text = "An event's ID (the webhook-id header)."
    date_hierarchy = "created_at"
    fields = [
        "event",
        "event_type",
        "event_id",
        "account",
        "subscription",
        "status",
        "attempts",
        "created_at",
        "last_attempt_at",
        "next_attempt_at",
        "delivered_at",
    ]
    inlines = [AttemptInline]

    class Media:
        css = {"all": ["webhooks/admin.css"]}

    actions = ["send_again"]

    @admin.display(description="event type", ordering="event__type")
    def event_type(self, delivery):
        return delivery.event.type

    @admin.display(description="event ID")
    def event_id(self, delivery):
        return delivery.event.event_id

    @admin.display(description="account")
    def account(self, delivery):
        return delivery.event.account

    def has_resend_permission(self, request):
        return request.user.has_perm(RESEND)

    @admin.action(description="Send again (from the first try)", permissions=["resend"])
    def send_again(self, request, queryset):
        chosen = list(queryset.select_related("subscription"))
        skipped = sum(1 for delivery in chosen if not delivery.subscription.is_active)
        queued = services.deliveries_resend(chosen)
        for delivery in chosen:
            if delivery.subscription.is_active:
                self.log_change(request, delivery, "Queued to be sent again.")
        self.message_user(
            request,
            f"{queued} delivery(ies) queued to be sent again.",
            messages.SUCCESS if queued else messages.WARNING,
        )
        if skipped:
            self.message_user(
                request,
                f"{skipped} not queued: their subscription is disabled (enable it, which sends "
                "what it was not delivered).",
                messages.WARNING,
            )
