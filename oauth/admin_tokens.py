"""Access tokens and the log of token requests in the admin: read-only. A token is revoked (by
`tokens_revoke`), never edited; a token request is never changed (the log is append-only)."""

from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone

from billing_site.admin_helpers import ReadOnlyAdmin, YesNoFilter

from .models import GrantType, IssuedToken, TokenRequest
from .services import tokens_revoke


class LiveFilter(YesNoFilter):
    title = "live"
    parameter_name = "live"

    def condition(self) -> Q:
        return Q(credential__revoked_at__isnull=True, credential__expires_at__gt=timezone.now())


class ExpiredFilter(YesNoFilter):
    title = "expired"
    parameter_name = "expired"

    def condition(self) -> Q:
        return Q(credential__expires_at__lte=timezone.now())


class RevokedFilter(YesNoFilter):
    title = "revoked"
    parameter_name = "revoked"

    def condition(self) -> Q:
        return Q(credential__revoked_at__isnull=False)


@admin.register(IssuedToken)
class IssuedTokenAdmin(ReadOnlyAdmin):
    list_display = [
        "integration",
        "user_or_application",
        "grant_type",
        "scope",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "status",
    ]
    list_select_related = ["integration", "user", "credential"]
    list_filter = ["integration", LiveFilter, ExpiredFilter, RevokedFilter, "grant_type"]
    search_fields = ["integration__name", "user__name", "credential__prefix"]
    fields = [
        "integration",
        "user_or_application",
        "credential",
        "grant_type",
        "scope",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "status",
    ]
    actions = ["revoke_tokens"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("integration", "user", "credential")

    @admin.display(description="user", ordering="user__name")
    def user_or_application(self, token):
        return token.user or "(application)"

    @admin.display(description="expires", ordering="credential__expires_at")
    def expires_at(self, token):
        return token.credential.expires_at

    @admin.display(description="revoked", ordering="credential__revoked_at")
    def revoked_at(self, token):
        return token.credential.revoked_at

    @admin.display(description="last used", ordering="credential__last_used_at")
    def last_used_at(self, token):
        return token.credential.last_used_at

    @admin.display(description="status")
    def status(self, token):
        if token.credential.revoked_at is not None:
            return "Revoked"
        if token.credential.expires_at <= timezone.now():
            return "Expired"
        return "Live"

    def has_revoke_permission(self, request):
        return request.user.has_perm("oauth.change_issuedtoken")

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke_tokens(self, request, queryset):
        revoked = tokens_revoke(queryset)
        self.message_user(
            request,
            f"Revoked {revoked} token(s) (those expired or revoked already are left as they are).",
            messages.SUCCESS,
        )


@admin.register(TokenRequest)
class TokenRequestAdmin(ReadOnlyAdmin):
    """The log of `POST /oauth/token`: every request, issued or refused, and why."""

    list_display = [
        "created_at",
        "outcome",
        "error",
        "integration",
        "user",
        "grant",
        "client_address",
    ]
    list_select_related = ["integration", "user"]
    list_filter = ["outcome", "error", "integration"]
    search_fields = ["integration__name", "user__name", "error", "client_address"]
    fields = [
        "created_at",
        "outcome",
        "error",
        "error_description",
        "grant_type",
        "integration",
        "user",
        "token",
        "client_address",
    ]

    @admin.display(description="grant type", ordering="grant_type")
    def grant(self, request):
        """The grant type's short name when it is one we know (else as the client sent it)."""
        known = dict(GrantType.choices)
        return known.get(request.grant_type, request.grant_type) or "-"
