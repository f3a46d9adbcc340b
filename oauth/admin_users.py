"""The users an integration may act for (the JWT's sub): their roles on accounts, and their
consent. Changing or removing a role revokes the user's live tokens (they carry the old roles)."""

from django.contrib import admin, messages
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html

from billing_site.admin_helpers import YesNoFilter, adopt

from . import services
from .admin_common import (
    WhileActiveInline,
    consent_text,
    copyable,
    count_of,
    parent_writable,
    save_grants,
)
from .admin_forms import GrantFormSet
from .models import Integration, IntegrationGrant, IntegrationUser


class UserGrantInline(WhileActiveInline):
    model = IntegrationGrant
    formset = GrantFormSet
    fk_name = "user"
    fields = ["account", "role"]
    autocomplete_fields = ["account"]
    verbose_name_plural = "Roles on accounts (changing or removing one revokes this user's tokens)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account")


class ConsentFilter(YesNoFilter):
    title = "consent given"
    parameter_name = "consent"

    def condition(self) -> Q:
        return Q(consented_at__isnull=False)


@admin.register(IntegrationUser)
class IntegrationUserAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "email",
        "integration",
        "user_id",
        "consent",
        "role_count",
        "staff_user",
    ]
    list_select_related = ["integration", "staff_user"]
    list_filter = [ConsentFilter, "integration"]
    search_fields = ["name", "email", "user_id", "integration__name"]
    autocomplete_fields = ["integration", "staff_user"]
    readonly_fields = ["user_id_copy", "consent", "integration_link"]
    inlines = [UserGrantInline]
    actions = ["record_consent", "withdraw_consent"]

    class Media:
        css = {"all": ["oauth/admin.css"]}
        js = ["oauth/copy.js"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["integration", "name", "email", "staff_user"]
        return ["integration_link", "name", "email", "staff_user", "user_id_copy", "consent"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "integration":  # a revoked integration gets no new user
            kwargs["queryset"] = Integration.objects.filter(revoked_at__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(role_total=count_of(IntegrationGrant.objects.all(), "user"))
        )

    @admin.display(description="user ID (the JWT's sub)")
    def user_id_copy(self, user):
        return copyable(user.user_id, "User ID")

    @admin.display(description="consent", ordering="consented_at")
    def consent(self, user):
        return consent_text(user)

    @admin.display(description="roles", ordering="role_total")
    def role_count(self, user):
        return user.role_total

    @admin.display(description="integration")
    def integration_link(self, user):
        url = reverse("admin:oauth_integration_change", args=[user.integration_id])
        return format_html('<a href="{}">{}</a>', url, user.integration)

    def has_change_permission(self, request, obj=None):
        return parent_writable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (not parent_writable(obj) or services.user_in_use(obj)):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete would bypass user_delete
        return actions

    def delete_model(self, request, obj):
        services.user_delete(user=obj)

    def save_model(self, request, obj, form, change):
        if change:
            services.user_change(
                user=obj, name=obj.name, email=obj.email, staff_user=obj.staff_user
            )
        else:
            adopt(
                obj,
                services.user_add(
                    integration=obj.integration,
                    name=obj.name,
                    email=obj.email,
                    staff_user=obj.staff_user,
                ),
            )

    def save_formset(self, request, form, formset, change):
        user = form.instance
        revoked = save_grants(request, formset, integration=user.integration, user=user)
        if revoked:
            self.message_user(
                request,
                f"The roles of {user} changed: {revoked} of its live token(s) revoked.",
                messages.WARNING,
            )

    @admin.action(description="Record consent", permissions=["change"])
    def record_consent(self, request, queryset):
        users = queryset.filter(integration__revoked_at__isnull=True, consented_at__isnull=True)
        for user in users:
            services.consent_grant(user=user)
            self.log_change(request, user, "Recorded consent.")
        self.message_user(request, f"Consent recorded for {len(users)} user(s).", messages.SUCCESS)

    @admin.action(description="Withdraw consent (revokes their tokens)", permissions=["change"])
    def withdraw_consent(self, request, queryset):
        users = queryset.filter(integration__revoked_at__isnull=True, consented_at__isnull=False)
        revoked = 0
        for user in users:
            revoked += services.consent_withdraw(user=user)
            self.log_change(request, user, "Withdrew consent.")
        self.message_user(
            request,
            f"Consent withdrawn for {len(users)} user(s); {revoked} live token(s) revoked.",
            messages.SUCCESS,
        )
