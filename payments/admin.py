"""Payments, allocations, reversals, write-downs, tender types and idempotency records in the admin.

Nothing here moves money by itself: payments are never changed or deleted, only reversed through
payments.services.payment_reverse. This module also adds the allocations and write-downs to the
invoice and billing-item pages (invoices does not import payments).
"""

import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Exists, OuterRef, Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from billing_site.admin_helpers import (
    ReadableColumnsMixin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    YesNoFilter,
    adopt,
)
from billing_site.money import format_amount
from invoices import admin as invoices_admin
from invoices.models import BillingItem, Invoice

from .actors import Actor, Channel
from .errors import PaymentError
from .models import (
    IdempotencyRecord,
    Payment,
    PaymentAllocation,
    Reversal,
    TenderType,
    WriteDown,
)
from .services import invoice_issue_applying_credit, payment_reverse

PAYMENT_NUMBER = re.compile(r"P?(\d{1,18})", re.IGNORECASE)
RECORDERS = ["recorded_by_user", "recorded_by_credential"]


def with_reversed_flag(queryset, payment: str = "pk"):
    return queryset.annotate(is_reversed=Exists(Reversal.objects.filter(payment=OuterRef(payment))))


@admin.register(TenderType)
class TenderTypeAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "is_active"]
    list_editable = ["is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]

    def get_readonly_fields(self, request, obj=None):
        return ["id"] if obj else []  # Legend's ids: entered once


class AllocationInline(ReadOnlyInline):
    model = PaymentAllocation
    fields = ["payment", "payment_date", "amount", "reversed"]

    def get_queryset(self, request):
        return with_reversed_flag(super().get_queryset(request), "payment").select_related(
            "payment"
        )

    @admin.display(description="payment date")
    def payment_date(self, allocation):
        return timezone.localdate(allocation.payment.payment_date)

    @admin.display(description="reversed", boolean=True)
    def reversed(self, allocation):
        return allocation.is_reversed


class InvoiceAllocationInline(AllocationInline):
    fk_name = "invoice"
    verbose_name_plural = "payments"


class BillingItemAllocationInline(AllocationInline):
    fk_name = "billing_item"
    verbose_name_plural = "payments"


class WriteDownInline(ReadOnlyInline):
    model = WriteDown
    fields = ["amount", "write_down_date", "gl_account_id", "reason", "channel"]


admin.site.unregister(Invoice)


@admin.register(Invoice)
class InvoiceAdmin(invoices_admin.InvoiceAdmin):
    inlines = [*invoices_admin.InvoiceAdmin.inlines, InvoiceAllocationInline]

    def save_model(self, request, obj, form, change):
        """A new invoice is issued through the money service, which settles it from the account's
        credit when the account says so (`auto_apply_credit`); the page says how much."""
        if change:
            super().save_model(request, obj, form, change)
            return
        invoice, applied = invoice_issue_applying_credit(
            actor=Actor(channel=Channel.STAFF, user=request.user),
            account=obj.account,
            number=obj.number,
            issue_date=obj.issue_date,
            due_date=obj.due_date,
            amount=obj.amount,
        )
        adopt(obj, invoice)
        if applied is not None:
            currency = invoice.account.currency
            settled = ", ".join(
                f"{a.invoice.number} {format_amount(a.amount)}" for a in applied.applications
            )
            self.message_user(
                request,
                f"{format_amount(applied.amount)} {currency} of the account's credit was applied, "
                f"oldest due first ({settled}); invoice {invoice.number} owes "
                f"{format_amount(invoice.balance)} {currency}, and the account holds "
                f"{format_amount(applied.credit_balance)} {currency} of credit.",
                messages.INFO,
            )


admin.site.unregister(BillingItem)


@admin.register(BillingItem)
class BillingItemAdmin(invoices_admin.BillingItemAdmin):
    inlines = [
        *invoices_admin.BillingItemAdmin.inlines,
        BillingItemAllocationInline,
        WriteDownInline,
    ]


class ReversedFilter(YesNoFilter):
    title = "reversed"
    parameter_name = "reversed"

    def condition(self) -> Q:
        return Q(reversal__isnull=False)


class PaymentAllocationInline(ReadOnlyInline):
    model = PaymentAllocation
    fields = ["invoice", "billing_item", "amount", "reference", "authorization_code"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice", "billing_item")


class ReverseForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Recorded with each reversal.",
    )


@admin.register(Payment)
class PaymentAdmin(ReadableColumnsMixin, ReadOnlyAdmin):
    # The currency is shown with the amount; when it was recorded and through which channel, on
    # the payment's page (and as a filter).
    list_display = [
        "number",
        "account",
        "contact",
        "amount",
        "payment_date",
        "tender_type",
        "recorded_by",
        "reversed",
    ]
    money_columns = {"amount": "currency"}
    date_columns = ("payment_date",)
    list_select_related = ["account", "contact", "tender_type", *RECORDERS]
    list_filter = ["channel", "tender_type", ReversedFilter, "account"]
    search_fields = ["reference", "account__name", "account__number"]
    fields = [
        "number",
        "account",
        "contact",
        "amount",
        "currency",
        "payment_date",
        "processed_at",
        "tender_type",
        "description",
        "reference",
        "authorization_code",
        "notes",
        "channel",
        *RECORDERS,
        "reversal_link",
    ]
    inlines = [PaymentAllocationInline]
    actions = ["reverse_payments"]

    def get_queryset(self, request):
        return with_reversed_flag(super().get_queryset(request))

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        number = PAYMENT_NUMBER.fullmatch(search_term.strip())
        if number:  # "P00000012" or "12": payment 12
            found |= queryset.filter(pk=int(number[1]))
        return found, may_have_duplicates

    def has_reverse_permission(self, request):
        return request.user.has_perm("payments.add_reversal")

    @admin.display(description="number", ordering="pk")
    def number(self, payment):
        return payment.number

    @admin.display(description="reversed", boolean=True)
    def reversed(self, payment):
        return payment.is_reversed

    @admin.display(description="reversal")
    def reversal_link(self, payment):
        reversal = Reversal.objects.filter(payment=payment).first()
        if reversal is None:
            return "-"
        url = reverse("admin:payments_reversal_change", args=[reversal.pk])
        return format_html('<a href="{}">{}</a>', url, reversal.reason)

    @admin.action(description="Reverse selected payments", permissions=["reverse"])
    def reverse_payments(self, request, queryset):
        form = ReverseForm(request.POST if "post" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": "Reverse payments",
                "opts": self.opts,
                "payments": queryset,
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(
                request, "admin/payments/payment/reverse_selected.html", context
            )
        actor = Actor(channel=Channel.STAFF, user=request.user)
        reversed_numbers = []
        for payment in queryset:
            try:
                payment_reverse(
                    payment_id=payment.pk, reason=form.cleaned_data["reason"], actor=actor
                )
            except PaymentError as refusal:
                self.message_user(request, refusal.message, messages.ERROR)
            else:
                reversed_numbers.append(payment.number)
        if reversed_numbers:
            self.message_user(request, f"Reversed {', '.join(reversed_numbers)}.", messages.SUCCESS)


@admin.register(PaymentAllocation)
class PaymentAllocationAdmin(ReadableColumnsMixin, ReadOnlyAdmin):
    list_display = ["payment", "invoice", "billing_item", "amount"]
    money_columns = {"amount": "payment.currency"}
    search_fields = ["reference", "invoice__number", "billing_item__description"]
    fields = [
        "payment",
        "invoice",
        "billing_item",
        "amount",
        "reference",
        "authorization_code",
        "notes",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("payment", "invoice", "billing_item")


@admin.register(Reversal)
class ReversalAdmin(ReadOnlyAdmin):
    list_display = ["payment", "reversed_at", "channel", "recorded_by", "reason"]
    list_select_related = ["payment", *RECORDERS]
    list_filter = ["channel", "reversed_at"]
    search_fields = ["reason", "payment__reference", "payment__account__name"]
    date_hierarchy = "reversed_at"
    fields = ["payment", "reason", "reversed_at", "channel", *RECORDERS]


@admin.register(WriteDown)
class WriteDownAdmin(ReadableColumnsMixin, ReadOnlyAdmin):
    """Write-downs are recorded through payments.services.billing_items_write_down only."""

    money_columns = {"amount": "account.currency"}

    list_display = [
        "billing_item",
        "amount",
        "write_down_date",
        "gl_account_id",
        "channel",
        "recorded_by",
        "recorded_at",
    ]
    list_select_related = ["billing_item", "account", *RECORDERS]
    list_filter = ["channel", "write_down_date"]
    search_fields = [
        "reason",
        "billing_item__description",
        "billing_item__contact__first_name",
        "billing_item__contact__last_name",
    ]
    date_hierarchy = "write_down_date"
    fields = [
        "billing_item",
        "amount",
        "write_down_date",
        "gl_account_id",
        "reason",
        "recorded_at",
        "channel",
        *RECORDERS,
    ]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    """API responses stored for replay on retries (payments/idempotency.py), for reference."""

    list_display = ["key", "credential", "user", "status_code", "created_at"]
    list_select_related = ["credential", "user"]
    list_filter = ["status_code"]
    search_fields = ["key"]
    date_hierarchy = "created_at"
    fields = [
        "key",
        "credential",
        "user",
        "fingerprint",
        "status_code",
        "response_body",
        "created_at",
    ]


# The credit rows' pages, and the account page's "Receive money into credit".
from . import admin_credit, admin_receive  # noqa: E402, F401
