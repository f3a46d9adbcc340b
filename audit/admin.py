"""The audit trail in the admin: every recorded change, filterable, read-only.

Built on pghistory.admin's EventsAdmin (which audit.apps unregisters in favour of this page).
"""

from decimal import Decimal

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import FieldDoesNotExist
from django.db.models import DecimalField
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from pghistory.admin import EventsAdmin

from .context import Channel
from .filters import (
    ChannelFilter,
    CredentialFilter,
    KindFilter,
    ObjectFilter,
    TrackedModelFilter,
    UserFilter,
)
from .models import AuditEvent

CHANNELS = dict(Channel.choices)
LINE_BREAK = mark_safe("<br>")


def _model(label: str):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _value(model, field: str, value) -> str:
    """A value of the event's JSON as staff read it: amounts with their decimal places (the
    JSON carries numbers, which Python reads as floats; the event tables keep exact numerics)."""
    if value is None or value == "":
        return "—"
    try:
        model_field = model._meta.get_field(field) if model else None
    except FieldDoesNotExist:
        model_field = None
    if isinstance(model_field, DecimalField) and isinstance(value, int | float):
        places = Decimal(1).scaleb(-model_field.decimal_places)
        return str(Decimal(str(value)).quantize(places))
    return str(value)


@admin.register(AuditEvent)
class AuditEventAdmin(EventsAdmin):
    list_display = ["when", "what", "object_link", "kind", "changes", "via", "actor"]
    list_filter = [
        TrackedModelFilter,
        ObjectFilter,
        KindFilter,
        ChannelFilter,
        UserFilter,
        CredentialFilter,
        ("pgh_created_at", admin.DateFieldListFilter),
    ]
    fields = ["pgh_created_at", "pgh_obj_model", "pgh_obj_id", "pgh_label"]
    fields += ["pgh_data", "pgh_diff", "pgh_context"]
    readonly_fields = fields
    list_per_page = 50
    show_full_result_count = False  # one count of the aggregated events is enough

    def get_list_display(self, request):
        return self.list_display

    def get_list_filter(self, request):
        return self.list_filter

    def get_queryset(self, request):
        queryset = AuditEvent.objects.order_by("-pgh_created_at", "-pgh_id")
        object_id = request.resolver_match.kwargs.get("object_id")
        if object_id is not None:  # one event's page: read only its event table
            event_model = _model(unquote(object_id).partition(":")[0])
            if event_model is not None:
                queryset = queryset.across(event_model)
        return queryset

    def changelist_view(self, request, extra_context=None):
        # Django's own changelist, not EventsAdmin's (which reads its own obj/model parameters).
        return admin.ModelAdmin.changelist_view(self, request, extra_context)

    @admin.display(description="when", ordering="pgh_created_at")
    def when(self, event):
        return event.pgh_created_at

    @admin.display(description="kind")
    def kind(self, event):
        return event.pgh_label

    @admin.display(description="what changed")
    def what(self, event):
        model = _model(event.pgh_obj_model)
        return capfirst(model._meta.verbose_name) if model else event.pgh_obj_model

    @admin.display(description="object")
    def object_link(self, event):
        model = _model(event.pgh_obj_model)
        if model is None or event.pgh_label == "delete":
            return event.pgh_obj_id
        concrete = model._meta.concrete_model._meta
        try:
            url = reverse(
                f"admin:{concrete.app_label}_{concrete.model_name}_change", args=[event.pgh_obj_id]
            )
        except NoReverseMatch:
            return event.pgh_obj_id
        return format_html('<a href="{}">{}</a>', url, event.pgh_obj_id)

    @admin.display(description="changes")
    def changes(self, event):
        """An update: each changed field, old → new; an insert or a delete: the row's values."""
        model = _model(event.pgh_obj_model)
        if event.pgh_label == "update":
            rows = [
                (field, _value(model, field, old), _value(model, field, new))
                for field, (old, new) in (event.pgh_diff or {}).items()
            ]
            return format_html_join(LINE_BREAK, "{}: {} → {}", sorted(rows))
        data = {key: value for key, value in (event.pgh_data or {}).items() if key != "id"}
        return format_html_join(
            LINE_BREAK, "{}: {}", sorted((k, _value(model, k, v)) for k, v in data.items())
        )

    @admin.display(description="channel")
    def via(self, event):
        context = event.pgh_context or {}
        channel = CHANNELS.get(context.get("channel"), context.get("channel") or "not recorded")
        request = " ".join(filter(None, [context.get("method"), context.get("path")]))
        return format_html(
            "{}<br><small>{}</small>", channel, request or context.get("command", "")
        )

    @admin.display(description="by")
    def actor(self, event):
        context = event.pgh_context or {}
        if context.get("user"):
            return f"{context.get('username')} (user #{context['user']})"
        if context.get("credential"):
            name, prefix = context.get("credential_name"), context.get("credential_prefix")
            return f"{name} ({prefix}…, credential #{context['credential']})"
        if context.get("os_user"):
            return f"{context['os_user']} (operating-system user)"
        return "—"
