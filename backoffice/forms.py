"""The back office's forms: they parse input into what a selector or service takes.

Amounts are read by billing_site.money (at most two places, refused rather than rounded); every
rule about what may be paid is the money service's, which the views call (for real, or in a
`dry_run` for a preview).
"""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

from billing_site.money import ZERO, InvalidAmount, parse_amount
from invoices.due import today
from invoices.models import BillingItem, Invoice
from payments.lines import BillingLine
from payments.models import TenderType

# Dates far outside any ledger would only overflow the date arithmetic of the queries.
FIRST_DATE, LAST_DATE = datetime.date(1900, 1, 1), datetime.date(2999, 12, 31)
DATE_RANGE = [
    MinValueValidator(FIRST_DATE, f"Enter a date from {FIRST_DATE.isoformat()}."),
    MaxValueValidator(LAST_DATE, f"Enter a date up to {LAST_DATE.isoformat()}."),
]


def date_input(**attrs) -> forms.DateInput:
    """A browser date picker; it sends (and is given) ISO dates."""
    return forms.DateInput(attrs={"type": "date", **attrs}, format="%Y-%m-%d")


class AmountField(forms.CharField):
    """An amount as billing_site.money reads it: a Decimal with at most two places."""

    def __init__(self, *, allow_zero: bool = False, **kwargs) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "size": 12}))
        super().__init__(**kwargs)
        self.allow_zero = allow_zero

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return parse_amount(value, allow_zero=self.allow_zero)
        except InvalidAmount as error:
            raise ValidationError(error.message, code=error.code) from None


class AsOfForm(forms.Form):
    """The dashboard's date: blank or absent means today."""

    as_of = forms.DateField(
        label="As of",
        required=False,
        initial=today,
        validators=DATE_RANGE,
        widget=date_input(id="as-of"),
    )

    def as_of_date(self) -> datetime.date | None:
        """The date asked for (today if none); None when the input is invalid."""
        if not self.is_bound:
            return today()
        if not self.is_valid():
            return None
        return self.cleaned_data["as_of"] or today()


class AccountPayForm(forms.Form):
    """A payment against some of the account's past-due invoices (`invoices`, oldest first)."""

    invoices = forms.TypedMultipleChoiceField(
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one invoice to pay."},
    )
    amount = AmountField(
        required=False, help_text="Leave blank to pay the chosen invoices in full."
    )

    def __init__(self, *args, invoices: list[Invoice], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.payable = {invoice.pk: invoice for invoice in invoices}
        # The invoice itself as the label, for the page to show its number, due date, balance.
        self.fields["invoices"].choices = [(invoice.pk, invoice) for invoice in invoices]

    def clean(self):
        cleaned = super().clean()
        chosen = cleaned.get("invoices")
        if chosen and "amount" in cleaned and cleaned["amount"] is None:
            cleaned["amount"] = sum((self.payable[pk].balance for pk in chosen), ZERO)
        return cleaned


class ContactPayForm(forms.Form):
    """A payment collected elsewhere, spread over the contact's outstanding billing items by the
    `amount_<item pk>` fields (blank: not paid). The service judges each line on its own."""

    tender_type = forms.ModelChoiceField(
        queryset=TenderType.objects.filter(is_active=True).order_by("id"),
        empty_label="Choose a tender type",
    )
    payment_date = forms.DateField(
        initial=today, validators=DATE_RANGE, widget=date_input(), help_text="When it was paid."
    )
    reference = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, items: list[BillingItem], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[self.amount_field(item)] = forms.CharField(
                label=f"Amount for {item.description}",
                required=False,
                max_length=40,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 12}),
            )

    @staticmethod
    def amount_field(item: BillingItem) -> str:
        return f"amount_{item.pk}"

    def clean_payment_date(self) -> datetime.datetime:
        """Midnight UTC of the day: the service takes the moment the money was collected."""
        day = self.cleaned_data["payment_date"]
        return datetime.datetime.combine(day, datetime.time(), datetime.UTC)

    def clean(self):
        cleaned = super().clean()
        lines = [
            BillingLine(item.pk, cleaned[name], reference=cleaned.get("reference", ""))
            for item in self.items
            if cleaned.get(name := self.amount_field(item))
        ]
        if not lines:
            raise ValidationError("Enter an amount for at least one billing item.")
        cleaned["lines"] = lines
        return cleaned


class ReverseForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Recorded with the reversal.",
    )
