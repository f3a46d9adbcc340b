"""A statement as a PDF a customer can be sent (reportlab, in the invoice PDF's look).

The account (and contact), the period, the opening balance, the movements with the running
balance, the closing balance, and what was owed on the last day by lateness, less the credit.
"""

from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from billing_site.money import display_amount
from payments.receivables import AGEING_BUCKETS

from .render import title
from .selectors import Statement

HEADING = colors.HexColor("#417690")
BUCKET_HEADINGS = {
    "current": "Not yet due",
    "1-30": "1-30 days",
    "31-60": "31-60 days",
    "61-90": "61-90 days",
    "90+": "Over 90 days",
}


def _table(rows, widths, total_rows=()) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = [
        ("BACKGROUND", (0, 0), (-1, 0), HEADING),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    for index in total_rows:
        style.append(("FONTNAME", (0, index), (-1, index), "Helvetica-Bold"))
    table.setStyle(TableStyle(style))
    return table


def statement_pdf(statement: Statement) -> bytes:
    styles = getSampleStyleSheet()
    currency = statement.currency
    heading = title(statement)
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=heading,
        author="Billing back office",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
    )
    rows = [["Date", "Movement", "Reference", f"Amount ({currency})", f"Balance ({currency})"]]
    rows.append(["", "Opening balance", "", "", display_amount(statement.opening_balance)])
    rows += [
        [
            m.date.isoformat(),
            m.label,
            Paragraph(escape(m.reference), styles["BodyText"]),
            display_amount(m.amount),
            display_amount(m.balance),
        ]
        for m in statement.movements
    ]
    rows.append(["", "Closing balance", "", "", display_amount(statement.closing_balance)])
    movements = _table(
        rows, [24 * mm, 46 * mm, 38 * mm, 33 * mm, 33 * mm], total_rows=(1, len(rows) - 1)
    )
    movements.setStyle(TableStyle([("ALIGN", (3, 0), (4, -1), "RIGHT")]))
    owed = statement.invoices_or_items
    ageing = [[BUCKET_HEADINGS[b] for b in AGEING_BUCKETS] + [f"Total ({currency})"]]
    ageing.append(
        [display_amount(statement.ageing[b]) for b in AGEING_BUCKETS]
        + [display_amount(statement.owed)]
    )
    ageing_table = _table(ageing, [29 * mm] * 6)
    ageing_table.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "RIGHT")]))
    closing = [["Closing balance", f"{display_amount(statement.closing_balance)} {currency}"]]
    if statement.contact is None:
        closing.insert(0, [owed, f"{display_amount(statement.owed)} {currency}"])
        closing.insert(1, ["Less credit", f"{display_amount(statement.credit)} {currency}"])
    summary = Table(closing, colWidths=[45 * mm, 45 * mm], hAlign="RIGHT")
    summary.setStyle(
        TableStyle(
            [
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black),
            ]
        )
    )
    period = f"{statement.start.isoformat()} to {statement.end.isoformat()}"
    document.build(
        [
            Paragraph(escape(heading), styles["Title"]),
            Paragraph(escape(f"Period: {period}. Amounts in {currency}."), styles["Normal"]),
            Paragraph(
                "A positive balance is owed by you; a negative one is in your favour.",
                styles["Normal"],
            ),
            Spacer(1, 6 * mm),
            movements,
            Spacer(1, 6 * mm),
            # The ageing and the closing figures on one page, after the movements.
            KeepTogether(
                [
                    Paragraph(
                        escape(f"{owed} on {statement.end.isoformat()}, by lateness"),
                        styles["Heading3"],
                    ),
                    ageing_table,
                    Spacer(1, 6 * mm),
                    summary,
                ]
            ),
        ]
    )
    return buffer.getvalue()
