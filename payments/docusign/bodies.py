"""The read endpoints' bodies as plain dicts, from `values()` rows.

The same keys, order and formatting as the serializers in .serializers (which stay the schema's
description of them, and are what tests/test_api_docusign_bodies.py compares these with): running
those serializers over model instances was most of the CPU of a read. Each field is formatted by
the same function its serializer field uses (`format_amount`, DRF's date and datetime fields).
"""

from rest_framework import serializers

from billing_site.money import ZERO, format_amount
from invoices.selectors import PastDueRows

_date = serializers.DateField().to_representation
_datetime = serializers.DateTimeField().to_representation


def past_due_body(summary: PastDueRows, invoice_uri_prefix: str) -> dict:
    """`billingInvoicesSummary` (BillingInvoicesSummarySerializer); an invoice's `invoiceUri` is
    `invoice_uri_prefix` followed by its id."""
    return {
        "accountBalance": format_amount(summary.account_balance),
        "billingInvoices": [
            invoice_body(invoice, invoice_uri_prefix) for invoice in summary.invoices
        ],
        "currencyCode": str(summary.account.currency),
        "pastDueBalance": format_amount(summary.past_due_balance),
        "paymentAllowed": "true" if summary.payment_allowed else "false",
    }


def invoice_body(invoice: dict, invoice_uri_prefix: str) -> dict:
    """`billingInvoice` (BillingInvoiceSerializer) of an invoice row with its "items"."""
    items = invoice["items"]
    non_taxable = sum((item["tax_exempt_amount"] for item in items), ZERO)
    charged = sum((item["charge_amount"] for item in items), ZERO)
    return {
        "amount": format_amount(invoice["amount"]),
        "balance": format_amount(invoice["balance"]),
        "dueDate": _date(invoice["due_date"]),
        "invoiceId": str(invoice["pk"]),
        "invoiceItems": [
            {
                "chargeAmount": format_amount(item["charge_amount"]),
                "chargeName": str(item["charge_name"]),
                "invoiceItemId": str(item["pk"]),
                "quantity": str(item["quantity"]),
                "taxAmount": format_amount(item["tax_amount"]),
                "taxExemptAmount": format_amount(item["tax_exempt_amount"]),
                "unitPrice": format_amount(item["unit_price"]),
            }
            for item in items
        ],
        "invoiceNumber": str(invoice["number"]),
        "invoiceUri": f"{invoice_uri_prefix}{invoice['pk']}",
        "nonTaxableAmount": format_amount(non_taxable),
        "pdfAvailable": "true",
        "taxableAmount": format_amount(charged - non_taxable),
    }


def payment_items_body(payments) -> list[dict]:
    """`payment_item_body` of each row, the current time zone looked up once rather than by
    each row's `paymentDate` (half the cost of a row)."""
    datetime_field = serializers.DateTimeField()
    datetime_field = serializers.DateTimeField(default_timezone=datetime_field.default_timezone())
    return [payment_item_body(payment, datetime_field.to_representation) for payment in payments]


def payment_item_body(payment: dict, datetime_text=_datetime) -> dict:
    """`billingPaymentItem` (BillingPaymentItemSerializer) of an `account_payment_rows` row."""
    pk = payment["pk"]
    description = payment["description"] or f"Payment P{pk:08d}"  # Payment.number
    if payment["reversal"] is not None:
        description = f"{description} (reversed)"
    return {
        "amount": format_amount(payment["amount"]),
        "description": description,
        "paymentDate": datetime_text(payment["payment_date"]),
        "paymentId": str(pk),
        "paymentNumber": f"P{pk:08d}",
    }
