"""The dashboard: figures, ageing table and chart per currency, as of any date, checked by hand."""

import datetime
from decimal import Decimal

import pytest

from invoices.models import InvoiceStatus
from payments.ledger import ledger_drift
from tests.backoffice_pages import finance_user, messages_of, page_of
from tests.factories import (
    AccountFactory,
    InvoiceFactory,
    PaymentAllocationFactory,
    PaymentFactory,
    ReversalFactory,
    days_ago,
)

pytestmark = pytest.mark.django_db

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


def on(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{text}T12:00:00+00:00")


def invoice(account, issued, due, amount, balance=None):
    return InvoiceFactory(
        account=account,
        issue_date=on(issued),
        due_date=on(due),
        amount=Decimal(amount),
        balance=Decimal(balance if balance is not None else amount),
    )


def pay(invoice_, amount, dated, reversed_on=None):
    payment = PaymentFactory(
        account=invoice_.account, amount=Decimal(amount), payment_date=at(dated)
    )
    PaymentAllocationFactory(payment=payment, invoice=invoice_, amount=Decimal(amount))
    if reversed_on:
        ReversalFactory(payment=payment, reversed_at=at(reversed_on))


@pytest.fixture
def ledger():
    """On 2026-06-30:

    USD  current 200 (due that day) | 1-30 80 | 31-60 500 (paid later) | 61-90 300 (payment
         reversed by then) | 90+ 600 (1000 less 400 paid) | 150 settled on 06-25: collected.
    EUR  90+ 5.00 (due 03-31: 91 days) | an invoice paid on 06-15: 20.00 collected.
    """
    usd, late_payer = AccountFactory(currency="USD"), AccountFactory(currency="USD")
    pay(invoice(usd, "2026-01-01", "2026-02-01", "1000.00", "600.00"), "400.00", "2026-03-01")
    pay(invoice(usd, "2026-04-01", "2026-05-15", "500.00", "0.00"), "500.00", "2026-07-05")
    invoice(usd, "2026-06-01", "2026-06-30", "200.00")
    bounced = invoice(usd, "2026-03-01", "2026-04-15", "300.00")
    pay(bounced, "300.00", "2026-05-01", reversed_on="2026-06-10")
    pay(invoice(usd, "2026-05-01", "2026-06-20", "150.00", "0.00"), "150.00", "2026-06-25")
    invoice(late_payer, "2026-05-01", "2026-06-05", "80.00")
    InvoiceFactory(
        account=usd,
        issue_date=on("2026-01-01"),
        due_date=on("2026-01-02"),
        amount=Decimal("70.00"),
        status=InvoiceStatus.VOID,
    )

    eur = AccountFactory(currency="EUR")
    invoice(eur, "2026-03-01", "2026-03-31", "5.00")
    pay(invoice(eur, "2026-05-01", "2026-07-15", "20.00", "0.00"), "20.00", "2026-06-15")
    assert ledger_drift() == []  # the balances are as the money service keeps them


@pytest.fixture
def client(client):
    client.force_login(finance_user())
    return client


def figures(page, currency: str) -> dict[str, str]:
    return {
        figure: page.by_id(figure).find(data_currency=currency).text()
        for figure in (
            "total-receivable",
            "total-past-due",
            "collected-30-days",
            "accounts-past-due",
        )
    }


def ageing(page, currency: str) -> dict[str, str]:
    row = page.by_id("ageing").find("tr", data_currency=currency)
    return {cell.attrs["data-bucket"]: cell.text() for cell in row.find_all("td")}


def test_figures_and_ageing_as_of_a_date(client, ledger):
    response = client.get("/backoffice/", {"as_of": "2026-06-30"})

    page = page_of(response)
    assert page.find("h1").text() == "Receivables as of 2026-06-30"
    assert page.by_id("as-of").attrs["value"] == "2026-06-30"
    assert figures(page, "USD") == {
        "total-receivable": "1,680.00 USD",
        "total-past-due": "1,480.00 USD",
        "collected-30-days": "150.00 USD",
        "accounts-past-due": "2 USD",
    }
    assert figures(page, "EUR") == {
        "total-receivable": "5.00 EUR",
        "total-past-due": "5.00 EUR",
        "collected-30-days": "20.00 EUR",
        "accounts-past-due": "1 EUR",
    }
    assert ageing(page, "USD") == {
        "current": "200.00",
        "1-30": "80.00",
        "31-60": "500.00",
        "61-90": "300.00",
        "90+": "600.00",
        "total": "1,680.00",
    }
    assert ageing(page, "EUR") == {
        "current": "0.00",
        "1-30": "0.00",
        "31-60": "0.00",
        "61-90": "0.00",
        "90+": "5.00",
        "total": "5.00",
    }
    headings = [th.text() for th in page.by_id("ageing").find("thead").find_all("th")]
    assert headings == [
        "Currency",
        "Current",
        "1-30 days",
        "31-60 days",
        "61-90 days",
        "90+ days",
        "Total",
    ]
    # Currencies in code order, one row each: amounts of two currencies are never added.
    assert [row.attrs["data-currency"] for row in page.by_id("ageing").find_all("tr")[1:]] == [
        "EUR",
        "USD",
    ]


def test_an_earlier_date_counts_only_what_was_dated_up_to_it(client, ledger):
    page = page_of(client.get("/backoffice/", {"as_of": "2026-04-30"}))

    # 04-30: the 1000.00 invoice is 88 days late with 400.00 paid; the 300.00 one 15 days late,
    # its payment not yet made; the 500.00 one not yet due; the rest not yet issued.
    assert ageing(page, "USD") == {
        "current": "500.00",
        "1-30": "300.00",
        "31-60": "0.00",
        "61-90": "600.00",
        "90+": "0.00",
        "total": "1,400.00",
    }
    assert figures(page, "USD") == {
        "total-receivable": "1,400.00 USD",
        "total-past-due": "900.00 USD",
        "collected-30-days": "0.00 USD",
        "accounts-past-due": "1 USD",
    }
    assert ageing(page, "EUR")["1-30"] == "5.00"  # exactly 30 days late


def test_before_anything_was_issued_nothing_is_owed(client, ledger):
    page = page_of(client.get("/backoffice/", {"as_of": "2025-12-31"}))

    assert page.find_all(id="ageing") == []
    assert page.find_all("svg", id="ageing-chart") == []
    assert page.by_id("total-receivable").text() == "Total receivable Nothing owed"


def test_the_chart_draws_one_scaled_row_of_bars_per_currency(client, ledger):
    page = page_of(client.get("/backoffice/", {"as_of": "2026-06-30"}))

    chart = page.find("svg", id="ageing-chart")
    assert [g.attrs["data-currency"] for g in chart.find_all("g", class_="panel")] == [
        "EUR",
        "USD",
    ]
    usd = chart.find("g", class_="panel", data_currency="USD")
    bars = {bar.attrs["data-bucket"]: bar.find("rect") for bar in usd.find_all("g", class_="bar")}
    assert list(bars) == list(BUCKETS)
    # Each currency on its own scale: USD's largest bucket (600.00) is the full 100 pixels.
    assert {bucket: rect.attrs["height"] for bucket, rect in bars.items()} == {
        "current": "33.3",
        "1-30": "13.3",
        "31-60": "83.3",
        "61-90": "50.0",
        "90+": "100.0",
    }
    assert bars["31-60"].find("title").text() == "USD 31-60 days: 500.00"
    eur = chart.find("g", class_="panel", data_currency="EUR")
    assert eur.find("g", data_bucket="90+").find("rect").attrs["height"] == "100.0"
    assert eur.find("g", data_bucket="current").find("rect").attrs["height"] == "0.0"
    assert not page.find_all("script")


def test_without_a_date_the_figures_are_as_of_today(client):
    account = AccountFactory(currency="GBP")
    InvoiceFactory(account=account, due_date=days_ago(-3), amount=Decimal("10.00"))
    InvoiceFactory(account=account, due_date=days_ago(0), amount=Decimal("20.00"))
    InvoiceFactory(account=account, due_date=days_ago(1), amount=Decimal("40.00"))
    InvoiceFactory(account=account, due_date=days_ago(95), amount=Decimal("80.00"))

    page = page_of(client.get("/backoffice/"))

    assert page.find("h1").text() == f"Receivables as of {days_ago(0).isoformat()}"
    assert ageing(page, "GBP") == {
        "current": "30.00",
        "1-30": "40.00",
        "31-60": "0.00",
        "61-90": "0.00",
        "90+": "80.00",
        "total": "150.00",
    }
    assert page_of(client.get("/backoffice/", {"as_of": ""})).find("h1").text() == (
        f"Receivables as of {days_ago(0).isoformat()}"
    )


@pytest.mark.parametrize(
    ("as_of", "error"),
    [
        ("30/06/2026", "As of: Enter a valid date."),
        ("2026-02-30", "As of: Enter a valid date."),
        ("0001-01-01", "As of: Enter a date from 1900-01-01."),
        ("9999-12-31", "As of: Enter a date up to 2999-12-31."),
    ],
)
def test_an_invalid_date_is_a_form_error(client, ledger, as_of, error):
    response = client.get("/backoffice/", {"as_of": as_of})

    assert response.status_code == 200
    page = page_of(response)
    assert messages_of(page, "error") == [error]
    assert page.find_all(id="total-receivable") == []


def test_an_invalid_as_of_date_keeps_the_page_with_the_error_beside_the_field(client, ledger):
    response = client.get("/backoffice/", {"as_of": "2026-13-40"})

    assert response.status_code == 200
    page = page_of(response)
    beside = page.by_id("as-of-form").find("span", data_field="as_of")
    assert "errors" in beside.classes
    assert beside.by_id("as_of-error").text() == "Enter a valid date."
    assert beside.by_id("as-of").attrs["value"] == "2026-13-40"
    assert messages_of(page, "error") == ["As of: Enter a valid date."]
    assert page.find_all(id="total-receivable") == []
