"""The audit trail's list filters: what changed (model and object), the kind of event, the
channel and the actor. Each narrows the aggregated events query (pghistory's Events)."""

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.text import capfirst
from pghistory import core

from contacts.models import ApiCredential

from .context import Channel


def tracked_models() -> dict[str, type]:
    """The tracked models by label in lower case, e.g. `contacts.account` (users are tracked
    through their proxy, `audit.staffuser`)."""
    return {
        event_model.pgh_tracked_model._meta.label_lower: event_model.pgh_tracked_model
        for event_model in core.event_models()
    }


def event_models_of(label: str) -> list[type]:
    return [
        event_model
        for event_model in core.event_models()
        if event_model.pgh_tracked_model._meta.label_lower == label
    ]


def history_url(obj) -> str | None:
    """The audit trail of one object, linked from its admin page; None if it is not tracked."""
    concrete = type(obj)._meta.concrete_model
    for label, model in sorted(tracked_models().items()):
        if model._meta.concrete_model is concrete:
            query = urlencode({"model": label, "object": obj.pk})
            return f"{reverse('admin:audit_auditevent_changelist')}?{query}"
    return None


class TrackedModelFilter(admin.SimpleListFilter):
    title = "what changed"
    parameter_name = "model"

    def lookups(self, request, model_admin):
        models = tracked_models()
        return sorted(
            ((label, capfirst(model._meta.verbose_name)) for label, model in models.items()),
            key=lambda choice: choice[1],
        )

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        # Only the event tables of that model are read; an unknown label matches nothing.
        event_models = event_models_of(self.value())
        return queryset.across(*event_models) if event_models else queryset.none()


class ObjectFilter(admin.SimpleListFilter):
    """One object's events, by primary key (with `model`): linked from the object's page."""

    title = "object"
    parameter_name = "object"

    def lookups(self, request, model_admin):
        value = request.GET.get(self.parameter_name)
        return [(value, f"#{value}")] if value else []

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(pgh_obj_id=self.value())
        return queryset


class KindFilter(admin.SimpleListFilter):
    title = "kind of event"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [("insert", "Insert"), ("update", "Update"), ("delete", "Delete")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(pgh_label=self.value())
        return queryset


class ChannelFilter(admin.SimpleListFilter):
    title = "channel"
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return Channel.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(channel=self.value())
        return queryset


class _IdFilter(admin.SimpleListFilter):
    field = ""

    def queryset(self, request, queryset):
        if self.value():
            if not self.value().isdigit():
                return queryset.none()
            return queryset.filter(**{self.field: int(self.value())})
        return queryset


class UserFilter(_IdFilter):
    title = "staff user"
    parameter_name = "user"
    field = "user"

    def lookups(self, request, model_admin):
        users = get_user_model().objects.filter(is_staff=True).order_by("username")
        return [(str(user.pk), user.get_username()) for user in users]


class CredentialFilter(_IdFilter):
    title = "partner credential"
    parameter_name = "credential"
    field = "credential"

    def lookups(self, request, model_admin):
        return [(str(c.pk), str(c)) for c in ApiCredential.objects.order_by("name", "pk")]
