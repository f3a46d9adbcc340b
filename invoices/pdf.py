"""An invoice as a PDF document (reportlab): number, dates, items and amounts.

One document for everyone who may read it: the DocuSign API serves it to partners (`Accept:
application/pdf`) and the back office to staff (/backoffice/invoices/<id>/pdf), both through
`pdf_response`.
"""

from io import BytesIO
from xml.sax.saxutils import escape

from django.http import HttpResponse
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from billing_site.money import format_amount

from .models import Invoice, InvoiceStatus


def invoice_pdf(invoice: Invoice) -> bytes:
    """Render `invoice` (with `items` and `account` loaded) to PDF bytes."""
    styles = getSampleStyleSheet()
    currency = invoice.account.currency
    void = invoice.status == InvoiceStatus.VOID  # staff may open one; the API never serves it
    title = f"Invoice {invoice.number}" + (" (void)" if void else "")
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author="Billing back office",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
    )
    rows = [["Item", "Quantity", "Unit price", "Charge", "Tax", "Tax exempt"]]
    rows += [
        [
            Paragraph(escape(item.charge_name), styles["BodyText"]),
            str(item.quantity),
            format_amount(item.unit_price),
            format_amount(item.charge_amount),
            format_amount(item.tax_amount),
            format_amount(item.tax_exempt_amount),
        ]
        for item in invoice.items.all()
    ]
    items = Table(rows, colWidths=[62 * mm, 20 * mm, 24 * mm, 24 * mm, 22 * mm, 22 * mm])
    items.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#417690")),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    totals = Table(
        [
            ["Amount", f"{format_amount(invoice.amount)} {currency}"],
            [
                "Balance due",
                "Void: nothing is due" if void else f"{format_amount(invoice.balance)} {currency}",
            ],
        ],
        colWidths=[40 * mm, 40 * mm],
        hAlign="RIGHT",
    )
    totals.setStyle(TableStyle([("ALIGN", (1, 0), (1, -1), "RIGHT")]))
    document.build(
        [
            Paragraph(escape(title), styles["Title"]),
            Paragraph(
                escape(f"{invoice.account.name} (account {invoice.account.number})"),
                styles["Normal"],
            ),
            Paragraph(
                f"Issued {invoice.issue_date.isoformat()}, due {invoice.due_date.isoformat()}",
                styles["Normal"],
            ),
            Spacer(1, 8 * mm),
            items,
            Spacer(1, 6 * mm),
            totals,
        ]
    )
    return buffer.getvalue()


def pdf_response(invoice: Invoice) -> HttpResponse:
    """`invoice` (with `items` and `account` loaded) as an inline PDF answer."""
    return HttpResponse(
        invoice_pdf(invoice),
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="invoice-{invoice.pk}.pdf"'},
    )
