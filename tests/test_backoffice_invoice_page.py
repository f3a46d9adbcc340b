"""The invoice and payment pages, and an invoice's PDF for staff: what they show, to the cent,
where they link, who may open them, and what they cost in queries."""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from invoices.models import InvoiceStatus
from payments.actors import SYSTEM, Channel
from payments.lines import BillingLine
from payments.models import Payment
from payments.services import billing_items_pay, invoices_pay, payment_reverse
from tests.backoffice_pages import cashier_user, finance_user, page_of, with_permissions
from tests.docusign_api import get as api_get
from tests.docusign_api import url as api_url
from tests.factories import (
    AccountFactory,
    AccountRoleFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    InvoiceItemFactory,
    PaymentAllocationFactory,
    PaymentFactory,
    ReversalFactory,
    UserFactory,
    days_ago,
)

pytestmark = pytest.mark.django_db


def on(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


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


def facts(page, dl_id: str) -> dict[str, str]:
    """A definition list as {term: text}."""
    dl = page.by_id(dl_id)
    terms = [child for child in dl.children if not isinstance(child, str)]
    return {
        term.text(): value.text()
        for term, value in zip(terms[::2], terms[1::2], strict=True)
        if (term.tag, value.tag) == ("dt", "dd")
    }


def rows(page, table_id: str) -> list[list[str]]:
    body = page.by_id(table_id).find("tbody")
    return [page.cells(row) for row in body.find_all("tr")]


# The invoice page


@pytest.fixture
def invoice():
    """INV-77 of 1,500.00 EUR, due 40 days ago, two items; 500.00 paid, then 250.00 paid and
    reversed: 1,000.00 owed."""
    account = AccountFactory(number=900777, name="Contoso Europe", currency="EUR")
    invoice = InvoiceFactory(
        account=account,
        number="INV-77",
        issue_date=days_ago(70),
        due_date=days_ago(40),
        amount=Decimal("1500.00"),
    )
    InvoiceItemFactory(
        invoice=invoice,
        charge_name="Platinum plan",
        quantity=2,
        unit_price=Decimal("600.00"),
        tax_amount=Decimal("100.00"),
    )
    InvoiceItemFactory(invoice=invoice, charge_name="Onboarding", unit_price=Decimal("1200.50"))
    invoice.paid = invoices_pay(account_id=account.pk, amount="500.00", actor=SYSTEM).payment
    invoice.bounced = invoices_pay(account_id=account.pk, amount="250.00", actor=SYSTEM).payment
    payment_reverse(payment_id=invoice.bounced.pk, reason="Cheque bounced", actor=SYSTEM)
    return invoice


def test_the_invoice_page_shows_the_invoice_its_items_and_what_paid_it(cashier, invoice):
    response = cashier.get(f"/backoffice/invoices/{invoice.pk}/")

    assert response.status_code == 200
    page = page_of(response)
    assert page.find("h1").text() == "Invoice INV-77 of 900777 Contoso Europe"
    account_url = f"/backoffice/accounts/{invoice.account_id}/"
    assert facts(page, "invoice-facts") == {
        "Number": "INV-77",
        "Account": "900777 Contoso Europe",
        "Issued": days_ago(70).isoformat(),
        "Due": days_ago(40).isoformat(),
        "Status": "Open",
        "Amount": "1,500.00 EUR",
        "Balance": "1,000.00 EUR",
        "Days late": "40",
    }
    assert page.by_id("invoice-account").find("a").attrs["href"] == account_url
    assert page.by_id("invoice-pdf").attrs["href"] == f"/backoffice/invoices/{invoice.pk}/pdf"
    assert page.find_all(id="void-notice") == []
    assert rows(page, "invoice-items") == [
        ["Platinum plan", "2", "600.00", "1,200.00", "100.00"],
        ["Onboarding", "1", "1,200.50", "1,200.50", "0.00"],
    ]
    today = days_ago(0).isoformat()
    assert rows(page, "invoice-allocations") == [
        [invoice.paid.number, today, "-", "500.00 EUR", "Standing"],
        [invoice.bounced.number, today, "-", "250.00 EUR", f"Reversed {today}"],
    ]
    allocations = page.by_id("invoice-allocations")
    for payment in (invoice.paid, invoice.bounced):
        link = allocations.find("tr", data_payment_id=payment.pk).find("a")
        assert link.attrs["href"] == f"/backoffice/payments/{payment.pk}/"
    assert "reversed" in allocations.find("tr", data_payment_id=invoice.bounced.pk).classes
    breadcrumbs = page.find("div", class_="breadcrumbs")
    assert breadcrumbs.text() == "Back office \u203a Account 900777 \u203a Invoice INV-77"
    assert [a.attrs["href"] for a in breadcrumbs.find_all("a")] == ["/backoffice/", account_url]


def test_a_paid_invoice_is_not_late(cashier):
    invoice = InvoiceFactory(amount=Decimal("80.00"), balance=Decimal("0.00"))

    page = page_of(cashier.get(f"/backoffice/invoices/{invoice.pk}/"))

    shown = facts(page, "invoice-facts")
    assert (shown["Status"], shown["Balance"], shown["Days late"]) == ("Paid", "0.00 USD", "-")
    assert rows(page, "invoice-allocations") == [["No payments."]]
    assert rows(page, "invoice-items") == [["No items."]]


def test_a_void_invoice_is_shown_as_void(cashier):
    invoice = InvoiceFactory(number="V-1", amount=Decimal("45.00"), status=InvoiceStatus.VOID)

    page = page_of(cashier.get(f"/backoffice/invoices/{invoice.pk}/"))

    assert page.find("h1").text().startswith("Invoice V-1 (void) of ")
    assert page.by_id("void-notice").text() == "This invoice is void: nothing is owed on it."
    shown = facts(page, "invoice-facts")
    assert (shown["Status"], shown["Amount"], shown["Balance"], shown["Days late"]) == (
        "Void",
        "45.00 USD",
        "None: void",
        "-",
    )


# The payment page


@pytest.fixture
def payment():
    """P… of 1,234.50 USD by a contact's card at the desk: 1,000.00 to an invoice and 234.50 to
    a billing item; reversed the next day."""
    account = AccountFactory(number=900555, name="Northwind Traders", currency="USD")
    contact = ContactFactory(account=account, first_name="Ada", last_name="Lovelace")
    invoice = InvoiceFactory(account=account, number="NW-1", amount=Decimal("1000.00"))
    item = BillingItemFactory(contact=contact, description="Locker", total_amount=Decimal("300"))
    clerk = UserFactory(username="clerk")
    payment = PaymentFactory(
        contact=contact,
        amount=Decimal("1234.50"),
        payment_date=at("2026-03-04T10:00:00+00:00"),
        processed_at=at("2026-03-04T10:05:00+00:00"),
        tender_type_id=3,
        reference="DESK-7",
        authorization_code="AUTH-9",
        notes="Paid at the desk",
        channel=Channel.STAFF,
        recorded_by_user=clerk,
    )
    payment.to_invoice = PaymentAllocationFactory(
        payment=payment, invoice=invoice, amount=Decimal("1000.00")
    )
    payment.to_item = PaymentAllocationFactory(
        payment=payment,
        invoice=None,
        billing_item=item,
        amount=Decimal("234.50"),
        reference="TILL-3",
    )
    payment.invoice, payment.item, payment.clerk = invoice, item, clerk
    return payment


def test_the_payment_page_shows_the_payment_and_its_allocations(cashier, payment):
    page = page_of(cashier.get(f"/backoffice/payments/{payment.pk}/"))

    account_url = f"/backoffice/accounts/{payment.account_id}/"
    contact_url = f"/backoffice/contacts/{payment.contact_id}/"
    assert page.find("h1").text() == f"Payment {payment.number} of 900555 Northwind Traders"
    assert facts(page, "payment-facts") == {
        "Number": payment.number,
        "Account": "900555 Northwind Traders",
        "Contact": "Ada Lovelace",
        "Amount": "1,234.50 USD",
        "To credit": "0.00 USD",  # what no invoice or billing item took
        "Currency": "USD",
        "Paid on": "2026-03-04",
        "Tender": "Card",
        "Reference": "DESK-7",
        "Authorization code": "AUTH-9",
        "Notes": "Paid at the desk",
        "Channel": "Staff (admin and back office)",
        "Recorded by": "clerk",
        "Recorded at": "2026-03-04 10:05 UTC",
    }
    assert page.by_id("payment-account").find("a").attrs["href"] == account_url
    assert page.by_id("payment-contact").find("a").attrs["href"] == contact_url
    assert rows(page, "payment-allocations") == [
        ["Invoice NW-1", "-", "1,000.00 USD"],
        [f"#{payment.item.pk} Locker", "TILL-3", "234.50 USD"],
    ]
    allocations = page.by_id("payment-allocations")
    to_invoice = allocations.find("tr", data_allocation_id=payment.to_invoice.pk).find("a")
    assert to_invoice.attrs["href"] == f"/backoffice/invoices/{payment.invoice.pk}/"
    to_item = allocations.find("tr", data_allocation_id=payment.to_item.pk).find("a")
    assert to_item.attrs["href"] == f"{contact_url}#billing-item-{payment.item.pk}"
    assert page.by_id("not-reversed").text() == "Not reversed: the payment stands."
    reverse = page.by_id("reverse-payment")
    assert (reverse.text(), reverse.attrs["href"]) == (
        "Reverse",
        f"/backoffice/payments/{payment.pk}/reverse/",
    )
    # The row the billing item's link opens is on the contact's page.
    contact_page = page_of(cashier.get(contact_url))
    assert contact_page.by_id(f"billing-item-{payment.item.pk}").attrs["data-billing-id"] == str(
        payment.item.pk
    )


def test_a_reversed_payment_says_when_who_and_why_and_cannot_be_reversed_again(cashier, payment):
    ReversalFactory(
        payment=payment,
        reason="Card charged back",
        reversed_at=at("2026-03-05T09:30:00+00:00"),
        channel=Channel.STAFF,
        recorded_by_user=payment.clerk,
    )

    page = page_of(cashier.get(f"/backoffice/payments/{payment.pk}/"))

    assert page.find("h1").text() == (
        f"Payment {payment.number} (reversed) of 900555 Northwind Traders"
    )
    assert facts(page, "reversal-facts") == {
        "Reversed at": "2026-03-05 09:30 UTC",
        "By": "clerk (Staff (admin and back office))",
        "Reason": "Card charged back",
    }
    assert page.find_all(id="reverse-payment") == []
    assert page.find_all(id="not-reversed") == []


def test_an_account_payment_has_no_contact(cashier):
    payment = PaymentFactory(amount=Decimal("10.00"))

    page = page_of(cashier.get(f"/backoffice/payments/{payment.pk}/"))

    shown = facts(page, "payment-facts")
    assert shown["Contact"] == "None: an account payment"
    assert (shown["Reference"], shown["Authorization code"], shown["Notes"]) == ("-", "-", "-")
    assert (shown["Recorded by"], shown["Channel"]) == ("system", "System (commands, demo data)")
    assert rows(page, "payment-allocations") == [["Not allocated."]]


def test_the_finance_group_reads_both_pages_but_is_not_offered_to_reverse(finance, payment):
    invoice_page = finance.get(f"/backoffice/invoices/{payment.invoice.pk}/")
    payment_page = finance.get(f"/backoffice/payments/{payment.pk}/")

    assert (invoice_page.status_code, payment_page.status_code) == (200, 200)
    assert page_of(payment_page).find_all(id="reverse-payment") == []
    assert page_of(payment_page).find_all("a", class_="reverse-payment") == []


# The PDF


def test_the_pdf_is_the_one_partners_get_from_the_api(cashier, client):
    role = AccountRoleFactory(account=AccountFactory(currency="EUR", name="Fabrikam"))
    invoice = InvoiceFactory(
        account=role.account,
        number="INV-2025-0042",
        issue_date=on("2025-03-01"),
        due_date=on("2025-03-31"),
        amount=Decimal("105.50"),
        balance=Decimal("60.25"),
    )
    InvoiceItemFactory(invoice=invoice, charge_name="Envelopes", quantity=3)

    staff = cashier.get(f"/backoffice/invoices/{invoice.pk}/pdf")
    partner = api_get(
        client,
        api_url("restapi", role.account, f"billing_invoices/{invoice.pk}"),
        role.credential,
        HTTP_ACCEPT="application/pdf",
    )

    assert staff.status_code == partner.status_code == 200
    assert staff["Content-Type"] == partner["Content-Type"] == "application/pdf"
    assert staff["Content-Disposition"] == f'inline; filename="invoice-{invoice.pk}.pdf"'
    assert staff["Content-Disposition"] == partner["Content-Disposition"]
    assert staff.content.startswith(b"%PDF-")
    assert pdf_text(staff) == pdf_text(partner)
    assert "INV-2025-0042" in pdf_text(staff)
    assert "60.25 EUR" in pdf_text(staff)
    assert PdfReader(io.BytesIO(staff.content)).metadata.title == "Invoice INV-2025-0042"


def pdf_text(response) -> str:
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_a_void_invoices_pdf_says_it_is_void(finance):
    invoice = InvoiceFactory(number="V-9", amount=Decimal("45.00"), status=InvoiceStatus.VOID)

    response = finance.get(f"/backoffice/invoices/{invoice.pk}/pdf")

    assert response["Content-Type"] == "application/pdf"
    assert PdfReader(io.BytesIO(response.content)).metadata.title == "Invoice V-9 (void)"
    assert "Void: nothing is due" in pdf_text(response)


# Who may open them, and what is not there


@pytest.mark.parametrize("kind", ["invoice", "payment", "pdf"])
def test_anonymous_visitors_are_sent_to_the_login_and_get_no_pdf(client, payment, kind):
    path = {
        "invoice": f"/backoffice/invoices/{payment.invoice.pk}/",
        "payment": f"/backoffice/payments/{payment.pk}/",
        "pdf": f"/backoffice/invoices/{payment.invoice.pk}/pdf",
    }[kind]

    response = client.get(path)

    assert response.status_code == 302
    assert response.url == f"/admin/login/?next={path}"
    assert not response.content.startswith(b"%PDF")


@pytest.mark.parametrize("kind", ["invoice", "payment", "pdf"])
def test_staff_without_the_view_permission_get_403(payment, kind):
    path = {
        "invoice": f"/backoffice/invoices/{payment.invoice.pk}/",
        "payment": f"/backoffice/payments/{payment.pk}/",
        "pdf": f"/backoffice/invoices/{payment.invoice.pk}/pdf",
    }[kind]
    client = Client()
    client.force_login(with_permissions(UserFactory(), "invoices.view_invoice"))

    response = client.get(path)

    assert response.status_code == 403
    assert page_of(response).by_id("error-reason").text() == (
        "You do not have permission to use the back office"
    )


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/backoffice/invoices/999999/", "No invoice 999999"),
        ("/backoffice/invoices/999999/pdf", "No invoice 999999"),
        ("/backoffice/payments/999999/", "No payment 999999"),
    ],
)
def test_unknown_ids_get_the_back_offices_404(finance, path, reason):
    response = finance.get(path)

    assert response.status_code == 404
    page = page_of(response)
    assert page.find("h1").text() == "Not found"
    assert page.by_id("error-reason").text() == reason
    assert page.by_id("back-to-dashboard").attrs["href"] == "/backoffice/"


# Queries: fixed, whatever the number of items, allocations and reversals


def invoice_and_payment_of(scale: int):
    """An invoice with `2 * scale` items paid by `2 * scale` payments, `scale` of them reversed;
    and a contact's payment to `3 * scale` billing items."""
    account = AccountFactory(currency="USD")
    invoice = InvoiceFactory(account=account, amount=Decimal("1000.00"), due_date=days_ago(5))
    for _ in range(2 * scale):
        InvoiceItemFactory(invoice=invoice, unit_price=Decimal("10.00"))
    for n in range(2 * scale):
        paid = invoices_pay(account_id=account.pk, amount="1.00", actor=SYSTEM).payment
        if n < scale:
            payment_reverse(payment_id=paid.pk, reason="Bounced", actor=SYSTEM)
    contact = ContactFactory(account=account)
    items = [BillingItemFactory(contact=contact) for _ in range(3 * scale)]
    paid = billing_items_pay(
        contact=contact,
        tender_type_id=1,
        payment_date=at("2026-01-01T00:00:00+00:00"),
        lines=[BillingLine(item.pk, "1.00") for item in items],
        actor=SYSTEM,
    )
    payment_reverse(payment_id=paid.payment.pk, reason="Bounced", actor=SYSTEM)
    return invoice, Payment.objects.get(pk=paid.payment.pk)


# Session and user (2), the user's and its groups' permissions (2), then the page's own: the
# invoice with its account, its items, its allocations with their payments and reversals (3); the
# payment with all it shows (1) and its allocations with their targets (1); the PDF's invoice
# with its account and its items (2).
# the invoice with the credit applied to it and its credit notes (2), the payment with its refunds
BUDGETS = {"invoice": 9, "payment": 7, "pdf": 6}


def test_each_page_costs_the_same_few_queries_for_few_or_many_rows(cashier):
    def costs(scale: int) -> dict[str, int]:
        invoice, payment = invoice_and_payment_of(scale)
        paths = {
            "invoice": f"/backoffice/invoices/{invoice.pk}/",
            "payment": f"/backoffice/payments/{payment.pk}/",
            "pdf": f"/backoffice/invoices/{invoice.pk}/pdf",
        }
        counted = {}
        for name, path in paths.items():
            with CaptureQueriesContext(connection) as queries:
                assert cashier.get(path).status_code == 200
            counted[name] = len(queries)
        return counted

    assert costs(1) == costs(8) == BUDGETS
