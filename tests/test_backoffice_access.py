"""Who may open which back-office page; the Finance group; CSRF; the links to and from the admin."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from invoices.models import Invoice
from payments.models import Payment, Reversal
from tests.backoffice_pages import (
    cashier_user,
    finance_user,
    messages_of,
    page_of,
    preview_token,
    with_permissions,
)
from tests.factories import (
    AccountFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    PaymentAllocationFactory,
    PaymentFactory,
    UserFactory,
    days_ago,
)
from tests.pay_books import DETAILS

pytestmark = pytest.mark.django_db

READ_PAGES = ["dashboard", "past-due", "past-due-csv", "past-due-xlsx", "account", "contact"]
PAY_PAGES = ["account-pay", "contact-pay"]
ALL_PAGES = [*READ_PAGES, *PAY_PAGES, "payment-reverse"]


@pytest.fixture
def rows():
    account = AccountFactory()
    invoice = InvoiceFactory(account=account, due_date=days_ago(10), amount=Decimal("100.00"))
    contact = ContactFactory(account=account)
    BillingItemFactory(contact=contact)
    payment = PaymentFactory(account=account, amount=Decimal("40.00"))
    PaymentAllocationFactory(payment=payment, invoice=invoice, amount=Decimal("40.00"))
    return {"account": account, "contact": contact, "payment": payment, "invoice": invoice}


def url_of(name: str, rows) -> str:
    args = {
        "account": rows["account"].pk,
        "account-pay": rows["account"].pk,
        "contact": rows["contact"].pk,
        "contact-pay": rows["contact"].pk,
        "payment-reverse": rows["payment"].pk,
    }
    return reverse(f"backoffice:{name}", args=[args[name]] if name in args else [])


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("name", ALL_PAGES)
def test_anonymous_visitors_are_sent_to_the_admin_login(client, rows, name):
    url = url_of(name, rows)

    for response in (client.get(url), client.post(url, {"action": "confirm"})):
        assert response.status_code == 302
        assert response.url == f"/admin/login/?next={url}"
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("name", ALL_PAGES)
def test_staff_without_the_view_permission_get_403(rows, name):
    client = client_for(UserFactory(is_staff=True))

    assert client.get(url_of(name, rows)).status_code == 403


@pytest.mark.parametrize("name", ALL_PAGES)
def test_a_user_who_is_not_staff_gets_403_whatever_the_permissions(rows, name):
    user = with_permissions(
        UserFactory(is_staff=False),
        "payments.view_payment",
        "payments.add_payment",
        "payments.add_reversal",
    )

    assert client_for(user).get(url_of(name, rows)).status_code == 403


@pytest.mark.parametrize("name", READ_PAGES)
def test_the_finance_group_reads_every_page_and_exports(rows, name):
    response = client_for(finance_user()).get(url_of(name, rows))

    assert response.status_code == 200


@pytest.mark.parametrize("name", [*PAY_PAGES, "payment-reverse"])
def test_the_finance_group_cannot_record_nor_reverse(rows, name):
    client = client_for(finance_user())
    url = url_of(name, rows)
    form = {
        "action": "confirm",
        "invoices": [rows["invoice"].pk],
        "amount": "10.00",
        **DETAILS,
        "reason": "Bounced",
    }

    assert client.get(url).status_code == 403
    assert client.post(url, form).status_code == 403
    assert Payment.objects.count() == 1
    assert not Reversal.objects.exists()
    assert Invoice.objects.get().balance == Decimal("100.00")


def test_the_finance_group_sees_no_record_or_reverse_links(rows):
    client = client_for(finance_user())

    account_page = page_of(client.get(url_of("account", rows)))
    contact_page = page_of(client.get(url_of("contact", rows)))

    assert account_page.find_all("a", id="record-payment") == []
    assert account_page.find_all("a", class_="reverse-payment") == []
    assert contact_page.find_all("a", id="record-payment") == []
    assert account_page.row_ids("payments", "data-payment-id") == [rows["payment"].pk]


def test_who_may_record_and_reverse_sees_the_links(rows):
    client = client_for(cashier_user())

    page = page_of(client.get(url_of("account", rows)))

    assert page.by_id("record-payment").attrs["href"] == url_of("account-pay", rows)
    [link] = page.find_all("a", class_="reverse-payment")
    assert link.attrs["href"] == url_of("payment-reverse", rows)
    contact_page = page_of(client.get(url_of("contact", rows)))
    assert contact_page.by_id("record-payment").attrs["href"] == url_of("contact-pay", rows)


def test_recording_without_reversing(rows):
    user = with_permissions(UserFactory(), "payments.view_payment", "payments.add_payment")
    client = client_for(user)

    assert client.get(url_of("account-pay", rows)).status_code == 200
    assert client.get(url_of("contact-pay", rows)).status_code == 200
    assert client.get(url_of("payment-reverse", rows)).status_code == 403
    page = page_of(client.get(url_of("account", rows)))
    assert page.find_all("a", class_="reverse-payment") == []
    assert page.find_all("a", id="record-payment") != []


def test_superusers_may_do_everything(rows):
    client = client_for(UserFactory(is_superuser=True))

    for name in ALL_PAGES:
        assert client.get(url_of(name, rows)).status_code == 200, name


def test_unknown_rows_are_404_for_those_who_may_see_them(rows):
    client = client_for(cashier_user())

    for name in ("account", "contact", "account-pay", "contact-pay", "payment-reverse"):
        assert client.get(reverse(f"backoffice:{name}", args=[999999])).status_code == 404
    huge = "/backoffice/accounts/99999999999999999999/"
    assert client.get(huge).status_code == 404


def test_the_finance_group_has_every_view_permission_of_the_three_apps():
    group = Group.objects.get(name="Finance")

    expected = {
        f"view_{model._meta.model_name}"
        for label in ("contacts", "invoices", "payments")
        for model in apps.get_app_config(label).get_models()
    }
    granted = set(group.permissions.values_list("codename", flat=True))
    assert granted == expected
    assert {"view_payment", "view_invoice", "view_account", "view_writedown"} <= granted
    assert not any(codename.startswith(("add_", "change_", "delete_")) for codename in granted)


def test_a_post_without_csrf_token_is_refused(rows):
    user = cashier_user()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    form = {"action": "confirm", "invoices": [rows["invoice"].pk], "amount": "10.00", **DETAILS}

    refused = client.post(url_of("account-pay", rows), form)
    reverse_refused = client.post(url_of("payment-reverse", rows), {"reason": "Bounced"})

    assert (refused.status_code, reverse_refused.status_code) == (403, 403)
    assert Payment.objects.count() == 1
    assert not Reversal.objects.exists()

    # With the token the page carries, the same post (after its preview) goes through.
    page = page_of(client.get(url_of("account-pay", rows)))
    form_element = page.by_id("account-pay-form")
    token = form_element.find("input", name="csrfmiddlewaretoken").attrs["value"]
    form = {**form, "csrfmiddlewaretoken": token}
    preview = client.post(url_of("account-pay", rows), {**form, "action": "preview"})
    form["preview"] = preview_token(preview)
    accepted = client.post(url_of("account-pay", rows), form)
    assert accepted.status_code == 302
    assert Payment.objects.count() == 2


def test_the_admin_links_to_the_back_office_for_those_who_may_read_it(rows):
    finance = client_for(finance_user())
    staff = client_for(UserFactory(is_staff=True))

    link = page_of(finance.get("/admin/")).by_id("backoffice-link")
    assert (link.attrs["href"], link.text()) == ("/backoffice/", "Finance back office")
    assert page_of(staff.get("/admin/")).find_all(id="backoffice-link") == []

    account_admin = f"/admin/contacts/account/{rows['account'].pk}/change/"
    link = page_of(finance.get(account_admin)).by_id("backoffice-account-link")
    assert link.attrs["href"] == url_of("account", rows)
    contact_admin = f"/admin/contacts/contact/{rows['contact'].pk}/change/"
    link = page_of(finance.get(contact_admin)).by_id("backoffice-contact-link")
    assert link.attrs["href"] == url_of("contact", rows)


def test_the_back_office_links_back_to_the_admin(rows):
    page = page_of(client_for(finance_user()).get("/backoffice/"))

    assert page.by_id("nav-admin").attrs["href"] == "/admin/"
    assert page.by_id("nav-dashboard").attrs["href"] == "/backoffice/"
    assert page.by_id("nav-past-due").attrs["href"] == "/backoffice/past-due/"
    assert messages_of(page, "error") == []
