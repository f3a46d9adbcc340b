"""How the back office shows amounts, dates and its 403 and 404 pages."""

import datetime
from decimal import Decimal

import pytest

from backoffice.templatetags.ledger import amount, iso_date, iso_datetime, plain_amount
from tests.backoffice_pages import cashier_user, finance_user, page_of
from tests.factories import (
    AccountFactory,
    InvoiceFactory,
    PaymentAllocationFactory,
    PaymentFactory,
    ReversalFactory,
    days_ago,
)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1234567.8"), "1,234,567.80"),
        (Decimal("1234567.89"), "1,234,567.89"),
        (Decimal("999.99"), "999.99"),
        (Decimal("1000"), "1,000.00"),
        (Decimal("0"), "0.00"),
        (Decimal("-1234.5"), "-1,234.50"),
        (Decimal("99999999999999999.99"), "99,999,999,999,999,999.99"),
        (None, ""),
    ],
)
def test_amounts_have_thousands_separators_and_two_places(value, shown):
    assert amount(value) == shown


def test_an_amount_of_more_than_two_places_is_refused_not_rounded():
    with pytest.raises(ValueError, match="more than two decimal places"):
        amount(Decimal("1.005"))


def test_a_form_field_gets_the_plain_amount_it_reads_back():
    assert plain_amount(Decimal("1234567.8")) == "1234567.80"


def test_dates_are_iso_and_datetimes_utc():
    assert iso_date(datetime.date(2026, 3, 9)) == "2026-03-09"
    paris = datetime.timezone(datetime.timedelta(hours=2))
    at = datetime.datetime(2026, 3, 9, 1, 5, tzinfo=paris)
    assert iso_datetime(at) == "2026-03-08 23:05 UTC"
    assert iso_date(at) == "2026-03-08"
    assert (iso_date(None), iso_datetime(None)) == ("", "")


@pytest.mark.django_db
def test_the_account_page_shows_iso_dates_and_separated_amounts(client):
    client.force_login(finance_user())
    account = AccountFactory(currency="USD")
    invoice = InvoiceFactory(
        account=account,
        issue_date=datetime.date(2026, 1, 2),
        due_date=days_ago(40),
        amount=Decimal("1234567.80"),
        balance=Decimal("1234567.80"),
    )
    payment = PaymentFactory(
        account=account,
        amount=Decimal("2500.00"),
        payment_date=datetime.datetime(2026, 2, 3, 10, 0, tzinfo=datetime.UTC),
    )
    PaymentAllocationFactory(payment=payment, invoice=InvoiceFactory(account=account))
    ReversalFactory(payment=payment)
    page = page_of(client.get(f"/backoffice/accounts/{account.pk}/"))

    row = page.by_id("invoices").find("tr", data_invoice_id=invoice.pk)
    cells = page.cells(row)
    assert cells[1:3] == ["2026-01-02", days_ago(40).isoformat()]
    assert cells[5:] == ["1,234,567.80", "1,234,567.80"]
    # The balance adds the allocation's invoice, of the factory's 100.00.
    assert page.by_id("account-balance").text() == "1,234,667.80 USD"
    assert page.cells(page.by_id("payments").find("tr", data_payment_id=payment.pk))[1:3] == [
        "2026-02-03",
        "2,500.00 USD",
    ]
    reversal = page.by_id("reversals").find("tr", data_payment_id=payment.pk)
    reversed_at = payment.reversal.reversed_at.astimezone(datetime.UTC)
    assert page.cells(reversal)[1] == f"{reversed_at:%Y-%m-%d %H:%M} UTC"


@pytest.mark.django_db
class TestErrorPages:
    def test_an_unknown_account_is_a_styled_404_that_names_it(self, client):
        client.force_login(finance_user())
        response = client.get("/backoffice/accounts/123/")

        assert response.status_code == 404
        page = page_of(response)
        assert page.by_id("error-reason").text() == "No account 123"
        assert page.find("h1").text() == "Not found"
        assert page.by_id("back-to-dashboard").attrs["href"] == "/backoffice/"
        assert page.find("link", rel="stylesheet", href="/static/backoffice/backoffice.css")

    @pytest.mark.parametrize(
        ("path", "reason"),
        [
            ("/backoffice/contacts/77/", "No contact 77"),
            ("/backoffice/accounts/123/pay/", "No account 123"),
            ("/backoffice/payments/55/reverse/", "No payment 55"),
            ("/backoffice/no-such-page/", "There is no such page in the back office."),
        ],
    )
    def test_every_404_says_what_was_not_found(self, client, path, reason):
        client.force_login(cashier_user())
        response = client.get(path)

        assert response.status_code == 404
        assert page_of(response).by_id("error-reason").text() == reason

    def test_recording_without_the_permission_is_a_styled_403_that_says_why(self, client):
        client.force_login(finance_user())
        account = AccountFactory()
        response = client.get(f"/backoffice/accounts/{account.pk}/pay/")

        assert response.status_code == 403
        page = page_of(response)
        assert page.find("h1").text() == "Permission denied"
        assert page.by_id("error-reason").text() == "You do not have permission to record payments"
        assert page.by_id("back-to-dashboard").attrs["href"] == "/backoffice/"

    def test_reversing_without_the_permission_says_so(self, client):
        client.force_login(finance_user())
        payment = PaymentFactory()
        response = client.get(f"/backoffice/payments/{payment.pk}/reverse/")

        assert response.status_code == 403
        reason = page_of(response).by_id("error-reason").text()
        assert reason == "You do not have permission to reverse payments"

    def test_paths_outside_the_back_office_keep_their_own_404(self, client):
        response = client.get("/no-such-page/")

        assert response.status_code == 404
        assert b"error-reason" not in response.content


@pytest.mark.django_db
def test_an_unknown_back_office_path_is_a_styled_404_for_anonymous_visitors_too(client):
    response = client.get("/backoffice/no-such-page/")

    assert response.status_code == 404
    page = page_of(response)
    assert page.by_id("error-reason").text() == "There is no such page in the back office."
    assert page.by_id("back-to-dashboard").attrs["href"] == "/backoffice/"
