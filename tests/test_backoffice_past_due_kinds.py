"""The past-due list's billing-items tab, its currency filter and its as-of day."""

import csv
import io
from decimal import Decimal

import pytest

from tests.backoffice_pages import finance_user, page_of
from tests.factories import (
    AccountFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    days_ago,
)

pytestmark = pytest.mark.django_db

URL = "/backoffice/past-due/"


@pytest.fixture
def client(client):
    client.force_login(finance_user())
    return client


@pytest.fixture
def book():
    usd = AccountFactory(number=600001, name="Usd", currency="USD")
    eur = AccountFactory(number=600002, name="Eur", currency="EUR")
    ann = ContactFactory(account=usd, first_name="Ann", last_name="Zed")
    bob = ContactFactory(account=eur, first_name="Bob", last_name="Young")
    items = {
        "fee": BillingItemFactory(
            contact=ann, description="Fee", total_amount=Decimal("40.00"), due_date=days_ago(3)
        ),
        "dues": BillingItemFactory(
            contact=ann,
            description="Dues",
            total_amount=Decimal("90.00"),
            balance=Decimal("12.50"),
            due_date=days_ago(40),
        ),
        "court": BillingItemFactory(
            contact=bob, description="Court", total_amount=Decimal("7.00"), due_date=days_ago(95)
        ),
    }
    BillingItemFactory(contact=bob, description="Later", due_date=days_ago(-3))  # not due
    BillingItemFactory(contact=bob, balance=Decimal("0.00"), due_date=days_ago(9))  # paid
    invoices = {
        "usd": InvoiceFactory(account=usd, amount=Decimal("100.00"), due_date=days_ago(20)),
        "eur": InvoiceFactory(account=eur, amount=Decimal("300.00"), due_date=days_ago(70)),
    }
    return usd, eur, items, invoices


def rows(page) -> list[list[str]]:
    body = page.by_id("past-due-table").find("tbody")
    return [page.cells(row) for row in body.find_all("tr")]


def totals(page) -> dict[str, list[str]]:
    body = page.by_id("past-due-totals").find("tbody")
    return {row.attrs["data-currency"]: page.cells(row)[1:] for row in body.find_all("tr")}


def test_the_billing_items_tab_lists_past_due_items_with_their_contact(client, book):
    _usd, _eur, items, _invoices = book
    page = page_of(client.get(URL, {"kind": "items"}))

    assert page.by_id("past-due-table").attrs["data-kind"] == "items"
    assert page.by_id("tab-items").attrs["aria-current"] == "page"
    assert rows(page) == [
        [
            "600002 Eur",
            "Bob Young",
            f"#{items['court'].pk} Court",
            days_ago(95).isoformat(),
            "95",
            "7.00",
            "7.00",
            "EUR",
        ],
        [
            "600001 Usd",
            "Ann Zed",
            f"#{items['dues'].pk} Dues",
            days_ago(40).isoformat(),
            "40",
            "90.00",
            "12.50",
            "USD",
        ],
        [
            "600001 Usd",
            "Ann Zed",
            f"#{items['fee'].pk} Fee",
            days_ago(3).isoformat(),
            "3",
            "40.00",
            "40.00",
            "USD",
        ],
    ]
    court = page.find("tr", data_billing_item_id=items["court"].pk)
    links = [a.attrs["href"] for a in court.find_all("a")]
    contact = items["court"].contact_id
    assert links[1:] == [
        f"/backoffice/contacts/{contact}/",
        f"/backoffice/contacts/{contact}/#billing-item-{items['court'].pk}",
    ]
    # The totals count both tabs, whichever is shown.
    assert totals(page) == {
        "EUR": ["1", "300.00", "1", "7.00", "307.00"],
        "USD": ["1", "100.00", "2", "52.50", "152.50"],
    }


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("contact", ["court", "fee", "dues"]),  # Young, then Zed (pk order)
        ("-balance", ["fee", "dues", "court"]),
        ("description", ["court", "dues", "fee"]),
        ("number", ["court", "dues", "fee"]),  # not a key of this tab: due date
    ],
)
def test_the_billing_items_tab_sorts_by_its_own_columns(client, book, sort, expected):
    _usd, _eur, items, _invoices = book
    page = page_of(client.get(URL, {"kind": "items", "sort": sort}))

    listed = page.row_ids("past-due-table", "data-billing-item-id")
    assert listed == [items[name].pk for name in expected]


def test_the_currency_filter_narrows_both_tabs_and_the_totals(client, book):
    _usd, _eur, items, invoices = book
    page = page_of(client.get(URL, {"currency": "USD"}))
    assert page.row_ids("past-due-table", "data-invoice-id") == [invoices["usd"].pk]
    assert totals(page) == {"USD": ["1", "100.00", "2", "52.50", "152.50"]}
    options = page.by_id("past-due-filters").find("select", name="currency").find_all("option")
    assert [option.text() for option in options] == ["All currencies", "EUR", "USD"]

    page = page_of(client.get(URL, {"currency": "USD", "kind": "items", "bucket": "31-60"}))
    assert page.row_ids("past-due-table", "data-billing-item-id") == [items["dues"].pk]
    assert totals(page) == {"USD": ["0", "0.00", "1", "12.50", "12.50"]}

    page = page_of(client.get(URL, {"currency": "XXX"}))
    error = (
        page.by_id("past-due-filters").find("span", data_field="currency").by_id("currency-error")
    )
    assert error.text() == "Select a valid choice. XXX is not one of the available choices."
    assert page.row_ids("past-due-table", "data-invoice-id") == []


def test_the_billing_items_export(client, book):
    _usd, _eur, items, _invoices = book
    response = client.get(f"{URL}export.csv", {"kind": "items", "currency": "USD"})

    assert response["Content-Disposition"] == (
        f'attachment; filename="past-due-items-{days_ago(0).isoformat()}.csv"'
    )
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert lines == [
        [
            "Account number",
            "Account name",
            "Contact",
            "Billing item",
            "Description",
            "Due date",
            "Days late",
            "Amount",
            "Balance",
            "Currency",
            "Account credit",
        ],
        [
            "600001",
            "Usd",
            "Ann Zed",
            str(items["dues"].pk),
            "Dues",
            days_ago(40).isoformat(),
            "40",
            "90.00",
            "12.50",
            "USD",
            "0.00",
        ],
        [
            "600001",
            "Usd",
            "Ann Zed",
            str(items["fee"].pk),
            "Fee",
            days_ago(3).isoformat(),
            "3",
            "40.00",
            "40.00",
            "USD",
            "0.00",
        ],
    ]


def test_an_invalid_as_of_day_keeps_the_page_with_its_error(client, book):
    page = page_of(client.get(URL, {"as_of": "2026-13-40"}))

    field = page.by_id("past-due-filters").find("span", data_field="as_of")
    assert "errors" in field.classes
    assert field.by_id("as_of-error").text() == "Enter a valid date."
    assert page.row_ids("past-due-table", "data-invoice-id") == []
    assert page.find_all(id="past-due-totals") == []

    response = client.get(f"{URL}export.csv", {"as_of": "2026-13-40"})
    assert response.status_code == 302
    assert response.url == f"{URL}?as_of=2026-13-40"


def test_as_of_an_earlier_day_days_late_and_the_heading_follow_it(client, book):
    _usd, _eur, _items, invoices = book
    day = days_ago(30)
    page = page_of(client.get(URL, {"as_of": day.isoformat()}))

    assert page.find("h1").text() == f"Past due as of {day.isoformat()}"
    # Factory rows have no movements: each owed its amount then; the USD invoice (due 20 days
    # ago) was not yet due 30 days ago.
    assert rows(page) == [
        [
            "600002 Eur",
            invoices["eur"].number,
            days_ago(70).isoformat(),
            "40",
            "300.00",
            "300.00",
            "EUR",
        ],
    ]
