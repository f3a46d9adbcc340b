"""Webhook subscriptions in the admin (deliveries: webhooks/admin_deliveries.py).

Every write goes through webhooks/services.py. A subscription's signing secret is shown once, on
the page that answers its creation or "New signing secret" (rendered, never put in a message or
the session), and never on its change page. A subscription is disabled (by staff, or by the worker
when a delivery exhausts its retries, with the reason shown at the top of its page), not deleted
once it has deliveries.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import Truncator

from billing_site.admin_helpers import ReadableColumnsMixin, adopt
from events.models import Event, EventType

from . import services
from .admin_deliveries import RESEND, DeliveryAdmin  # noqa: F401 - registers it
from .admin_forms import RedeliverForm, SubscriptionForm
from .models import Delivery, DeliveryStatus, Subscription

SIGNING_KEY_PAGE = "admin/webhooks/subscription/secret.html"


def deliveries_in(status: str):
    """How many of the outer subscription's deliveries have `status`: one correlated subquery,
    so the list runs one query however many rows it shows."""
    per_row = (
        Delivery.objects.filter(subscription=OuterRef("pk"), status=status)
        .order_by()
        .values("subscription")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(per_row, output_field=IntegerField()), 0)


class EventTypeFilter(admin.SimpleListFilter):
    """The subscriptions that receive a type: those that chose it, and those that take every
    type."""

    title = "receives event type"
    parameter_name = "event_type"

    def lookups(self, request, model_admin):
        return EventType.choices

    def queryset(self, request, queryset):
        if self.value() in EventType.values:
            return queryset.filter(Q(event_types__contains=[self.value()]) | Q(event_types=[]))
        return queryset


@admin.register(Subscription)
class SubscriptionAdmin(ReadableColumnsMixin, admin.ModelAdmin):
    form = SubscriptionForm
    date_columns = ("created_at",)
    change_form_template = "admin/webhooks/subscription/change_form.html"
    list_display = [
        "name",
        "url",
        "account_list",
        "event_type_list",
        "is_active",
        "disabled_note",
        "created_at",
        "pending_count",
        "failed_count",
    ]
    list_filter = ["is_active", EventTypeFilter]
    search_fields = ["description", "url", "=accounts__number", "accounts__name"]
    autocomplete_fields = ["accounts"]
    actions = ["disable_subscriptions", "enable_subscriptions"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("accounts")
            .annotate(
                pending_total=deliveries_in(DeliveryStatus.PENDING),
                failed_total=deliveries_in(DeliveryStatus.FAILED),
            )
        )

    def get_fieldsets(self, request, obj=None):
        edited = [(None, {"fields": ["url", "description", "accounts", "event_types"]})]
        if obj is None:
            return edited
        status = ["is_active", "disabled_at", "disabled_reason", "created_at", "deliveries"]
        return [*edited, ("Status", {"fields": status})]

    def get_readonly_fields(self, request, obj=None):
        # Disabled and enabled by the actions (services), never by ticking a box.
        return ["is_active", "disabled_at", "disabled_reason", "created_at", "deliveries"]

    # Columns and read-only fields.

    @admin.display(description="subscription", ordering="description")
    def name(self, subscription):
        return subscription.description or "(no description)"

    @admin.display(description="accounts")
    def account_list(self, subscription):
        return ", ".join(str(account.number) for account in subscription.accounts.all())

    @admin.display(description="event types")
    def event_type_list(self, subscription):
        return ", ".join(subscription.event_types) or "every type"

    @admin.display(description="disabled because")
    def disabled_note(self, subscription):
        return Truncator(subscription.disabled_reason).chars(60) or "-"

    @admin.display(description="pending", ordering="pending_total")
    def pending_count(self, subscription):
        return subscription.pending_total

    @admin.display(description="failed", ordering="failed_total")
    def failed_count(self, subscription):
        return subscription.failed_total

    @admin.display(description="deliveries")
    def deliveries(self, subscription):
        changelist = reverse("admin:webhooks_delivery_changelist")
        return format_html(
            '<a href="{}?{}">{} pending, {} failed: see them all</a>',
            changelist,
            urlencode({"subscription__id__exact": subscription.pk}),
            subscription.pending_total,
            subscription.failed_total,
        )

    # Writes: the services. The secret of a new subscription goes from save_model to the page
    # that answers the add (response_add) on the request, never further.

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {
            "url": data["url"],
            "accounts": data["accounts"],
            "event_types": data["event_types"],
            "description": data["description"],
        }
        if change:
            services.subscription_change(obj, **fields)
        else:
            subscription, secret = services.subscription_create(**fields)
            adopt(obj, subscription)
            request.webhook_secret = secret

    def save_related(self, request, form, formsets, change):
        pass  # the service set the accounts; the subscription has no inlines

    def add_view(self, request, form_url="", extra_context=None):
        # One button: the page after it shows the secret (not the next add, or the change page).
        only_save = {"show_save_and_add_another": False, "show_save_and_continue": False}
        return super().add_view(request, form_url, {**(extra_context or {}), **only_save})

    def response_add(self, request, obj, post_url_continue=None):
        secret = request.__dict__.pop("webhook_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return self._secret_page(request, obj, secret, title="Copy the subscription's secret")

    # Deleted only while nothing was delivered to it (a delivery keeps its subscription).

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.deliveries.exists():
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # disable them instead
        return actions

    @admin.action(description="Disable selected subscriptions", permissions=["change"])
    def disable_subscriptions(self, request, queryset):
        reason = f"Disabled by {request.user.get_username()} in the admin"
        disabled = 0
        for subscription in queryset.filter(is_active=True):
            services.subscription_disable(subscription, reason)
            self.log_change(request, subscription, reason)
            disabled += 1
        self.message_user(
            request,
            f"{disabled} subscription(s) disabled: nothing is sent to them until they are "
            "enabled again.",
            messages.SUCCESS if disabled else messages.WARNING,
        )

    @admin.action(description="Enable and resend undelivered", permissions=["change"])
    def enable_subscriptions(self, request, queryset):
        for subscription in queryset:
            queued = services.subscription_enable(subscription)
            self.log_change(request, subscription, f"Enabled; {queued} delivery(ies) queued.")
            self.message_user(
                request,
                f"{subscription} is enabled: {queued} undelivered delivery(ies) queued to be "
                "sent again.",
                messages.SUCCESS,
            )

    # Its own pages: a new secret, and a redelivery of its events of some days.

    def get_urls(self):
        return [
            path(
                "<path:object_id>/secret/",
                self.admin_site.admin_view(self.secret_view),
                name="webhooks_subscription_secret",
            ),
            path(
                "<path:object_id>/redeliver/",
                self.admin_site.admin_view(self.redeliver_view),
                name="webhooks_subscription_redeliver",
            ),
            *super().get_urls(),
        ]

    def _context(self, request, subscription, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "subscription": subscription,
            "change_url": reverse("admin:webhooks_subscription_change", args=[subscription.pk]),
            **extra,
        }

    def _secret_page(self, request, subscription, secret, title):
        # Rendered, not redirected: the secret never goes into a message cookie or the session.
        context = self._context(request, subscription, title=title, secret=secret)
        return TemplateResponse(request, SIGNING_KEY_PAGE, context)

    def secret_view(self, request, object_id):
        """A new signing secret: asked for with a POST, shown once on the page that answers it;
        the deliveries from then on are signed with it."""
        subscription = get_object_or_404(Subscription, pk=object_id)
        if not self.has_change_permission(request, subscription):
            raise PermissionDenied
        if request.method == "POST" and request.POST.get("post") == "yes":
            secret = services.secret_replace(subscription)
            self.log_change(request, subscription, "New signing secret.")
            return self._secret_page(request, subscription, secret, "Copy the new signing secret")
        context = self._context(request, subscription, title="New signing secret: are you sure?")
        return TemplateResponse(request, SIGNING_KEY_PAGE, context)

    def redeliver_view(self, request, object_id):
        """Send the subscription again its events of some days (those of its accounts and
        types), whether or not they were delivered: a form, a confirmation with how many, then
        services.events_redeliver."""
        subscription = get_object_or_404(Subscription, pk=object_id)
        if not (self.has_view_permission(request, subscription) and request.user.has_perm(RESEND)):
            raise PermissionDenied
        change_url = reverse("admin:webhooks_subscription_change", args=[subscription.pk])
        if not subscription.is_active:
            self.message_user(
                request,
                f"{subscription} is disabled: enable it before sending it events.",
                messages.WARNING,
            )
            return HttpResponseRedirect(change_url)
        form = RedeliverForm(request.POST or None)
        context = self._context(request, subscription, title="Send events again", form=form)
        if request.method == "POST" and form.is_valid():
            events = self._events_of(subscription, form.cleaned_data)
            if request.POST.get("post") == "yes":
                queued = services.events_redeliver(
                    list(events.values_list("pk", flat=True)), subscription=subscription
                )
                self.log_change(request, subscription, f"{queued} event(s) queued again.")
                self.message_user(
                    request,
                    f"{queued} event(s) from {form.cleaned_data['date_from']} to "
                    f"{form.cleaned_data['date_to']} queued to be sent to {subscription}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url)
            context.update(confirm=True, event_count=events.count())
        return TemplateResponse(request, "admin/webhooks/subscription/redeliver.html", context)

    @staticmethod
    def _events_of(subscription, data):
        events = Event.objects.filter(
            account__in=subscription.accounts.all(),
            occurred_at__date__gte=data["date_from"],
            occurred_at__date__lte=data["date_to"],
        )
        if subscription.event_types:
            events = events.filter(type__in=subscription.event_types)
        return events
