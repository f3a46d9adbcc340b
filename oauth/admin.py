"""DocuSign's sign-in in the admin: integrations, their keys, users and roles; tokens and the log
of token requests (oauth/admin_tokens.py).

Every write goes through oauth/services.py: a key is added by `public_key_add` (PEM checked, at
most five), a role changed or taken away revokes the tokens that carry it, an integration is
revoked (never deleted once tokens were requested) by `integration_revoke`. A revoked
integration, its users and their roles are read-only.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from billing_site.admin_helpers import YesNoFilter, adopt

from . import services
from .admin_common import (
    WhileActiveInline,
    consent_text,
    copyable,
    count_of,
    live_tokens,
    parent_writable,
    save_grants,
)
from .admin_forms import GrantFormSet, PublicKeyForm, PublicKeyFormSet
from .admin_tokens import IssuedTokenAdmin, TokenRequestAdmin  # noqa: F401 - registers them
from .admin_users import IntegrationUserAdmin  # noqa: F401 - registers it
from .codes import client_secret_set
from .models import MAX_PUBLIC_KEYS, Integration, IntegrationGrant, IntegrationKey, IntegrationUser


class PublicKeyInline(WhileActiveInline):
    model = IntegrationKey
    form = PublicKeyForm
    formset = PublicKeyFormSet
    fields = ["public_key", "fingerprint", "created_at"]
    readonly_fields = ["fingerprint", "created_at"]
    max_num = MAX_PUBLIC_KEYS
    verbose_name_plural = "RSA public keys (at most 5): they verify the JWTs the partner signs"


class UserInline(WhileActiveInline):
    model = IntegrationUser
    fields = ["name", "email", "staff_user", "user_id_copy", "consent", "roles"]
    readonly_fields = ["user_id_copy", "consent", "roles"]
    autocomplete_fields = ["staff_user"]
    show_change_link = True
    verbose_name_plural = "Users it may act for (their roles: open the user)"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("staff_user")
            .prefetch_related("grants__account")
        )

    @admin.display(description="user ID (the JWT's sub)")
    def user_id_copy(self, user):
        return copyable(user.user_id, "User ID") if user.pk else "-"

    @admin.display(description="consent")
    def consent(self, user):
        return consent_text(user)

    @admin.display(description="roles")
    def roles(self, user):
        if not user.pk:
            return "-"
        return (
            format_html_join(mark_safe("<br>"), "{}", ((grant,) for grant in user.grants.all()))
            or "None"
        )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "staff_user":  # a narrow row: pick a login, manage logins elsewhere
            for link in ("add", "change", "delete", "view"):
                setattr(field.widget, f"can_{link}_related", False)
        return field


class ApplicationGrantInline(WhileActiveInline):
    """The integration's own roles, which application tokens (a JWT without sub) carry."""

    model = IntegrationGrant
    formset = GrantFormSet
    fields = ["account", "role"]
    autocomplete_fields = ["account"]
    verbose_name = "application role"
    verbose_name_plural = "Application roles (tokens without a user: a JWT without sub)"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(user__isnull=True).select_related("account")


class StatusFilter(YesNoFilter):
    title = "revoked"
    parameter_name = "revoked"

    def condition(self) -> Q:
        return Q(revoked_at__isnull=False)


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "integration_key",
        "status",
        "key_count",
        "user_count",
        "live_token_count",
        "created_at",
    ]
    list_filter = [StatusFilter]
    search_fields = ["name", "integration_key"]
    inlines = [PublicKeyInline, UserInline, ApplicationGrantInline]
    actions = ["revoke_integrations"]
    readonly_fields = ["integration_key_copy", "status", "created_at", "revoked_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    class Media:
        css = {"all": ["oauth/admin.css"]}
        js = ["oauth/copy.js"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "redirect_uri"]
        return ["name", "integration_key_copy", "redirect_uri", "status", "created_at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                key_total=count_of(IntegrationKey.objects.all(), "integration"),
                user_total=count_of(IntegrationUser.objects.all(), "integration"),
                live_token_total=count_of(live_tokens(), "integration"),
            )
        )

    @admin.display(description="integration key (the JWT's iss, client_id)")
    def integration_key_copy(self, integration):
        return copyable(integration.integration_key, "Integration key")

    @admin.display(description="status")
    def status(self, integration):
        if integration.revoked_at is None:
            return "Active"
        return f"Revoked {timezone.localtime(integration.revoked_at):%Y-%m-%d %H:%M}"

    @admin.display(description="keys", ordering="key_total")
    def key_count(self, integration):
        return integration.key_total

    @admin.display(description="users", ordering="user_total")
    def user_count(self, integration):
        return integration.user_total

    @admin.display(description="live tokens", ordering="live_token_total")
    def live_token_count(self, integration):
        return integration.live_token_total

    # Revoked: read-only. Deleted: only if no token was ever requested (else revoke it).

    def has_change_permission(self, request, obj=None):
        return parent_writable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and services.integration_in_use(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete would bypass integration_delete
        return actions

    def delete_model(self, request, obj):
        services.integration_delete(integration=obj)

    def save_model(self, request, obj, form, change):
        if change:
            services.integration_change(
                integration=obj, name=obj.name, redirect_uri=obj.redirect_uri
            )
        else:
            adopt(obj, services.integration_add(name=obj.name, redirect_uri=obj.redirect_uri))

    def save_formset(self, request, form, formset, change):
        integration = form.instance
        if formset.model is IntegrationKey:
            self._save_keys(request, formset, integration)
        elif formset.model is IntegrationUser:
            self._save_users(formset, integration)
        else:
            revoked = save_grants(request, formset, integration=integration, user=None)
            if revoked:
                self.message_user(
                    request,
                    f"The application roles changed: {revoked} application token(s) revoked.",
                    messages.WARNING,
                )

    def _save_keys(self, request, formset, integration):
        formset.save(commit=False)
        for key in formset.deleted_objects:
            services.public_key_delete(key=key)
        formset.changed_objects.clear()  # a registered key is never edited (its field is disabled)
        for key in list(formset.new_objects):
            try:
                adopt(key, services.public_key_add(integration=integration, pem=key.public_key))
            except services.TooManyKeys as refusal:  # another admin added one meanwhile
                formset.new_objects.remove(key)
                self.message_user(request, str(refusal), messages.ERROR)

    def _save_users(self, formset, integration):
        formset.save(commit=False)
        for user in formset.deleted_objects:
            services.user_delete(user=user)
        for user, _fields in formset.changed_objects:
            services.user_change(
                user=user, name=user.name, email=user.email, staff_user=user.staff_user
            )
        for user in formset.new_objects:
            adopt(
                user,
                services.user_add(
                    integration=integration,
                    name=user.name,
                    email=user.email,
                    staff_user=user.staff_user,
                ),
            )

    # Revoking: a confirmation page (like the delete one), then integration_revoke.

    def get_urls(self):
        revoke = self.admin_site.admin_view(self.revoke_view)
        return [
            path("<path:object_id>/revoke/", revoke, name="oauth_integration_revoke"),
            path(
                "<path:object_id>/client-secret/",
                self.admin_site.admin_view(self.client_secret_view),
                name="oauth_integration_client_secret",
            ),
            *super().get_urls(),
        ]

    def revoke_view(self, request, object_id):
        integration = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not super().has_change_permission(request, integration):
            raise PermissionDenied
        change_url = reverse("admin:oauth_integration_change", args=[integration.pk])
        if integration.revoked_at is not None:
            self.message_user(request, f"{integration} is revoked already.", messages.WARNING)
            return HttpResponseRedirect(change_url)
        if request.method == "POST" and request.POST.get("post") == "yes":
            self._revoke(request, [integration])
            return HttpResponseRedirect(change_url)
        return self._revoke_confirmation(request, [integration], cancel_url=change_url)

    def client_secret_view(self, request, object_id):
        """A new client secret (the authorization code grant's client authentication): asked
        for with a POST, shown once on the page that answers it, stored only as its digest; the
        previous secret stops working."""
        integration = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not super().has_change_permission(request, integration):
            raise PermissionDenied
        change_url = reverse("admin:oauth_integration_change", args=[integration.pk])
        if integration.revoked_at is not None:
            self.message_user(request, f"{integration} is revoked.", messages.WARNING)
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "integration": integration,
            "change_url": change_url,
        }
        if request.method == "POST" and request.POST.get("post") == "yes":
            secret = client_secret_set(integration)
            self.log_change(request, integration, "New client secret.")
            # Rendered, not redirected: the secret never goes into a message cookie or the session.
            context.update(title="Copy the new client secret", secret=secret)
        else:
            context.update(title="New client secret: are you sure?")
        return TemplateResponse(request, "admin/oauth/integration/client_secret.html", context)

    @admin.action(description="Revoke selected integrations", permissions=["change"])
    def revoke_integrations(self, request, queryset):
        integrations = list(queryset.filter(revoked_at__isnull=True))
        if not integrations:
            self.message_user(request, "The selected integrations are revoked already.")
            return None
        if request.POST.get("post") == "yes":
            self._revoke(request, integrations)
            return None
        return self._revoke_confirmation(request, integrations, action="revoke_integrations")

    def _revoke(self, request, integrations):
        for integration in integrations:
            revoked = services.integration_revoke(integration=integration)
            self.log_change(request, integration, f"Revoked; {revoked} live token(s) revoked.")
            self.message_user(
                request,
                f"{integration} is revoked: {revoked} live token(s) revoked, no token is issued "
                "to it any more.",
                messages.SUCCESS,
            )

    def _revoke_confirmation(self, request, integrations, *, action=None, cancel_url=None):
        context = {
            **self.admin_site.each_context(request),
            "title": "Revoke: are you sure?",
            "opts": self.opts,
            "integrations": integrations,
            "live_tokens": sum(integration.live_token_total for integration in integrations),
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "cancel_url": cancel_url or reverse("admin:oauth_integration_changelist"),
        }
        return TemplateResponse(request, "admin/oauth/integration/revoke.html", context)
