"""The past-due list: filters, every sort key, pagination, and the CSV and XLSX exports."""

import csv
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from invoices.models import InvoiceStatus
from tests.backoffice_pages import finance_user, messages_of, page_of
from tests.factories import AccountFactory, InvoiceFactory, days_ago

pytestmark = pytest.mark.django_db

URL = "/backoffice/past-due/"


@pytest.fixture
def client(client):
    client.force_login(finance_user())
    return client


@pytest.fixture
def book():
    """Seven past-due invoices in three accounts (numbers in account order), and four that are
    not past due. Days late: a1 5, a2 45, a3 75, a4 120, b1 30, b2 31, c1 91."""
    alpha = AccountFactory(number=500001, name="Alpha", currency="USD")
    beta = AccountFactory(number=500002, name="Beta", currency="USD")
    gamma = AccountFactory(number=500003, name="=Gamma", currency="EUR")

    def invoice(account, number, late, amount, balance=None):
        return InvoiceFactory(
            account=account,
            number=number,
            due_date=days_ago(late),
            amount=Decimal(amount),
            balance=Decimal(balance or amount),
        )

    rows = SimpleNamespace(alpha=alpha, beta=beta, gamma=gamma)
    rows.a1 = invoice(alpha, "A-0003", 5, "100.00")
    rows.a2 = invoice(alpha, "A-0001", 45, "200.00", "150.00")
    rows.a3 = invoice(alpha, "A-0004", 75, "300.00")
    rows.a4 = invoice(alpha, "A-0002", 120, "400.00", "50.00")
    rows.b1 = invoice(beta, "B-0002", 30, "500.00")
    rows.b2 = invoice(beta, "B-0001", 31, "60.00")
    rows.c1 = invoice(gamma, "C-0001", 91, "70.00", "69.99")
    invoice(alpha, "A-0005", 0, "10.00")  # due today: not late yet
    invoice(beta, "B-0003", -10, "10.00")  # not due
    invoice(beta, "B-0004", 50, "10.00", "0.00")  # paid
    InvoiceFactory(account=gamma, number="C-0002", due_date=days_ago(60), status=InvoiceStatus.VOID)
    return rows


def ids(*invoices) -> list[int]:
    return [invoice.pk for invoice in invoices]


def listed(client, **params) -> list[int]:
    response = client.get(URL, params)
    assert response.status_code == 200
    return page_of(response).row_ids("past-due-table", "data-invoice-id")


def test_every_past_due_invoice_latest_first_with_its_columns(client, book):
    page = page_of(client.get(URL))

    assert page.row_ids("past-due-table", "data-invoice-id") == ids(
        book.a4, book.c1, book.a3, book.a2, book.b2, book.b1, book.a1
    )
    row = page.by_id("past-due-table").find("tr", data_invoice_id=book.a2.pk)
    assert page.cells(row) == [
        "500001 Alpha",
        "A-0001",
        days_ago(45).isoformat(),
        "45",
        "200.00",
        "150.00",
        "USD",
    ]
    headings = [th.text() for th in page.by_id("past-due-table").find("thead").find_all("th")]
    assert headings == [
        "Account",
        "Number",
        "Due date ▲",
        "Days late",
        "Amount",
        "Balance",
        "Currency",
    ]
    assert page.find_all("nav", class_="pagination") == []


def test_filter_by_account(client, book):
    assert listed(client, account=book.beta.pk) == ids(book.b2, book.b1)


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [
        ("1-30", ["b1", "a1"]),  # 30 days late is still 1-30
        ("31-60", ["a2", "b2"]),
        ("61-90", ["a3"]),
        ("90+", ["a4", "c1"]),
    ],
)
def test_filter_by_bucket(client, book, bucket, expected):
    assert listed(client, bucket=bucket) == [getattr(book, name).pk for name in expected]


def test_filter_by_minimum_balance(client, book):
    assert listed(client, min_balance="150") == ids(book.a3, book.a2, book.b1)
    assert listed(client, min_balance="69.99") == ids(book.c1, book.a3, book.a2, book.b1, book.a1)
    assert listed(client, min_balance="0") == listed(client)


def test_filters_combine(client, book):
    assert listed(client, account=book.alpha.pk, bucket="31-60", min_balance="100.00") == ids(
        book.a2
    )
    assert listed(client, account=book.alpha.pk, bucket="1-30", min_balance="100.01") == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("account", ["a1", "a2", "a3", "a4", "b1", "b2", "c1"]),  # by number, then id
        ("-account", ["c1", "b2", "b1", "a4", "a3", "a2", "a1"]),
        ("number", ["a2", "a4", "a1", "a3", "b2", "b1", "c1"]),
        ("-number", ["c1", "b1", "b2", "a3", "a1", "a4", "a2"]),
        ("due_date", ["a4", "c1", "a3", "a2", "b2", "b1", "a1"]),
        ("-due_date", ["a1", "b1", "b2", "a2", "a3", "c1", "a4"]),
        ("days_late", ["a1", "b1", "b2", "a2", "a3", "c1", "a4"]),
        ("-days_late", ["a4", "c1", "a3", "a2", "b2", "b1", "a1"]),
        ("amount", ["b2", "c1", "a1", "a2", "a3", "a4", "b1"]),
        ("-amount", ["b1", "a4", "a3", "a2", "a1", "c1", "b2"]),
        ("balance", ["a4", "b2", "c1", "a1", "a2", "a3", "b1"]),
        ("-balance", ["b1", "a3", "a2", "a1", "c1", "b2", "a4"]),
    ],
)
def test_every_sort_key(client, book, sort, expected):
    assert listed(client, sort=sort) == [getattr(book, name).pk for name in expected]


@pytest.mark.parametrize("sort", ["", "pk", "account__name", "-", "--amount", "balance;drop"])
def test_unknown_sort_keys_are_ignored(client, book, sort):
    assert listed(client, sort=sort) == listed(client)


def test_sort_links_keep_the_filters_and_flip_the_current_column(client, book):
    page = page_of(client.get(URL, {"account": book.alpha.pk, "sort": "balance", "page": "1"}))

    links = {a.text().split(" ")[0]: a.attrs["href"] for a in page.find_all("a", class_="sort")}
    assert links["Balance"] == f"?account={book.alpha.pk}&sort=-balance"
    assert links["Amount"] == f"?account={book.alpha.pk}&sort=amount"
    assert links["Days"] == f"?account={book.alpha.pk}&sort=days_late"
    assert set(links) == {"Account", "Number", "Due", "Days", "Amount", "Balance"}
    sorted_heading = page.by_id("past-due-table").find("th", aria_sort="ascending")
    assert sorted_heading.text() == "Balance ▲"


def test_export_links_carry_the_filters_and_sort_but_not_the_page(client, book):
    page = page_of(client.get(URL, {"bucket": "90+", "sort": "-amount", "page": "1"}))

    query = "?bucket=90%2B&sort=-amount&kind=invoices"
    assert page.by_id("export-csv").attrs["href"] == f"/backoffice/past-due/export.csv{query}"
    assert page.by_id("export-xlsx").attrs["href"] == f"/backoffice/past-due/export.xlsx{query}"


@pytest.mark.parametrize(
    ("params", "error"),
    [
        (
            {"min_balance": "10.001"},
            "Minimum balance: The amount must have at most two decimal places.",
        ),
        ({"min_balance": "ten"}, "Minimum balance: The amount must be a decimal number."),
        ({"min_balance": "-1"}, "Minimum balance: The amount must not be negative."),
        (
            {"bucket": "current"},
            "Days late: Select a valid choice. current is not one of the available choices.",
        ),
        (
            {"account": "abc"},
            "Account: Select a valid choice. That choice is not one of the available choices.",
        ),
        (
            {"account": "99999999999999999999"},
            "Account: Select a valid choice. That choice is not one of the available choices.",
        ),
    ],
)
def test_invalid_filters_are_form_errors_and_list_nothing(client, book, params, error):
    response = client.get(URL, params)

    assert response.status_code == 200
    page = page_of(response)
    assert messages_of(page, "error") == [error]
    assert page.row_ids("past-due-table", "data-invoice-id") == []


def test_pages_of_fifty(client):
    account = AccountFactory()
    invoices = [
        InvoiceFactory(account=account, due_date=days_ago(200 - day)) for day in range(120)
    ]  # the first is the latest

    def page_ids(page):
        return listed(client, page=page)

    assert page_ids("1") == ids(*invoices[:50])
    assert page_ids("2") == ids(*invoices[50:100])
    assert page_ids("3") == ids(*invoices[100:])
    assert page_ids("99") == ids(*invoices[100:])  # past the end: the last page
    assert page_ids("x") == ids(*invoices[:50])
    page = page_of(client.get(URL, {"page": "2", "sort": "-due_date"}))
    assert page.row_ids("past-due-table", "data-invoice-id") == ids(*reversed(invoices[20:70]))
    pagination = page.find("nav", class_="pagination")
    links = {a.text(): a.attrs["href"] for a in pagination.find_all("a")}
    assert links == {
        "\u2039 Previous": "?page=1&sort=-due_date",
        "1": "?page=1&sort=-due_date",
        "3": "?page=3&sort=-due_date",
        "Next \u203a": "?page=3&sort=-due_date",
    }
    assert (
        page.find("p", class_="summary")
        .text()
        .startswith("120 invoices past due today, page 2 of 3.")
    )


# Exports


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="past-due-')
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def xlsx_rows(response) -> list[list]:
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return workbook.active


HEADER = [
    "Account number",
    "Account name",
    "Invoice number",
    "Due date",
    "Days late",
    "Amount",
    "Balance",
    "Currency",
    "Account credit",
]


def test_csv_export_honours_the_filters_and_sort(client, book):
    rows = csv_rows(
        client.get("/backoffice/past-due/export.csv", {"min_balance": "60", "sort": "-balance"})
    )

    assert rows == [
        HEADER,
        [
            "500002",
            "Beta",
            "B-0002",
            days_ago(30).isoformat(),
            "30",
            "500.00",
            "500.00",
            "USD",
            "0.00",
        ],
        [
            "500001",
            "Alpha",
            "A-0004",
            days_ago(75).isoformat(),
            "75",
            "300.00",
            "300.00",
            "USD",
            "0.00",
        ],
        [
            "500001",
            "Alpha",
            "A-0001",
            days_ago(45).isoformat(),
            "45",
            "200.00",
            "150.00",
            "USD",
            "0.00",
        ],
        [
            "500001",
            "Alpha",
            "A-0003",
            days_ago(5).isoformat(),
            "5",
            "100.00",
            "100.00",
            "USD",
            "0.00",
        ],
        # A name that a spreadsheet would run as a formula is exported inert.
        [
            "500003",
            "'=Gamma",
            "C-0001",
            days_ago(91).isoformat(),
            "91",
            "70.00",
            "69.99",
            "EUR",
            "0.00",
        ],
        [
            "500002",
            "Beta",
            "B-0001",
            days_ago(31).isoformat(),
            "31",
            "60.00",
            "60.00",
            "USD",
            "0.00",
        ],
    ]


def test_xlsx_export_honours_the_filters_and_sort_with_numbers_as_numbers(client, book):
    sheet = xlsx_rows(
        client.get("/backoffice/past-due/export.xlsx", {"account": book.alpha.pk, "sort": "number"})
    )

    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == HEADER
    assert [row[2] for row in values[1:]] == ["A-0001", "A-0002", "A-0003", "A-0004"]
    first = values[1]
    assert first[:2] == [500001, "Alpha"]
    assert first[3].date() == days_ago(45)
    assert first[4:] == [45, 200, 150, "USD", 0]
    assert all(isinstance(row[col], int | float) for row in values[1:] for col in (0, 4, 5, 6))
    assert [row[6] for row in values[1:]] == [150, 50, 100, 300]
    amount, balance, due = sheet["F2"], sheet["G2"], sheet["D2"]
    assert (amount.data_type, amount.number_format) == ("n", "#,##0.00")
    assert (balance.data_type, balance.number_format) == ("n", "#,##0.00")
    assert due.number_format == "yyyy-mm-dd"


def test_xlsx_keeps_text_that_looks_like_a_formula_as_text(client, book):
    sheet = xlsx_rows(client.get("/backoffice/past-due/export.xlsx", {"account": book.gamma.pk}))

    assert (sheet["B2"].value, sheet["B2"].data_type) == ("=Gamma", "s")
    assert sheet["G2"].value == pytest.approx(69.99)


def test_exports_hold_every_page_of_the_list(client):
    account = AccountFactory()
    invoices = [InvoiceFactory(account=account, due_date=days_ago(200 - d)) for d in range(120)]

    rows = csv_rows(client.get("/backoffice/past-due/export.csv", {"page": "2"}))
    sheet = xlsx_rows(client.get("/backoffice/past-due/export.xlsx", {"sort": "-due_date"}))

    assert [row[2] for row in rows[1:]] == [invoice.number for invoice in invoices]
    numbers = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert numbers == [invoice.number for invoice in reversed(invoices)]


def test_an_export_with_invalid_filters_goes_back_to_the_list_and_its_errors(client, book):
    for export in ("export.csv", "export.xlsx"):
        response = client.get(f"/backoffice/past-due/{export}", {"min_balance": "1.234"})

        assert response.status_code == 302
        assert response.url == "/backoffice/past-due/?min_balance=1.234"


def totals_of(page) -> dict[str, list[str]]:
    body = page.by_id("past-due-totals").find("tbody")
    return {row.attrs["data-currency"]: page.cells(row)[1:] for row in body.find_all("tr")}


def test_totals_per_currency_count_every_filtered_row_not_just_the_page(client):
    usd = AccountFactory(currency="USD")
    eur = AccountFactory(currency="EUR")
    for day in range(40):  # 40 USD invoices of 1,000.05, 31 to 70 days late
        InvoiceFactory(account=usd, due_date=days_ago(31 + day), amount=Decimal("1000.05"))
    for day in range(25):  # 25 EUR invoices of 0.10, 31 to 55 days late
        InvoiceFactory(account=eur, due_date=days_ago(31 + day), amount=Decimal("0.10"))
    InvoiceFactory(account=usd, due_date=days_ago(5), amount=Decimal("7.00"))  # 1-30: filtered out
    InvoiceFactory(account=usd, due_date=days_ago(-5), amount=Decimal("9.00"))  # not due

    # 31-60 days: 30 USD and 25 EUR rows; every row: 41 USD and 25 EUR: two pages either way.
    first = page_of(client.get(URL, {"bucket": "31-60"}))
    second = page_of(client.get(URL, {"bucket": "31-60", "page": "2"}))
    assert len(first.row_ids("past-due-table", "data-invoice-id")) == 50
    assert len(second.row_ids("past-due-table", "data-invoice-id")) == 5
    assert totals_of(first) == {
        "EUR": ["25", "2.50", "0", "0.00", "2.50"],
        "USD": ["30", "30,001.50", "0", "0.00", "30,001.50"],
    }
    assert totals_of(second) == totals_of(first)

    everything = page_of(client.get(URL, {"page": "2"}))
    assert len(everything.row_ids("past-due-table", "data-invoice-id")) == 16
    assert totals_of(everything) == {
        "EUR": ["25", "2.50", "0", "0.00", "2.50"],
        "USD": ["41", "40,009.00", "0", "0.00", "40,009.00"],
    }
    headings = [th.text() for th in everything.by_id("past-due-totals").find_all("th")]
    assert headings == [
        "Currency",
        "Invoices",
        "Their balance",
        "Billing items",
        "Their balance",
        "Past due",
        "EUR",
        "USD",
    ]


def test_no_totals_when_nothing_matches(client, book):
    page = page_of(client.get(URL, {"min_balance": "100000"}))

    assert page.find_all(id="past-due-totals") == []


@pytest.mark.parametrize(
    ("params", "field", "error"),
    [
        (
            {"account": "999999"},
            "account",
            "Select a valid choice. That choice is not one of the available choices.",
        ),
        (
            {"bucket": "5-10"},
            "bucket",
            "Select a valid choice. 5-10 is not one of the available choices.",
        ),
        ({"min_balance": "abc"}, "min_balance", "The amount must be a decimal number."),
    ],
)
def test_an_invalid_filter_keeps_the_page_and_shows_its_error_beside_the_field(
    client, book, params, field, error
):
    response = client.get(URL, params)

    assert response.status_code == 200
    page = page_of(response)
    beside = page.by_id("past-due-filters").find("span", data_field=field)
    assert "errors" in beside.classes
    assert beside.by_id(f"{field}-error").text() == error
    other_fields = [
        span
        for span in page.by_id("past-due-filters").find_all("span", class_="field")
        if span.attrs["data-field"] != field
    ]
    assert [span.find_all(class_="field-error") for span in other_fields] == [[], [], [], []]
    assert page.row_ids("past-due-table", "data-invoice-id") == []
    assert page.find_all(id="past-due-totals") == []
    # The value typed stays in its field, to correct it.
    if field == "min_balance":
        assert beside.find("input").attrs["value"] == "abc"
