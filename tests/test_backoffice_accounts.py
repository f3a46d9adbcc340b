"""The account and contact pages: balances, invoices, payments with allocations, reversals,
billing items and write-downs."""

import datetime
from decimal import Decimal

import pytest

from invoices.models import InvoiceStatus
from payments.actors import SYSTEM
from payments.lines import BillingLine
from payments.services import billing_items_pay, invoices_pay, payment_reverse
from tests.backoffice_pages import cashier_user, page_of
from tests.factories import (
    AccountFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    WriteDownFactory,
    days_ago,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    client.force_login(cashier_user())
    return client


def allocation_of(item) -> tuple[str, str, str]:
    """An allocation of the payments table: what it paid, the link to it, and how much."""
    link = item.find("a")
    return link.text(), link.attrs["href"], item.find("span", class_="num").text()


def test_account_page(client):
    account = AccountFactory(currency="EUR", name="Contoso")
    old = InvoiceFactory(
        account=account, number="E-1", due_date=days_ago(40), amount=Decimal("300")
    )
    late = InvoiceFactory(account=account, number="E-2", due_date=days_ago(3), amount=Decimal("45"))
    due = InvoiceFactory(account=account, number="E-3", due_date=days_ago(-9), amount=Decimal("7"))
    InvoiceFactory(account=account, number="E-0", status=InvoiceStatus.VOID)
    contact = ContactFactory(account=account, first_name="Marie", last_name="Curie")
    first = invoices_pay(account_id=account.pk, amount="100.00", actor=SYSTEM).payment
    second = invoices_pay(account_id=account.pk, amount="210.00", actor=SYSTEM).payment
    payment_reverse(payment_id=first.pk, reason="Cheque returned", actor=SYSTEM)

    page = page_of(client.get(f"/backoffice/accounts/{account.pk}/"))

    # Oldest first: 100.00 to E-1 (reversed), then 200.00 to E-1 and 10.00 to E-2.
    assert page.by_id("account-balance").text() == "142.00 EUR"
    assert page.by_id("past-due-balance").text() == "135.00 EUR"
    assert page.row_ids("invoices", "data-invoice-id") == [old.pk, late.pk, due.pk]
    balances = {
        int(row.attrs["data-invoice-id"]): row.find("td", class_="balance").text()
        for row in page.by_id("invoices").find_all("tr", data_invoice_id=True)
    }
    assert balances == {old.pk: "100.00", late.pk: "35.00", due.pk: "7.00"}
    assert page.row_ids("payments", "data-payment-id") == [second.pk, first.pk]
    standing = page.by_id("payments").find("tr", data_payment_id=second.pk)
    allocations = standing.find("ul", class_="allocations").find_all("li")
    assert [allocation_of(item) for item in allocations] == [
        ("Invoice E-1", f"/backoffice/invoices/{old.pk}/", "200.00"),
        ("Invoice E-2", f"/backoffice/invoices/{late.pk}/", "10.00"),
    ]
    assert standing.find("a", class_="reverse-payment").attrs["href"] == (
        f"/backoffice/payments/{second.pk}/reverse/"
    )
    reversed_row = page.by_id("payments").find("tr", data_payment_id=first.pk)
    assert "reversed" in reversed_row.classes
    assert reversed_row.find("span", class_="reversed-marker").text().startswith("Reversed ")
    assert reversed_row.find_all("a", class_="reverse-payment") == []
    assert page.row_ids("reversals", "data-payment-id") == [first.pk]
    assert page.by_id("reversals").find("td", class_="reason").text() == "Cheque returned"
    assert [a.text() for a in page.find("ul", class_="contacts").find_all("a")] == ["Marie Curie"]
    assert page.find("ul", class_="contacts").find("a").attrs["href"] == (
        f"/backoffice/contacts/{contact.pk}/"
    )


def test_contact_page(client):
    contact = ContactFactory(account=AccountFactory(currency="GBP"))
    fee = BillingItemFactory(contact=contact, due_date=days_ago(20), total_amount=Decimal("80"))
    dues = BillingItemFactory(contact=contact, due_date=days_ago(-5), total_amount=Decimal("30"))
    settled = BillingItemFactory(contact=contact, due_date=days_ago(60), total_amount=Decimal("9"))
    BillingItemFactory(total_amount=Decimal("1000"))  # someone else's
    paid = billing_items_pay(
        contact=contact,
        tender_type_id=1,
        payment_date=datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC),
        lines=[BillingLine(fee.pk, "25.00", reference="R1"), BillingLine(settled.pk, "9.00")],
        actor=SYSTEM,
    )
    WriteDownFactory(billing_item=fee, amount=Decimal("5.00"), reason="Goodwill")
    fee.refresh_from_db()
    fee.balance -= Decimal("5.00")  # the factory writes the row, not the balance
    fee.save()

    page = page_of(client.get(f"/backoffice/contacts/{contact.pk}/"))

    assert page.by_id("contact-balance").text() == "80.00 GBP"
    assert page.by_id("contact-past-due").text() == "50.00 GBP"
    assert page.row_ids("billing-items", "data-billing-id") == [settled.pk, fee.pk, dues.pk]
    balances = {
        int(row.attrs["data-billing-id"]): row.find("td", class_="balance").text()
        for row in page.by_id("billing-items").find_all("tr", data_billing_id=True)
    }
    assert balances == {settled.pk: "0.00", fee.pk: "50.00", dues.pk: "30.00"}
    assert page.row_ids("payments", "data-payment-id") == [paid.payment.pk]
    allocations = page.by_id("payments").find("ul", class_="allocations")
    contact_page = f"/backoffice/contacts/{contact.pk}/"
    assert [allocation_of(item) for item in allocations.find_all("li")] == [
        (f"#{fee.pk} {fee.description}", f"{contact_page}#billing-item-{fee.pk}", "25.00"),
        (
            f"#{settled.pk} {settled.description}",
            f"{contact_page}#billing-item-{settled.pk}",
            "9.00",
        ),
    ]
    assert page.by_id(f"billing-item-{fee.pk}").attrs["data-billing-id"] == str(fee.pk)
    write_downs = page.by_id("write-downs")
    assert write_downs.find("td", class_="reason").text() == "Goodwill"
    assert write_downs.find("tr", data_billing_id=fee.pk).find("td", class_="amount").text() == (
        "5.00"
    )
    assert page.by_id("record-payment").attrs["href"] == f"/backoffice/contacts/{contact.pk}/pay/"
