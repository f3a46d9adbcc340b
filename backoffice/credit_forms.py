"""The forms of the credit pages: apply credit, refund, credit note. They parse input; every rule
about money (how much credit, what is owed, what a payment still holds) is the service's."""

import datetime

from django import forms
from django.core.exceptions import ValidationError

from invoices.due import today
from invoices.models import BillingItem, Invoice
from payments.models import TenderType
from payments.services import CreditNoteLineInput

from .forms import DATE_RANGE, FIRST_DATE, PAYMENT_DATE_RANGE, AmountField, NotesField, date_input


def utc_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), datetime.UTC)


class ApplyCreditForm(forms.Form):
    """Credit to some of the account's open invoices and its contacts' billing items."""

    invoices = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    billing_items = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    amount = AmountField(
        required=False,
        help_text="Leave blank to apply as much as the credit and the chosen rows allow.",
    )
    notes = NotesField(
        max_length=2000,
        required=False,
        help_text="Kept with the application.",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )

    def __init__(self, *args, invoices: list[Invoice], items: list[BillingItem], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoices"].choices = [(invoice.pk, invoice) for invoice in invoices]
        self.fields["billing_items"].choices = [(item.pk, item) for item in items]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("invoices") and not cleaned.get("billing_items"):
            raise ValidationError("Choose at least one invoice or billing item to settle.")
        return cleaned


class RefundForm(forms.Form):
    """Money paid back to the customer; `reason` is required for a refund of a payment."""

    amount = AmountField()
    tender_type = forms.ModelChoiceField(
        queryset=TenderType.objects.filter(is_active=True).order_by("id"),
        empty_label="Choose a tender type",
        help_text="How the money goes back.",
    )
    refund_date = forms.DateField(
        initial=today,
        validators=PAYMENT_DATE_RANGE,
        widget=date_input(min=FIRST_DATE.isoformat()),
        help_text="When the money went back: today at the latest.",
    )
    reference = forms.CharField(
        max_length=200, required=False, widget=forms.TextInput(attrs={"size": 40})
    )
    reason = NotesField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )

    def __init__(self, *args, of_payment: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["refund_date"].widget.attrs["max"] = today().isoformat()
        reason = self.fields["reason"]
        reason.required = of_payment
        reason.help_text = (
            "Required: the payment's allocations are released into credit with it."
            if of_payment
            else "Kept with the refund."
        )

    def clean_refund_date(self) -> datetime.datetime:
        return utc_midnight(self.cleaned_data["refund_date"])


class CreditNoteLineForm(forms.Form):
    description = forms.CharField(
        max_length=200, required=False, widget=forms.TextInput(attrs={"size": 50})
    )
    amount = AmountField(required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("description") and not cleaned.get("amount") and not self.errors:
            self.add_error("amount", "Enter the line's amount.")
        if cleaned.get("amount") and not cleaned.get("description"):
            self.add_error("description", "Enter the line's description.")
        return cleaned


class BaseLineFormSet(forms.BaseFormSet):
    def lines(self) -> list[CreditNoteLineInput]:
        """The filled rows (blank ones skipped)."""
        return [
            CreditNoteLineInput(form.cleaned_data["description"], form.cleaned_data["amount"])
            for form in self.forms
            if form.cleaned_data.get("description")
        ]

    def clean(self):
        super().clean()
        if not any(self.errors) and not self.lines():
            raise ValidationError("Enter at least one line.")


LineFormSet = forms.formset_factory(
    CreditNoteLineForm, formset=BaseLineFormSet, extra=4, max_num=20, validate_max=True
)


class CreditNoteForm(forms.Form):
    """The note's facts, with its lines (`lines`, a formset posted with the form)."""

    number = forms.CharField(max_length=40, help_text="Unique within the account.")
    issue_date = forms.DateField(initial=today, validators=DATE_RANGE, widget=date_input())
    reason = NotesField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))
    excess_to_credit = forms.BooleanField(
        required=False,
        label="Put what exceeds the invoice's balance on the account's credit",
    )

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.lines = LineFormSet(data, prefix="lines")

    def is_valid(self) -> bool:
        return all([super().is_valid(), self.lines.is_valid()])

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.lines.total_error_count())
