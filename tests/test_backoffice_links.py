"""Everything links to what it belongs to: invoice and payment numbers open their pages wherever
they are shown, and the dashboard's figures open the filtered lists behind them (backoffice.links,
whose past-due query parameters are a contract with that list). Also the accounts list's
`past_due` and `currency` filters, and the admin's links and amount columns."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from backoffice.links import accounts_past_due_url, past_due_url
from invoices.models import InvoiceStatus
from payments.actors import SYSTEM
from payments.lines import BillingLine
from payments.receivables import receivables_on
from payments.services import billing_items_pay, invoices_pay, payment_reverse
from tests.backoffice_pages import cashier_user, finance_user, page_of
from tests.factories import (
    AccountFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    WriteDownFactory,
    days_ago,
)

pytestmark = pytest.mark.django_db

ACCOUNTS = "/backoffice/accounts/"


def invoice_url(invoice) -> str:
    return f"/backoffice/invoices/{invoice.pk}/"


def payment_url(payment) -> str:
    return f"/backoffice/payments/{payment.pk}/"


@pytest.fixture
def cashier():
    client = Client()
    client.force_login(cashier_user())
    return client


@pytest.fixture
def finance():
    client = Client()
    client.force_login(finance_user())
    return client


# The URLs, built in one place


def test_past_due_urls_follow_the_lists_contract():
    june = datetime.date(2026, 6, 30)

    assert past_due_url("EUR") == "/backoffice/past-due/?currency=EUR"
    assert past_due_url("EUR", "31-60") == "/backoffice/past-due/?currency=EUR&bucket=31-60"
    assert past_due_url("EUR", "31-60", june) == (
        "/backoffice/past-due/?currency=EUR&bucket=31-60&as_of=2026-06-30"
    )
    assert past_due_url("USD", "90+", june) == (
        "/backoffice/past-due/?currency=USD&bucket=90%2B&as_of=2026-06-30"
    )
    assert past_due_url("GBP", as_of=june) == "/backoffice/past-due/?currency=GBP&as_of=2026-06-30"
    # Today is the list's default: no as_of.
    assert past_due_url("EUR", "1-30", days_ago(0)) == (
        "/backoffice/past-due/?currency=EUR&bucket=1-30"
    )
    with pytest.raises(ValueError, match="current"):
        past_due_url("EUR", "current")


def test_the_accounts_url_asks_for_the_past_due_accounts_of_a_currency():
    assert accounts_past_due_url("EUR") == "/backoffice/accounts/?past_due=1&currency=EUR"


# The dashboard's figures


@pytest.fixture
def receivables():
    """USD: 80.00 due 10 days ago (1-30), 300.00 due 75 days ago (61-90), 50.00 due in 5 days
    (current), on two accounts; EUR: 500.00 due 120 days ago (90+)."""
    usd, other = AccountFactory(currency="USD"), AccountFactory(currency="USD")
    InvoiceFactory(account=usd, due_date=days_ago(10), amount=Decimal("80.00"))
    InvoiceFactory(account=other, due_date=days_ago(75), amount=Decimal("300.00"))
    InvoiceFactory(account=usd, due_date=days_ago(-5), amount=Decimal("50.00"))
    InvoiceFactory(
        account=AccountFactory(currency="EUR"), due_date=days_ago(120), amount=Decimal("500.00")
    )


def figure_link(page, figure: str, currency: str) -> str | None:
    links = page.by_id(figure).find(data_currency=currency).find_all("a")
    return links[0].attrs["href"] if links else None


def bucket_links(page, currency: str) -> dict[str, str | None]:
    row = page.by_id("ageing").find("tr", data_currency=currency)
    return {
        cell.attrs["data-bucket"]: (cell.find("a").attrs["href"] if cell.find_all("a") else None)
        for cell in row.find_all("td")
    }


def test_todays_figures_open_the_past_due_and_accounts_lists(finance, receivables):
    page = page_of(finance.get("/backoffice/"))

    assert figure_link(page, "total-past-due", "USD") == "/backoffice/past-due/?currency=USD"
    assert figure_link(page, "total-past-due", "EUR") == "/backoffice/past-due/?currency=EUR"
    assert figure_link(page, "accounts-past-due", "USD") == (
        "/backoffice/accounts/?past_due=1&currency=USD"
    )
    assert page.by_id("accounts-past-due").find(data_currency="USD").text() == "2 USD"
    assert figure_link(page, "total-receivable", "USD") is None
    assert figure_link(page, "collected-30-days", "USD") is None
    assert bucket_links(page, "USD") == {
        "current": None,
        "1-30": "/backoffice/past-due/?currency=USD&bucket=1-30",
        "31-60": "/backoffice/past-due/?currency=USD&bucket=31-60",
        "61-90": "/backoffice/past-due/?currency=USD&bucket=61-90",
        "90+": "/backoffice/past-due/?currency=USD&bucket=90%2B",
        "total": None,
    }
    cell = page.by_id("ageing").find("tr", data_currency="USD").find("td", data_bucket="61-90")
    assert cell.find("a").text() == "300.00"


def test_figures_of_another_day_open_the_lists_as_of_that_day(finance, receivables):
    as_of = days_ago(30).isoformat()

    page = page_of(finance.get("/backoffice/", {"as_of": as_of}))

    assert figure_link(page, "total-past-due", "EUR") == (
        f"/backoffice/past-due/?currency=EUR&as_of={as_of}"
    )
    assert bucket_links(page, "EUR")["90+"] == (
        f"/backoffice/past-due/?currency=EUR&bucket=90%2B&as_of={as_of}"
    )
    # The accounts list knows only today's balances: that figure links nowhere on another day.
    assert figure_link(page, "accounts-past-due", "USD") is None
    assert page.by_id("accounts-past-due").find(data_currency="USD").text() == "1 USD"


def test_a_bucket_link_lands_on_the_past_due_list(finance, receivables):
    page = page_of(finance.get("/backoffice/"))
    late = InvoiceFactory._meta.model.objects.get(amount=Decimal("300.00"))

    response = finance.get(bucket_links(page, "USD")["61-90"])

    assert response.status_code == 200
    assert late.pk in page_of(response).row_ids("past-due-table", "data-invoice-id")


# Invoice and payment numbers, wherever they are shown


@pytest.fixture
def ledger():
    """An account with two past-due invoices paid in part (one payment reversed) and a contact
    who paid a billing item, which was also written down."""
    account = AccountFactory(currency="EUR")
    old = InvoiceFactory(account=account, number="L-1", due_date=days_ago(40))
    late = InvoiceFactory(account=account, number="L-2", due_date=days_ago(3))
    paid = invoices_pay(account_id=account.pk, amount="150.00", actor=SYSTEM).payment
    bounced = invoices_pay(account_id=account.pk, amount="5.00", actor=SYSTEM).payment
    payment_reverse(payment_id=bounced.pk, reason="Bounced", actor=SYSTEM)
    contact = ContactFactory(account=account)
    item = BillingItemFactory(contact=contact)
    till = billing_items_pay(
        contact=contact,
        tender_type_id=1,
        payment_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        lines=[BillingLine(item.pk, "20.00")],
        actor=SYSTEM,
    ).payment
    WriteDownFactory(billing_item=item, amount=Decimal("5.00"))
    return {
        "account": account,
        "old": old,
        "late": late,
        "paid": paid,
        "bounced": bounced,
        "contact": contact,
        "item": item,
        "till": till,
    }


def test_the_account_page_links_each_invoice_and_payment(cashier, ledger):
    page = page_of(cashier.get(f"/backoffice/accounts/{ledger['account'].pk}/"))

    for invoice in (ledger["old"], ledger["late"]):
        cell = page.by_id("invoices").find("tr", data_invoice_id=invoice.pk).find("td", "number")
        link = cell.find("a")
        assert (link.text(), link.attrs["href"]) == (invoice.number, invoice_url(invoice))
    for payment in (ledger["paid"], ledger["bounced"], ledger["till"]):
        row = page.by_id("payments").find("tr", data_payment_id=payment.pk)
        link = row.find("td", "number").find("a")
        assert (link.text(), link.attrs["href"]) == (payment.number, payment_url(payment))
    allocations = page.by_id("payments").find("tr", data_payment_id=ledger["paid"].pk)
    assert [a.attrs["href"] for a in allocations.find("ul", "allocations").find_all("a")] == [
        invoice_url(ledger["old"]),
        invoice_url(ledger["late"]),
    ]
    reversal = page.by_id("reversals").find("tr", data_payment_id=ledger["bounced"].pk)
    assert reversal.find("a").attrs["href"] == payment_url(ledger["bounced"])


def test_the_contact_page_links_its_payments_and_billing_items(cashier, ledger):
    contact_url = f"/backoffice/contacts/{ledger['contact'].pk}/"
    page = page_of(cashier.get(contact_url))

    row = page.by_id("payments").find("tr", data_payment_id=ledger["till"].pk)
    assert row.find("td", "number").find("a").attrs["href"] == payment_url(ledger["till"])
    item_link = row.find("ul", "allocations").find("a")
    assert item_link.attrs["href"] == f"{contact_url}#billing-item-{ledger['item'].pk}"
    write_down = page.by_id("write-downs").find("tr", data_billing_id=ledger["item"].pk)
    assert write_down.find("a").attrs["href"] == f"#billing-item-{ledger['item'].pk}"
    assert page.by_id(f"billing-item-{ledger['item'].pk}")


def test_the_past_due_list_links_each_invoice(finance, ledger):
    page = page_of(finance.get("/backoffice/past-due/"))

    late = ledger["late"]  # the older one is paid
    assert page.row_ids("past-due-table", "data-invoice-id") == [late.pk]
    link = page.find("tr", data_invoice_id=late.pk).find("td", "number").find("a")
    assert (link.text(), link.attrs["href"]) == (late.number, invoice_url(late))


def test_the_reverse_page_links_back_to_the_payment_and_what_it_paid(cashier, ledger):
    paid = ledger["paid"]

    page = page_of(cashier.get(f"/backoffice/payments/{paid.pk}/reverse/"))

    breadcrumbs = page.find("div", class_="breadcrumbs").find_all("a")
    assert breadcrumbs[-1].attrs["href"] == payment_url(paid)
    assert [a.attrs["href"] for a in page.by_id("allocations").find_all("a")] == [
        invoice_url(ledger["old"]),
        invoice_url(ledger["late"]),
    ]


def test_the_payment_preview_links_the_invoices_it_settles(cashier, ledger):
    url = f"/backoffice/accounts/{ledger['account'].pk}/pay/"

    form = {
        "invoices": [ledger["late"].pk],
        "tender_type": 1,
        "payment_date": days_ago(0).isoformat(),
        "action": "preview",
    }

    page = page_of(cashier.post(url, form))

    row = page.by_id("settlement").find("tr", data_invoice_id=ledger["late"].pk)
    assert row.find("a").attrs["href"] == invoice_url(ledger["late"])


# The accounts list's filters


@pytest.fixture
def accounts():
    """EUR: one account with a past-due invoice, one with only a past-due billing item, one owing
    nothing late (due in the future, paid, void); USD: one with a past-due invoice."""
    eur_invoice = AccountFactory(number=700001, currency="EUR")
    InvoiceFactory(account=eur_invoice, due_date=days_ago(3))
    eur_item = AccountFactory(number=700002, currency="EUR")
    BillingItemFactory(contact=ContactFactory(account=eur_item), due_date=days_ago(1))
    eur_none = AccountFactory(number=700003, currency="EUR")
    InvoiceFactory(account=eur_none, due_date=days_ago(-3))
    InvoiceFactory(account=eur_none, due_date=days_ago(30), amount=Decimal("40.00"))
    invoices_pay(account_id=eur_none.pk, amount="40.00", actor=SYSTEM)
    InvoiceFactory(account=eur_none, due_date=days_ago(30), status=InvoiceStatus.VOID)
    contact = ContactFactory(account=eur_none)
    settled = BillingItemFactory(contact=contact, due_date=days_ago(9))
    billing_items_pay(
        contact=contact,
        tender_type_id=1,
        payment_date=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1),
        lines=[BillingLine(settled.pk, str(settled.total_amount))],
        actor=SYSTEM,
    )
    BillingItemFactory(contact=contact, due_date=days_ago(0))  # due today: not yet late
    usd = AccountFactory(number=700004, currency="USD")
    InvoiceFactory(account=usd, due_date=days_ago(60))
    return {"eur_invoice": eur_invoice, "eur_item": eur_item, "eur_none": eur_none, "usd": usd}


def listed(client, params: dict) -> list[int]:
    response = client.get(ACCOUNTS, params)
    assert response.status_code == 200
    return page_of(response).row_ids("accounts-table", "data-account-id")


def test_the_accounts_list_filters_by_currency_and_past_due(finance, accounts):
    eur = [accounts["eur_invoice"].pk, accounts["eur_item"].pk, accounts["eur_none"].pk]

    assert listed(finance, {"past_due": "1", "currency": "EUR"}) == eur[:2]
    assert listed(finance, {"past_due": "1", "currency": "usd"}) == [accounts["usd"].pk]
    assert listed(finance, {"currency": "EUR"}) == eur
    assert listed(finance, {"past_due": "1"}) == [*eur[:2], accounts["usd"].pk]
    assert listed(finance, {"past_due": "0"}) == [*eur, accounts["usd"].pk]
    assert listed(finance, {"past_due": "1", "currency": "GBP"}) == []


def test_the_filtered_list_counts_what_the_dashboard_counts(finance, accounts):
    for row in receivables_on(days_ago(0)):
        response = finance.get(accounts_past_due_url(row.currency))
        assert len(page_of(response).row_ids("accounts-table", "data-account-id")) == (
            row.accounts_past_due
        )


def test_the_filtered_list_says_what_it_shows_and_keeps_its_filters(finance, accounts):
    page = page_of(finance.get(ACCOUNTS, {"past_due": "1", "currency": "EUR", "sort": "-name"}))

    assert (
        page.by_id("accounts-summary")
        .text()
        .startswith("2 accounts in EUR with a past-due balance today.")
    )
    form = page.by_id("account-filters")
    assert form.find("input", name="currency").attrs["value"] == "EUR"
    assert "checked" in form.find("input", name="past_due").attrs
    assert form.find("input", name="sort").attrs["value"] == "-name"
    sort_link = page.by_id("sort-number").attrs["href"]
    assert "past_due=1" in sort_link
    assert "currency=EUR" in sort_link


def test_an_invalid_currency_lists_nothing_and_says_why_beside_it(finance, accounts):
    response = finance.get(ACCOUNTS, {"currency": "E1", "past_due": "1"})

    assert response.status_code == 200
    page = page_of(response)
    assert page.row_ids("accounts-table", "data-account-id") == []
    assert page.by_id("currency-error").text() == "Enter a currency code: three letters."


@pytest.mark.parametrize("count", [1, 40])
def test_the_filtered_list_costs_a_fixed_number_of_queries(
    finance, django_assert_max_num_queries, count
):
    for _ in range(count):
        account = AccountFactory(currency="EUR")
        InvoiceFactory(account=account, due_date=days_ago(5))
        BillingItemFactory(contact=ContactFactory(account=account), due_date=days_ago(5))

    # Session and user (2), the Finance group's permissions (2), the count and the page (2).
    with django_assert_max_num_queries(6):
        response = finance.get(ACCOUNTS, {"past_due": "1", "currency": "EUR"})
    assert len(page_of(response).row_ids("accounts-table", "data-account-id")) == count


# The admin


def test_the_admins_invoice_and_payment_pages_link_to_the_back_office(admin_client, ledger):
    invoice, payment = ledger["old"], ledger["paid"]

    invoice_page = page_of(
        admin_client.get(reverse("admin:invoices_invoice_change", args=[invoice.pk]))
    )
    payment_page = page_of(
        admin_client.get(reverse("admin:payments_payment_change", args=[payment.pk]))
    )

    assert invoice_page.by_id("backoffice-invoice-link").attrs["href"] == invoice_url(invoice)
    assert payment_page.by_id("backoffice-payment-link").attrs["href"] == payment_url(payment)


def test_the_back_offices_pages_link_to_the_admins_for_those_who_may_read_it(
    finance, cashier, ledger
):
    invoice, payment = ledger["old"], ledger["paid"]
    invoice_admin = reverse("admin:invoices_invoice_change", args=[invoice.pk])
    payment_admin = reverse("admin:payments_payment_change", args=[payment.pk])

    assert page_of(finance.get(invoice_url(invoice))).by_id("invoice-admin").attrs["href"] == (
        invoice_admin
    )
    assert page_of(finance.get(payment_url(payment))).by_id("payment-admin").attrs["href"] == (
        payment_admin
    )
    # The cashier may not view invoices in the admin: no link there.
    assert page_of(cashier.get(invoice_url(invoice))).find_all(id="invoice-admin") == []


def changelist_row(admin_client, admin: str, pk: int) -> dict[str, str]:
    """The changelist row of `pk`: {column class: text} ("money_amount": "1,234.00 USD")."""
    page = page_of(admin_client.get(reverse(f"admin:{admin}_changelist")))
    change = reverse(f"admin:{admin}_change", args=[pk])
    [row] = [
        tr
        for tr in page.by_id("result_list").find("tbody").find_all("tr")
        if change in [a.attrs.get("href") for a in tr.find_all("a")]
    ]
    return {
        cell.attrs["class"].split()[0].removeprefix("field-"): cell.text()
        for cell in row.children
        if not isinstance(cell, str) and cell.attrs.get("class", "").startswith("field-")
    }


def test_the_admins_changelists_show_amounts_and_dates_as_the_back_office_does(admin_client):
    account = AccountFactory(number=800001, name="Big Spender", currency="EUR")
    invoice = InvoiceFactory(
        account=account,
        number="BIG-1",
        issue_date=datetime.date(2026, 5, 1),
        due_date=datetime.date(2026, 5, 31),
        amount=Decimal("1234567.80"),
        balance=Decimal("1000.00"),
    )
    item = BillingItemFactory(
        contact=ContactFactory(account=account, first_name="Ann", last_name="Lee"),
        description="Dues",
        due_date=datetime.date(2026, 6, 1),
        total_amount=Decimal("12345.60"),
    )
    InvoiceFactory(account=account, due_date=days_ago(-10), amount=Decimal("2500000.00"))
    paid = invoices_pay(account_id=account.pk, amount="1000.00", actor=SYSTEM).payment

    assert changelist_row(admin_client, "contacts_account", account.pk) == {
        "number": "800001",
        "name": "Big Spender",
        "currency": "EUR",
        "api_payments_blocked": "",
        "money_balance": "2,512,345.60",  # the invoice due in 10 days and the billing item
        "money_past_due": "12,345.60",
    }
    assert changelist_row(admin_client, "invoices_invoice", invoice.pk) == {
        "number": "BIG-1",
        "account": "800001 Big Spender",
        "date_issue_date": "2026-05-01",
        "date_due_date": "2026-05-31",
        "money_amount": "1,234,567.80 EUR",
        "money_balance": "0.00 EUR",
        "status": "Paid",
        "days_late": "0",
    }
    assert changelist_row(admin_client, "invoices_billingitem", item.pk) == {
        "id": str(item.pk),
        "contact": "Ann Lee",
        "description": "Dues",
        "date_due_date": "2026-06-01",
        "money_total_amount": "12,345.60 EUR",
        "money_balance": "12,345.60 EUR",
        "settled": "",
    }
    row = changelist_row(admin_client, "payments_payment", paid.pk)
    assert row["money_amount"] == "1,000.00 EUR"
    assert row["date_payment_date"] == paid.payment_date.astimezone(datetime.UTC).date().isoformat()
    assert "currency" not in row
