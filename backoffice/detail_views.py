"""The invoice and payment pages, and an invoice's PDF: what a figure or a row leads to.

Each reads the primary, like the account and contact pages they link with; one selector each.
"""

from django.http import Http404
from django.views import View

from invoices.models import Invoice
from invoices.pdf import pdf_response

from .access import StaffPageMixin
from .credit_selectors import invoice_credit, payment_refunds
from .errors import get_or_404
from .selectors import invoice_overview, payment_overview


class InvoiceView(StaffPageMixin, View):
    """Any invoice, void ones too (shown as void): its items and the payments allocated to it."""

    def get(self, request, pk: int):
        invoice = get_or_404(Invoice.objects.select_related("account"), pk, "invoice")
        applications, credit_notes = invoice_credit(invoice)
        return self.render(
            "backoffice/invoice.html",
            overview=invoice_overview(invoice),
            credit_applications=applications,
            credit_notes=credit_notes,
        )


class InvoicePdfView(StaffPageMixin, View):
    """The invoice as the DocuSign API serves it to partners (invoices/pdf.py)."""

    def get(self, request, pk: int):
        invoices = Invoice.objects.select_related("account").prefetch_related("items")
        return pdf_response(get_or_404(invoices, pk, "invoice"))


class PaymentView(StaffPageMixin, View):
    def get(self, request, pk: int):
        payment = payment_overview(pk)
        if payment is None:
            raise Http404(f"No payment {pk}")
        return self.render(
            "backoffice/payment.html", payment=payment, refunds=payment_refunds(payment)
        )
