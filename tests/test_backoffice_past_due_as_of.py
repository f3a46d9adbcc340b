"""The past-due list as of an earlier day: rows whose balance changed after that day.

What a row owed then is its stored balance corrected by the movements dated after the day
(payments/owed_then.py): a payment after the day is added back, an earlier payment reversed after
the day is taken off again, a write-down after the day is added back. Each case below, with the
amounts read from the page (both tabs, sorted and filtered), its totals and the CSV exports.
"""

import csv
import io
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.db import DEFAULT_DB_ALIAS, connection
from django.http import QueryDict

from backoffice.filters import KINDS, past_due_listing
from invoices.models import Invoice
from payments.actors import SYSTEM
from payments.lines import WriteDownLine
from payments.owed_then import without_parallel_workers
from payments.services import billing_items_write_down, payment_reverse
from tests.backoffice_pages import finance_user, page_of
from tests.factories import AccountFactory, ContactFactory, days_ago
from tests.test_figures_agree import at, charge, issue, pay_invoices, pay_items

pytestmark = pytest.mark.django_db

URL = "/backoffice/past-due/"
DAY = 40  # days ago: the day the list is asked for


@pytest.fixture
def books():
    account = AccountFactory(number=720001, name="Later Moves", currency="USD")
    # A: paid 200.00 after the day. Today 300.00; then 500.00.
    a = issue(account, "A", 100, 60, "500.00")
    pay_invoices(account, [a], "200.00", 20)
    # B: paid 100.00 and 150.00 before the day, the 150.00 reversed today. Today 300.00; then
    # 150.00 (the reversed payment still stood).
    b = issue(account, "B", 100, 50, "400.00")
    pay_invoices(account, [b], "100.00", 50)
    reversed_later = pay_invoices(account, [b], "150.00", 45)
    payment_reverse(payment_id=reversed_later.pk, reason="Bounced", actor=SYSTEM)
    # D: paid in full after the day. Today nothing (not listed); then 80.00.
    d = issue(account, "D", 90, 55, "80.00")
    pay_invoices(account, [d], "80.00", 10)
    # E: paid in full before the day, reversed today. Today 150.00; then nothing (not listed).
    e = issue(account, "E", 80, 45, "150.00")
    payment_reverse(
        payment_id=pay_invoices(account, [e], "150.00", 50).pk, reason="Bounced", actor=SYSTEM
    )
    # C: a billing item paid 20.00 before the day, written down 30.00 after it. Today 40.00;
    # then 70.00.
    contact = ContactFactory(account=account, first_name="Ada", last_name="Later")
    c = charge(contact, "Lessons", 60, 45, "90.00")
    pay_items(contact, [(c, "20.00")], 50)
    billing_items_write_down(
        contact=contact,
        write_down_date=at(30),
        lines=[WriteDownLine(c.pk, Decimal("30.00"))],
        reason="Goodwill",
        actor=SYSTEM,
    )
    assert {i.number: i.balance for i in Invoice.objects.all()} == {
        "A": Decimal("300.00"),
        "B": Decimal("300.00"),
        "D": Decimal("0.00"),
        "E": Decimal("150.00"),
    }
    c.refresh_from_db()
    assert c.balance == Decimal("40.00")
    return {"account": account, "contact": contact, "item": c}


@pytest.fixture
def staff(client):
    client.force_login(finance_user())
    return client


def listed(client, **params) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """(name, balance) of each row in the page's order, and the USD totals row's cells."""
    page = page_of(client.get(URL, params))
    rows = []
    for row in page.by_id("past-due-table").find("tbody").find_all("tr"):
        if "none" in row.find_all("td")[0].classes:
            break
        name = "number" if "data-invoice-id" in row.attrs else "description"
        rows.append((row.find(class_=name).text(), row.find(class_="balance").text()))
    totals = {}
    for row in page.by_id("past-due-totals").find_all("tr"):
        if row.attrs.get("data-currency") == "USD":
            for cell in ("invoices", "invoices-balance", "items", "items-balance", "balance"):
                totals[cell] = row.find(class_=cell).text()
    return rows, totals


def exported(client, **params) -> list[list[str]]:
    response = client.get(f"{URL}export.csv", params)
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_as_of_the_day_each_row_owed_what_the_later_movements_had_not_yet_changed(staff, books):
    day = days_ago(DAY).isoformat()
    rows, totals = listed(staff, as_of=day)
    assert rows == [("A", "500.00"), ("D", "80.00"), ("B", "150.00")]  # by due date
    assert totals == {
        "invoices": "3",
        "invoices-balance": "730.00",
        "items": "1",
        "items-balance": "70.00",
        "balance": "800.00",
    }
    item = books["item"]
    assert listed(staff, as_of=day, kind="items") == ([(f"#{item.pk} Lessons", "70.00")], totals)

    # Today, the stored balances: A and B less, D paid, E owed again, C written down.
    rows, totals = listed(staff)
    assert rows == [("A", "300.00"), ("B", "300.00"), ("E", "150.00")]
    assert totals["balance"] == "790.00"
    assert listed(staff, kind="items")[0] == [(f"#{item.pk} Lessons", "40.00")]


def test_as_of_the_day_sorting_and_filtering_by_balance_use_what_was_owed_then(staff, books):
    day = days_ago(DAY).isoformat()
    assert listed(staff, as_of=day, sort="-balance")[0] == [
        ("A", "500.00"),
        ("B", "150.00"),
        ("D", "80.00"),
    ]
    assert listed(staff, as_of=day, sort="balance")[0] == [
        ("D", "80.00"),
        ("B", "150.00"),
        ("A", "500.00"),
    ]
    rows, totals = listed(staff, as_of=day, min_balance="100", sort="-balance")
    assert rows == [("A", "500.00"), ("B", "150.00")]
    assert totals == {
        "invoices": "2",
        "invoices-balance": "650.00",
        "items": "0",
        "items-balance": "0.00",
        "balance": "650.00",
    }
    rows, totals = listed(staff, as_of=day, min_balance="80.01", bucket="1-30")
    assert rows == [("A", "500.00"), ("B", "150.00")]
    assert totals["balance"] == "650.00"


def test_the_csv_exports_as_of_the_day_carry_what_each_row_owed_then(staff, books):
    day = days_ago(DAY).isoformat()
    account, contact = books["account"], books["contact"]
    first = [str(account.number), "Later Moves"]
    assert exported(staff, as_of=day) == [
        [
            "Account number",
            "Account name",
            "Invoice number",
            "Due date",
            "Days late",
            "Amount",
            "Balance",
            "Currency",
            "Account credit",
        ],
        [*first, "A", days_ago(60).isoformat(), "20", "500.00", "500.00", "USD", "0.00"],
        [*first, "D", days_ago(55).isoformat(), "15", "80.00", "80.00", "USD", "0.00"],
        [*first, "B", days_ago(50).isoformat(), "10", "400.00", "150.00", "USD", "0.00"],
    ]
    item = books["item"]
    assert exported(staff, as_of=day, kind="items", sort="-balance")[1:] == [
        [
            *first,
            str(contact),
            str(item.pk),
            "Lessons",
            days_ago(45).isoformat(),
            "5",
            "90.00",
            "70.00",
            "USD",
            "0.00",
        ]
    ]


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("1", [("A", "500.00"), ("D", "80.00")]),
        ("2", [("B", "150.00")]),
        ("3", [("B", "150.00")]),  # past the last page: the last page
        ("0", [("B", "150.00")]),
        ("x", [("A", "500.00"), ("D", "80.00")]),  # not a number: the first page
    ],
)
def test_as_of_the_day_every_page_has_the_totals_of_every_row(
    staff, books, monkeypatch, page, expected
):
    monkeypatch.setattr("backoffice.views.PAGE_SIZE", 2)
    day = days_ago(DAY).isoformat()
    rows, totals = listed(staff, as_of=day, page=page)
    assert rows == expected
    assert totals["invoices"] == "3"
    assert totals["invoices-balance"] == "730.00"
    assert totals["balance"] == "800.00"
    summary = page_of(staff.get(URL, {"as_of": day, "page": page})).find("p", class_="summary")
    assert summary.text().startswith(f"3 invoices past due on {day}")


def test_as_of_the_day_the_totals_are_per_currency_and_the_page_sorts_across_accounts(
    staff, books, monkeypatch
):
    """The page's statement sums its kind's rows per account, then per currency: each currency's
    count and balance, none for a currency with no rows listed (GBP), on every page."""
    monkeypatch.setattr("backoffice.views.PAGE_SIZE", 2)
    euro = AccountFactory(number=720002, name="Euro Later", currency="EUR")
    AccountFactory(number=720003, name="Pound Nothing", currency="GBP")
    # F: paid 25.00 after the day. Today 75.00; then 100.00. G: paid in full before the day.
    f = issue(euro, "F", 100, 70, "100.00")
    pay_invoices(euro, [f], "25.00", 20)
    g = issue(euro, "G", 100, 65, "60.00")
    pay_invoices(euro, [g], "60.00", 50)
    day = days_ago(DAY).isoformat()

    def currencies(**params) -> dict[str, tuple[str, str]]:
        page = page_of(staff.get(URL, {"as_of": day, **params}))
        return {
            row.attrs["data-currency"]: (
                row.find(class_="invoices").text(),
                row.find(class_="invoices-balance").text(),
            )
            for row in page.by_id("past-due-totals").find_all("tr")
            if row.attrs.get("data-currency")
        }

    every = {"EUR": ("1", "100.00"), "USD": ("3", "730.00")}
    assert currencies() == every
    assert currencies(page="2", sort="-balance") == every
    assert listed(staff, as_of=day, sort="-balance")[0] == [("A", "500.00"), ("B", "150.00")]
    assert listed(staff, as_of=day, sort="-balance", page="2")[0] == [
        ("F", "100.00"),
        ("D", "80.00"),
    ]
    assert listed(staff, as_of=day, sort="account", page="2")[0] == [
        ("D", "80.00"),
        ("F", "100.00"),
    ]
    assert currencies(currency="EUR") == {"EUR": ("1", "100.00")}
    summary = page_of(staff.get(URL, {"as_of": day, "page": "2"})).find("p", class_="summary")
    assert summary.text().startswith(f"4 invoices past due on {day}")


@pytest.mark.django_db(transaction=True)
def test_the_statements_as_of_a_day_run_without_parallel_workers_or_jit_in_their_transaction():
    def settings() -> tuple[str, str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('max_parallel_workers_per_gather'), current_setting('jit')"
            )
            return cursor.fetchone()

    before = settings()
    assert before != ("0", "off")  # the server's own settings, which the test would not tell
    with without_parallel_workers(DEFAULT_DB_ALIAS):
        assert connection.in_atomic_block
        assert settings() == ("0", "off")
    assert settings() == before  # until the end of that transaction only


def test_as_of_the_day_every_sort_key_pages_in_the_lists_own_order(staff, books, monkeypatch):
    """The page's statement sorts what each row owed by the list's own ORDER BY (the key breaking
    ties): for every sort key, both ways, both tabs, its pages are the rows in the order the list
    itself gives them."""
    monkeypatch.setattr("backoffice.views.PAGE_SIZE", 2)
    account = books["account"]
    euro = AccountFactory(number=720000, name="Euro First", currency="EUR")
    f = issue(euro, "F", 100, 70, "100.00")  # the same amount, due date and balance as G
    g = issue(euro, "G", 100, 70, "100.00")
    pay_invoices(euro, [f], "25.00", 20)
    pay_invoices(euro, [g], "25.00", 20)
    zed = ContactFactory(account=account, first_name="Zed", last_name="Later")
    early = ContactFactory(account=euro, first_name="Eve", last_name="Early")
    charge(zed, "Lessons", 60, 45, "90.00")
    charge(early, "Books", 60, 50, "70.00")
    paid_later = charge(early, "Lessons", 60, 50, "70.00")
    pay_items(early, [(paid_later, "70.00")], 10)
    day = days_ago(DAY).isoformat()
    ids = {"invoices": "data-invoice-id", "items": "data-billing-item-id"}
    for kind in KINDS.values():
        for key in kind.sorts:
            for sort in (key, f"-{key}"):
                params = {"as_of": day, "kind": kind.key, "sort": sort}
                expected = list(
                    past_due_listing(QueryDict(urlencode(params))).rows.values_list("pk", flat=True)
                )
                assert len(expected) >= 3, (kind.key, sort)
                pages = []
                for number in range(1, (len(expected) + 1) // 2 + 1):
                    page = page_of(staff.get(URL, {**params, "page": str(number)}))
                    pages += page.row_ids("past-due-table", ids[kind.key])
                assert pages == expected, (kind.key, sort)
