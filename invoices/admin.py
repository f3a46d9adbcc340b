"""Invoices and billing items in the admin, and the invoice side of the account and contact pages.

Balances change only in payments/services/: here they are read-only, and a new invoice or billing
item starts with everything owed. payments/admin.py adds the allocations and write-downs.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, ExpressionWrapper, Q

from billing_site.admin_helpers import (
    ChangedFieldsOnlyMixin,
    ReadableColumnsMixin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    YesNoFilter,
    adopt,
)
from billing_site.money import InvalidAmount, parse_amount
from contacts import admin as contacts_admin
from contacts.models import Account, Contact

from . import due
from .balances import with_balances
from .models import BillingItem, Invoice, InvoiceItem
from .services import InvoiceNotVoidable, billing_item_create, invoice_issue, invoice_void


def clean_money(value):
    try:
        return parse_amount(value)
    except InvalidAmount as error:
        raise ValidationError(error.message) from None


admin.site.unregister(Account)


@admin.register(Account)
class AccountAdmin(ReadableColumnsMixin, contacts_admin.AccountAdmin):
    list_display = [*contacts_admin.AccountAdmin.list_display, "balance", "past_due"]
    money_columns = {"balance": None, "past_due": None}  # beside the currency column

    def get_queryset(self, request):
        return with_balances(super().get_queryset(request))

    @admin.display(description="balance", ordering="owed")
    def balance(self, account):
        """What its invoices (issued by today) and its contacts' billing items owe."""
        return account.owed

    @admin.display(description="past due", ordering="past_due")
    def past_due(self, account):
        return account.past_due


class BillingItemInline(ReadOnlyInline):
    model = BillingItem
    fields = ["description", "due_date", "total_amount", "balance"]


admin.site.unregister(Contact)


@admin.register(Contact)
class ContactAdmin(contacts_admin.ContactAdmin):
    inlines = [*contacts_admin.ContactAdmin.inlines, BillingItemInline]


class InvoiceForm(forms.ModelForm):
    def clean_amount(self):
        return clean_money(self.cleaned_data["amount"])

    def clean(self):
        cleaned = super().clean()
        issue_date, due_date = cleaned.get("issue_date"), cleaned.get("due_date")
        if issue_date and due_date and due_date < issue_date:
            self.add_error("due_date", "The due date cannot be before the issue date.")
        return cleaned


class PastDueFilter(YesNoFilter):
    title = "past due"
    parameter_name = "past_due"

    def condition(self) -> Q:
        return due.past_due_q()


class InvoiceItemInline(ReadOnlyInline):
    model = InvoiceItem
    fields = ["charge_name", "quantity", "unit_price", "charge_amount", "tax_amount"]


@admin.register(Invoice)
class InvoiceAdmin(ReadableColumnsMixin, ChangedFieldsOnlyMixin, admin.ModelAdmin):
    form = InvoiceForm
    list_display = [
        "number",
        "account",
        "issue_date",
        "due_date",
        "amount",
        "balance",
        "status",
        "days_late",
    ]
    money_columns = {"amount": "account.currency", "balance": "account.currency"}
    date_columns = ("issue_date", "due_date")
    list_select_related = ["account"]
    list_filter = ["status", PastDueFilter, "account"]
    search_fields = ["number", "account__name", "account__number"]
    date_hierarchy = "due_date"
    fields = ["account", "number", "issue_date", "due_date", "amount", "balance", "status"]
    autocomplete_fields = ["account"]
    inlines = [InvoiceItemInline]
    actions = ["void_invoices"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["balance", "status"]
        # Payments are allocated to this account's invoice for this amount.
        return ["account", "number", "amount", "balance", "status"]

    def get_inlines(self, request, obj):
        return self.inlines if obj else []  # nothing to list before it exists

    def get_queryset(self, request):
        is_past_due = ExpressionWrapper(due.past_due_q(), output_field=BooleanField())
        return super().get_queryset(request).annotate(is_past_due=is_past_due)

    def has_delete_permission(self, request, obj=None):
        return False  # void it instead

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        invoice = invoice_issue(
            account=obj.account,
            number=obj.number,
            issue_date=obj.issue_date,
            due_date=obj.due_date,
            amount=obj.amount,
        )
        adopt(obj, invoice)

    @admin.display(description="days late")
    def days_late(self, invoice):
        return due.days_late(invoice.due_date) if invoice.is_past_due else 0

    @admin.action(description="Void selected invoices", permissions=["change"])
    def void_invoices(self, request, queryset):
        voided = 0
        for invoice_id in queryset.values_list("pk", flat=True):
            try:
                invoice_void(invoice_id=invoice_id)
            except InvoiceNotVoidable as refusal:
                self.message_user(request, str(refusal), messages.ERROR)
            else:
                voided += 1
        if voided:
            self.message_user(request, f"Voided {voided} invoice(s).", messages.SUCCESS)


@admin.register(InvoiceItem)
class InvoiceItemAdmin(ReadOnlyAdmin):
    """Lines are issued with their invoice (invoices.services.invoice_issue) and never edited."""

    list_display = ["charge_name", "invoice", "quantity", "unit_price", "charge_amount"]
    list_select_related = ["invoice"]
    search_fields = ["charge_name", "invoice__number"]
    fields = [
        "invoice",
        "charge_name",
        "quantity",
        "unit_price",
        "charge_amount",
        "tax_amount",
        "tax_exempt_amount",
    ]


class BillingItemForm(forms.ModelForm):
    def clean_total_amount(self):
        return clean_money(self.cleaned_data["total_amount"])


class SettledFilter(YesNoFilter):
    title = "settled"
    parameter_name = "settled"

    def condition(self) -> Q:
        return Q(balance=0)


@admin.register(BillingItem)
class BillingItemAdmin(ReadableColumnsMixin, ChangedFieldsOnlyMixin, admin.ModelAdmin):
    form = BillingItemForm
    list_display = [
        "id",
        "contact",
        "description",
        "due_date",
        "total_amount",
        "balance",
        "settled",
    ]
    money_columns = {
        "total_amount": "contact.account.currency",
        "balance": "contact.account.currency",
    }
    date_columns = ("due_date",)
    list_select_related = ["contact__account"]
    list_filter = [SettledFilter, "due_date"]
    search_fields = ["id__exact", "description", "contact__first_name", "contact__last_name"]
    fields = ["contact", "description", "due_date", "total_amount", "balance", "created_at"]
    autocomplete_fields = ["contact"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["balance", "created_at"]
        return ["contact", "total_amount", "balance", "created_at"]

    def get_inlines(self, request, obj):
        return self.inlines if obj else []  # nothing to list before it exists

    def has_delete_permission(self, request, obj=None):
        return False  # write it down instead

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        item = billing_item_create(
            contact=obj.contact,
            description=obj.description,
            due_date=obj.due_date,
            total_amount=obj.total_amount,
        )
        adopt(obj, item)

    @admin.display(description="settled", boolean=True)
    def settled(self, item):
        return item.is_settled
