"""A clerk walks from a figure to a payment in a real headless Chromium; and the admin's money
columns fit a 1366x768 screen.

The walk: sign in, open the dashboard, click an ageing bucket's figure (it lands on the past-due
list for that bucket and currency), click an invoice number, read the invoice page (its items and
the allocation that paid it), click the payment, read the payment page (its allocation). Each step
is screenshotted, as the other browser tests do.
"""

import importlib
import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from payments.actors import SYSTEM
from payments.services import invoices_pay
from tests.factories import (
    AccountFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    InvoiceItemFactory,
    TenderTypeFactory,
    UserFactory,
    days_ago,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases={"default", "replica"}),
]


def log_in(page: Page, path: str = "/backoffice/") -> None:
    """Open `path` anonymously, get sent to the admin login, log in, land on `path`."""
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/admin/login/\?next="))
    page.fill("input[name=username]", "clerk")
    page.fill("input[name=password]", "password")
    page.click("input[type=submit]")
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def test_from_an_ageing_figure_to_the_payment_that_paid_an_invoice(page, screenshot_dir):
    UserFactory(username="clerk", is_superuser=True)
    account = AccountFactory(name="Alpha Ltd", currency="USD")
    invoice = InvoiceFactory(
        account=account,
        number="WALK-1",
        due_date=days_ago(45),  # 31-60 days late
        amount=Decimal("1250.00"),
    )
    InvoiceItemFactory(invoice=invoice, charge_name="Gold plan", unit_price=Decimal("1000.00"))
    InvoiceItemFactory(
        invoice=invoice,
        charge_name="Setup",
        unit_price=Decimal("200.00"),
        tax_amount=Decimal("50.00"),
    )
    payment = invoices_pay(account_id=account.pk, amount="400.00", actor=SYSTEM).payment
    other_bucket = InvoiceFactory(account=account, number="WALK-2", due_date=days_ago(5))
    other_currency = InvoiceFactory(
        account=AccountFactory(currency="EUR"), number="WALK-3", due_date=days_ago(45)
    )

    # The dashboard: 850.00 USD owed 31-60 days late; its figure opens the list behind it.
    log_in(page)
    cell = page.locator("table#ageing tr[data-currency=USD] td[data-bucket='31-60'] a")
    expect(cell).to_have_text("850.00")
    page.screenshot(path=screenshot_dir / "walk-1-dashboard.png", full_page=True)
    cell.click()
    expect(page).to_have_url(re.compile(r"/backoffice/past-due/\?currency=USD&bucket=31-60$"))
    row = page.locator(f"table#past-due-table tr[data-invoice-id='{invoice.pk}']")
    expect(row).to_be_visible()
    for elsewhere in (other_bucket, other_currency):  # the list's filters took the link's
        expect(page.locator(f"tr[data-invoice-id='{elsewhere.pk}']")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "walk-2-past-due.png", full_page=True)

    # The invoice page: its items and the allocation that paid it.
    row.locator("td.number a").click()
    expect(page).to_have_url(re.compile(rf"/backoffice/invoices/{invoice.pk}/$"))
    expect(page.locator("h1")).to_contain_text("Invoice WALK-1")
    expect(page.locator("#invoice-amount")).to_have_text("1,250.00 USD")
    expect(page.locator("#invoice-balance")).to_have_text("850.00 USD")
    expect(page.locator("#invoice-days-late")).to_have_text("45")
    items = page.locator("table#invoice-items tbody tr")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("Gold plan")
    expect(items.nth(0).locator("td.charge-amount")).to_have_text("1,000.00")
    expect(items.nth(1).locator("td.tax")).to_have_text("50.00")
    allocation = page.locator(f"table#invoice-allocations tr[data-payment-id='{payment.pk}']")
    expect(allocation.locator("td.amount")).to_have_text("400.00 USD")
    expect(allocation.locator("td.state")).to_have_text("Standing")
    expect(page.locator("a#invoice-pdf")).to_have_attribute(
        "href", f"/backoffice/invoices/{invoice.pk}/pdf"
    )
    page.screenshot(path=screenshot_dir / "walk-3-invoice.png", full_page=True)

    # The payment page: its allocation, back to the invoice.
    allocation.locator("td.payment a").click()
    expect(page).to_have_url(re.compile(rf"/backoffice/payments/{payment.pk}/$"))
    expect(page.locator("#payment-number")).to_have_text(payment.number)
    expect(page.locator("#payment-amount")).to_have_text("400.00 USD")
    expect(page.locator("#payment-account a")).to_have_text(str(account))
    line = page.locator("table#payment-allocations tbody tr")
    expect(line).to_have_count(1)
    expect(line.locator("td.target a")).to_have_text("Invoice WALK-1")
    expect(line.locator("td.amount")).to_have_text("400.00 USD")
    expect(page.locator("a#reverse-payment")).to_have_attribute(
        "href", f"/backoffice/payments/{payment.pk}/reverse/"
    )
    page.screenshot(path=screenshot_dir / "walk-4-payment.png", full_page=True)
    line.locator("td.target a").click()
    expect(page).to_have_url(re.compile(rf"/backoffice/invoices/{invoice.pk}/$"))


CHANGELISTS = {
    "accounts": "/admin/contacts/account/",
    "invoices": "/admin/invoices/invoice/",
    "billing-items": "/admin/invoices/billingitem/",
    "payments": "/admin/payments/payment/",
}


@pytest.fixture
def demo_data():
    """The demo data (manage.py seed_demo) and rows with the widest amounts a list can show."""
    # live_server tests flush the migration's tender types, which the demo's payments use.
    presets = importlib.import_module("payments.migrations.0002_tender_type_presets").PRESETS
    for pk, name in presets:
        TenderTypeFactory(id=pk, name=name)
    call_command("seed_demo", stdout=io.StringIO(), stderr=io.StringIO())
    account = AccountFactory(
        number=990001, name="Worldwide Consolidated Holdings International", currency="EUR"
    )
    contact = ContactFactory(account=account, first_name="Maximiliane", last_name="Oberhauser")
    for days in (400, 40):
        InvoiceFactory(
            account=account,
            number=f"CONSOLIDATED-2026-{days:06d}",
            due_date=days_ago(days),
            amount=Decimal("98765432.10"),
        )
    invoices_pay(account_id=account.pk, amount="12345678.90", actor=SYSTEM)
    BillingItemFactory(
        contact=contact,
        description="Annual membership, family plan with court booking",
        total_amount=Decimal("1234567.89"),
    )


def test_the_admins_money_columns_fit_a_1366_screen(
    browser, live_server, demo_data, screenshot_dir
):
    UserFactory(username="clerk", is_superuser=True)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 768})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/admin/login/")
        page.fill("input[name=username]", "clerk")
        page.fill("input[name=password]", "password")
        page.click("input[type=submit]")
        for name, path in CHANGELISTS.items():
            page.goto(path)
            expect(page.locator("#result_list tbody tr").first).to_be_visible()
            page.screenshot(path=screenshot_dir / f"admin-{name}-1366x768.png")
            fit = page.evaluate(
                """() => {
                  const results = document.querySelector('#changelist .results');
                  const money = [...document.querySelectorAll(
                      '#result_list td[class*="field-money_"]')];
                  return {
                    page: document.documentElement.scrollWidth,
                    table: results.scrollWidth,
                    box: results.clientWidth,
                    rightmost: Math.max(...money.map(td => td.getBoundingClientRect().right)),
                    aligned: money.every(td => getComputedStyle(td).textAlign === 'right'),
                    amounts: money.map(td => td.innerText),
                  };
                }"""
            )
            assert fit["page"] <= 1366, (name, fit["page"])
            assert fit["table"] <= fit["box"], (name, "the table scrolls sideways", fit)
            assert fit["rightmost"] <= 1366, (name, fit["rightmost"])
            assert fit["aligned"], name
            assert fit["amounts"], name
            for amount in fit["amounts"]:
                assert re.fullmatch(r"\d{1,3}(,\d{3})*\.\d\d( [A-Z]{3})?", amount), (name, amount)
        page.goto(CHANGELISTS["invoices"] + "?q=CONSOLIDATED")
        expect(page.locator("#result_list")).to_contain_text("98,765,432.10 EUR")
        page.screenshot(path=screenshot_dir / "admin-invoices-widest-1366x768.png")
    finally:
        context.close()
