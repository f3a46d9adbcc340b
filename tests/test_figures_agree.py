"""Every figure agrees: one rule for what is owed and past due, wherever it is shown.

Varied data (three currencies, partial payments, reversals, write-downs, a void invoice, an invoice
issued in the future, payments dated in the past), built through the money services. Then, per
currency, today: the dashboard's past due equals the past-due list's totals, the sum of its rows
(invoices and billing items, every page), the sum of its CSV and XLSX exports, the sum of the
accounts' past-due balances on their pages, in the accounts list and in the admin, and the sum of
DocuSign's `billing_invoices_past_due` (invoices) and Legend's `Billings` (billing items) for
every account. The dashboard's receivable equals the accounts' balances the same ways. As of a
past day the dashboard, the list and its exports agree, and the figures are checked by hand.
"""

import csv
import datetime
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from openpyxl import load_workbook

from contacts.models import Account
from invoices.due import today
from invoices.services import billing_item_create, invoice_issue, invoice_void
from payments.actors import SYSTEM
from payments.lines import BillingLine, WriteDownLine
from payments.models import TenderType
from payments.services import (
    billing_items_pay,
    billing_items_write_down,
    invoices_pay,
    payment_reverse,
)
from tests.backoffice_pages import finance_user, page_of
from tests.factories import (
    AccountFactory,
    AccountRoleFactory,
    ApiCredentialFactory,
    ContactFactory,
    days_ago,
)

pytestmark = pytest.mark.django_db

D = Decimal


def at(days: int) -> datetime.datetime:
    """Midnight UTC, `days` ago (today's has passed: no movement is dated in the future)."""
    return datetime.datetime.combine(days_ago(days), datetime.time(), datetime.UTC)


def issue(account, number, issued_days_ago, due_days_ago, amount):
    return invoice_issue(
        account=account,
        number=number,
        issue_date=days_ago(issued_days_ago),
        due_date=days_ago(due_days_ago),
        amount=D(amount),
    )


def charge(contact, description, created_days_ago, due_days_ago, amount):
    item = billing_item_create(
        contact=contact,
        description=description,
        due_date=days_ago(due_days_ago),
        total_amount=D(amount),
    )
    type(item).objects.filter(pk=item.pk).update(created_at=at(created_days_ago))
    return item


def pay_invoices(account, invoices, amount, days):
    return invoices_pay(
        account_id=account.pk,
        invoice_ids=[invoice.pk for invoice in invoices],
        amount=D(amount),
        past_due_only=False,
        payment_date=at(days),
        actor=SYSTEM,
    ).payment


def pay_items(contact, lines, days):
    return billing_items_pay(
        contact=contact,
        tender_type_id=TenderType.objects.get(name="Card").pk,
        payment_date=at(days),
        lines=[BillingLine(item.pk, D(amount)) for item, amount in lines],
        actor=SYSTEM,
    ).payment


@pytest.fixture
def books():
    """Three currencies; the comments give what each row owes today and on day 40 ago (D40)."""
    usd1 = AccountFactory(number=710001, name="Usd One", currency="USD")
    usd2 = AccountFactory(number=710002, name="Usd Two", currency="USD")
    eur = AccountFactory(number=710003, name="Eur", currency="EUR")
    gbp = AccountFactory(number=710004, name="Gbp", currency="GBP")

    # USD one: today past due 600.00 (u1 400 + u2 200); D40: u1 1000 (its payment is later).
    # u3 is owed today, not past due, and was not issued on D40.
    u1 = issue(usd1, "U1", 100, 70, "1000.00")
    pay_invoices(usd1, [u1], "600.00", 20)
    u2 = issue(usd1, "U2", 50, 45, "250.00")
    pay_invoices(usd1, [u2], "50.00", 44)  # D40: 200.00
    issue(usd1, "U3", 30, -10, "75.00")  # not yet due: owed, not past due; D40: not issued
    issue(usd1, "U4", -2, -30, "500.00")  # issued in two days: not yet owed anywhere
    u5 = issue(usd1, "U5", 90, 60, "80.00")
    invoice_void(invoice_id=u5.pk)  # void: never owed
    # USD two: u6 fully paid 60 days ago, reversed today: past due 300 today, 0 on D40.
    u6 = issue(usd2, "U6", 90, 80, "300.00")
    reversed_payment = pay_invoices(usd2, [u6], "300.00", 60)
    payment_reverse(payment_id=reversed_payment.pk, reason="Bounced", actor=SYSTEM)
    # u7 paid in full today: nothing owed today; D40: 120.00 past due.
    u7 = issue(usd2, "U7", 70, 50, "120.00")
    pay_invoices(usd2, [u7], "120.00", 0)
    # A contact's billing items in USD too: today 30.00 past due; D40: 45.00 (the write-down is
    # later), and the item created 20 days ago does not exist yet.
    member = ContactFactory(account=usd2, first_name="Mia", last_name="Member")
    i1 = charge(member, "Membership", 60, 45, "45.00")
    billing_items_write_down(
        contact=member,
        write_down_date=at(30),
        lines=[WriteDownLine(i1.pk, D("15.00"))],
        reason="Goodwill",
        actor=SYSTEM,
    )
    charge(member, "Locker", 20, 5, "12.34")  # today: 12.34 past due

    # EUR: invoices and billing items, a reversed item payment.
    e1 = issue(eur, "E1", 200, 150, "999.99")
    pay_invoices(eur, [e1], "0.99", 100)  # 999.00 past due today and on D40
    player = ContactFactory(account=eur, first_name="Pat", last_name="Player")
    i3 = charge(player, "Court fee", 60, 41, "20.00")
    item_payment = pay_items(player, [(i3, "20.00")], 35)  # D40: 20.00, reversed today: 20.00
    payment_reverse(payment_id=item_payment.pk, reason="Chargeback", actor=SYSTEM)
    i4 = charge(player, "Coaching", 60, 50, "80.00")
    pay_items(player, [(i4, "30.00")], 45)
    billing_items_write_down(  # written down before D40: 40.00 today and on D40
        contact=player,
        write_down_date=at(42),
        lines=[WriteDownLine(i4.pk, D("10.00"))],
        reason="Rain",
        actor=SYSTEM,
    )
    charge(player, "Next season", 5, -60, "100.00")  # owed, not due

    # GBP: nothing past due today; on D40 g1 was past due, paid in full 20 days ago.
    gbp_invoice = issue(gbp, "G1", 80, 50, "10.00")
    pay_invoices(gbp, [gbp_invoice], "10.00", 20)
    issue(gbp, "G2", 10, -20, "33.00")  # owed, not due

    return {
        "accounts": [usd1, usd2, eur, gbp],
        "contacts": [member, player],
        "today": {
            "USD": {"past_due": D("942.34"), "receivable": D("1017.34")},
            "EUR": {"past_due": D("1059.00"), "receivable": D("1159.00")},
            "GBP": {"past_due": D("0.00"), "receivable": D("33.00")},
        },
        "D40": {  # as of 40 days ago
            "USD": D("1000.00") + D("200.00") + D("120.00") + D("45.00"),
            "EUR": D("999.00") + D("20.00") + D("40.00"),
            "GBP": D("10.00"),
        },
    }


def money(text: str) -> Decimal:
    return D(text.replace(",", ""))


@pytest.fixture
def staff(client):
    client.force_login(finance_user())
    return client


def dashboard(client, as_of=None) -> dict[str, dict[str, Decimal]]:
    page = page_of(client.get("/backoffice/", {"as_of": as_of.isoformat()} if as_of else {}))
    figures = defaultdict(dict)
    for figure, name in (("total-past-due", "past_due"), ("total-receivable", "receivable")):
        for item in page.by_id(figure).find_all("li"):
            if "data-currency" in item.attrs:
                figures[item.attrs["data-currency"]][name] = money(item.find(class_="num").text())
    return dict(figures)


def list_rows(client, kind: str, as_of=None) -> tuple[dict, dict]:
    """The balances of every row of the list (every page), and the totals table, per currency."""
    params = {"kind": kind, **({"as_of": as_of.isoformat()} if as_of else {})}
    sums, totals, page_number = defaultdict(Decimal), {}, 1
    while True:
        page = page_of(client.get("/backoffice/past-due/", {**params, "page": page_number}))
        for row in page.by_id("past-due-table").find("tbody").find_all("tr"):
            if "none" in row.find_all("td")[0].classes:
                break
            currency = row.find(class_="currency").text()
            sums[currency] += money(row.find(class_="balance").text())
        totals = {
            row.attrs["data-currency"]: money(row.find(class_="balance").text())
            for row in page.find_all("tr")
            if row.attrs.get("data-currency") and row.find_all(class_="balance")
        }
        if not page.find_all("a", rel="next"):
            return dict(sums), totals
        page_number += 1


def export_sums(client, kind: str, as_of=None) -> tuple[dict, dict]:
    params = {"kind": kind, **({"as_of": as_of.isoformat()} if as_of else {})}
    response = client.get("/backoffice/past-due/export.csv", params)
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    from_csv = defaultdict(Decimal)
    for row in rows:
        from_csv[row["Currency"]] += D(row["Balance"])
    response = client.get("/backoffice/past-due/export.xlsx", params)
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header, *body = list(sheet.values)
    from_xlsx = defaultdict(Decimal)
    for values in body:
        row = dict(zip(header, values, strict=True))
        from_xlsx[row["Currency"]] += D(str(row["Balance"])).quantize(D("0.01"))
    return dict(from_csv), dict(from_xlsx)


def added(*per_currency: dict) -> dict[str, Decimal]:
    total = defaultdict(Decimal)
    for figures in per_currency:
        for currency, value in figures.items():
            total[currency] += value
    return {currency: value for currency, value in total.items() if value}


def nonzero(figures: dict) -> dict:
    return {currency: value for currency, value in figures.items() if value}


def test_today_every_page_and_both_apis_agree_with_the_dashboard(client, staff, books):
    expected_past_due = nonzero({c: f["past_due"] for c, f in books["today"].items()})
    expected_receivable = {c: f["receivable"] for c, f in books["today"].items()}

    figures = dashboard(staff)
    assert {c: f["past_due"] for c, f in figures.items() if f["past_due"]} == expected_past_due
    assert {c: f["receivable"] for c, f in figures.items()} == expected_receivable

    # The past-due list: its rows (both tabs, every page), its totals, its exports.
    invoice_rows, totals = list_rows(staff, "invoices")
    item_rows, item_totals = list_rows(staff, "items")
    assert totals == item_totals == expected_past_due
    assert added(invoice_rows, item_rows) == expected_past_due
    invoices_csv, invoices_xlsx = export_sums(staff, "invoices")
    items_csv, items_xlsx = export_sums(staff, "items")
    assert added(invoices_csv, items_csv) == expected_past_due
    assert added(invoices_xlsx, items_xlsx) == expected_past_due

    # Each account's page, the accounts list and the admin.
    on_pages, owed_on_pages = defaultdict(Decimal), defaultdict(Decimal)
    for account in books["accounts"]:
        page = page_of(staff.get(f"/backoffice/accounts/{account.pk}/"))
        on_pages[account.currency] += money(
            page.by_id("past-due-balance").find(class_="num").text()
        )
        owed_on_pages[account.currency] += money(
            page.by_id("account-balance").find(class_="num").text()
        )
    assert nonzero(on_pages) == expected_past_due
    assert dict(owed_on_pages) == expected_receivable

    listed = page_of(staff.get("/backoffice/accounts/"))
    in_list, owed_in_list = defaultdict(Decimal), defaultdict(Decimal)
    for row in listed.by_id("accounts-table").find("tbody").find_all("tr"):
        currency = row.find(class_="currency").text()
        in_list[currency] += money(row.find(class_="past-due-balance").text())
        owed_in_list[currency] += money(row.find(class_="balance").text())
    assert nonzero(in_list) == expected_past_due
    assert dict(owed_in_list) == expected_receivable

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "x" * 20)
    client.force_login(admin)
    changelist = client.get("/admin/contacts/account/").context["cl"].result_list
    assert nonzero(added(*({a.currency: a.past_due} for a in changelist))) == expected_past_due
    assert added(*({a.currency: a.owed} for a in changelist)) == nonzero(expected_receivable)

    # DocuSign's past-due invoices and Legend's billing items, account by account.
    credential = ApiCredentialFactory()
    for account in Account.objects.all():
        AccountRoleFactory(account=account, credential=credential)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {credential.secret}"}
    over_apis, owed_over_apis = defaultdict(Decimal), defaultdict(Decimal)
    for account in books["accounts"]:
        summary = client.get(
            f"/restapi/v2.1/accounts/{account.number}/billing_invoices_past_due", **bearer
        ).json()
        over_apis[account.currency] += D(summary["pastDueBalance"])
        owed_over_apis[account.currency] += D(summary["accountBalance"])
    for contact in books["contacts"]:
        billings = client.get("/POS/Billings", {"ContactId": str(contact.guid)}, **bearer).json()
        for billing in billings["Billings"]:
            balance = D(str(billing["Balance"]))
            owed_over_apis[contact.account.currency] += balance
            if datetime.date.fromisoformat(billing["DueDate"][:10]) < today():
                over_apis[contact.account.currency] += balance
    assert nonzero(over_apis) == expected_past_due
    assert dict(owed_over_apis) == expected_receivable


def test_as_of_a_past_day_the_dashboard_the_list_and_its_exports_agree(staff, books):
    day = days_ago(40)
    expected = books["D40"]

    assert {c: f["past_due"] for c, f in dashboard(staff, day).items()} == expected
    invoice_rows, totals = list_rows(staff, "invoices", day)
    item_rows, _ = list_rows(staff, "items", day)
    assert totals == expected
    assert added(invoice_rows, item_rows) == expected
    invoices_csv, invoices_xlsx = export_sums(staff, "invoices", day)
    items_csv, items_xlsx = export_sums(staff, "items", day)
    assert added(invoices_csv, items_csv) == expected
    assert added(invoices_xlsx, items_xlsx) == expected


def test_the_list_as_of_a_past_day_shows_what_each_row_owed_then(staff, books):
    day = days_ago(40)
    page = page_of(staff.get("/backoffice/past-due/", {"as_of": day.isoformat()}))
    rows = {
        page.cells(row)[1]: page.cells(row)[2:6]
        for row in page.by_id("past-due-table").find("tbody").find_all("tr")
    }
    assert rows == {
        # number: due date, days late on that day, amount, what it owed then
        "U1": [days_ago(70).isoformat(), "30", "1,000.00", "1,000.00"],
        "U2": [days_ago(45).isoformat(), "5", "250.00", "200.00"],
        "U7": [days_ago(50).isoformat(), "10", "120.00", "120.00"],
        "E1": [days_ago(150).isoformat(), "110", "999.99", "999.00"],
        "G1": [days_ago(50).isoformat(), "10", "10.00", "10.00"],
    }
    assert page.by_id("past-due-table").attrs["data-kind"] == "invoices"

    items = page_of(staff.get("/backoffice/past-due/", {"as_of": day.isoformat(), "kind": "items"}))
    owed = {
        page.cells(row)[2]: page.cells(row)[6]
        for row in items.by_id("past-due-table").find("tbody").find_all("tr")
    }
    member, player = books["contacts"]
    membership = member.billing_items.get(description="Membership")
    court_fee = player.billing_items.get(description="Court fee")
    coaching = player.billing_items.get(description="Coaching")
    assert owed == {
        f"#{membership.pk} Membership": "45.00",  # the write-down came later
        f"#{court_fee.pk} Court fee": "20.00",  # its payment came later (and was reversed)
        f"#{coaching.pk} Coaching": "40.00",  # paid 30.00 and written down 10.00 before
    }
