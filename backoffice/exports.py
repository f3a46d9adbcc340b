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
from invoices.due import days_late, today

from .access import StaffPageMixin
from .filters import past_due_listing

HEADER = (
    "Account number",
    "Account name",
    "Invoice number",
    "Due date",
    "Days late",
    "Amount",
    "Balance",
    "Currency",
)
CHUNK = 2000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AMOUNT_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def past_due_rows(invoices, as_of: datetime.date) -> Iterator[tuple]:
    for invoice in chunked(invoices, CHUNK):
        account = invoice.account
        yield (
            account.number,
            account.name,
            invoice.number,
            invoice.due_date,
            days_late(invoice.due_date, as_of),
            invoice.amount,
            invoice.balance,
            account.currency,
        )


def inert(text: str) -> str:
    """Text a spreadsheet will not run as a formula (names and numbers are typed by people)."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(invoices, as_of: datetime.date) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    for number, name, invoice, due, late, amount, balance, currency in past_due_rows(
        invoices, as_of
    ):
        yield writer.writerow(
            (
                number,
                inert(name),
                inert(invoice),
                due.isoformat(),
                late,
                format_amount(amount),
                format_amount(balance),
                currency,
            )
        )


def xlsx_file(invoices, as_of: datetime.date):
    """The workbook in a temporary file, rewound; the response closes (and so deletes) it."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Past due")
    sheet.freeze_panes = "A2"
    sheet.append(HEADER)
    for number, name, invoice, due, late, amount, balance, currency in past_due_rows(
        invoices, as_of
    ):
        sheet.append(
            [
                number,
                _text(sheet, name),
                _text(sheet, invoice),
                _cell(sheet, due, DATE_FORMAT),
                late,
                _cell(sheet, amount, AMOUNT_FORMAT),
                _cell(sheet, balance, AMOUNT_FORMAT),
                currency,
            ]
        )
    output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the FileResponse
    workbook.save(output)
    output.seek(0)
    return output


def _cell(sheet, value, number_format: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def _text(sheet, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # a string, even one that starts with "="
    return cell


class PastDueExport(StaffPageMixin, View):
    """The filtered list as a file; invalid filters send the user back to the list's errors."""

    @replica_reads()
    def get(self, request):
        listing = past_due_listing(request.GET)
        if not listing.filters.is_valid():
            return redirect(f"{reverse('backoffice:past-due')}?{request.GET.urlencode()}")
        as_of = today()
        return self.respond(pinned(listing.invoices), as_of, f"past-due-{as_of.isoformat()}")

    def respond(self, invoices, as_of: datetime.date, name: str):
        raise NotImplementedError


class PastDueCsvView(PastDueExport):
    def respond(self, invoices, as_of, name):
        response = StreamingHttpResponse(
            csv_lines(invoices, as_of), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response


class PastDueXlsxView(PastDueExport):
    def respond(self, invoices, as_of, name):
        return FileResponse(
            xlsx_file(invoices, as_of),
            as_attachment=True,
            filename=f"{name}.xlsx",
            content_type=XLSX,
        )
