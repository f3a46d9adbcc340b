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
FROM_FIRST_DATE = MinValueValidator(FIRST_DATE, f"Enter a date from {FIRST_DATE.isoformat()}.")
DATE_RANGE = [
    FROM_FIRST_DATE,
    MaxValueValidator(LAST_DATE, f"Enter a date up to {LAST_DATE.isoformat()}."),
]
# A payment is dated today (UTC) at the latest: one dated later would count in the "as of today"
# figures before the money is there. `today` is called at each check, not once at import.
PAYMENT_DATE_RANGE = [
    FROM_FIRST_DATE,
    MaxValueValidator(today, "A payment cannot be dated after today (%(limit_value)s UTC)."),
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


class NotesField(forms.CharField):
    r"""Free text in a textarea; line breaks as "\n" whatever the browser sent ("\r\n"), so that
    its length is counted as the textarea counts it."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n")


class PaymentDetailsForm(forms.Form):
    """What any recorded payment has besides its amounts: how and when it was paid, the partner's
    reference and the clerk's notes. Shared by the account and the contact payment forms."""

    NOTES_MAX_LENGTH = 2000

    tender_type = forms.ModelChoiceField(
        queryset=TenderType.objects.filter(is_active=True).order_by("id"),
        empty_label="Choose a tender type",
    )
    payment_date = forms.DateField(
        initial=today,
        validators=PAYMENT_DATE_RANGE,
        widget=date_input(min=FIRST_DATE.isoformat()),
        help_text="When it was paid: today at the latest.",
    )
    reference = forms.CharField(
        max_length=200,
        required=False,
        help_text="The partner's reference, for reconciliation.",
        widget=forms.TextInput(attrs={"size": 40}),
    )
    notes = NotesField(
        max_length=NOTES_MAX_LENGTH,
        required=False,
        help_text="Kept with the payment.",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The date picker offers no day after today (the server checks it all the same).
        self.fields["payment_date"].widget.attrs["max"] = today().isoformat()

    def detail_fields(self) -> list:
        """The details' bound fields, for the page to show them together."""
        return [self[name] for name in PaymentDetailsForm.base_fields]

    def clean_payment_date(self) -> datetime.datetime:
        """Midnight UTC of the day: the services take the moment the money was collected."""
        day = self.cleaned_data["payment_date"]
        return datetime.datetime.combine(day, datetime.time(), datetime.UTC)

    def details(self) -> dict:
        """The cleaned details as the money services take them."""
        return {
            "tender_type_id": self.cleaned_data["tender_type"].pk,
            "payment_date": self.cleaned_data["payment_date"],
            "reference": self.cleaned_data["reference"],
            "notes": self.cleaned_data["notes"],
        }


class AccountPayForm(PaymentDetailsForm):
    """A payment against some of the account's past-due invoices (`invoices`, oldest first)."""

    field_order = [
        "invoices",
        "amount",
        "to_credit",
        "tender_type",
        "payment_date",
        "reference",
        "notes",
    ]

    invoices = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    amount = AmountField(
        required=False, help_text="Leave blank to pay the chosen invoices in full."
    )
    # Staff recording money received: what the chosen invoices do not take (all of it, if none
    # is chosen) goes to the account's credit. Without it, more than they owe is refused.
    to_credit = forms.BooleanField(required=False, label="Put what is left on the account's credit")

    def __init__(self, *args, invoices: list[Invoice], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.payable = {invoice.pk: invoice for invoice in invoices}
        # The invoice itself as the label, for the page to show its number, due date, balance.
        self.fields["invoices"].choices = [(invoice.pk, invoice) for invoice in invoices]

    def clean(self):
        cleaned = super().clean()
        chosen = cleaned.get("invoices")
        if "invoices" in self.errors:
            pass  # an invalid choice says so already
        elif not chosen and not cleaned.get("to_credit"):
            self.add_error("invoices", "Choose at least one invoice to pay.")
        elif not chosen and "amount" in cleaned and cleaned["amount"] is None:
            self.add_error("amount", "Enter the amount received.")
        if chosen and "amount" in cleaned and cleaned["amount"] is None:
            cleaned["amount"] = sum((self.payable[pk].balance for pk in chosen), ZERO)
        return cleaned


class ContactPayForm(PaymentDetailsForm):
    """A payment collected elsewhere, spread over the contact's outstanding billing items by the
    `amount_<item pk>` fields (blank: not paid). The service judges each line on its own."""

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
