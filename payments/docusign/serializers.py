"""DocuSign's billing models: camelCase names, every value a string (amounts "125.00")."""

from decimal import Decimal

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from billing_site.api.fields import AmountString, BooleanString, DecimalInput
from billing_site.money import ZERO


class BillingInvoiceItemSerializer(serializers.Serializer):
    chargeAmount = AmountString(source="charge_amount")
    chargeName = serializers.CharField(source="charge_name")
    invoiceItemId = serializers.CharField(source="pk")
    quantity = serializers.CharField()
    taxAmount = AmountString(source="tax_amount")
    taxExemptAmount = AmountString(source="tax_exempt_amount")
    unitPrice = AmountString(source="unit_price")


class BillingInvoiceSerializer(serializers.Serializer):
    """`billingInvoice`. Needs `view` in its context, to build `invoiceUri` on the same mount."""

    amount = AmountString()
    balance = AmountString()
    dueDate = serializers.DateField(source="due_date")
    invoiceId = serializers.CharField(source="pk")
    invoiceItems = BillingInvoiceItemSerializer(source="items.all", many=True)
    invoiceNumber = serializers.CharField(source="number")
    invoiceUri = serializers.SerializerMethodField()
    nonTaxableAmount = serializers.SerializerMethodField()
    pdfAvailable = serializers.SerializerMethodField()
    taxableAmount = serializers.SerializerMethodField()

    def get_invoiceUri(self, invoice) -> str:
        # The account's number, whichever form of {accountId} the request used, so that the
        # same invoice always has the same URI (number and GUID requests give identical bodies).
        view = self.context["view"]
        return reverse(
            f"{view.request.resolver_match.namespace}:billing-invoices-detail",
            kwargs={"account_id": view.account.number, "pk": invoice.pk},
        )

    def get_nonTaxableAmount(self, invoice) -> str:
        return AmountString().to_representation(self._non_taxable(invoice))

    def get_taxableAmount(self, invoice) -> str:
        charged = sum((item.charge_amount for item in invoice.items.all()), ZERO)
        return AmountString().to_representation(charged - self._non_taxable(invoice))

    def get_pdfAvailable(self, invoice) -> str:
        return BooleanString().to_representation(True)

    @staticmethod
    def _non_taxable(invoice) -> Decimal:
        return sum((item.tax_exempt_amount for item in invoice.items.all()), ZERO)


@extend_schema_serializer(many=False)  # the "list" action answers one summary, not an array
class BillingInvoicesSummarySerializer(serializers.Serializer):
    """`billingInvoicesSummary`, from an `invoices.selectors.PastDueSummary`."""

    accountBalance = AmountString(source="account_balance")
    billingInvoices = BillingInvoiceSerializer(source="invoices", many=True)
    currencyCode = serializers.CharField(source="account.currency")
    pastDueBalance = AmountString(source="past_due_balance")
    paymentAllowed = BooleanString(source="payment_allowed")


class BillingPaymentItemSerializer(serializers.Serializer):
    """`billingPaymentItem`: one payment as listed or fetched."""

    amount = AmountString()
    description = serializers.SerializerMethodField()
    paymentDate = serializers.DateTimeField(source="payment_date")
    paymentId = serializers.CharField(source="pk")
    paymentNumber = serializers.CharField(source="number")

    def get_description(self, payment) -> str:
        description = payment.description or f"Payment {payment.number}"
        if hasattr(payment, "reversal"):
            return f"{description} (reversed)"
        return description


class BillingPaymentSerializer(serializers.Serializer):
    """`billingPayment`: the part of a new payment applied to one invoice."""

    amount = AmountString()
    invoiceId = serializers.CharField(source="invoice_id")
    paymentId = serializers.CharField(source="payment_id")


class BillingPaymentResponseSerializer(serializers.Serializer):
    billingPayments = BillingPaymentSerializer(source="allocations", many=True)


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "number"}], "example": "125.00"})
class AmountInput(DecimalInput):
    """`paymentAmount` as a JSON string or number."""

    default_error_messages = {"invalid": 'A decimal number is required, e.g. "125.00".'}


@extend_schema_field(
    {
        "oneOf": [{"type": "string", "pattern": "^[0-9]+$"}, {"type": "integer", "minimum": 1}],
        "example": "17",
    }
)
class InvoiceIdInput(serializers.IntegerField):
    """`invoiceId` as a JSON string (`"17"`, DocuSign's typing, as `invoiceId` is answered) or
    number."""


class BillingPaymentRequestSerializer(serializers.Serializer):
    """`billingPaymentRequest`. `invoiceId` (ours) limits the payment to one past-due invoice."""

    paymentAmount = AmountInput(help_text="Must equal pastDueBalance (or the invoice's balance).")
    invoiceId = InvoiceIdInput(
        required=False, min_value=1, help_text="Pay only this past-due invoice, in full."
    )


class ErrorSerializer(serializers.Serializer):
    """DocuSign's error body (/restapi mount)."""

    errorCode = serializers.CharField()
    message = serializers.CharField()


class EnvelopedErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField(help_text="`errorCode`: the /restapi code; more by case.")


class EnvelopedErrorSerializer(serializers.Serializer):
    """The seed mount's error body: `{"success": false, "error": {...}}`."""

    success = serializers.BooleanField(help_text="Always false.")
    error = EnvelopedErrorDetailSerializer()
