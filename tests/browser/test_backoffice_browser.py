"""The staff back office in a real headless Chromium (contract: the back-office pages spec).

A finance user logs in through the admin login, reads the dashboard, filters the past-due list,
records a payment against chosen invoices and sees the balances fall, then reverses it and sees
them restored; confirms a preview twice (a double click, the back button) and gets one payment;
and records a payment against a contact's billing items. Every step is checked on
the page and in the database, to the cent.
"""

import datetime
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from invoices.models import BillingItem, Invoice, InvoiceStatus
from payments.actors import Channel
from payments.models import Payment, Reversal
from tests.factories import (
    AccountFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    PaymentAllocationFactory,
    PaymentFactory,
    TenderTypeFactory,
    UserFactory,
    days_ago,
)

# The live server reads the dashboard and the past-due list from the replica (a mirror in tests).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases={"default", "replica"}),
]

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+", "total")


def money(text: str) -> Decimal:
    """The amount shown in a cell or figure: "$1,060.00", "1,060.00 USD" -> Decimal("1060.00")."""
    digits = re.sub(r"[^\d.\-]", "", text)
    assert digits, f"no amount in {text!r}"
    return Decimal(digits)


def paid(invoice, amount: str, days: int):
    """A payment of `amount` dated `days` ago, allocated to `invoice` (its balance already set)."""
    payment = PaymentFactory(
        account=invoice.account,
        amount=Decimal(amount),
        payment_date=timezone.now() - datetime.timedelta(days=days),
    )
    PaymentAllocationFactory(payment=payment, invoice=invoice, amount=Decimal(amount))
    return payment


@pytest.fixture
def ledger():
    """Three accounts in two currencies; days late are counted from today (UTC).

    USD  invoices      current 80.00 | 1-30 180.00 | 31-60 250.00 | 61-90 300.00 | 90+ 250.00
         billing items               | 1-30  50.00 | 31-60  75.00 (Carla Clark's, created today)
         total 1185.00
    EUR  90+ 500.00 | total 500.00
    """
    TenderTypeFactory(id=3, name="Card")  # live_server tests flush the migration's tender types
    user = UserFactory(username="finance", is_superuser=True)
    alpha = AccountFactory(name="Alpha Ltd", currency="USD")
    beta = AccountFactory(name="Beta Inc", currency="USD")
    gamma = AccountFactory(name="Gamma GmbH", currency="EUR")

    def invoice(account, due_in_days: int, amount: str, balance: str | None = None):
        return InvoiceFactory(
            account=account,
            due_date=timezone.localdate() + datetime.timedelta(days=due_in_days),
            amount=Decimal(amount),
            balance=Decimal(balance or amount),
        )

    data = SimpleNamespace(user=user, alpha=alpha, beta=beta, gamma=gamma)
    data.a_1_30 = invoice(alpha, -10, "120.00")
    data.a_31_60 = invoice(alpha, -45, "250.00")
    data.a_90 = invoice(alpha, -100, "400.00", balance="250.00")
    data.a_current = invoice(alpha, 10, "80.00")
    data.a_paid = invoice(alpha, -20, "50.00", balance="0.00")
    data.old_payment = paid(data.a_90, "150.00", days=40)  # before the last 30 days
    data.recent_payment = paid(data.a_paid, "50.00", days=3)  # collected in the last 30 days
    data.b_61_90 = invoice(beta, -75, "300.00")
    data.b_1_30 = invoice(beta, -5, "60.00")
    data.g_90 = invoice(gamma, -120, "500.00")
    data.contact = ContactFactory(account=alpha, first_name="Carla", last_name="Clark")
    data.fee = BillingItemFactory(contact=data.contact, total_amount=Decimal("50.00"))
    data.dues = BillingItemFactory(
        contact=data.contact, total_amount=Decimal("75.00"), due_date=days_ago(35)
    )
    return data


def log_in(page: Page, path: str = "/backoffice/") -> None:
    """Open `path` anonymously, get sent to the admin login, log in, land on `path`."""
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/admin/login/\?next="))
    page.fill("input[name=username]", "finance")
    page.fill("input[name=password]", "password")
    page.click("input[type=submit]")
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def figure(page: Page, figure_id: str, currency: str) -> Decimal:
    return money(page.locator(f"#{figure_id} [data-currency={currency}]").inner_text())


def ageing_row(page: Page, currency: str) -> dict[str, Decimal]:
    """The ageing table's row for `currency`, by bucket, its columns found by their headers."""
    headers = [
        text.strip().lower().replace("\u2013", "-")
        for text in page.locator("table#ageing thead th").all_inner_texts()
    ]
    cells = page.locator(f"table#ageing tr[data-currency={currency}]").locator("th, td")
    texts = cells.all_inner_texts()
    assert len(texts) == len(headers), (headers, texts)
    row = {}
    for bucket in BUCKETS:
        [column] = [i for i, header in enumerate(headers) if bucket in header]
        row[bucket] = money(texts[column])
    return row


def invoice_rows(page: Page, table: str = "table#past-due-table") -> set[int]:
    rows = page.locator(f"{table} tr[data-invoice-id]")
    return {int(row.get_attribute("data-invoice-id")) for row in rows.all()}


def invoice_balance(page: Page, invoice) -> Decimal:
    cell = page.locator(f"table#invoices tr[data-invoice-id='{invoice.pk}'] td.balance")
    return money(cell.inner_text())


def test_dashboard_shows_receivables_by_currency_and_bucket(page, ledger, screenshot_dir):
    log_in(page)

    assert figure(page, "total-receivable", "USD") == Decimal("1185.00")
    assert figure(page, "total-past-due", "USD") == Decimal("1105.00")
    assert figure(page, "collected-30-days", "USD") == Decimal("50.00")
    assert figure(page, "accounts-past-due", "USD") == 2
    assert figure(page, "total-receivable", "EUR") == Decimal("500.00")
    assert figure(page, "total-past-due", "EUR") == Decimal("500.00")
    assert figure(page, "collected-30-days", "EUR") == Decimal("0.00")
    assert figure(page, "accounts-past-due", "EUR") == 1
    amounts = ("80.00", "230.00", "325.00", "300.00", "250.00", "1185.00")
    assert ageing_row(page, "USD") == dict(zip(BUCKETS, map(Decimal, amounts), strict=True))
    amounts = ("0.00", "0.00", "0.00", "0.00", "500.00", "500.00")
    assert ageing_row(page, "EUR") == dict(zip(BUCKETS, map(Decimal, amounts), strict=True))
    expect(page.locator("svg#ageing-chart")).to_be_visible()
    page.screenshot(path=screenshot_dir / "dashboard.png", full_page=True)

    # Sixty days ago: fewer invoices issued, the payment on the 90+ invoice not yet made, and the
    # billing items (created today) not there yet.
    as_of = days_ago(60)
    page.fill("form#as-of-form input#as-of[name=as_of][type=date]", as_of.isoformat())
    page.locator("form#as-of-form").get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"as_of={as_of.isoformat()}"))
    amounts = ("250.00", "300.00", "400.00", "0.00", "0.00", "950.00")
    assert ageing_row(page, "USD") == dict(zip(BUCKETS, map(Decimal, amounts), strict=True))
    amounts = ("0.00", "0.00", "500.00", "0.00", "0.00", "500.00")
    assert ageing_row(page, "EUR") == dict(zip(BUCKETS, map(Decimal, amounts), strict=True))
    assert figure(page, "collected-30-days", "USD") == Decimal("0.00")


def test_past_due_list_filters_by_account_and_bucket(page, ledger, screenshot_dir):
    log_in(page)
    page.click("a#nav-past-due")
    expect(page).to_have_url(re.compile(r"/backoffice/past-due/$"))
    assert invoice_rows(page) == {
        ledger.a_1_30.pk,
        ledger.a_31_60.pk,
        ledger.a_90.pk,
        ledger.b_61_90.pk,
        ledger.b_1_30.pk,
        ledger.g_90.pk,
    }

    filters = page.locator("form#past-due-filters")
    filters.locator("select[name=account]").select_option(str(ledger.alpha.pk))
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"account={ledger.alpha.pk}"))
    assert invoice_rows(page) == {ledger.a_1_30.pk, ledger.a_31_60.pk, ledger.a_90.pk}
    row = page.locator(f"table#past-due-table tr[data-invoice-id='{ledger.a_90.pk}']")
    assert ledger.a_90.number in row.inner_text()
    assert "250.00" in row.inner_text()
    page.screenshot(path=screenshot_dir / "past-due.png", full_page=True)

    filters = page.locator("form#past-due-filters")
    expect(filters.locator("select[name=account]")).to_have_value(str(ledger.alpha.pk))
    filters.locator("select[name=bucket]").select_option("31-60")
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"bucket=31-60"))
    assert invoice_rows(page) == {ledger.a_31_60.pk}
    for link in ("a#export-csv", "a#export-xlsx"):
        href = page.locator(link).get_attribute("href")
        assert f"account={ledger.alpha.pk}" in href
        assert "bucket=31-60" in href


def test_record_a_payment_then_reverse_it(page, ledger, screenshot_dir):
    alpha, a_1_30, a_31_60 = ledger.alpha, ledger.a_1_30, ledger.a_31_60
    account_page = f"/backoffice/accounts/{alpha.pk}/"
    log_in(page, account_page)
    # The invoices' 700.00 (620.00 past due) and the contact's billing items' 125.00, all past due.
    assert money(page.locator("#account-balance").inner_text()) == Decimal("825.00")
    assert money(page.locator("#past-due-balance").inner_text()) == Decimal("745.00")
    assert invoice_balance(page, a_31_60) == Decimal("250.00")
    assert invoice_balance(page, a_1_30) == Decimal("120.00")
    payments_before = Payment.objects.count()

    # Two invoices, 300.00: the older one is settled first (250.00), the other gets 50.00.
    page.click("a#record-payment")
    expect(page).to_have_url(re.compile(rf"/backoffice/accounts/{alpha.pk}/pay/$"))
    page.check(f"input[name=invoices][value='{a_1_30.pk}']")
    page.check(f"input[name=invoices][value='{a_31_60.pk}']")
    page.fill("input[name=amount]", "300.00")
    # What a real payment has: how and when it was paid, the partner's reference, notes.
    date = page.locator("input[name=payment_date]")
    assert date.input_value() == days_ago(0).isoformat()  # today unless the clerk says otherwise
    date.fill(days_ago(-1).isoformat())  # the picker refuses a day after today
    expect(page.locator("input[name=payment_date]:invalid")).to_have_count(1)
    date.fill(days_ago(2).isoformat())
    expect(page.locator("input[name=payment_date]:invalid")).to_have_count(0)
    page.select_option("select[name=tender_type]", "3")
    page.fill("input[name=reference]", "NB-2026-0042")
    page.fill("textarea[name=notes]", "Cheque no. 004512.\nDeposited by the front desk.")
    page.click("button[name=action][value=preview]")
    settlement = page.locator("table#settlement tbody tr")
    expect(settlement).to_have_count(2)
    first, second = settlement.all_inner_texts()
    assert a_31_60.number in first
    assert "250.00" in first
    assert a_1_30.number in second
    assert "50.00" in second
    details = page.locator("#payment-details")
    shown = {
        detail: details.locator(f"dd[data-detail={detail}]").inner_text()
        for detail in ("amount", "tender_type", "payment_date", "reference", "notes")
    }
    assert shown == {
        "amount": "300.00 USD",
        "tender_type": "Card",
        "payment_date": days_ago(2).isoformat(),
        "reference": "NB-2026-0042",
        "notes": "Cheque no. 004512.\nDeposited by the front desk.",  # its line break kept
    }
    page.screenshot(path=screenshot_dir / "account-pay-preview.png", full_page=True)
    assert Payment.objects.count() == payments_before  # a preview records nothing

    page.click("button[name=action][value=confirm]")
    expect(page).to_have_url(re.compile(rf"{account_page}$"))
    expect(page.locator("ul.messagelist li.success")).to_be_visible()
    assert invoice_balance(page, a_31_60) == Decimal("0.00")
    assert invoice_balance(page, a_1_30) == Decimal("70.00")
    assert money(page.locator("#account-balance").inner_text()) == Decimal("525.00")
    assert money(page.locator("#past-due-balance").inner_text()) == Decimal("445.00")

    payment = Payment.objects.get(account=alpha, channel=Channel.STAFF)
    assert Payment.objects.count() == payments_before + 1
    assert (payment.amount, payment.currency) == (Decimal("300.00"), "USD")
    assert payment.recorded_by_user == ledger.user
    assert (payment.tender_type_id, payment.payment_date, payment.reference, payment.notes) == (
        3,
        datetime.datetime.combine(days_ago(2), datetime.time(), datetime.UTC),
        "NB-2026-0042",
        "Cheque no. 004512.\nDeposited by the front desk.",
    )
    assert dict(payment.allocations.values_list("invoice_id", "amount")) == {
        a_31_60.pk: Decimal("250.00"),
        a_1_30.pk: Decimal("50.00"),
    }
    a_1_30.refresh_from_db()
    a_31_60.refresh_from_db()
    assert (a_31_60.balance, a_31_60.status) == (Decimal("0.00"), InvoiceStatus.PAID)
    assert (a_1_30.balance, a_1_30.status) == (Decimal("70.00"), InvoiceStatus.OPEN)
    row = page.locator(f"table#payments tr[data-payment-id='{payment.pk}']")
    expect(row).to_be_visible()
    expect(row.locator("td.tender-type")).to_have_text("Card")
    expect(row.locator("td.payment-date")).to_have_text(days_ago(2).isoformat())
    expect(row.locator(".reference")).to_have_text("NB-2026-0042")
    notes = row.locator(".payment-notes").inner_text()
    assert notes == "Cheque no. 004512.\nDeposited by the front desk."
    page.screenshot(path=screenshot_dir / "account-after-payment.png", full_page=True)

    # Reverse it: both balances come back to the cent, the payment stays on the record.
    reverse_link = f"a.reverse-payment[href*='/payments/{payment.pk}/reverse/']"
    page.click(reverse_link)
    expect(page).to_have_url(re.compile(rf"/backoffice/payments/{payment.pk}/reverse/$"))
    page.fill("textarea[name=reason]", "Cheque bounced")
    page.get_by_role("button", name="Reverse payment").click()
    expect(page).to_have_url(re.compile(rf"{account_page}$"))
    expect(page.locator("ul.messagelist li.success")).to_be_visible()
    assert invoice_balance(page, a_31_60) == Decimal("250.00")
    assert invoice_balance(page, a_1_30) == Decimal("120.00")
    # The invoices' 700.00 (620.00 past due) and the contact's billing items' 125.00, all past due.
    assert money(page.locator("#account-balance").inner_text()) == Decimal("825.00")
    assert money(page.locator("#past-due-balance").inner_text()) == Decimal("745.00")
    expect(page.locator(reverse_link)).to_have_count(0)
    expect(page.locator(f"table#payments tr[data-payment-id='{payment.pk}']")).to_be_visible()
    expect(page.locator("table#reversals")).to_contain_text("Cheque bounced")

    reversal = Reversal.objects.get(payment=payment)
    assert reversal.reason == "Cheque bounced"
    assert (reversal.channel, reversal.recorded_by_user) == (Channel.STAFF, ledger.user)
    assert Payment.objects.count() == payments_before + 1
    balances = dict(Invoice.objects.filter(account=alpha).values_list("pk", "balance"))
    assert balances == {
        a_1_30.pk: Decimal("120.00"),
        a_31_60.pk: Decimal("250.00"),
        ledger.a_90.pk: Decimal("250.00"),
        ledger.a_current.pk: Decimal("80.00"),
        ledger.a_paid.pk: Decimal("0.00"),
    }
    a_31_60.refresh_from_db()
    assert a_31_60.status == InvoiceStatus.OPEN


def test_a_double_click_or_the_back_button_records_one_payment(page, ledger, screenshot_dir):
    alpha, a_1_30 = ledger.alpha, ledger.a_1_30
    account_page = f"/backoffice/accounts/{alpha.pk}/"
    log_in(page, f"{account_page}pay/")
    page.check(f"input[name=invoices][value='{a_1_30.pk}']")
    page.select_option("select[name=tender_type]", "3")
    page.fill("input[name=amount]", "20.00")
    page.click("button[name=action][value=preview]")
    expect(page.locator("table#settlement tbody tr")).to_have_count(1)
    payments_before = Payment.objects.count()

    # A double click: the browser may send the form twice; one payment is recorded.
    page.dblclick("button[name=action][value=confirm]")
    expect(page).to_have_url(re.compile(rf"{account_page}(#payment-\d+)?$"))
    expect(page.locator("ul.messagelist li").first).to_be_visible()
    payment = Payment.objects.get(account=alpha, channel=Channel.STAFF)
    assert Payment.objects.count() == payments_before + 1
    already = (
        f"Payment {payment.number} (20.00 USD) was already recorded from this preview: "
        "nothing more was recorded."
    )
    # Which of the two answers the page shows depends on when the second click went out.
    shown = set(page.locator("ul.messagelist li").all_inner_texts())
    assert shown <= {f"Recorded payment {payment.number}: 20.00 USD.", already}

    # Back to the preview (from the history), "Record payment" again: nothing more recorded.
    page.go_back()
    expect(page).to_have_url(re.compile(rf"{account_page}pay/$"))
    page.click("button[name=action][value=confirm]")
    expect(page).to_have_url(re.compile(rf"{account_page}#payment-{payment.pk}$"))
    expect(page.locator("ul.messagelist li.warning")).to_have_text(already)
    assert Payment.objects.count() == payments_before + 1
    a_1_30.refresh_from_db()
    assert a_1_30.balance == Decimal("100.00")
    page.screenshot(path=screenshot_dir / "account-pay-again.png", full_page=True)


def test_record_a_payment_against_a_contacts_billing_items(page, ledger):
    contact, fee, dues = ledger.contact, ledger.fee, ledger.dues
    log_in(page, f"/backoffice/contacts/{contact.pk}/")

    def balance(item) -> Decimal:
        cell = page.locator(f"table#billing-items tr[data-billing-id='{item.pk}'] td.balance")
        return money(cell.inner_text())

    assert (balance(fee), balance(dues)) == (Decimal("50.00"), Decimal("75.00"))

    page.click("a#record-payment")
    expect(page).to_have_url(re.compile(rf"/backoffice/contacts/{contact.pk}/pay/$"))
    page.select_option("select[name=tender_type]", "3")
    page.fill(f"input[name=amount_{dues.pk}]", "30.00")
    page.fill("input[name=reference]", "POS-17")
    page.fill("textarea[name=notes]", "Paid at the desk.")
    page.click("button[name=action][value=preview]")
    expect(page.locator("#payment-details dd[data-detail=notes]")).to_have_text("Paid at the desk.")
    expect(page.locator("table#settlement")).to_contain_text("30.00")
    assert not Payment.objects.filter(contact=contact).exists()

    page.click("button[name=action][value=confirm]")
    expect(page.locator("ul.messagelist li.success")).to_be_visible()
    page.goto(f"/backoffice/contacts/{contact.pk}/")
    assert (balance(fee), balance(dues)) == (Decimal("50.00"), Decimal("45.00"))

    payment = Payment.objects.get(contact=contact)
    assert (payment.amount, payment.tender_type_id, payment.channel) == (
        Decimal("30.00"),
        3,
        Channel.STAFF,
    )
    assert (payment.reference, payment.notes) == ("POS-17", "Paid at the desk.")
    row = page.locator(f"table#payments tr[data-payment-id='{payment.pk}']")
    expect(row.locator(".reference")).to_have_text("POS-17")
    expect(row.locator(".payment-notes")).to_have_text("Paid at the desk.")
    assert list(payment.allocations.values_list("billing_item_id", "amount")) == [
        (dues.pk, Decimal("30.00"))
    ]
    assert dict(BillingItem.objects.filter(contact=contact).values_list("pk", "balance")) == {
        fee.pk: Decimal("50.00"),
        dues.pk: Decimal("45.00"),
    }
