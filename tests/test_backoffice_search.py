"""The accounts list with balances, the search page and the header's search box."""

import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from backoffice.search import SEARCH_LIMIT, accounts_with_balances
from contacts.models import Account
from tests.backoffice_pages import finance_user, page_of, with_permissions
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

pytestmark = pytest.mark.django_db

ACCOUNTS = reverse("backoffice:accounts")
SEARCH = reverse("backoffice:search")


@pytest.fixture
def staff():
    client = Client()
    client.force_login(finance_user())
    return client


def found(page, kind: str) -> list[int]:
    """The ids of the `kind` ("account", "contact", "invoice", "payment") results."""
    sections = page.find_all("section", id=f"found-{kind}s")
    if not sections:
        return []
    return [int(item.attrs[f"data-{kind}-id"]) for item in sections[0].find_all("li")]


def results(client, query: str) -> dict[str, list[int]]:
    response = client.get(SEARCH, {"q": query})
    assert response.status_code == 200
    page = page_of(response)
    return {kind: found(page, kind) for kind in ("account", "contact", "invoice", "payment")}


NONE = {"account": [], "contact": [], "invoice": [], "payment": []}


# Access


@pytest.mark.parametrize("url", [ACCOUNTS, f"{SEARCH}?q=acme"])
def test_a_user_who_is_not_staff_gets_403_whatever_the_permissions(url):
    client = Client()
    client.force_login(with_permissions(UserFactory(is_staff=False), "payments.view_payment"))

    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", [ACCOUNTS, f"{SEARCH}?q=acme"])
def test_staff_without_the_view_permission_get_403(url):
    client = Client()
    client.force_login(UserFactory(is_staff=True))

    assert client.get(url).status_code == 403


@pytest.mark.parametrize(
    ("url", "next_url"),
    [(ACCOUNTS, "/backoffice/accounts/"), (f"{SEARCH}?q=acme", "/backoffice/search/%3Fq%3Dacme")],
)
def test_anonymous_visitors_are_sent_to_the_admin_login(client, url, next_url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"/admin/login/?next={next_url}"


# The header's box


def test_the_header_search_box_is_on_the_dashboard(staff):
    page = page_of(staff.get(reverse("backoffice:dashboard")))

    form = page.by_id("header-search")
    assert (form.attrs["method"], form.attrs["action"]) == ("get", SEARCH)
    assert form.find("input", name="q").attrs["type"] == "search"
    assert page.by_id("header-accounts").attrs["href"] == ACCOUNTS


def test_the_search_page_keeps_the_query_in_the_box(staff):
    AccountFactory(name="Acme Gym")

    page = page_of(staff.get(SEARCH, {"q": "acme"}))

    assert page.find("input", name="q").attrs["value"] == "acme"


@pytest.mark.parametrize("query", ["", "   "])
def test_an_empty_query_shows_the_accounts_list(staff, query):
    response = staff.get(SEARCH, {"q": query})

    assert response.status_code == 302
    assert response.url == ACCOUNTS


# Search, kind by kind


def test_accounts_by_name_number_and_guid(staff):
    acme = AccountFactory(name="Acme Gym", number=900001)
    other = AccountFactory(name="Acme Pool", number=900002)
    AccountFactory(name="Beta Club", number=900003)

    assert results(staff, "acme")["account"] == [acme.pk, other.pk]
    assert results(staff, "ME G")["account"] == [acme.pk]
    assert results(staff, "900001") == {**NONE, "account": [acme.pk]}
    assert results(staff, "90000")["account"] == []  # a number is exact, not a prefix
    assert results(staff, str(other.guid)) == {**NONE, "account": [other.pk]}
    assert results(staff, str(other.guid).upper().replace("-", ""))["account"] == [other.pk]


def test_contacts_by_name_email_and_guid(staff):
    ann = ContactFactory(first_name="Ann", last_name="Smith", email="ann@club.example")
    bob = ContactFactory(first_name="Bob", last_name="Smithers", email="bob@pool.example")
    ContactFactory(first_name="Carl", last_name="Jones", email="carl@club.example")

    assert results(staff, "smith")["contact"] == [ann.pk, bob.pk]
    assert results(staff, "ann smith")["contact"] == [ann.pk]
    assert results(staff, "BOB@POOL.EXAMPLE") == {**NONE, "contact": [bob.pk]}
    assert results(staff, str(ann.guid)) == {**NONE, "contact": [ann.pk]}


def test_invoices_by_number_exact_first_then_prefix(staff):
    account = AccountFactory()
    longer = InvoiceFactory(account=account, number="INV-1001")
    exact = InvoiceFactory(account=account, number="INV-100")
    InvoiceFactory(account=account, number="XINV-100")  # contains, but does not start with it

    assert results(staff, "inv-100") == {**NONE, "invoice": [exact.pk, longer.pk]}
    assert results(staff, "INV-1001")["invoice"] == [longer.pk]


def test_payments_by_the_partners_reference_of_the_payment_or_an_allocation(staff):
    on_payment = PaymentFactory(reference="ACME-7781")
    allocation = PaymentAllocationFactory(reference="acme-7781", amount=Decimal("100.00"))
    PaymentFactory(reference="ACME-77810")  # longer: a reference is exact
    PaymentAllocationFactory(reference="OTHER")

    assert results(staff, "ACME-7781") == {
        **NONE,
        "payment": sorted([on_payment.pk, allocation.payment_id], reverse=True),
    }


def test_each_result_links_to_its_page(staff):
    account = AccountFactory(name="Zeta Club", number=777001)
    contact = ContactFactory(account=account, first_name="Zed", last_name="Zeta", email="")
    invoice = InvoiceFactory(account=account, number="ZETA-1")
    account_payment = PaymentFactory(account=account, reference="ZETA-1")
    contact_payment = PaymentFactory(contact=contact, reference="ZETA-1")

    page = page_of(staff.get(SEARCH, {"q": "zeta"}))
    by_reference = page_of(staff.get(SEARCH, {"q": "zeta-1"}))

    account_url = reverse("backoffice:account", args=[account.pk])
    contact_url = reverse("backoffice:contact", args=[contact.pk])
    [account_link] = page.find("li", data_account_id=account.pk).find_all("a")
    assert account_link.attrs["href"] == account_url
    contact_links = page.find("li", data_contact_id=contact.pk).find_all("a")
    assert [a.attrs["href"] for a in contact_links] == [contact_url, account_url]
    # An invoice and a payment open their own pages; then come their contact's and account's.
    invoice_url = reverse("backoffice:invoice", args=[invoice.pk])
    invoice_links = by_reference.find("li", data_invoice_id=invoice.pk).find_all("a")
    assert [a.attrs["href"] for a in invoice_links] == [invoice_url, account_url]
    account_payment_url = reverse("backoffice:payment", args=[account_payment.pk])
    payment_links = by_reference.find("li", data_payment_id=account_payment.pk).find_all("a")
    assert [a.attrs["href"] for a in payment_links] == [account_payment_url, account_url]
    contact_payment_url = reverse("backoffice:payment", args=[contact_payment.pk])
    payment_links = by_reference.find("li", data_payment_id=contact_payment.pk).find_all("a")
    assert [a.attrs["href"] for a in payment_links] == [
        contact_payment_url,
        contact_url,
        account_url,
    ]
    # The pages linked to are the invoice's and the payments'.
    assert page_of(staff.get(invoice_url)).by_id("invoice-number").text() == "ZETA-1"
    for payment, url in [
        (account_payment, account_payment_url),
        (contact_payment, contact_payment_url),
    ]:
        assert page_of(staff.get(url)).by_id("payment-number").text() == payment.number


def test_accounts_and_contacts_found_show_their_balances(staff):
    gym = AccountFactory(name="Balance Gym", currency="USD")
    InvoiceFactory(account=gym, amount=Decimal("1500.00"), due_date=days_ago(4))
    InvoiceFactory(account=gym, amount=Decimal("20.00"), due_date=days_ago(-4))
    member = ContactFactory(account=gym, first_name="Balance", last_name="Member")
    BillingItemFactory(contact=member, total_amount=Decimal("7.25"), due_date=days_ago(-1))

    page = page_of(staff.get(SEARCH, {"q": "balance"}))

    account = page.by_id("found-accounts").find("li", data_account_id=gym.pk)
    assert account.find(class_="balances").text() == "balance 1,527.25, past due 1,500.00 USD"
    contact = page.by_id("found-contacts").find("li", data_contact_id=member.pk)
    assert contact.find(class_="balances").text() == "billing items owe 7.25, past due 0.00 USD"


def test_nothing_found(staff):
    AccountFactory(name="Acme Gym")

    page = page_of(staff.get(SEARCH, {"q": "no such thing"}))

    assert page.by_id("nothing-found").text() == "Nothing found for “no such thing”."
    assert page.find_all("section", id="found-accounts") == []


def test_at_most_twenty_per_kind_and_a_note_that_there_are_more(staff):
    accounts = [AccountFactory(name=f"Many {n}") for n in range(SEARCH_LIMIT + 1)]

    page = page_of(staff.get(SEARCH, {"q": "many"}))

    assert found(page, "account") == [account.pk for account in accounts[:SEARCH_LIMIT]]
    assert page.find("section", id="found-accounts").find("p", class_="more")


def test_a_search_costs_the_same_queries_for_few_or_many_rows(staff, django_assert_num_queries):
    def populate(n: int):
        for i in range(n):
            account = AccountFactory(name=f"Find {i}")
            contact = ContactFactory(account=account, first_name="Find")
            InvoiceFactory(account=account, number=f"Find-{i}")
            PaymentAllocationFactory(
                payment=PaymentFactory(contact=contact, reference="find"), reference="find"
            )

    populate(1)
    # Session and user (2), the Finance group's permissions (2), one query per kind (4).
    with django_assert_num_queries(8):
        assert staff.get(SEARCH, {"q": "find"}).status_code == 200
    populate(30)
    with django_assert_num_queries(8):
        page = page_of(staff.get(SEARCH, {"q": "find"}))
    assert [len(found(page, kind)) for kind in ("account", "contact", "invoice", "payment")] == [
        SEARCH_LIMIT
    ] * 4


# The accounts list


def row_of(page, account) -> dict[str, str]:
    row = page.find("tr", data_account_id=account.pk)
    return {
        cell.attrs["class"].split()[0]: cell.text()
        for cell in row.children
        if not isinstance(cell, str)
    }


def test_the_accounts_list_balances_in_each_accounts_currency(staff):
    usd = AccountFactory(number=500001, name="Dollar Gym", currency="USD")
    eur = AccountFactory(number=500002, name="Euro Club", currency="EUR")
    empty = AccountFactory(number=500003, name="Nothing Owed", currency="GBP")
    InvoiceFactory(account=usd, amount=Decimal("100.10"), due_date=days_ago(10))
    InvoiceFactory(
        account=usd, amount=Decimal("50.05"), balance=Decimal("20.02"), due_date=days_ago(1)
    )
    InvoiceFactory(
        account=usd, amount=Decimal("30.00"), due_date=days_ago(0)
    )  # due today: not late
    InvoiceFactory(account=usd, amount=Decimal("99.00"), balance=Decimal("0"))  # paid
    InvoiceFactory(account=usd, amount=Decimal("77.00"), status="void")
    InvoiceFactory(  # issued in three days: not yet owed
        account=usd, amount=Decimal("500.00"), issue_date=days_ago(-3), due_date=days_ago(-10)
    )
    InvoiceFactory(account=eur, amount=Decimal("12.34"), due_date=days_ago(-5))
    ann = ContactFactory(account=usd)
    ContactFactory(account=usd)
    BillingItemFactory(contact=ann, total_amount=Decimal("40.00"), balance=Decimal("15.50"))
    BillingItemFactory(contact=ann, total_amount=Decimal("9.99"))
    BillingItemFactory(contact=ContactFactory(account=eur), total_amount=Decimal("5.00"))

    page = page_of(staff.get(ACCOUNTS))

    assert page.row_ids("accounts-table", "data-account-id") == [usd.pk, eur.pk, empty.pk]
    assert row_of(page, usd) == {
        "number": "500001",
        "name": "Dollar Gym",
        "currency": "USD",
        "balance": "175.61",  # invoices 150.12 and billing items 25.49 (all past due)
        "past-due-balance": "145.61",
        "invoices-balance": "150.12",
        "items-balance": "25.49",
        "contacts-count": "2",
    }
    assert row_of(page, eur) == {
        "number": "500002",
        "name": "Euro Club",
        "currency": "EUR",
        "balance": "17.34",
        "past-due-balance": "5.00",
        "invoices-balance": "12.34",
        "items-balance": "5.00",
        "contacts-count": "1",
    }
    assert row_of(page, empty) == {
        "number": "500003",
        "name": "Nothing Owed",
        "currency": "GBP",
        "balance": "0.00",
        "past-due-balance": "0.00",
        "invoices-balance": "0.00",
        "items-balance": "0.00",
        "contacts-count": "0",
    }
    link = page.find("tr", data_account_id=usd.pk).find("td", class_="number").find("a")
    assert link.attrs["href"] == reverse("backoffice:account", args=[usd.pk])


def test_the_selector_annotates_exact_decimals():
    account = AccountFactory()
    InvoiceFactory(account=account, amount=Decimal("0.10"))
    InvoiceFactory(account=account, amount=Decimal("0.20"))

    [row] = accounts_with_balances()

    assert (row.owed, row.past_due) == (Decimal("0.30"), Decimal("0.30"))
    assert isinstance(row.owed, Decimal)
    assert (row.invoices_owed, row.items_owed) == (Decimal("0.30"), Decimal("0.00"))


def test_the_accounts_list_sorts_by_name_number_and_balance(staff):
    b = AccountFactory(number=3, name="Bravo", currency="USD")
    a = AccountFactory(number=2, name="alpha", currency="USD")
    c = AccountFactory(number=1, name="Charlie", currency="EUR")
    InvoiceFactory(account=a, amount=Decimal("10.00"))
    InvoiceFactory(account=b, amount=Decimal("20.00"))
    InvoiceFactory(account=c, amount=Decimal("99.00"))

    def order(sort):
        page = page_of(staff.get(ACCOUNTS, {"sort": sort} if sort else {}))
        return page.row_ids("accounts-table", "data-account-id")

    assert order(None) == order("number") == order("nonsense") == [c.pk, a.pk, b.pk]
    assert order("-number") == [b.pk, a.pk, c.pk]
    assert order("name") == [a.pk, b.pk, c.pk]  # letter case ignored
    assert order("-name") == [c.pk, b.pk, a.pk]
    assert order("-balance") == [c.pk, b.pk, a.pk]  # within each currency, EUR first
    assert order("balance") == [c.pk, a.pk, b.pk]


def test_the_sort_links_toggle_the_sorted_column(staff):
    page = page_of(staff.get(ACCOUNTS, {"sort": "name"}))

    assert page.by_id("sort-name").attrs["href"] == "?sort=-name"
    assert page.by_id("sort-number").attrs["href"] == "?sort=number"
    assert page.by_id("sort-balance").attrs["href"] == "?sort=-balance"


def test_the_accounts_list_is_paged_by_fifty(staff):
    accounts = [AccountFactory(number=600000 + n) for n in range(51)]

    first = page_of(staff.get(ACCOUNTS))
    second = page_of(staff.get(ACCOUNTS, {"page": 2}))

    assert first.row_ids("accounts-table", "data-account-id") == [a.pk for a in accounts[:50]]
    assert second.row_ids("accounts-table", "data-account-id") == [accounts[50].pk]


@pytest.mark.parametrize("count", [1, 60])
def test_the_accounts_list_costs_a_fixed_number_of_queries(
    staff, django_assert_max_num_queries, count
):
    for _ in range(count):
        account = AccountFactory()
        InvoiceFactory(account=account)
        BillingItemFactory(contact=ContactFactory(account=account))

    # Session and user (2), the Finance group's permissions (2), the count and the page (2).
    with django_assert_max_num_queries(6):
        response = staff.get(ACCOUNTS)
    assert len(page_of(response).row_ids("accounts-table", "data-account-id")) == min(count, 50)


def test_an_unknown_uuid_or_number_finds_nothing(staff):
    AccountFactory(number=123)

    assert results(staff, str(uuid.uuid4())) == NONE
    assert results(staff, "124") == NONE


def test_odd_queries_find_nothing_rather_than_fail(staff):
    AccountFactory(number=5, name="Acme")

    assert results(staff, "a\x00cme") == {**NONE, "account": [Account.objects.get().pk]}
    assert results(staff, "9" * 30) == NONE  # beyond any account number
    assert results(staff, "%") == NONE  # LIKE wildcards are matched literally
    assert results(staff, "_") == NONE
