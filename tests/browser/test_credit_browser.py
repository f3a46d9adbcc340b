"""Issue 13's "Done when", in a real headless Chromium: a clerk receives an overpayment and holds
the rest as credit, applies it to next month's invoice, refunds what is left, issues a credit
note, refunds part of the payment itself and opens the statement the customer is sent, which adds
up to the ledger; every step from the back office, checked on the page and in the database to the
cent, and the ledger verifies clean at the end. A screenshot of each new page (1366 wide)."""

import datetime
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from contacts.models import Account
from invoices.models import Invoice
from payments.models import CreditApplication, CreditNote, Payment, Refund
from tests.factories import AccountFactory, InvoiceFactory, TenderTypeFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases={"default", "replica"}),
]


def money(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.\-]", "", text))


def preview_and_confirm(page: Page, form: str, shot) -> None:
    page.locator(form).get_by_role("button", name="Preview").click()
    expect(page.locator("#confirm")).to_be_visible()
    shot()
    page.click("#confirm")
    expect(page.locator("ul.messagelist li.success")).to_be_visible()


@pytest.fixture
def books():
    TenderTypeFactory(id=3, name="Card")  # live_server tests flush the migration's tender types
    UserFactory(username="clerk", is_superuser=True)
    account = AccountFactory(name="Harbour Books", currency="USD")
    today = timezone.localdate()
    return type(
        "Books",
        (),
        {
            "account": account,
            "march": InvoiceFactory(
                account=account,
                number="HB-03",
                due_date=today - datetime.timedelta(days=10),
                amount=Decimal("120.00"),
            ),
            "april": InvoiceFactory(
                account=account,
                number="HB-04",
                due_date=today + datetime.timedelta(days=20),
                amount=Decimal("80.00"),
            ),
        },
    )


def test_overpayment_to_credit_applied_refunded_and_a_credit_note(page, books, screenshot_dir):
    account = books.account

    def shot(name):
        return lambda: page.screenshot(path=screenshot_dir / f"credit-{name}.png", full_page=True)

    page.goto(f"/backoffice/accounts/{account.pk}/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next="))
    page.fill("input[name=username]", "clerk")
    page.fill("input[name=password]", "password")
    page.click("input[type=submit]")

    # 1. An overpayment: 200.00 for March's 120.00, the rest held as credit.
    page.click("a#record-payment")
    page.check(f"input[name=invoices][value='{books.march.pk}']")
    page.fill("input[name=amount]", "200.00")
    page.check("input[name=to_credit]")
    page.select_option("select[name=tender_type]", "3")
    page.locator("#account-pay-form").get_by_role("button", name="Preview").click()
    expect(page.locator("#to-credit")).to_have_text("80.00")
    shot("overpayment-preview")()
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator("#account-credit .num")).to_have_text("80.00")
    assert Account.objects.get(pk=account.pk).credit_balance == Decimal("80.00")
    assert Payment.objects.get().credit_amount == Decimal("80.00")

    # 2. Part of it applied to next month's invoice: 50.00 of April's 80.00.
    page.click("a#apply-credit")
    page.check(f"input[name=invoices][value='{books.april.pk}']")
    page.fill("input[name=amount]", "50.00")
    page.locator("#apply-credit-form").get_by_role("button", name="Preview").click()
    expect(page.locator("#credit-after")).to_have_text("30.00 USD")
    shot("apply-preview")()
    page.click("#confirm")
    expect(page.locator("#account-credit .num")).to_have_text("30.00")
    assert Invoice.objects.get(pk=books.april.pk).balance == Decimal("30.00")
    assert CreditApplication.objects.get().amount == Decimal("50.00")

    # 3. The rest refunded to the customer.
    page.click("a#refund-credit")
    page.fill("input[name=amount]", "30.00")
    page.select_option("select[name=tender_type]", "3")
    page.fill("input[name=reference]", "CARD-REFUND-1")
    page.fill("textarea[name=reason]", "Customer asked for the balance back")
    preview_and_confirm(page, "#refund-form", shot("refund-preview"))
    expect(page.locator("#refund-amount")).to_have_text("30.00 USD")
    shot("refund-page")()
    refund = Refund.objects.get()
    assert (refund.amount, refund.reference) == (Decimal("30.00"), "CARD-REFUND-1")
    assert Account.objects.get(pk=account.pk).credit_balance == Decimal("0.00")

    # 4. A credit note on April's invoice: 45.00, of which 30.00 off what it owes, 15.00 to credit.
    page.goto(f"/backoffice/invoices/{books.april.pk}/")
    page.click("a#issue-credit-note")
    expect(page.locator("input[name=number]")).to_have_value("CN-HB-04-1")
    page.fill("textarea[name=reason]", "Damaged copies returned")
    page.fill("input[name=lines-0-description]", "Three damaged copies")
    page.fill("input[name=lines-0-amount]", "36.00")
    page.fill("input[name=lines-1-description]", "Shipping")
    page.fill("input[name=lines-1-amount]", "9.00")
    page.locator("#credit-note-form").get_by_role("button", name="Preview").click()
    expect(page.locator("ul.form-errors li.error")).to_contain_text("more than invoice HB-04")
    page.check("input[name=excess_to_credit]")
    preview_and_confirm(page, "#credit-note-form", shot("credit-note-preview"))
    expect(page.locator("#credit-note-credit")).to_have_text("15.00 USD")
    shot("credit-note-page")()
    note = CreditNote.objects.get()
    assert (note.applied_amount, note.credit_amount) == (Decimal("30.00"), Decimal("15.00"))
    assert Invoice.objects.get(pk=books.april.pk).balance == Decimal("0.00")
    pdf = page.request.get(f"/backoffice/credit-notes/{note.pk}/pdf")
    assert pdf.headers["content-type"] == "application/pdf"

    # The account page: credit and its history add up.
    page.goto(f"/backoffice/accounts/{account.pk}/")
    expect(page.locator("#account-credit .num")).to_have_text("15.00")
    rows = page.locator("#credit-movements tbody tr")
    expect(rows).to_have_count(4)
    into = sum(money(t) for t in page.locator("#credit-movements td.in").all_text_contents() if t)
    out = sum(money(t) for t in page.locator("#credit-movements td.out").all_text_contents() if t)
    assert (into, out) == (Decimal("95.00"), Decimal("80.00"))
    shot("account")()

    # 5. And a refund of the payment itself: 20.00 of what it paid on March's invoice goes back,
    # which that invoice owes again; the credit is untouched.
    payment = Payment.objects.get()
    page.goto(f"/backoffice/payments/{payment.pk}/")
    page.click("a#refund-payment")
    page.fill("input[name=amount]", "20.00")
    page.select_option("select[name=tender_type]", "3")
    page.fill("textarea[name=reason]", "Two copies never shipped")
    preview_and_confirm(page, "#refund-form", shot("payment-refund-preview"))
    expect(page.locator("#refund-releases td.num")).to_have_text("20.00 USD")
    assert Invoice.objects.get(pk=books.march.pk).balance == Decimal("20.00")
    assert Account.objects.get(pk=account.pk).credit_balance == Decimal("15.00")

    page.goto("/backoffice/")
    expect(page.locator("#customer-credit li[data-currency=USD] .num")).to_have_text("15.00")
    shot("dashboard")()

    # 6. The statement the customer is sent: from the account page, over the whole history; it
    # adds up (each running balance is the one before plus its amount) and closes on what the
    # invoices owe less the credit, today's ledger.
    page.goto(f"/backoffice/accounts/{account.pk}/")
    page.click("a#statement")
    page.fill("input[name=from]", "2000-01-01")
    page.locator("#period-form").get_by_role("button", name="Show").click()
    opening = money(page.locator("#opening-balance .num").inner_text())
    amounts = [
        money(t) for t in page.locator("#movements tr.movement td.amount").all_text_contents()
    ]
    balances = [
        money(t) for t in page.locator("#movements tr.movement td.balance").all_text_contents()
    ]
    assert opening == Decimal("0.00")
    running = opening
    for amount, balance in zip(amounts, balances, strict=True):
        running += amount
        assert balance == running
    closing = money(page.locator("#closing-balance .num").inner_text())
    owed = sum(Invoice.objects.filter(account=account).values_list("balance", flat=True))
    credit = Account.objects.get(pk=account.pk).credit_balance
    assert closing == running == owed - credit
    kinds = set(
        page.locator("#movements tr.movement").evaluate_all("rs => rs.map(r => r.dataset.kind)")
    )
    assert {"invoice", "payment", "credit_application", "refund", "credit_note"} <= kinds
    shot("statement")()
    statement_pdf = page.request.get(page.locator("a#statement-pdf").get_attribute("href"))
    assert statement_pdf.headers["content-type"] == "application/pdf"

    call_command("verify_ledger", stdout=StringIO())  # raises on any drift
