"""The past-due list as CSV and XLSX: the page's query (filters and sort, every page of it).

Rows are read in chunks from the same filtered, sorted queryset as the page, on the replica
(`replica_reads()`; the queryset is pinned to it, since the CSV is read after the view returns),
a chunk at a time whether server-side cursors are on or off (billing_site/chunked.py, PgBouncer).
CSV is streamed as it is written, XLSX is written row by row (openpyxl's write-only mode) into a
temporary file. Amounts
are "125.00" strings in CSV and numbers (format "#,##0.00") in XLSX, with the currency beside them.
"""

import csv
import datetime
import tempfile
from collections.abc import Iterator

from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from billing_site.chunked import chunked
from billing_site.db_router import pinned, replica_reads
from billing_site.money import format_amount
from invoices.due import days_late

from .access import StaffPageMixin
from .filters import past_due_listing

# The account's credit today (held for the customer, never netted against what it owes), beside
# every row of the account, whatever the day of the list.
ACCOUNT_CREDIT = ("Account credit", lambda row: row.account.credit_balance, "amount")
# Each kind's columns: (heading, the row's value, its type: "text", "date", "amount" or "number").
COLUMNS = {
    "invoices": (
        ("Account number", lambda row: row.account.number, "number"),
        ("Account name", lambda row: row.account.name, "text"),
        ("Invoice number", lambda row: row.number, "text"),
        ("Due date", lambda row: row.due_date, "date"),
        ("Days late", None, "number"),
        ("Amount", lambda row: row.amount, "amount"),
        ("Balance", lambda row: row.owed, "amount"),
        ("Currency", lambda row: row.account.currency, "text"),
        ACCOUNT_CREDIT,
    ),
    "items": (
        ("Account number", lambda row: row.account.number, "number"),
        ("Account name", lambda row: row.account.name, "text"),
        ("Contact", lambda row: str(row.contact), "text"),
        ("Billing item", lambda row: row.pk, "number"),
        ("Description", lambda row: row.description, "text"),
        ("Due date", lambda row: row.due_date, "date"),
        ("Days late", None, "number"),
        ("Amount", lambda row: row.total_amount, "amount"),
        ("Balance", lambda row: row.owed, "amount"),
        ("Currency", lambda row: row.account.currency, "text"),
        ACCOUNT_CREDIT,
    ),
}
CHUNK = 2000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AMOUNT_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def header(kind: str) -> tuple[str, ...]:
    return tuple(heading for heading, _value, _type in COLUMNS[kind])


def past_due_rows(kind: str, rows, as_of: datetime.date) -> Iterator[list[tuple[object, str]]]:
    """Each row as (value, type) cells; days late are counted on `as_of`."""
    for row in chunked(rows, CHUNK):
        yield [
            (value(row) if value else days_late(row.due_date, as_of), kind_of)
            for _heading, value, kind_of in COLUMNS[kind]
        ]


def inert(text: str) -> str:
    """Text a spreadsheet will not run as a formula (names and numbers are typed by people)."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


CSV_FORM = {
    "text": inert,
    "date": datetime.date.isoformat,
    "amount": format_amount,
    "number": str,
}


def csv_lines(kind: str, rows, as_of: datetime.date) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(header(kind))
    for cells in past_due_rows(kind, rows, as_of):
        yield writer.writerow([CSV_FORM[type_](value) for value, type_ in cells])


def xlsx_file(kind: str, rows, as_of: datetime.date):
    """The workbook in a temporary file, rewound; the response closes (and so deletes) it."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Past due")
    sheet.freeze_panes = "A2"
    sheet.append(header(kind))
    for cells in past_due_rows(kind, rows, as_of):
        sheet.append([_xlsx_cell(sheet, value, type_) for value, type_ in cells])
    output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the FileResponse
    workbook.save(output)
    output.seek(0)
    return output


def _xlsx_cell(sheet, value, type_: str):
    if type_ == "number":
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if type_ == "text":
        cell.data_type = "s"  # a string, even one that starts with "="
    else:
        cell.number_format = DATE_FORMAT if type_ == "date" else AMOUNT_FORMAT
    return cell


class PastDueExport(StaffPageMixin, View):
    """The filtered list as a file; invalid filters send the user back to the list's errors."""

    @replica_reads()
    def get(self, request):
        listing = past_due_listing(request.GET, with_totals=False)
        if listing.as_of is None:
            return redirect(f"{reverse('backoffice:past-due')}?{request.GET.urlencode()}")
        kind = listing.kind.key
        name = f"past-due-{kind}-{listing.as_of.isoformat()}"
        return self.respond(kind, pinned(listing.rows), listing.as_of, name)

    def respond(self, kind: str, rows, as_of: datetime.date, name: str):
        raise NotImplementedError


class PastDueCsvView(PastDueExport):
    def respond(self, kind, rows, as_of, name):
        response = StreamingHttpResponse(
            csv_lines(kind, rows, as_of), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response


class PastDueXlsxView(PastDueExport):
    def respond(self, kind, rows, as_of, name):
        return FileResponse(
            xlsx_file(kind, rows, as_of),
            as_attachment=True,
            filename=f"{name}.xlsx",
            content_type=XLSX,
        )
