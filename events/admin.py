"""Events in the admin, read-only: what happened to each account's money, in the order it was
recorded (events.models), each with its webhook deliveries. "Send to webhooks again" queues the
chosen events (a day's, with the date hierarchy and "select all") to every active subscription
that takes them (webhooks.services.events_redeliver), after a page that says how many events,
to which subscriptions."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from billing_site.admin_helpers import ReadOnlyAdmin, ReadOnlyInline
from webhooks import services as webhooks
from webhooks.admin_deliveries import RESEND
from webhooks.models import Delivery, Subscription

from .models import Event


class DeliveryInline(ReadOnlyInline):
    model = Delivery
    fields = ["subscription", "status", "attempts", "last_attempt_at", "delivered_at"]
    ordering = ["pk"]
    verbose_name_plural = "Webhook deliveries"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("subscription")


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "type", "account", "event_id"]
    list_select_related = ["account"]
    list_filter = ["type", "occurred_at"]
    search_fields = ["=event_id", "account__name", "=account__number"]
    date_hierarchy = "occurred_at"
    fields = ["event_id", "type", "account", "occurred_at", "data"]
    ordering = ["-pk"]
    inlines = [DeliveryInline]
    actions = ["send_to_webhooks"]

    def has_resend_permission(self, request):
        return request.user.has_perm(RESEND)

    @admin.action(description="Send to webhooks again", permissions=["resend"])
    def send_to_webhooks(self, request, queryset):
        """A page first (the events, the subscriptions that take them), then, confirmed, the
        redelivery: as Django's "delete selected" does."""
        if request.POST.get("post") != "yes":
            events = queryset.order_by("pk")
            subscriptions = (
                Subscription.objects.filter(is_active=True, accounts__in=events.values("account"))
                .distinct()
                .order_by("pk")
            )
            context = {
                **self.admin_site.each_context(request),
                "title": "Send events to webhooks again?",
                "opts": self.model._meta,
                "event_count": events.count(),
                "first_events": events.select_related("account")[:10],
                "subscriptions": list(subscriptions),
                "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
                "select_across": request.POST.get("select_across", "0"),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/events/event/send_to_webhooks.html", context)
        event_ids = list(queryset.values_list("pk", flat=True))
        queued = webhooks.events_redeliver(event_ids)
        self.message_user(
            request,
            f"{len(event_ids)} event(s): {queued} delivery(ies) queued to the active "
            "subscriptions that take them.",
            messages.SUCCESS if queued else messages.WARNING,
        )
        return None
