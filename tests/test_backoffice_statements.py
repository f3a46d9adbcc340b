"""The statement pages of the back office, their PDF (read back with pypdf) and their CSV."""

import datetime
from io import BytesIO

import pytest
from pypdf import PdfReader

from statements.views import default_period
from tests.backoffice_pages import cashier_user, finance_user, page_of
from tests.factories import UserFactory
from tests.statement_example import example

pytestmark = pytest.mark.django_db

PERIOD = {"from": "2025-01-15", "to": "2025-02-28"}


@pytest.fixture
def books():
    return example()


@pytest.fixture
def staff(client):
    client.force_login(finance_user())
    return client


def url(books, suffix: str = "/", kind: str = "account") -> str:
    pk = books.account.pk if kind == "account" else books.contact.pk
    return f"/backoffice/{kind}s/{pk}/statement{suffix}"


def test_the_account_page_shows_the_statement(staff, books):
    page = page_of(staff.get(url(books), PERIOD))
    assert page.by_id("opening-balance").text() == "100.00 EUR"
    assert page.by_id("closing-balance").text() == "145.00 EUR"
    assert page.by_id("credit").text() == "5.00"
    rows = [
        [cell.text() for cell in row.find_all("td")]
        for row in page.by_id("movements").find("tbody").find_all("tr")
    ]
    assert rows == [
        ["2025-01-15", "Opening balance", "", "", "100.00"],
        ["2025-01-20", "Invoice issued", "INV-B", "200.00", "300.00"],
        ["2025-01-25", "Payment", books.payment.number, "-150.00", "150.00"],
        ["2025-02-01", "Credit applied", "INV-B", "0.00", "150.00"],
        ["2025-02-03", "Credit note", "CN-9", "-20.00", "130.00"],
        ["2025-02-05", "Credit applied", f"#{books.item.pk}", "5.00", "135.00"],
        ["2025-02-10", "Refund", books.refund.number, "10.00", "145.00"],
        ["2025-02-28", "Closing balance", "", "", "145.00"],
    ]
    ageing = [cell.text() for cell in page.by_id("ageing").find_all("td")]
    assert ageing == ["0.00", "150.00", "0.00", "0.00", "0.00", "150.00"]
    query = "from=2025-01-15&to=2025-02-28"
    assert page.by_id("statement-pdf").attrs["href"] == url(books, f".pdf?{query}")
    assert page.by_id("statement-csv").attrs["href"] == url(books, f".csv?{query}")


def test_the_contact_page_shows_its_billing_items(staff, books):
    page = page_of(
        staff.get(url(books, kind="contact"), {"from": "2025-01-01", "to": "2025-02-28"})
    )
    assert page.by_id("opening-balance").text() == "0.00 EUR"
    assert page.by_id("closing-balance").text() == "35.00 EUR"
    kinds = [row.attrs["data-kind"] for row in page.find_all("tr", class_="movement")]
    assert kinds == ["billing_item", "credit_application"]


def test_linked_from_the_account_and_contact_pages(staff, books):
    account = page_of(staff.get(f"/backoffice/accounts/{books.account.pk}/"))
    assert account.by_id("statement").attrs["href"] == url(books)
    contact = page_of(staff.get(f"/backoffice/contacts/{books.contact.pk}/"))
    assert contact.by_id("statement").attrs["href"] == url(books, kind="contact")


def test_the_default_period_is_the_previous_month_to_today(staff, books):
    start, end = default_period()
    assert start.day == 1
    assert start < end.replace(day=1) <= end
    assert (end.replace(day=1) - start) <= datetime.timedelta(days=31)
    page = page_of(staff.get(url(books)))
    assert page.by_id("from").attrs.get("value") in (None, "")
    assert page.find("tr", class_="opening").find_all("td")[0].text() == start.isoformat()


def test_a_period_backwards_is_refused(staff, books):
    response = staff.get(url(books), {"from": "2025-03-01", "to": "2025-02-01"})
    page = page_of(response)
    assert "The period cannot start after it ends." in page.text()
    assert page.find_all("table") == []
    response = staff.get(url(books, ".csv"), {"from": "2025-03-01", "to": "2025-02-01"})
    assert response.status_code == 400
    assert response.content == b"The period cannot start after it ends.\n"
    assert staff.get(url(books), {"from": "2025-02-30"}).status_code == 200


def test_permissions(client, books):
    for suffix in ("/", ".pdf", ".csv"):
        assert client.get(url(books, suffix)).status_code == 302  # to the login
    client.force_login(UserFactory(is_staff=True))
    for suffix in ("/", ".pdf", ".csv"):
        assert client.get(url(books, suffix)).status_code == 403
    client.force_login(cashier_user())
    assert client.get(url(books), PERIOD).status_code == 200
    assert client.get("/backoffice/accounts/999999/statement/").status_code == 404


def test_csv(staff, books):
    response = staff.get(url(books, ".csv"), PERIOD)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="statement-800001-2025-01-15-2025-02-28.csv"'
    )
    assert response.content.decode() == (
        "date,kind,reference,amount,balance\r\n"
        "2025-01-20,invoice,INV-B,200.00,300.00\r\n"
        f"2025-01-25,payment,{books.payment.number},-150.00,150.00\r\n"
        "2025-02-01,credit_application,INV-B,0.00,150.00\r\n"
        "2025-02-03,credit_note,CN-9,-20.00,130.00\r\n"
        f"2025-02-05,credit_application,#{books.item.pk},5.00,135.00\r\n"
        f"2025-02-10,refund,{books.refund.number},10.00,145.00\r\n"
    )


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(BytesIO(response.content))
    # One space between words: pypdf puts each cell of a table on a line of its own.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_pdf_for_the_customer(staff, books):
    response = staff.get(url(books, ".pdf"), PERIOD)
    assert response["Content-Disposition"] == (
        'inline; filename="statement-800001-2025-01-15-2025-02-28.pdf"'
    )
    text = pdf_text(response)
    assert "Statement of account 800001 Exact & Sons Ltd" in text
    assert "Period: 2025-01-15 to 2025-02-28. Amounts in EUR." in text
    assert "Opening balance 100.00" in text
    assert "2025-01-20 Invoice issued INV-B 200.00 300.00" in text
    assert f"2025-01-25 Payment {books.payment.number} -150.00 150.00" in text
    assert "2025-02-03 Credit note CN-9 -20.00 130.00" in text
    assert f"2025-02-10 Refund {books.refund.number} 10.00 145.00" in text
    assert "Closing balance 145.00" in text
    assert "0.00 150.00 0.00 0.00 0.00 150.00" in text  # the ageing and its total
    assert "Invoices owed 150.00 EUR" in text
    assert "Less credit 5.00 EUR" in text
    assert "Closing balance 145.00 EUR" in text


def test_pdf_of_a_contact(staff, books):
    text = pdf_text(
        staff.get(url(books, ".pdf", "contact"), {"from": "2025-01-01", "to": "2025-02-28"})
    )
    assert f"Statement of {books.contact}, contact of account 800001" in text
    assert "Closing balance 35.00 EUR" in text
    assert "Less credit" not in text


def test_csv_references_are_not_formulas(staff, books):
    from decimal import Decimal

    from invoices.services import invoice_issue

    invoice_issue(
        account=books.account,
        number="=HYPERLINK(1)",
        issue_date=datetime.date(2025, 2, 20),
        due_date=datetime.date(2025, 3, 20),
        amount=Decimal("1.00"),
    )
    lines = staff.get(url(books, ".csv"), PERIOD).content.decode().splitlines()
    assert "2025-02-20,invoice,'=HYPERLINK(1),1.00,146.00" in lines
