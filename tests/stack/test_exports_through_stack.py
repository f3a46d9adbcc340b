"""The past-due exports through nginx and PgBouncer in transaction mode. They read in chunks
(`QuerySet.iterator`), which would be a server-side cursor kept across transactions, gone on the
next server connection PgBouncer lends; with DB_TRANSACTION_POOLING=1 it is a plain query."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest

from .staff import signed_in


@pytest.fixture(scope="module")
def exported(stack):
    (client,) = stack.seed(what="clients", count=1, each=3)
    return client, signed_in(stack)


def test_the_past_due_csv_through_the_stack(stack, exported):
    client, staff = exported
    response = staff.get(
        f"{stack.url}/backoffice/past-due/export.csv",
        params={"account": client["account_pk"]},
        timeout=30,
    )
    assert response.status_code == 200, response.text[:500]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["Account number", "Account name", "Invoice number"]
    assert sorted(Decimal(row[6]) for row in rows[1:]) == sorted(
        Decimal(invoice["amount"]) for invoice in client["invoices"]
    )
    assert {row[0] for row in rows[1:]} == {str(client["account"])}


def test_the_past_due_xlsx_through_the_stack(stack, exported):
    client, staff = exported
    response = staff.get(
        f"{stack.url}/backoffice/past-due/export.xlsx",
        params={"account": client["account_pk"]},
        timeout=30,
    )
    assert response.status_code == 200, response.text[:500]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Account number"
    assert sorted(Decimal(str(row[6])) for row in rows[1:]) == sorted(
        Decimal(invoice["amount"]) for invoice in client["invoices"]
    )
