"""The read endpoints' bodies as plain dicts, from `values()` rows.

The same keys, order and formatting as the serializers in .serializers (which stay the schema's
description of them, and are what tests/test_api_docusign_bodies.py compares these with): running
those serializers over model instances was most of the CPU of a read. Each field is formatted by
the same function its serializer field uses (`format_amount`, DRF's date and datetime fields),
except a payment's amount and date, which its statement already selects as that text
(payments.selectors).
"""

import datetime

from django.utils import timezone
from rest_framework import serializers

from billing_site.money import ZERO, format_amount
from invoices.selectors import PastDueRows

_date = serializers.DateField().to_representation


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
    """`payment_item_body` of each row, the way of writing `paymentDate` chosen once."""
    date_text = payment_date_writer()
    return [payment_item_body(payment, date_text) for payment in payments]


def payment_item_body(payment: dict, date_text=None) -> dict:
    """`billingPaymentItem` (BillingPaymentItemSerializer) of a `payments.selectors` row, whose
    amount and payment date are already text (`_ITEM_COLUMNS`)."""
    pk = payment["pk"]
    description = payment["description"] or f"Payment P{pk:08d}"  # Payment.number
    if payment["reversal"] is not None:
        description = f"{description} (reversed)"
    return {
        "amount": payment["amount"],
        "description": description,
        "paymentDate": (date_text or payment_date_writer())(payment["payment_date"]),
        "paymentId": str(pk),
        "paymentNumber": f"P{pk:08d}",
    }


def payment_date_writer():
    """What DRF's DateTimeField writes for a row's payment date, given as UTC text with six
    fractional digits ("2026-03-05T12:00:00.000000Z"): in the current time zone, which is UTC
    (settings.TIME_ZONE, never activated otherwise), that text without a zero fraction; in any
    other zone, the field's own output for that instant."""
    zone = timezone.get_current_timezone()
    if zone is datetime.UTC or getattr(zone, "key", None) == "UTC":
        return _utc_text
    to_representation = serializers.DateTimeField(default_timezone=zone).to_representation
    return lambda text: to_representation(datetime.datetime.fromisoformat(text))


def _utc_text(text: str) -> str:
    return f"{text[:-8]}Z" if text.endswith(".000000Z") else text
