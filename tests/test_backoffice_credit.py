"""The staff side of customer credit: an overpayment held as credit, credit applied, refunds (from
credit, or of a payment) and credit notes, each previewed then confirmed once. Exact amounts on the
pages and in the database after each confirm; the service's refusals are form errors that write
nothing; verify_ledger clean after each."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from contacts.models import Account
from invoices.models import BillingItem, Invoice
from payments.actors import SYSTEM
from payments.models import AllocationRelease, CreditApplication, CreditNote, Payment, Refund
from payments.services import invoices_pay
from tests.backoffice_pages import (
    cashier_user,
    messages_of,
    page_of,
    preview_then_confirm,
    preview_token,
)
from tests.factories import (
    AccountFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    days_ago,
)
from tests.pay_books import DETAILS, EFT, row_counts

pytestmark = pytest.mark.django_db


def credit_of(account) -> Decimal:
    return Account.objects.get(pk=account.pk).credit_balance


def balance_of(row) -> Decimal:
    return type(row).objects.get(pk=row.pk).balance


def ledger_clean() -> None:
    call_command("verify_ledger", stdout=StringIO())


def errors_of(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    return [li.text() for li in page_of(response).find_all("li", class_="error")]


@pytest.fixture
def client(client):
    client.force_login(cashier_user())
    return client


@pytest.fixture
def books():
    """A past-due invoice (100.00), next month's (80.00), and a contact's billing item (30.00)."""
    account = AccountFactory(currency="USD")
    contact = ContactFactory(account=account)
    return type(
        "Books",
        (),
        {
            "account": account,
            "contact": contact,
            "old": InvoiceFactory(account=account, due_date=days_ago(20), amount=Decimal("100")),
            "next": InvoiceFactory(account=account, due_date=days_ago(-30), amount=Decimal("80")),
            "item": BillingItemFactory(contact=contact, total_amount=Decimal("30.00")),
        },
    )


def with_credit(books, amount: str) -> Payment:
    return invoices_pay(
        account_id=books.account.pk,
        amount=amount,
        invoice_ids=[],
        excess_to_credit=True,
        actor=SYSTEM,
    ).payment


# Record a payment: the excess to credit ------------------------------------------------------


def pay_url(books):
    return f"/backoffice/accounts/{books.account.pk}/pay/"


def test_an_overpayment_settles_the_invoices_and_holds_the_rest_as_credit(client, books):
    form = {"invoices": [books.old.pk], "amount": "150.00", "to_credit": "on", **DETAILS}

    preview = page_of(client.post(pay_url(books), {**form, "action": "preview"}))
    rows = preview.by_id("settlement").find("tbody").find_all("tr")
    assert preview.cells(rows[0])[2:] == ["100.00", "100.00", "0.00"]
    assert preview.by_id("to-credit").text() == "50.00"

    response = preview_then_confirm(client, pay_url(books), form)

    assert response.status_code == 302
    payment = Payment.objects.get(account=books.account)
    assert (payment.amount, payment.credit_amount) == (Decimal("150.00"), Decimal("50.00"))
    assert balance_of(books.old) == Decimal("0.00")
    assert credit_of(books.account) == Decimal("50.00")
    ledger_clean()


def test_without_the_choice_an_overpayment_is_refused_as_before(client, books):
    before = row_counts()
    form = {"invoices": [books.old.pk], "amount": "150.00", **DETAILS, "action": "preview"}

    errors = errors_of(client.post(pay_url(books), form))

    assert errors == ["The amount 150.00 is more than the balance due 100.00."]
    assert row_counts() == before


def test_money_for_no_invoice_goes_all_to_credit(client, books):
    form = {"amount": "40.00", "to_credit": "on", **DETAILS}

    assert preview_then_confirm(client, pay_url(books), form).status_code == 302

    payment = Payment.objects.get(account=books.account)
    assert payment.credit_amount == Decimal("40.00")
    assert not payment.allocations.exists()
    assert credit_of(books.account) == Decimal("40.00")
    assert balance_of(books.old) == Decimal("100.00")


def test_no_invoice_needs_the_credit_choice_and_an_amount(client, books):
    assert errors_of(client.post(pay_url(books), {**DETAILS, "action": "preview"})) == [
        "Invoices: Choose at least one invoice to pay."
    ]
    form = {**DETAILS, "to_credit": "on", "action": "preview"}
    assert errors_of(client.post(pay_url(books), form)) == ["Amount: Enter the amount received."]


# Apply credit --------------------------------------------------------------------------------


def apply_url(books):
    return f"/backoffice/accounts/{books.account.pk}/apply-credit/"


def test_credit_applied_to_next_months_invoice_and_a_billing_item(client, books):
    with_credit(books, "100.00")
    form = {"invoices": [books.next.pk], "billing_items": [books.item.pk]}

    preview = page_of(client.post(apply_url(books), {**form, "action": "preview"}))
    cells = [preview.cells(row) for row in preview.by_id("settlement").find("tbody").find_all("tr")]
    assert [c[1:] for c in cells] == [
        ["80.00", "80.00", "0.00"],
        ["30.00", "20.00", "10.00"],
    ]
    assert preview.by_id("applied-total").text() == "100.00 USD"
    assert preview.by_id("credit-after").text() == "0.00 USD"
    assert credit_of(books.account) == Decimal("100.00")  # a preview writes nothing

    response = preview_then_confirm(client, apply_url(books), form)

    assert response.status_code == 302
    assert balance_of(books.next) == Decimal("0.00")
    assert balance_of(books.item) == Decimal("10.00")
    assert credit_of(books.account) == Decimal("0.00")
    assert CreditApplication.objects.filter(account=books.account).count() == 2
    ledger_clean()

    account = page_of(client.get(f"/backoffice/accounts/{books.account.pk}/"))
    assert account.by_id("account-credit").find("span", class_="num").text() == "0.00"
    kinds = [
        row.attrs["data-kind"] for row in account.by_id("credit-movements").find_all("tr")[1:-1]
    ]
    assert sorted(kinds) == ["application", "application", "payment"]
    contact = page_of(client.get(f"/backoffice/contacts/{books.contact.pk}/"))
    row = contact.by_id("credit-applications").find("tr", data_billing_id=str(books.item.pk))
    assert row.find("td", class_="amount").text() == "20.00 USD"


def test_an_amount_of_credit_chosen_by_the_clerk(client, books):
    with_credit(books, "100.00")
    form = {"invoices": [books.old.pk, books.next.pk], "amount": "30.00"}

    assert preview_then_confirm(client, apply_url(books), form).status_code == 302

    assert (balance_of(books.old), balance_of(books.next)) == (Decimal("70.00"), Decimal("80.00"))
    assert credit_of(books.account) == Decimal("70.00")


def test_a_second_confirm_of_the_same_preview_applies_nothing_more(client, books):
    with_credit(books, "50.00")
    form = {"invoices": [books.next.pk]}
    token = preview_token(client.post(apply_url(books), {**form, "action": "preview"}))

    first = client.post(apply_url(books), {**form, "action": "confirm", "preview": token})
    again = client.post(
        apply_url(books), {**form, "action": "confirm", "preview": token}, follow=True
    )

    assert first.status_code == 302
    assert CreditApplication.objects.count() == 1
    assert balance_of(books.next) == Decimal("30.00")
    [warning] = messages_of(page_of(again), "warning")
    assert warning.startswith("This preview was confirmed already (Applied 50.00 USD of credit")


def test_credit_applied_twice_from_two_previews_is_refused(client, books):
    with_credit(books, "50.00")
    first = {"invoices": [books.next.pk]}
    second = {"invoices": [books.old.pk]}
    token = preview_token(client.post(apply_url(books), {**second, "action": "preview"}))

    assert preview_then_confirm(client, apply_url(books), first).status_code == 302
    response = client.post(apply_url(books), {**second, "action": "confirm", "preview": token})

    assert errors_of(response) == ["The account's credit is 0.00."]
    assert balance_of(books.old) == Decimal("100.00")
    assert CreditApplication.objects.count() == 1


def test_no_credit_no_form(client, books):
    page = page_of(client.get(apply_url(books)))
    assert page.find_all("form", id="apply-credit-form") == []
    account = page_of(client.get(f"/backoffice/accounts/{books.account.pk}/"))
    assert account.find_all("a", id="apply-credit") == []


# Refunds -------------------------------------------------------------------------------------


def refund_form(amount: str, **extra) -> dict:
    return {
        "amount": amount,
        "tender_type": str(EFT),
        "refund_date": days_ago(0).isoformat(),
        "reference": "RF-1",
        **extra,
    }


def test_a_refund_from_credit(client, books):
    with_credit(books, "50.00")
    url = f"/backoffice/accounts/{books.account.pk}/refund/"

    response = preview_then_confirm(client, url, refund_form("20.00", reason="Asked for it back"))

    refund = Refund.objects.get()
    assert response.url == f"/backoffice/refunds/{refund.pk}/"
    assert (refund.amount, refund.payment_id, refund.tender_type_id) == (
        Decimal("20.00"),
        None,
        EFT,
    )
    assert (refund.reference, refund.reason) == ("RF-1", "Asked for it back")
    assert refund.recorded_by_user is not None
    assert credit_of(books.account) == Decimal("30.00")
    page = page_of(client.get(response.url))
    assert page.by_id("refund-amount").text() == "20.00 USD"
    ledger_clean()


def test_an_over_refund_is_refused_and_writes_nothing(client, books):
    with_credit(books, "50.00")
    before = row_counts()
    url = f"/backoffice/accounts/{books.account.pk}/refund/"

    response = client.post(url, {**refund_form("50.01"), "action": "preview"})

    assert errors_of(response) == ["The refund 50.01 is more than the account's credit (50.00)."]
    assert row_counts() == before
    assert credit_of(books.account) == Decimal("50.00")


def test_a_refund_of_a_payment_releases_its_allocations_first(client, books):
    payment = invoices_pay(
        account_id=books.account.pk, amount="100.00", invoice_ids=[books.old.pk], actor=SYSTEM
    ).payment
    url = f"/backoffice/payments/{payment.pk}/refund/"

    assert errors_of(client.post(url, {**refund_form("40.00"), "action": "preview"})) == [
        "Reason: This field is required."
    ]
    form = refund_form("40.00", reason="Service not delivered")
    preview = page_of(client.post(url, {**form, "action": "preview"}))
    assert preview.by_id("releases").find("td", class_="released").text() == "40.00"

    assert preview_then_confirm(client, url, form).status_code == 302

    refund = Refund.objects.get()
    assert refund.payment_id == payment.pk
    release = AllocationRelease.objects.get()
    assert (release.amount, release.refund_id) == (Decimal("40.00"), refund.pk)
    assert balance_of(books.old) == Decimal("40.00")
    assert credit_of(books.account) == Decimal("0.00")
    ledger_clean()
    page = page_of(client.get(f"/backoffice/payments/{payment.pk}/"))
    assert page.by_id("payment-refunds").find_all("tr", data_refund_id=str(refund.pk))


def test_a_payment_refunded_for_more_than_it_settles_is_refused(client, books):
    payment = invoices_pay(
        account_id=books.account.pk, amount="60.00", invoice_ids=[books.old.pk], actor=SYSTEM
    ).payment
    url = f"/backoffice/payments/{payment.pk}/refund/"

    errors = errors_of(client.post(url, {**refund_form("60.01", reason="x"), "action": "preview"}))

    assert errors == [
        f"Payment {payment.number} still settles 60.00: a refund of it cannot be 60.01 "
        "(refund the account's credit instead)."
    ]
    assert not Refund.objects.exists()


# Credit notes --------------------------------------------------------------------------------


def note_form(*lines, **extra) -> dict:
    form = {
        "number": "CN-1",
        "issue_date": days_ago(0).isoformat(),
        "reason": "Overcharged",
        "lines-TOTAL_FORMS": "4",
        "lines-INITIAL_FORMS": "0",
        **extra,
    }
    for index, (description, amount) in enumerate(lines):
        form[f"lines-{index}-description"] = description
        form[f"lines-{index}-amount"] = amount
    return form


def test_the_credit_note_page_suggests_the_next_free_number(client, books):
    url = f"/backoffice/invoices/{books.old.pk}/credit-note/"
    page = page_of(client.get(url))
    assert page.find("input", name="number").attrs["value"] == f"CN-{books.old.number}-1"

    form = note_form(("Discount", "10.00"), number=f"CN-{books.old.number}-1")
    assert preview_then_confirm(client, url, form).status_code == 302

    page = page_of(client.get(url))
    assert page.find("input", name="number").attrs["value"] == f"CN-{books.old.number}-2"


def test_a_credit_note_over_the_balance_needs_the_credit_choice(client, books):
    url = f"/backoffice/invoices/{books.next.pk}/credit-note/"
    form = note_form(("Returned goods", "60.00"), ("Goodwill", "40.00"))
    before = row_counts()

    errors = errors_of(client.post(url, {**form, "action": "preview"}))

    assert errors == [
        f"The credit note (100.00) is more than invoice {books.next.number} still owes (80.00): "
        "put the rest on the account's credit, or credit less."
    ]
    assert row_counts() == before

    form["excess_to_credit"] = "on"
    preview = page_of(client.post(url, {**form, "action": "preview"}))
    assert preview.by_id("preview-applied").text() == "80.00 USD"
    assert preview.by_id("preview-credit").text() == "20.00 USD"
    response = preview_then_confirm(client, url, form)

    note = CreditNote.objects.get()
    assert response.url == f"/backoffice/credit-notes/{note.pk}/"
    assert (note.amount, note.applied_amount, note.credit_amount) == (
        Decimal("100.00"),
        Decimal("80.00"),
        Decimal("20.00"),
    )
    assert [(line.description, line.amount) for line in note.lines.all()] == [
        ("Returned goods", Decimal("60.00")),
        ("Goodwill", Decimal("40.00")),
    ]
    assert balance_of(books.next) == Decimal("0.00")
    assert credit_of(books.account) == Decimal("20.00")
    ledger_clean()

    page = page_of(client.get(response.url))
    assert page.by_id("credit-note-credit").text() == "20.00 USD"
    invoice = page_of(client.get(f"/backoffice/invoices/{books.next.pk}/"))
    assert invoice.find_all("tr", data_credit_note_id=str(note.pk))


def test_the_credit_note_pdf(client, books):
    from io import BytesIO

    from pypdf import PdfReader

    url = f"/backoffice/invoices/{books.old.pk}/credit-note/"
    form = note_form(("Late delivery", "12.50"), number="CN-PDF-7")
    preview_then_confirm(client, url, form)
    note = CreditNote.objects.get()

    response = client.get(f"/backoffice/credit-notes/{note.pk}/pdf")

    assert response["Content-Type"] == "application/pdf"
    text = PdfReader(BytesIO(response.content)).pages[0].extract_text()
    for expected in (
        "Credit note CN-PDF-7",
        f"crediting invoice {books.old.number}",
        "Reason: Overcharged",
        "Late delivery",
        "12.50",
        f"Off invoice {books.old.number}",
        "To the account's credit",
        "0.00 USD",
    ):
        assert expected in text, (expected, text)


def test_a_line_needs_its_amount(client, books):
    url = f"/backoffice/invoices/{books.old.pk}/credit-note/"
    response = client.post(url, {**note_form(("Discount", "")), "action": "preview"})
    page = page_of(response)
    assert [span.text() for span in page.find_all("span", class_="field-error")] == [
        "Enter the line's amount."
    ]
    assert not CreditNote.objects.exists()


# Figures: dashboard and exports ---------------------------------------------------------------


def test_the_dashboard_shows_credit_as_its_own_figure(client, books):
    with_credit(books, "45.00")
    euro = AccountFactory(currency="EUR")
    invoices_pay(
        account_id=euro.pk, amount="5.00", invoice_ids=[], excess_to_credit=True, actor=SYSTEM
    )

    page = page_of(client.get("/backoffice/"))

    figure = page.by_id("customer-credit")
    shown = {
        li.attrs["data-currency"]: li.find("span", class_="num").text()
        for li in figure.find_all("li")
    }
    assert shown == {"EUR": "5.00", "USD": "45.00"}
    past_due = page.by_id("total-past-due").find("li", data_currency="USD")
    assert past_due.find("span", class_="num").text() == "130.00"  # not netted


def test_the_past_due_export_has_the_accounts_credit(client, books):
    with_credit(books, "45.00")
    response = client.get("/backoffice/past-due/export.csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].endswith(",Currency,Account credit")
    assert lines[1].endswith(",USD,45.00")


def test_billing_items_and_invoices_unchanged_by_previews(client, books):
    with_credit(books, "10.00")
    client.post(apply_url(books), {"invoices": [books.old.pk], "action": "preview"})
    assert Invoice.objects.get(pk=books.old.pk).balance == Decimal("100.00")
    assert BillingItem.objects.get(pk=books.item.pk).balance == Decimal("30.00")


# Permissions ---------------------------------------------------------------------------------


def test_the_read_only_finance_user_may_read_but_not_move_credit(client, books):
    from tests.backoffice_pages import finance_user

    payment = with_credit(books, "50.00")
    url = f"/backoffice/invoices/{books.old.pk}/credit-note/"
    preview_then_confirm(client, url, note_form(("Discount", "5.00")))
    note = CreditNote.objects.get()
    refund_url = f"/backoffice/accounts/{books.account.pk}/refund/"
    preview_then_confirm(client, refund_url, refund_form("1.00"))
    client.force_login(finance_user())

    for moving in (
        apply_url(books),
        refund_url,
        f"/backoffice/payments/{payment.pk}/refund/",
        url,
    ):
        assert client.get(moving).status_code == 403, moving
        assert client.post(moving, {"action": "preview"}).status_code == 403, moving
    for reading in (
        f"/backoffice/credit-notes/{note.pk}/",
        f"/backoffice/credit-notes/{note.pk}/pdf",
        f"/backoffice/refunds/{Refund.objects.get().pk}/",
        f"/backoffice/accounts/{books.account.pk}/",
    ):
        assert client.get(reading).status_code == 200, reading
    account = page_of(client.get(f"/backoffice/accounts/{books.account.pk}/"))
    assert account.find_all("a", id="apply-credit") == []
    assert account.find_all("a", id="refund-credit") == []


def test_anonymous_visitors_are_sent_to_log_in(books):
    from django.test import Client

    response = Client().get(apply_url(books))
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


# The admin -----------------------------------------------------------------------------------


def test_the_admin_shows_the_credit_and_sets_auto_apply(admin_client, books):
    with_credit(books, "25.00")
    url = f"/admin/contacts/account/{books.account.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert "25.00" in page
    assert 'name="credit_balance"' not in page  # read-only
    form = {
        "number": books.account.number,
        "name": books.account.name,
        "auto_apply_credit": "on",
        "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0",
        "roles-TOTAL_FORMS": "0",
        "roles-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    account = Account.objects.get(pk=books.account.pk)
    assert account.auto_apply_credit
    assert account.credit_balance == Decimal("25.00")


def test_an_invoice_issued_in_the_admin_takes_the_accounts_credit(admin_client, books):
    with_credit(books, "25.00")
    Account.objects.filter(pk=books.account.pk).update(auto_apply_credit=True)
    form = {
        "account": books.account.pk,
        "number": "INV-NEXT",
        "issue_date": "2026-03-01",
        "due_date": "2026-03-31",
        "amount": "60.00",
    }

    response = admin_client.post("/admin/invoices/invoice/add/", form, follow=True)

    invoice = Invoice.objects.get(number="INV-NEXT")
    assert invoice.balance == Decimal("35.00")
    assert credit_of(books.account) == Decimal("0.00")
    application = CreditApplication.objects.get()
    assert (application.invoice_id, application.amount) == (invoice.pk, Decimal("25.00"))
    text = [str(m) for m in response.context["messages"]]
    assert (
        "25.00 USD of the account's credit was applied, oldest due first (INV-NEXT 25.00); "
        "invoice INV-NEXT owes 35.00 USD, and the account holds 0.00 USD of credit."
    ) in text
    ledger_clean()
