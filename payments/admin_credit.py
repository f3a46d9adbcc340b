"""Customer credit in the admin: credit applications, refunds, allocation releases and credit
notes, read-only. They are made by the money service (payments.services: credit, credit_notes),
from the back office's account pages; here staff find and read them."""

from django.contrib import admin

from billing_site.admin_helpers import ReadableColumnsMixin, ReadOnlyAdmin, ReadOnlyInline

from .models import AllocationRelease, CreditApplication, CreditNote, CreditNoteLine, Refund

RECORDERS = ["recorded_by_user", "recorded_by_credential"]


@admin.register(CreditApplication)
class CreditApplicationAdmin(ReadableColumnsMixin, ReadOnlyAdmin):
    money_columns = {"amount": "account.currency"}
    list_display = ["account", "invoice", "billing_item", "amount", "applied_at", "recorded_by"]
    list_select_related = ["account", "invoice", "billing_item", *RECORDERS]
    list_filter = ["channel", "applied_at"]
    search_fields = ["account__name", "=account__number", "invoice__number", "notes"]
    date_hierarchy = "applied_at"
    fields = [
        "account",
        "invoice",
        "billing_item",
        "amount",
        "applied_at",
        "notes",
        "channel",
        *RECORDERS,
    ]


class ReleaseInline(ReadOnlyInline):
    model = AllocationRelease
    fk_name = "refund"
    fields = ["allocation", "amount", "reason", "released_at"]


@admin.register(Refund)
class RefundAdmin(ReadableColumnsMixin, ReadOnlyAdmin):
    money_columns = {"amount": "currency"}
    list_display = [
        "__str__",
        "account",
        "payment",
        "amount",
        "refund_date",
        "tender_type",
        "recorded_by",
    ]
    list_select_related = ["account", "payment", "tender_type", *RECORDERS]
    list_filter = ["channel", "refund_date", "tender_type"]
    search_fields = ["account__name", "=account__number", "reference", "reason"]
    date_hierarchy = "refund_date"
    fields = [
        "account",
        "payment",
        "amount",
        "currency",
        "tender_type",
        "refund_date",
        "reference",
        "reason",
        "recorded_at",
        "channel",
        *RECORDERS,
    ]
    inlines = [ReleaseInline]


@admin.register(AllocationRelease)
class AllocationReleaseAdmin(ReadableColumnsMixin, ReadOnlyAdmin):
    money_columns = {"amount": "account.currency"}
    list_display = ["allocation", "refund", "amount", "released_at", "recorded_by"]
    list_select_related = [
        "account",
        "allocation__payment",
        "allocation__invoice",
        "allocation__billing_item",
        "refund",
        *RECORDERS,
    ]
    list_filter = ["released_at"]
    search_fields = ["account__name", "=account__number", "reason"]
    date_hierarchy = "released_at"
    fields = [
        "account",
        "allocation",
        "refund",
        "amount",
        "reason",
        "released_at",
        "channel",
        *RECORDERS,
    ]


class CreditNoteLineInline(ReadOnlyInline):
    model = CreditNoteLine
    fields = ["description", "amount"]
    show_change_link = False


@admin.register(CreditNote)
class CreditNoteAdmin(ReadableColumnsMixin, ReadOnlyAdmin):
    money_columns = {
        "amount": "account.currency",
        "applied_amount": "account.currency",
        "credit_amount": "account.currency",
    }
    list_display = [
        "number",
        "account",
        "invoice",
        "issue_date",
        "amount",
        "applied_amount",
        "credit_amount",
        "recorded_by",
    ]
    list_select_related = ["account", "invoice", *RECORDERS]
    list_filter = ["issue_date"]
    search_fields = ["number", "account__name", "=account__number", "invoice__number", "reason"]
    date_hierarchy = "issue_date"
    fields = [
        "number",
        "account",
        "invoice",
        "issue_date",
        "reason",
        "amount",
        "applied_amount",
        "credit_amount",
        "recorded_at",
        "channel",
        *RECORDERS,
    ]
    inlines = [CreditNoteLineInline]


@admin.register(CreditNoteLine)
class CreditNoteLineAdmin(ReadableColumnsMixin, ReadOnlyAdmin):
    money_columns = {"amount": "account.currency"}
    list_display = ["credit_note", "description", "amount"]
    list_select_related = ["credit_note", "account"]
    search_fields = ["description", "credit_note__number"]
    fields = ["credit_note", "description", "amount"]
