"""A statement as data for scripts (JSON), as CSV and as a plain-text table.

Amounts are plain decimals with two places ("-125.00"), signed as they move the balance; dates
are ISO. The PDF is statements/pdf.py, the page templates/backoffice/statement.html.
"""

import csv
import io

from backoffice.exports import inert
from billing_site.money import format_amount

from .selectors import Statement

CSV_HEADER = ("date", "kind", "reference", "amount", "balance")


def statement_data(statement: Statement) -> dict:
    """What `manage.py statement --json` prints."""
    data = {
        "account": statement.account.number,
        "currency": statement.currency,
        "from": statement.start.isoformat(),
        "to": statement.end.isoformat(),
        "opening_balance": format_amount(statement.opening_balance),
        "closing_balance": format_amount(statement.closing_balance),
        "movements": [
            {
                "date": movement.date.isoformat(),
                "kind": movement.kind,
                "reference": movement.reference,
                "amount": format_amount(movement.amount),
                "balance": format_amount(movement.balance),
            }
            for movement in statement.movements
        ],
        "ageing": {bucket: format_amount(owed) for bucket, owed in statement.ageing.items()},
    }
    if statement.contact is None:
        data["credit"] = format_amount(statement.credit)
    else:
        data["contact"] = str(statement.contact.guid)
    return data


def statement_csv(statement: Statement) -> str:
    """One row per movement, under a header. A reference typed by someone (an invoice or credit
    note number) that a spreadsheet would run as a formula is quoted, as the past-due export
    does; amounts are left as they are ("-150.00")."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for movement in statement.movements:
        writer.writerow(
            (
                movement.date.isoformat(),
                movement.kind,
                inert(movement.reference),
                format_amount(movement.amount),
                format_amount(movement.balance),
            )
        )
    return out.getvalue()


def title(statement: Statement) -> str:
    account = statement.account
    whose = f"account {account.number} {account.name}"
    if statement.contact is not None:
        whose = f"{statement.contact}, contact of {whose}"
    return f"Statement of {whose}"


def statement_text(statement: Statement) -> str:
    """A table for reading in a terminal."""
    row = "{:<10}  {:<26}  {:<16}  {:>12}  {:>12}"
    lines = [
        f"{title(statement)} ({statement.currency})",
        f"From {statement.start.isoformat()} to {statement.end.isoformat()}",
        "",
        row.format("Date", "Movement", "Reference", "Amount", "Balance"),
        row.format("", "Opening balance", "", "", format_amount(statement.opening_balance)),
    ]
    lines += [
        row.format(
            m.date.isoformat(),
            m.label,
            m.reference,
            format_amount(m.amount),
            format_amount(m.balance),
        )
        for m in statement.movements
    ]
    lines.append(
        row.format("", "Closing balance", "", "", format_amount(statement.closing_balance))
    )
    ageing = ", ".join(
        f"{bucket} {format_amount(owed)}" for bucket, owed in statement.ageing.items()
    )
    lines += ["", f"Owed on {statement.end.isoformat()} by lateness: {ageing}"]
    if statement.contact is None:
        lines.append(f"Less the account's credit: {format_amount(statement.credit)}")
    return "\n".join(lines) + "\n"
