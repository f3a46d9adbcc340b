"""Recording a payment against an account's past-due invoices asks for what a real payment has:
a tender type, the day it was paid (today at the latest), the partner's reference and notes. They
are recorded exactly as asked, shown on the preview, bound to it by its token, and listed with the
payment; a bad one is an error beside its field and writes nothing."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client

from backoffice import previews
from backoffice.previews import CHANGED
from payments.actors import Channel
from payments.models import Payment, TenderType
from tests.backoffice_pages import (
    cashier_user,
    finance_user,
    messages_of,
    page_of,
    preview_then_confirm,
    preview_token,
)
from tests.factories import TenderTypeFactory, days_ago
from tests.pay_books import EFT, account_content, account_form, balances, pay_url, row_counts

pytestmark = pytest.mark.django_db

CHEQUE = 2  # one of Legend's preset tender types
NOTES = "Cheque no. 004512, drawn on Northbank.\nDeposited by the front desk."


@pytest.fixture
def user():
    return cashier_user()


@pytest.fixture
def client(client, user):
    client.force_login(user)
    return client


def utc_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), datetime.UTC)


def field_row(page, name: str):
    return page.find("div", class_="form-row", data_field=name)


def field_error(page, name: str) -> str | None:
    """The error shown beside the field, if any."""
    errors = field_row(page, name).find_all("span", class_="field-error")
    return errors[0].text() if errors else None


def details_shown(page) -> dict[str, str]:
    """The preview's "This payment will be recorded" facts, by detail."""
    return {
        dd.attrs["data-detail"]: dd.text() for dd in page.by_id("payment-details").find_all("dd")
    }


def test_the_pay_page_asks_for_the_payment_details(client, books):
    retired = TenderTypeFactory(name="Postal order", is_active=False)

    page = page_of(client.get(pay_url(books)))

    options = page.find("select", name="tender_type").find_all("option")
    values = [option.attrs["value"] for option in options]
    assert values[0] == ""  # nothing chosen for the clerk
    assert set(values[1:]) == {
        str(pk) for pk in TenderType.objects.filter(is_active=True).values_list("pk", flat=True)
    }
    assert str(retired.pk) not in values
    date = page.find("input", name="payment_date")
    assert (date.attrs["type"], date.attrs["value"]) == ("date", days_ago(0).isoformat())
    assert (date.attrs["min"], date.attrs["max"]) == ("1900-01-01", days_ago(0).isoformat())
    assert "required" in date.attrs
    reference = page.find("input", name="reference")
    assert (reference.attrs["maxlength"], "required" in reference.attrs) == ("200", False)
    notes = page.find("textarea", name="notes")
    assert (notes.attrs["maxlength"], notes.text()) == ("2000", "")


def test_confirm_records_exactly_the_details_asked_for(client, user, books):
    paid_on = days_ago(3)
    form = account_form(
        books,
        invoices=("old", "mid", "new"),
        amount="300.00",
        tender_type=str(CHEQUE),
        payment_date=paid_on.isoformat(),
        reference="  NB-2026-0042 ",
        notes=NOTES.replace("\n", "\r\n"),  # as a browser sends a textarea's line breaks
    )
    counts = row_counts()

    response = preview_then_confirm(client, pay_url(books), form)

    assert response.status_code == 302
    payment = Payment.objects.get()
    assert {
        "account": payment.account_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "tender_type": payment.tender_type_id,
        "payment_date": payment.payment_date,
        "reference": payment.reference,
        "notes": payment.notes,
        "channel": payment.channel,
        "recorded_by": payment.recorded_by_user,
    } == {
        "account": books.account.pk,
        "amount": Decimal("300.00"),
        "currency": "USD",
        "tender_type": CHEQUE,
        "payment_date": utc_midnight(paid_on),
        "reference": "NB-2026-0042",
        "notes": NOTES,
        "channel": Channel.STAFF,
        "recorded_by": user,
    }
    assert list(payment.allocations.order_by("pk").values_list("invoice_id", "amount")) == [
        (books.old.pk, Decimal("250.00")),
        (books.mid.pk, Decimal("50.00")),
    ]
    assert row_counts() == {**counts, "payments.Payment": 1, "payments.PaymentAllocation": 2}
    # The account page lists it with its details.
    page = page_of(client.get(response.url))
    row = page.by_id("payments").find("tr", data_payment_id=payment.pk)
    assert row.find("td", class_="tender-type").text() == "Cheque"
    assert row.find("td", class_="payment-date").text() == paid_on.isoformat()
    assert row.find("div", class_="reference").text() == "NB-2026-0042"
    notes = row.find("div", class_="payment-notes")
    assert notes.text() == NOTES.replace("\n", " ")
    assert len(notes.find_all("br")) == 1  # the line break kept


def test_a_payment_dated_today_is_recorded_at_midnight_utc(client, books):
    response = preview_then_confirm(
        client, pay_url(books), account_form(books, payment_date=days_ago(0).isoformat())
    )

    assert response.status_code == 302
    payment = Payment.objects.get()
    assert (payment.payment_date, payment.tender_type_id) == (utc_midnight(days_ago(0)), EFT)
    assert (payment.reference, payment.notes) == ("", "")


def test_the_preview_shows_what_will_be_recorded_and_writes_nothing(client, books):
    counts = row_counts()
    form = account_form(
        books,
        tender_type=str(CHEQUE),
        payment_date=days_ago(2).isoformat(),
        reference="NB-7",
        notes=NOTES,
    )

    response = client.post(pay_url(books), {**form, "action": "preview"})

    assert response.status_code == 200
    assert row_counts() == counts
    page = page_of(response)
    assert details_shown(page) == {
        "amount": "100.00 USD",
        "tender_type": "Cheque",
        "payment_date": days_ago(2).isoformat(),
        "reference": "NB-7",
        "notes": NOTES.replace("\n", " "),
    }
    # The form keeps them, for "Record payment" to post them again.
    [chosen] = page.find("select", name="tender_type").find_all("option", selected=True)
    assert chosen.attrs["value"] == str(CHEQUE)
    assert page.find("input", name="payment_date").attrs["value"] == days_ago(2).isoformat()
    assert page.find("input", name="reference").attrs["value"] == "NB-7"
    assert page.find("textarea", name="notes").text() == NOTES.replace("\n", " ")
    assert page.find("button", name="action", value="confirm").text() == "Record payment"


def test_a_preview_without_reference_or_notes_says_so(client, books):
    page = page_of(client.post(pay_url(books), {**account_form(books), "action": "preview"}))

    shown = details_shown(page)
    assert (shown["reference"], shown["notes"]) == ("None", "None")
    assert shown["tender_type"] == "EFT"


@pytest.mark.parametrize(
    ("date", "error"),
    [
        ("{tomorrow}", "A payment cannot be dated after today ({today} UTC)."),
        ("2999-12-31", "A payment cannot be dated after today ({today} UTC)."),
        ("1899-12-31", "Enter a date from 1900-01-01."),
        ("2026-02-30", "Enter a valid date."),
        ("", "This field is required."),
    ],
)
@pytest.mark.parametrize("action", ["preview", "confirm"])
def test_a_bad_payment_date_is_an_error_beside_it_and_writes_nothing(
    client, user, books, date, error, action
):
    days = {"today": days_ago(0).isoformat(), "tomorrow": days_ago(-1).isoformat()}
    date, error = date.format(**days), error.format(**days)
    form = account_form(books, payment_date=date)
    # Even with a token of exactly this form (as if the date had been accepted once).
    token = previews.sign(
        previews.ACCOUNT, account_content(books, user, payment_date=date or days["today"])
    )
    payments, counts = Payment.objects.count(), row_counts()

    response = client.post(pay_url(books), {**form, "action": action, "preview": token})

    assert response.status_code == 200
    assert Payment.objects.count() == payments
    assert row_counts() == counts
    assert balances(books.old, books.new) == [Decimal("250.00"), Decimal("99.99")]
    page = page_of(response)
    assert field_error(page, "payment_date") == error
    date_input = page.find("input", name="payment_date")
    assert date_input.attrs["aria-invalid"] == "true"
    assert "id_payment_date_error" in date_input.attrs["aria-describedby"].split()
    assert messages_of(page, "error") == [f"Payment date: {error}"]
    assert [field_error(page, name) for name in ("amount", "tender_type", "reference")] == [
        None,
        None,
        None,
    ]
    assert page.find_all(id="settlement") == []
    assert page.find_all("button", value="confirm") == []


@pytest.mark.parametrize(
    ("change", "field", "error"),
    [
        ({"tender_type": ""}, "tender_type", "This field is required."),
        (
            {"tender_type": "99999"},
            "tender_type",
            "Select a valid choice. That choice is not one of the available choices.",
        ),
        (
            {"tender_type": "inactive"},
            "tender_type",
            "Select a valid choice. That choice is not one of the available choices.",
        ),
        (
            {"reference": "R" * 201},
            "reference",
            "Ensure this value has at most 200 characters (it has 201).",
        ),
        (
            {"notes": "n" * 2001},
            "notes",
            "Ensure this value has at most 2000 characters (it has 2001).",
        ),
        ({"amount": "10.001"}, "amount", "The amount must have at most two decimal places."),
    ],
)
def test_a_bad_detail_is_an_error_beside_its_field_and_writes_nothing(
    client, books, change, field, error
):
    if change.get("tender_type") == "inactive":
        change = {"tender_type": str(TenderTypeFactory(is_active=False).pk)}
    counts = row_counts()

    response = client.post(pay_url(books), {**account_form(books, **change), "action": "confirm"})

    assert response.status_code == 200
    assert row_counts() == counts
    page = page_of(response)
    assert field_error(page, field) == error
    assert len(messages_of(page, "error")) == 1
    assert page.find_all(id="settlement") == []


def test_notes_of_the_longest_length_count_a_line_break_as_one_character(client, books):
    """A textarea counts "\\r\\n" as one character, as the server does."""
    notes = "a" * 998 + "\r\n" + "b" * 1001  # 2000 characters with "\n"

    response = preview_then_confirm(client, pay_url(books), account_form(books, notes=notes))

    assert response.status_code == 302
    assert Payment.objects.get().notes == "a" * 998 + "\n" + "b" * 1001


# The preview binds the details too


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        ({"tender_type": str(CHEQUE)}, {"tender_type": "Cheque"}),
        ({"payment_date": "{yesterday}"}, {"payment_date": "{yesterday}"}),
        ({"reference": "NB-8"}, {"reference": "NB-8"}),
        ({"notes": "Second thoughts."}, {"notes": "Second thoughts."}),
        ({"notes": "First thoughts. "}, None),  # the same once trimmed: not a change
    ],
)
def test_a_detail_changed_since_the_preview_records_nothing_and_previews_it(
    client, books, change, shown
):
    yesterday = days_ago(1).isoformat()
    change = {name: value.format(yesterday=yesterday) for name, value in change.items()}
    form = account_form(books, reference="NB-7", notes="First thoughts.")
    token = preview_token(client.post(pay_url(books), {**form, "action": "preview"}))
    counts = row_counts()

    response = client.post(
        pay_url(books), {**form, **change, "action": "confirm", "preview": token}
    )

    if shown is None:
        assert response.status_code == 302
        assert Payment.objects.get().notes == "First thoughts."
        return
    assert response.status_code == 200
    assert row_counts() == counts
    assert balances(books.old, books.new) == [Decimal("250.00"), Decimal("99.99")]
    page = page_of(response)
    assert messages_of(page, "warning") == [CHANGED]
    assert messages_of(page, "error") == []
    expected = {name: value.format(yesterday=yesterday) for name, value in shown.items()}
    assert details_shown(page).items() >= expected.items()
    # Its own token records what it now shows.
    again = preview_token(response)
    assert again != token
    confirm = client.post(pay_url(books), {**form, **change, "action": "confirm", "preview": again})
    assert confirm.status_code == 302
    payment = Payment.objects.get()
    recorded = {
        "tender_type": str(payment.tender_type_id),
        "payment_date": payment.payment_date.date().isoformat(),
        "reference": payment.reference,
        "notes": payment.notes,
    }
    assert recorded.items() >= change.items()


def test_a_token_of_the_payment_without_its_details_records_nothing(client, user, books):
    """A token signed before the details were asked for (or without them) confirms nothing."""
    content = account_content(books, user)
    for name in ("tender_type", "payment_date", "reference", "notes"):
        del content[name]
    token = previews.sign(previews.ACCOUNT, content)

    response = client.post(
        pay_url(books), {**account_form(books), "action": "confirm", "preview": token}
    )

    assert response.status_code == 200
    assert messages_of(page_of(response), "warning") == [CHANGED]
    assert not Payment.objects.exists()


@pytest.mark.parametrize("action", ["preview", "confirm"])
def test_the_finance_group_still_cannot_post(books, action):
    """Read-only: a complete form with a valid token of its own is refused all the same."""
    reader = finance_user()
    client = Client()
    client.force_login(reader)
    token = previews.sign(previews.ACCOUNT, account_content(books, reader))
    counts = row_counts()

    response = client.post(
        pay_url(books), {**account_form(books), "action": action, "preview": token}
    )

    assert response.status_code == 403
    assert "You do not have permission to record payments" in response.content.decode()
    assert row_counts() == counts
    assert not Payment.objects.exists()
