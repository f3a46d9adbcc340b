"""A credit note as a PDF, in the invoice's style (invoices/pdf.py: A4, the same title, header
colour and grid): number, date, the invoice it credits, reason, lines, and how its amount split
between the invoice's balance and the account's credit."""

from io import BytesIO
from xml.sax.saxutils import escape

from django.http import HttpResponse
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from billing_site.money import format_amount
from payments.models import CreditNote

HEADER = colors.HexColor("#417690")  # the invoice PDF's


def credit_note_pdf(note: CreditNote) -> bytes:
    """`note` with its account, invoice and lines loaded."""
    styles = getSampleStyleSheet()
    currency = note.account.currency
    title = f"Credit note {note.number}"
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author="Billing back office",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
    )
    rows = [["Description", "Amount"]]
    rows += [
        [Paragraph(escape(line.description), styles["BodyText"]), format_amount(line.amount)]
        for line in note.lines.all()
    ]
    lines = Table(rows, colWidths=[134 * mm, 40 * mm])
    lines.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), HEADER),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    totals = Table(
        [
            ["Credit note total", f"{format_amount(note.amount)} {currency}"],
            [
                f"Off invoice {note.invoice.number}",
                f"{format_amount(note.applied_amount)} {currency}",
            ],
            ["To the account's credit", f"{format_amount(note.credit_amount)} {currency}"],
        ],
        colWidths=[60 * mm, 40 * mm],
        hAlign="RIGHT",
    )
    totals.setStyle(TableStyle([("ALIGN", (1, 0), (1, -1), "RIGHT")]))
    document.build(
        [
            Paragraph(escape(title), styles["Title"]),
            Paragraph(
                escape(f"{note.account.name} (account {note.account.number})"), styles["Normal"]
            ),
            Paragraph(
                escape(
                    f"Issued {note.issue_date.isoformat()}, crediting invoice {note.invoice.number}"
                ),
                styles["Normal"],
            ),
            Paragraph(escape(f"Reason: {note.reason}"), styles["Normal"]),
            Spacer(1, 8 * mm),
            lines,
            Spacer(1, 6 * mm),
            totals,
        ]
    )
    return buffer.getvalue()


def credit_note_response(note: CreditNote) -> HttpResponse:
    return HttpResponse(
        credit_note_pdf(note),
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="credit-note-{note.pk}.pdf"'},
    )
