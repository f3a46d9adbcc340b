"""What the oauth admin modules share: copyable values, counts per row, inlines that turn
read-only with a revoked integration, and saving roles through the services."""

from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.html import format_html

from billing_site.admin_helpers import adopt

from . import services
from .models import IssuedToken


def copyable(value, label: str):
    """A read-only value to paste elsewhere (the JWT's iss or sub): selectable, with a button."""
    return format_html(
        '<span class="copyable"><input type="text" readonly value="{}" size="38" '
        'class="vTextField copyable-value" aria-label="{}"> '
        '<button type="button" class="button copy-button" data-copy="{}">Copy</button></span>',
        value,
        label,
        value,
    )


def live_tokens(**filters):
    now = timezone.now()
    return IssuedToken.objects.filter(
        credential__revoked_at__isnull=True, credential__expires_at__gt=now, **filters
    )


def count_of(queryset, fk: str):
    """How many rows of `queryset` point at the outer row by `fk`: a correlated subquery, so a
    changelist runs one query however many rows and however many counts it shows."""
    per_row = (
        queryset.filter(**{fk: OuterRef("pk")})
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(per_row, output_field=IntegerField()), 0)


def parent_writable(obj) -> bool:
    """The integration (or the user's integration) is not revoked; None: the add page."""
    integration = getattr(obj, "integration", obj)
    return integration is None or integration.revoked_at is None


class WhileActiveInline(admin.TabularInline):
    """An inline of the integration's page: read-only once the integration is revoked."""

    extra = 0

    def has_add_permission(self, request, obj=None):
        return parent_writable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return parent_writable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return parent_writable(obj) and super().has_delete_permission(request, obj)


def consent_text(user) -> str:
    if user.consented_at is None:
        return "Not given"
    return f"Given {timezone.localtime(user.consented_at):%Y-%m-%d %H:%M}"


def save_grants(request, formset, *, integration, user) -> int:
    """The inline's grants through the services; returns how many tokens were revoked."""
    formset.save(commit=False)
    revoked = 0
    for grant in formset.deleted_objects:
        revoked += services.grant_delete(grant=grant)
    for grant, _fields in formset.changed_objects:
        revoked += services.grant_change(grant=grant, account=grant.account, role=grant.role)
    for grant in formset.new_objects:
        adopt(
            grant,
            services.grant_add(
                integration=integration, user=user, account=grant.account, role=grant.role
            ),
        )
    return revoked
