"""The contacts list: what each contact's billing items owe, its filter, sorts and paging."""

from decimal import Decimal

import pytest

from tests.backoffice_pages import finance_user, page_of
from tests.factories import AccountFactory, BillingItemFactory, ContactFactory, days_ago

pytestmark = pytest.mark.django_db

URL = "/backoffice/contacts/"


@pytest.fixture
def staff(client):
    client.force_login(finance_user())
    return client


@pytest.fixture
def people():
    usd = AccountFactory(number=810001, name="Gym", currency="USD")
    eur = AccountFactory(number=810002, name="Club", currency="EUR")
    ann = ContactFactory(account=usd, first_name="Ann", last_name="Baker", email="ann@gym.test")
    cat = ContactFactory(account=usd, first_name="cat", last_name="adams", email="cat@gym.test")
    bob = ContactFactory(account=eur, first_name="Bob", last_name="Cole", email="")
    BillingItemFactory(contact=ann, total_amount=Decimal("1200.50"), due_date=days_ago(3))
    BillingItemFactory(contact=ann, total_amount=Decimal("10.00"), due_date=days_ago(-3))
    BillingItemFactory(contact=ann, total_amount=Decimal("5.00"), balance=Decimal("0.00"))
    BillingItemFactory(contact=bob, total_amount=Decimal("40.00"), balance=Decimal("12.25"))
    return {"ann": ann, "bob": bob, "cat": cat}


def rows(page) -> dict[str, list[str]]:
    body = page.by_id("contacts-table").find("tbody")
    return {page.cells(row)[0]: page.cells(row)[1:] for row in body.find_all("tr")}


def test_every_contact_with_what_its_billing_items_owe(staff, people):
    page = page_of(staff.get(URL))

    assert rows(page) == {
        "cat adams": ["cat@gym.test", "810001 Gym", "USD", "0.00", "0.00", "0"],
        "Ann Baker": ["ann@gym.test", "810001 Gym", "USD", "1,210.50", "1,200.50", "2"],
        "Bob Cole": ["", "810002 Club", "EUR", "12.25", "12.25", "1"],
    }
    ann = page.find("tr", data_contact_id=people["ann"].pk)
    assert [a.attrs["href"] for a in ann.find_all("a")] == [
        f"/backoffice/contacts/{people['ann'].pk}/",
        f"/backoffice/accounts/{people['ann'].account_id}/",
    ]
    assert page.by_id("header-contacts").attrs["href"] == URL


@pytest.mark.parametrize(
    ("query", "expected"),
    [("BAK", ["ann"]), ("gym.test", ["cat", "ann"]), ("n b", ["ann"]), ("zzz", []), ("", None)],
)
def test_the_filter_finds_names_and_emails_whatever_the_case(staff, people, query, expected):
    page = page_of(staff.get(URL, {"q": query}))

    listed = page.row_ids("contacts-table", "data-contact-id")
    names = expected if expected is not None else ["cat", "ann", "bob"]
    assert listed == [people[name].pk for name in names]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["cat", "ann", "bob"]),
        ("-name", ["bob", "ann", "cat"]),
        ("account", ["cat", "ann", "bob"]),
        ("-account", ["bob", "ann", "cat"]),
        ("balance", ["bob", "cat", "ann"]),  # EUR first, then USD smallest first
        ("-balance", ["bob", "ann", "cat"]),
        ("nonsense", ["cat", "ann", "bob"]),
    ],
)
def test_sorts(staff, people, sort, expected):
    page = page_of(staff.get(URL, {"sort": sort}))

    assert page.row_ids("contacts-table", "data-contact-id") == [people[n].pk for n in expected]


def test_pages_of_fifty_in_a_fixed_number_of_queries(staff, django_assert_max_num_queries):
    account = AccountFactory()
    for n in range(55):
        contact = ContactFactory(account=account, last_name=f"Person {n:02d}")
        BillingItemFactory(contact=contact)

    with django_assert_max_num_queries(7):
        first = page_of(staff.get(URL))
    second = page_of(staff.get(URL, {"page": "2"}))

    assert len(first.row_ids("contacts-table", "data-contact-id")) == 50
    assert len(second.row_ids("contacts-table", "data-contact-id")) == 5
    assert first.find("p", class_="summary").text().startswith("55 contacts, page 1 of 2.")


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
