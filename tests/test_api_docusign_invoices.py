"""GET billing_invoices and GET billing_invoices/{id} (DocuSign listInvoices, getInvoice), as JSON
on both mounts and as a PDF."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader

from invoices.models import InvoiceStatus
from tests.docusign_api import PREFIXES, both_mounts, data, error, get, url
from tests.factories import (
    InvoiceFactory,
    InvoiceItemFactory,
    days_ago,
)

pytestmark = pytest.mark.django_db

INVOICES = "billing_invoices"


def on(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


@pytest.fixture
def invoice(account):
    """A partly paid invoice of 105.50 (balance 60.25) with a taxed and a tax-exempt item."""
    invoice = InvoiceFactory(
        account=account,
        number="INV-2025-0042",
        issue_date=on("2025-03-01"),
        due_date=on("2025-03-31"),
        amount=Decimal("105.50"),
        balance=Decimal("60.25"),
    )
    InvoiceItemFactory(
        invoice=invoice,
        charge_name="Envelopes & <signing>",
        quantity=3,
        unit_price=Decimal("25.00"),
        tax_amount=Decimal("0.50"),
    )
    InvoiceItemFactory(
        invoice=invoice,
        charge_name="Support plan",
        quantity=1,
        unit_price=Decimal("30.00"),
        tax_exempt_amount=Decimal("30.00"),
    )
    return invoice


def invoice_body(mount, invoice, *, taxable: str, non_taxable: str) -> dict:
    return {
        "amount": f"{invoice.amount:.2f}",
        "balance": f"{invoice.balance:.2f}",
        "dueDate": invoice.due_date.isoformat(),
        "invoiceId": str(invoice.pk),
        "invoiceItems": [
            {
                "chargeAmount": f"{item.charge_amount:.2f}",
                "chargeName": item.charge_name,
                "invoiceItemId": str(item.pk),
                "quantity": str(item.quantity),
                "taxAmount": f"{item.tax_amount:.2f}",
                "taxExemptAmount": f"{item.tax_exempt_amount:.2f}",
                "unitPrice": f"{item.unit_price:.2f}",
            }
            for item in invoice.items.order_by("pk")
        ],
        "invoiceNumber": invoice.number,
        "invoiceUri": f"{PREFIXES[mount]}/{invoice.account.number}/{INVOICES}/{invoice.pk}",
        "nonTaxableAmount": non_taxable,
        "pdfAvailable": "true",
        "taxableAmount": taxable,
    }


# GET billing_invoices/{invoiceId}


@both_mounts
def test_get_invoice_exact_body(client, mount, account, credential, invoice):
    response = get(client, url(mount, account, f"{INVOICES}/{invoice.pk}"), credential)

    body = data(mount, response)
    assert body == {
        "amount": "105.50",
        "balance": "60.25",
        "dueDate": "2025-03-31",
        "invoiceId": str(invoice.pk),
        "invoiceItems": [
            {
                "chargeAmount": "75.00",
                "chargeName": "Envelopes & <signing>",
                "invoiceItemId": str(invoice.items.order_by("pk")[0].pk),
                "quantity": "3",
                "taxAmount": "0.50",
                "taxExemptAmount": "0.00",
                "unitPrice": "25.00",
            },
            {
                "chargeAmount": "30.00",
                "chargeName": "Support plan",
                "invoiceItemId": str(invoice.items.order_by("pk")[1].pk),
                "quantity": "1",
                "taxAmount": "0.00",
                "taxExemptAmount": "30.00",
                "unitPrice": "30.00",
            },
        ],
        "invoiceNumber": "INV-2025-0042",
        "invoiceUri": f"{PREFIXES[mount]}/{account.number}/{INVOICES}/{invoice.pk}",
        "nonTaxableAmount": "30.00",
        "pdfAvailable": "true",
        "taxableAmount": "75.00",
    }


@both_mounts
def test_invoice_uri_answers_the_same_invoice(client, mount, account, credential, invoice):
    first = data(
        mount, get(client, url(mount, str(account.guid), f"{INVOICES}/{invoice.pk}"), credential)
    )

    again = data(mount, get(client, first["invoiceUri"], credential))

    assert again == first


@both_mounts
def test_get_paid_invoice(client, mount, account, credential):
    paid = InvoiceFactory(account=account, balance=Decimal("0"))

    body = data(mount, get(client, url(mount, account, f"{INVOICES}/{paid.pk}"), credential))

    assert body == invoice_body(mount, paid, taxable="0.00", non_taxable="0.00")
    assert body["balance"] == "0.00"


@both_mounts
@pytest.mark.parametrize(
    "which", ["others", "unknown", "void", "abc", "huge", "negative", "superscript"]
)
def test_get_invoice_not_found(client, mount, account, credential, which):
    others = InvoiceFactory()
    invoice_id = {
        "others": str(others.pk),
        "unknown": str(others.pk + 1000),
        "void": str(InvoiceFactory(account=account, status=InvoiceStatus.VOID).pk),
        "abc": "abc",
        "huge": "9" * 30,
        "negative": "-1",
        "superscript": "\u00b2",
    }[which]

    response = get(client, url(mount, account, f"{INVOICES}/{invoice_id}"), credential)

    message, details = error(mount, response, 404, "INVOICE_NOT_FOUND")
    assert message == f"Invoice {invoice_id!r} was not found in this account."
    if mount == "seed":
        assert details == {}


# GET billing_invoices/{invoiceId} with Accept: application/pdf


def pdf_text(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


@both_mounts
def test_invoice_as_pdf(client, mount, account, credential, invoice):
    response = get(
        client,
        url(mount, account, f"{INVOICES}/{invoice.pk}"),
        credential,
        HTTP_ACCEPT="application/pdf",
    )

    text = pdf_text(response)
    assert response["Content-Disposition"] == f'inline; filename="invoice-{invoice.pk}.pdf"'
    assert "INV-2025-0042" in text
    assert "Envelopes & <signing>" in text
    assert "Support plan" in text
    for amount in ("75.00", "25.00", "0.50", "30.00", "105.50 EUR", "60.25 EUR"):
        assert amount in text
    assert "2025-03-01" in text
    assert "2025-03-31" in text
    assert account.name in text
    assert PdfReader(io.BytesIO(response.content)).metadata.title == "Invoice INV-2025-0042"


@both_mounts
def test_invoice_as_pdf_with_many_items(client, mount, account, credential):
    invoice = InvoiceFactory(account=account, number="INV-LONG", amount=Decimal("600.00"))
    for n in range(60):
        InvoiceItemFactory(
            invoice=invoice, charge_name=f"Line {n:02d}", unit_price=Decimal("10.00")
        )

    text = pdf_text(
        get(
            client,
            url(mount, account, f"{INVOICES}/{invoice.pk}"),
            credential,
            HTTP_ACCEPT="application/pdf",
        )
    )

    assert all(f"Line {n:02d}" in text for n in range(60))
    assert "600.00 EUR" in text


@both_mounts
@pytest.mark.parametrize("which", ["others", "unknown", "abc"])
def test_pdf_of_unknown_invoice_is_a_json_404(client, mount, account, credential, which):
    others = InvoiceFactory()
    invoice_id = {"others": others.pk, "unknown": others.pk + 1000, "abc": "abc"}[which]

    response = get(
        client,
        url(mount, account, f"{INVOICES}/{invoice_id}"),
        credential,
        HTTP_ACCEPT="application/pdf",
    )

    error(mount, response, 404, "INVOICE_NOT_FOUND")


@both_mounts
def test_pdf_without_credentials_is_a_json_401(client, mount, account, invoice):
    response = get(
        client, url(mount, account, f"{INVOICES}/{invoice.pk}"), HTTP_ACCEPT="application/pdf"
    )

    error(mount, response, 401, "AUTHORIZATION_INVALID_TOKEN")


@both_mounts
def test_json_is_the_default_and_pdf_only_when_asked(client, mount, account, credential, invoice):
    address = url(mount, account, f"{INVOICES}/{invoice.pk}")

    for accept in ("application/json", "*/*", "application/json, application/pdf;q=0.5"):
        body = data(mount, get(client, address, credential, HTTP_ACCEPT=accept))
        assert body["invoiceNumber"] == "INV-2025-0042"


@both_mounts
def test_list_is_not_offered_as_pdf(client, mount, account, credential, invoice):
    response = get(client, url(mount, account, INVOICES), credential, HTTP_ACCEPT="application/pdf")

    error(mount, response, 406, "NOT_ACCEPTABLE")


# GET billing_invoices


@both_mounts
def test_list_invoices_defaults_to_the_last_365_days(client, mount, account, credential):
    today = days_ago(0)
    issued_today = InvoiceFactory(account=account, issue_date=today, due_date=today)
    last_year = InvoiceFactory(account=account, issue_date=days_ago(364), due_date=days_ago(300))
    paid = InvoiceFactory(
        account=account, issue_date=days_ago(100), due_date=days_ago(70), balance=Decimal("0")
    )
    InvoiceFactory(account=account, issue_date=days_ago(400), due_date=days_ago(370))
    InvoiceFactory(account=account, issue_date=days_ago(-1), due_date=days_ago(-31))  # future
    InvoiceFactory(
        account=account, issue_date=days_ago(5), due_date=today, status=InvoiceStatus.VOID
    )
    InvoiceFactory(issue_date=days_ago(5), due_date=today)  # another account's

    body = data(mount, get(client, url(mount, account, INVOICES), credential))

    assert body == {
        "billingInvoices": [
            invoice_body(mount, invoice, taxable="0.00", non_taxable="0.00")
            for invoice in (issued_today, last_year, paid)
        ],
        "nextUri": None,
        "previousUri": None,
    }


@both_mounts
def test_list_invoices_exact_items(client, mount, account, credential, invoice):
    body = data(
        mount,
        get(client, url(mount, account, INVOICES), credential, {"from_date": "2025-01-01"}),
    )

    assert body == {
        "billingInvoices": [
            invoice_body(mount, invoice, taxable="75.00", non_taxable="30.00"),
        ],
        "nextUri": None,
        "previousUri": None,
    }


@pytest.fixture
def march_invoices(account):
    issued = ("2025-02-28", "2025-03-01", "2025-03-05", "2025-03-10", "2025-03-11")
    return {
        date: InvoiceFactory(account=account, issue_date=on(date), due_date=on(date))
        for date in issued
    }


@both_mounts
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"from_date": "2025-03-01", "to_date": "2025-03-10"},
            ["2025-03-01", "2025-03-05", "2025-03-10"],
        ),
        ({"from_date": "2025-03-05", "to_date": "2025-03-05"}, ["2025-03-05"]),
        (
            {"from_date": "2025-03-01T08:00:00Z", "to_date": "2025-03-10T00:00:00Z"},
            ["2025-03-01", "2025-03-05", "2025-03-10"],
        ),
        ({"from_date": "2025-03-06"}, ["2025-03-10", "2025-03-11"]),
        ({"to_date": "2025-03-04"}, ["2025-02-28", "2025-03-01"]),
        ({"from_date": "2024-01-01", "to_date": "2024-12-31"}, []),
    ],
)
def test_list_invoices_in_date_range(
    client, mount, account, credential, march_invoices, params, expected
):
    body = data(mount, get(client, url(mount, account, INVOICES), credential, params))

    assert [i["invoiceId"] for i in body["billingInvoices"]] == [
        str(march_invoices[date].pk) for date in expected
    ]


@both_mounts
@pytest.mark.parametrize(
    "params",
    [
        {"from_date": "last week"},
        {"to_date": "2025-02-29"},
        {"from_date": "2025-03-10", "to_date": "2025-03-09"},
    ],
)
def test_list_invoices_bad_dates(client, mount, account, credential, params):
    response = get(client, url(mount, account, INVOICES), credential, params)

    error(mount, response, 400, "INVALID_REQUEST_PARAMETER")


@both_mounts
def test_list_invoices_pages(client, mount, account, credential):
    invoices = [InvoiceFactory(account=account, issue_date=days_ago(40)) for _ in range(5)]
    InvoiceFactory(issue_date=days_ago(40))  # another account's

    pages, address = [], url(mount, account, INVOICES) + "?count=2"
    while address is not None and len(pages) < 5:
        body = data(mount, get(client, address, credential))
        assert set(body) == {"billingInvoices", "nextUri", "previousUri"}
        pages.append(body)
        address = body["nextUri"]
        if address is not None:
            assert re.match(rf"{re.escape(PREFIXES[mount])}/{account.number}/{INVOICES}\?", address)

    assert [[i["invoiceId"] for i in page["billingInvoices"]] for page in pages] == [
        [str(i.pk) for i in invoices[0:2]],
        [str(i.pk) for i in invoices[2:4]],
        [str(i.pk) for i in invoices[4:5]],
    ]
    assert pages[0]["previousUri"] is None
    assert pages[-1]["nextUri"] is None
    back = data(mount, get(client, pages[-1]["previousUri"], credential))
    assert [i["invoiceId"] for i in back["billingInvoices"]] == [str(i.pk) for i in invoices[2:4]]


@both_mounts
def test_list_invoices_malformed_cursor(client, mount, account, credential):
    response = get(client, url(mount, account, INVOICES), credential, {"cursor": "garbage"})

    error(mount, response, 400, "INVALID_REQUEST_PARAMETER")


def invoices_with_items(account, count: int) -> None:
    for n in range(count):
        invoice = InvoiceFactory(account=account, issue_date=days_ago(30 + n % 5))
        for _ in range(3):
            InvoiceItemFactory(invoice=invoice, unit_price=Decimal("10.00"))


def test_query_count_of_list_invoices_does_not_grow_with_invoices(
    client, account, credential, django_assert_num_queries, django_assert_max_num_queries
):
    address = url("restapi", account, INVOICES)
    invoices_with_items(account, 3)
    # The key's roles and the account of the URL come with its authentication: no query of their
    # own.
    with django_assert_num_queries(4) as measured:
        response = get(client, address, credential)
    assert len(response.json()["billingInvoices"]) == 3

    invoices_with_items(account, 57)
    with django_assert_max_num_queries(len(measured.captured_queries)):
        response = get(client, address, credential)
    assert len(response.json()["billingInvoices"]) == 60
    assert all(len(i["invoiceItems"]) == 3 for i in response.json()["billingInvoices"])


def test_query_count_of_get_invoice_does_not_grow_with_items(
    client, account, credential, django_assert_num_queries, django_assert_max_num_queries
):
    small = InvoiceFactory(account=account)
    InvoiceItemFactory.create_batch(3, invoice=small)
    large = InvoiceFactory(account=account)
    InvoiceItemFactory.create_batch(60, invoice=large)

    # The key's roles and the account of the URL come with its authentication: no query of their
    # own.
    with django_assert_num_queries(4) as measured:
        get(client, url("restapi", account, f"{INVOICES}/{small.pk}"), credential)
    with django_assert_max_num_queries(len(measured.captured_queries)):
        response = get(client, url("restapi", account, f"{INVOICES}/{large.pk}"), credential)
    assert len(response.json()["invoiceItems"]) == 60
