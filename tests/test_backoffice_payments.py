"""Recording payments (against an account's past-due invoices, or a contact's billing items) and
reversing them from the back office: preview writes nothing, confirm writes exactly the previewed
payment (and nothing unless it was previewed), refusals are form errors and write nothing."""

import datetime
import time
from decimal import Decimal
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core import signing
from django.test import Client

from backoffice import previews
from backoffice.previews import CHANGED
from invoices.models import BillingItem, Invoice, InvoiceStatus
from payments.actors import SYSTEM, Channel
from payments.models import Payment, PaymentAllocation, Reversal
from payments.services import payment_reverse
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
    TenderTypeFactory,
    days_ago,
)
from tests.pay_books import (
    DETAILS,
    account_content,
    balances,
    pay_url,
    row_counts,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return cashier_user()


@pytest.fixture
def client(client, user):
    client.force_login(user)
    return client


def test_the_pay_page_offers_the_past_due_invoices_oldest_first(client, books):
    page = page_of(client.get(pay_url(books)))

    boxes = page.find_all("input", type="checkbox", name="invoices")
    assert [int(box.attrs["value"]) for box in boxes] == [books.old.pk, books.mid.pk, books.new.pk]
    assert page.find("input", name="amount").attrs["value"] == ""
    assert page.find("button", name="action", value="preview").text() == "Preview"
    assert page.find_all("button", value="confirm") == []
    assert page.find_all(id="settlement") == []


def test_preview_shows_the_settlement_and_writes_nothing(client, books):
    counts = row_counts()

    response = client.post(
        pay_url(books),
        {
            "invoices": [books.new.pk, books.old.pk],
            "amount": "300.00",
            **DETAILS,
            "action": "preview",
        },
    )

    assert response.status_code == 200
    assert row_counts() == counts
    assert balances(books.old, books.new) == [Decimal("250.00"), Decimal("99.99")]
    page = page_of(response)
    settlement = page.by_id("settlement")
    assert page.row_ids("settlement", "data-invoice-id") == [books.old.pk, books.new.pk]
    lines = [page.cells(row) for row in settlement.find("tbody").find_all("tr")]
    assert lines == [
        [books.old.number, days_ago(70).isoformat(), "250.00", "250.00", "0.00"],
        [books.new.number, days_ago(10).isoformat(), "99.99", "50.00", "49.99"],
    ]
    assert settlement.find("td", class_="total").text() == "300.00 USD"
    assert page.find("button", name="action", value="confirm").text() == "Record payment"
    checked = page.find_all("input", name="invoices", checked=True)
    assert [int(box.attrs["value"]) for box in checked] == [books.old.pk, books.new.pk]


def test_a_blank_amount_pays_the_chosen_invoices_in_full(client, books):
    response = client.post(
        pay_url(books),
        {"invoices": [books.mid.pk, books.new.pk], "amount": "", **DETAILS, "action": "preview"},
    )

    page = page_of(response)
    assert page.by_id("settlement").find("td", class_="total").text() == "219.99 USD"
    # The previewed amount is what "Record payment" will post.
    assert page.find("input", name="amount").attrs["value"] == "219.99"
    assert not Payment.objects.exists()


def test_confirm_records_one_staff_payment_oldest_first(client, user, books):
    counts = row_counts()

    response = preview_then_confirm(
        client,
        pay_url(books),
        {"invoices": [books.old.pk, books.mid.pk, books.new.pk], "amount": "300.00", **DETAILS},
    )

    assert response.status_code == 302
    assert response.url == f"/backoffice/accounts/{books.account.pk}/"
    payment = Payment.objects.get()
    assert (payment.account, payment.amount, payment.currency) == (
        books.account,
        Decimal("300.00"),
        "USD",
    )
    assert (payment.channel, payment.recorded_by_user) == (Channel.STAFF, user)
    assert list(payment.allocations.order_by("pk").values_list("invoice_id", "amount")) == [
        (books.old.pk, Decimal("250.00")),
        (books.mid.pk, Decimal("50.00")),
    ]
    assert balances(books.old, books.mid, books.new, books.not_due, books.other) == [
        Decimal("0.00"),
        Decimal("70.00"),
        Decimal("99.99"),
        Decimal("500.00"),
        Decimal("50.00"),
    ]
    assert Invoice.objects.get(pk=books.old.pk).status == InvoiceStatus.PAID
    assert row_counts() == {
        **counts,
        "payments.Payment": 1,
        "payments.PaymentAllocation": 2,
    }
    page = page_of(client.get(response.url))
    assert messages_of(page, "success") == [f"Recorded payment {payment.number}: 300.00 USD."]
    assert page.by_id("account-balance").text() == "669.99 USD"
    assert page.by_id("past-due-balance").text() == "169.99 USD"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"amount": "10.001"}, "Amount: The amount must have at most two decimal places."),
        ({"amount": "0"}, "Amount: The amount must be greater than zero."),
        ({"amount": "-5.00"}, "Amount: The amount must be greater than zero."),
        ({"amount": "1e3"}, "The amount 1000.00 is more than the balance due 349.99."),
        ({"amount": "349.99 USD"}, "Amount: The amount must be a decimal number."),
        ({"amount": "350.00"}, "The amount 350.00 is more than the balance due 349.99."),
        ({"invoices": []}, "Invoices: Choose at least one invoice to pay."),
        (
            {"invoices": ["not_due"]},
            "Invoices: Select a valid choice. {not_due} is not one of the available choices.",
        ),
        (
            {"invoices": ["other"]},
            "Invoices: Select a valid choice. {other} is not one of the available choices.",
        ),
    ],
)
@pytest.mark.parametrize("action", ["preview", "confirm"])
def test_bad_input_is_a_form_error_and_writes_nothing(client, books, form, error, action):
    chosen = [getattr(books, name).pk for name in form.get("invoices", ["old", "new"])]
    data = {"invoices": chosen, "amount": form.get("amount", ""), **DETAILS, "action": action}
    counts = row_counts()

    response = client.post(pay_url(books), data)

    assert response.status_code == 200
    page = page_of(response)
    assert messages_of(page, "error") == [
        error.format(not_due=books.not_due.pk, other=books.other.pk)
    ]
    assert page.find_all(id="settlement") == []
    assert row_counts() == counts
    assert balances(books.old, books.new) == [Decimal("250.00"), Decimal("99.99")]


def test_an_invoice_voided_since_the_page_was_shown_is_no_longer_a_choice(client, books):
    Invoice.objects.filter(pk=books.new.pk).update(status=InvoiceStatus.VOID)

    response = client.post(
        pay_url(books), {"invoices": [books.new.pk], "amount": "", **DETAILS, "action": "confirm"}
    )

    assert messages_of(page_of(response), "error") == [
        f"Invoices: Select a valid choice. {books.new.pk} is not one of the available choices."
    ]
    assert not Payment.objects.exists()


# A preview binds its confirmation


def old_token(kind, content, seconds) -> str:
    """A token signed `seconds` ago."""
    with mock.patch("django.core.signing.time.time", return_value=time.time() - seconds):
        return previews.sign(kind, content)


def test_confirming_another_amount_than_previewed_records_nothing_and_previews_it(client, books):
    form = {"invoices": [books.old.pk, books.new.pk], "amount": "100.00", **DETAILS}
    token = preview_token(client.post(pay_url(books), {**form, "action": "preview"}))
    counts = row_counts()

    response = client.post(
        pay_url(books), {**form, "amount": "200.00", "action": "confirm", "preview": token}
    )

    assert response.status_code == 200
    assert row_counts() == counts
    assert balances(books.old, books.new) == [Decimal("250.00"), Decimal("99.99")]
    page = page_of(response)
    assert messages_of(page, "warning") == [CHANGED]
    assert messages_of(page, "error") == []
    assert page.by_id("settlement").find("td", class_="total").text() == "200.00 USD"
    assert page.find("input", name="amount").attrs["value"] == "200.00"
    # The new preview's token records what it shows, and only that.
    again = preview_token(response)
    assert again != token
    confirm = client.post(
        pay_url(books), {**form, "amount": "200.00", "action": "confirm", "preview": again}
    )
    assert confirm.status_code == 302
    assert list(Payment.objects.values_list("amount", flat=True)) == [Decimal("200.00")]
    assert balances(books.old, books.new) == [Decimal("50.00"), Decimal("99.99")]


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda books, user, other: None, id="no token"),
        pytest.param(lambda books, user, other: "", id="empty token"),
        pytest.param(
            lambda books, user, other: (
                previews.sign(previews.ACCOUNT, account_content(books, user))[:-2] + "xx"
            ),
            id="tampered signature",
        ),
        pytest.param(
            lambda books, user, other: signing.dumps(
                account_content(books, user), salt="backoffice.previews.account", key="other key"
            ),
            id="signed with another key",
        ),
        pytest.param(
            lambda books, user, other: previews.sign(
                previews.CONTACT, account_content(books, user)
            ),
            id="signed for the other kind of form",
        ),
        pytest.param(
            lambda books, user, other: previews.sign(
                previews.ACCOUNT, account_content(books, other)
            ),
            id="another user's preview",
        ),
        pytest.param(
            lambda books, user, other: previews.sign(
                previews.ACCOUNT,
                {**account_content(books, user), "account": books.other.account_id},
            ),
            id="another account's preview",
        ),
        pytest.param(
            lambda books, user, other: previews.sign(
                previews.ACCOUNT, account_content(books, user, invoices=("old",))
            ),
            id="other invoices",
        ),
        pytest.param(
            lambda books, user, other: previews.sign(
                previews.ACCOUNT, account_content(books, user, amount="100.01")
            ),
            id="another amount",
        ),
        pytest.param(
            lambda books, user, other: old_token(
                previews.ACCOUNT, account_content(books, user), previews.MAX_AGE + 1
            ),
            id="expired",
        ),
    ],
)
def test_a_confirm_without_a_valid_token_of_exactly_it_records_nothing(client, user, books, token):
    counts = row_counts()
    data = {
        "invoices": [books.old.pk, books.new.pk],
        "amount": "100",
        **DETAILS,
        "action": "confirm",
    }
    if (value := token(books, user, cashier_user())) is not None:
        data["preview"] = value

    response = client.post(pay_url(books), data)

    assert response.status_code == 200
    assert row_counts() == counts
    assert balances(books.old, books.new) == [Decimal("250.00"), Decimal("99.99")]
    page = page_of(response)
    assert messages_of(page, "warning") == [CHANGED]
    assert page.by_id("settlement").find("td", class_="total").text() == "100.00 USD"
    assert preview_token(response)


def test_a_token_of_exactly_the_submitted_payment_records_it(client, user, books):
    """The counterpart of the refusals above: the same content, freshly or nearly expired."""
    token = old_token(previews.ACCOUNT, account_content(books, user), previews.MAX_AGE - 30)

    response = client.post(
        pay_url(books),
        {
            "invoices": [books.new.pk, books.old.pk],
            "amount": "100",
            **DETAILS,
            "action": "confirm",
            "preview": token,
        },
    )

    assert response.status_code == 302
    payment = Payment.objects.get()
    assert (payment.amount, payment.recorded_by_user) == (Decimal("100.00"), user)
    assert balances(books.old, books.new) == [Decimal("150.00"), Decimal("99.99")]


# Billing items of a contact


@pytest.fixture
def member():
    contact = ContactFactory(account=AccountFactory(currency="EUR"))
    return SimpleNamespace(
        contact=contact,
        fee=BillingItemFactory(contact=contact, due_date=days_ago(35), total_amount=Decimal("75")),
        dues=BillingItemFactory(contact=contact, due_date=days_ago(5), total_amount=Decimal("50")),
        extra=BillingItemFactory(
            contact=contact, due_date=days_ago(-9), total_amount=Decimal("20")
        ),
        settled=BillingItemFactory(
            contact=contact, total_amount=Decimal("10"), balance=Decimal("0")
        ),
        card=TenderTypeFactory(name="Card on file"),
    )


def contact_url(member) -> str:
    return f"/backoffice/contacts/{member.contact.pk}/pay/"


def item_balances(member) -> list[Decimal]:
    return [
        BillingItem.objects.get(pk=i.pk).balance for i in (member.fee, member.dues, member.extra)
    ]


def contact_form(member, action, **amounts):
    return {
        "tender_type": member.card.pk,
        "payment_date": "2026-03-04",
        "reference": "POS-17",
        "action": action,
        **{f"amount_{getattr(member, name).pk}": value for name, value in amounts.items()},
    }


def test_the_contact_pay_page_offers_the_outstanding_items(client, member):
    page = page_of(client.get(contact_url(member)))

    assert [i.attrs["name"] for i in page.by_id("payable-items").find_all("input")] == [
        f"amount_{member.fee.pk}",
        f"amount_{member.dues.pk}",
        f"amount_{member.extra.pk}",
    ]
    assert page.find("input", name="payment_date").attrs["value"] == days_ago(0).isoformat()
    options = page.find("select", name="tender_type").find_all("option")
    assert options[0].attrs["value"] == ""
    assert str(member.card.pk) in [option.attrs["value"] for option in options]


def test_contact_preview_shows_applied_and_refused_lines_and_writes_nothing(client, member):
    counts = row_counts()

    response = client.post(
        contact_url(member), contact_form(member, "preview", fee="30.00", dues="60.00", extra="")
    )

    assert response.status_code == 200
    assert row_counts() == counts
    page = page_of(response)
    assert page.row_ids("settlement", "data-billing-id") == [member.fee.pk, member.dues.pk]
    fee_row = page.by_id("settlement").find("tr", data_billing_id=member.fee.pk)
    assert page.cells(fee_row) == [member.fee.description, "75.00", "30.00", "45.00", ""]
    refusal = f"The amount 60.00 is more than the balance 50.00 of billing item {member.dues.pk}."
    dues_row = page.by_id("settlement").find("tr", data_billing_id=member.dues.pk)
    assert page.cells(dues_row)[-1] == f"Not applied: {refusal}"
    # Next to the item's own input, too.
    item_row = page.by_id("payable-items").find("tr", data_billing_id=member.dues.pk)
    assert item_row.find("li", class_="line-refusal").text() == refusal
    assert page.by_id("settlement").find("td", class_="total").text() == "30.00 EUR"
    assert page.find("button", name="action", value="confirm").text() == "Record payment"
    assert page.find("input", name=f"amount_{member.dues.pk}").attrs["value"] == "60.00"


def test_contact_confirm_records_the_applied_lines_with_the_tender_type(client, user, member):
    response = preview_then_confirm(
        client,
        contact_url(member),
        {
            **contact_form(member, "preview", fee="30.00", dues="60.00", extra="5"),
            "notes": "Paid at the desk.\r\nReceipt 88.",
        },
    )

    assert response.status_code == 302
    assert response.url == f"/backoffice/contacts/{member.contact.pk}/"
    payment = Payment.objects.get()
    assert (payment.contact, payment.amount, payment.currency, payment.tender_type) == (
        member.contact,
        Decimal("35.00"),
        "EUR",
        member.card,
    )
    assert (payment.channel, payment.recorded_by_user) == (Channel.STAFF, user)
    assert payment.payment_date == datetime.datetime(2026, 3, 4, tzinfo=datetime.UTC)
    assert (payment.reference, payment.notes) == ("POS-17", "Paid at the desk.\nReceipt 88.")
    allocations = PaymentAllocation.objects.filter(payment=payment).order_by("pk")
    assert [(a.billing_item_id, a.amount, a.reference) for a in allocations] == [
        (member.fee.pk, Decimal("30.00"), "POS-17"),
        (member.extra.pk, Decimal("5.00"), "POS-17"),
    ]
    assert item_balances(member) == [Decimal("45.00"), Decimal("50.00"), Decimal("15.00")]
    page = page_of(client.get(response.url))
    assert messages_of(page, "success") == [f"Recorded payment {payment.number}: 35.00 EUR."]
    assert messages_of(page, "error") == [
        "Not applied: The amount 60.00 is more than the balance 50.00 of billing item "
        f"{member.dues.pk}."
    ]
    row = page.by_id("payments").find("tr", data_payment_id=payment.pk)
    assert row.find("div", class_="reference").text() == "POS-17"
    assert row.find("div", class_="payment-notes").text() == "Paid at the desk. Receipt 88."
    assert row.find("td", class_="payment-date").text() == "2026-03-04"
    assert row.find("td", class_="tender-type").text() == "Card on file"


def test_when_no_line_applies_nothing_can_be_recorded(client, member):
    form = contact_form(member, "preview", fee="0.001", dues="abc")

    preview = page_of(client.post(contact_url(member), form))
    confirm = client.post(contact_url(member), {**form, "action": "confirm"})

    assert preview.find_all("button", value="confirm") == []
    assert preview.find_all("input", name="preview") == []
    assert [preview.cells(row)[-1] for row in preview.by_id("settlement").find_all("tr")[1:3]] == [
        "Not applied: The amount must have at most two decimal places.",
        "Not applied: The amount must be a decimal number.",
    ]
    # Confirming what no preview offered: previewed again, still nothing to record.
    assert confirm.status_code == 200
    page = page_of(confirm)
    assert messages_of(page, "warning") == [CHANGED]
    assert messages_of(page, "error") == []
    assert page.find_all("button", value="confirm") == []
    assert not Payment.objects.exists()
    assert item_balances(member) == [Decimal("75.00"), Decimal("50.00"), Decimal("20.00")]


def test_a_previewed_line_that_no_longer_applies_records_nothing(client, member):
    form = contact_form(member, "preview", fee="30.00")
    token = preview_token(client.post(contact_url(member), form))
    BillingItem.objects.filter(pk=member.fee.pk).update(balance=Decimal("10.00"))

    confirm = client.post(contact_url(member), {**form, "action": "confirm", "preview": token})

    assert confirm.status_code == 200
    assert messages_of(page_of(confirm), "error") == [
        "No line could be applied: nothing was recorded."
    ]
    assert not Payment.objects.exists()
    assert item_balances(member) == [Decimal("10.00"), Decimal("50.00"), Decimal("20.00")]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({}, "Enter an amount for at least one billing item."),
        ({"tender_type": ""}, "Tender type: This field is required."),
        (
            {"tender_type": "99999"},
            "Tender type: Select a valid choice. That choice is not one of the available choices.",
        ),
        ({"payment_date": "2026-13-01"}, "Payment date: Enter a valid date."),
        (
            {"payment_date": "{tomorrow}"},
            "Payment date: A payment cannot be dated after today ({today} UTC).",
        ),
        ({"payment_date": "1899-12-31"}, "Payment date: Enter a date from 1900-01-01."),
        (
            {"notes": "x" * 2001},
            "Notes: Ensure this value has at most 2000 characters (it has 2001).",
        ),
    ],
)
def test_contact_form_errors_write_nothing(client, member, change, error):
    days = {"today": days_ago(0).isoformat(), "tomorrow": days_ago(-1).isoformat()}
    change = {name: value.format(**days) for name, value in change.items()}
    error = error.format(**days)
    form = {**contact_form(member, "confirm"), **change}
    if change:
        form[f"amount_{member.fee.pk}"] = "10.00"

    response = client.post(contact_url(member), form)

    assert response.status_code == 200
    assert messages_of(page_of(response), "error") == [error]
    assert not Payment.objects.exists()


def test_an_inactive_tender_type_is_not_offered_nor_accepted(client, member):
    member.card.is_active = False
    member.card.save()

    response = client.post(contact_url(member), contact_form(member, "confirm", fee="10.00"))

    assert messages_of(page_of(response), "error") == [
        "Tender type: Select a valid choice. That choice is not one of the available choices."
    ]
    assert not Payment.objects.exists()


# Reversals


@pytest.fixture
def paid(client, books):
    response = preview_then_confirm(
        client,
        pay_url(books),
        {"invoices": [books.old.pk, books.mid.pk], "amount": "300.00", **DETAILS},
    )
    client.get(response.url)  # shows (and so clears) the success message
    return Payment.objects.get()


def test_the_reverse_page_shows_the_payment_and_its_allocations(client, books, paid):
    page = page_of(client.get(f"/backoffice/payments/{paid.pk}/reverse/"))

    assert page.by_id("payment-amount").text() == "300.00 USD"
    assert [page.cells(row) for row in page.by_id("allocations").find("tbody").find_all("tr")] == [
        [f"Invoice {books.old.number}", "250.00"],
        [f"Invoice {books.mid.number}", "50.00"],
    ]
    assert page.find("textarea", name="reason")
    assert page.find("button", type="submit", class_="default").text() == "Reverse payment"


def test_reversing_restores_every_balance_exactly(client, user, books, paid):
    response = client.post(f"/backoffice/payments/{paid.pk}/reverse/", {"reason": " Bounced "})

    assert response.status_code == 302
    assert response.url == f"/backoffice/accounts/{books.account.pk}/"
    reversal = Reversal.objects.get()
    assert (reversal.payment, reversal.reason) == (paid, "Bounced")
    assert (reversal.channel, reversal.recorded_by_user) == (Channel.STAFF, user)
    assert balances(books.old, books.mid) == [Decimal("250.00"), Decimal("120.00")]
    assert Invoice.objects.get(pk=books.old.pk).status == InvoiceStatus.OPEN
    assert Payment.objects.get() == paid  # the payment stays on the record
    page = page_of(client.get(response.url))
    assert messages_of(page, "success") == [f"Reversed payment {paid.number}."]
    assert page.find_all("a", class_="reverse-payment") == []


def test_reversing_twice_or_without_a_reason_is_refused(client, books, paid):
    url = f"/backoffice/payments/{paid.pk}/reverse/"

    blank = client.post(url, {"reason": "   "})
    assert blank.status_code == 200
    assert messages_of(page_of(blank), "error") == ["Reason: This field is required."]
    assert not Reversal.objects.exists()

    payment_reverse(payment_id=paid.pk, reason="First", actor=SYSTEM)
    again = client.post(url, {"reason": "Second"})
    assert again.status_code == 200
    page = page_of(again)
    assert messages_of(page, "error") == [f"Payment {paid.number} has already been reversed."]
    assert list(Reversal.objects.values_list("reason", flat=True)) == ["First"]
    assert balances(books.old, books.mid) == [Decimal("250.00"), Decimal("120.00")]
    assert page_of(client.get(url)).find_all("textarea") == []  # nothing left to reverse


def test_reversing_a_billing_item_payment_restores_the_items(client, member):
    preview_then_confirm(
        client, contact_url(member), contact_form(member, "preview", fee="75.00", dues="1.50")
    )
    payment = Payment.objects.get()
    assert item_balances(member) == [Decimal("0.00"), Decimal("48.50"), Decimal("20.00")]

    response = client.post(f"/backoffice/payments/{payment.pk}/reverse/", {"reason": "Chargeback"})

    assert response.url == f"/backoffice/accounts/{member.contact.account_id}/"
    assert item_balances(member) == [Decimal("75.00"), Decimal("50.00"), Decimal("20.00")]
    assert Reversal.objects.get().payment == payment


@pytest.mark.parametrize(
    "change",
    [
        {"amount_fee": "31.00"},
        {"amount_dues": "5.00"},
        {"amount_fee": ""},
        {"reference": "POS-18"},
        {"payment_date": "2026-03-05"},
        {"tender_type": "other"},
        {"notes": "Paid at the desk."},
    ],
)
def test_a_contact_payment_changed_since_its_preview_records_nothing(client, member, change):
    form = contact_form(member, "preview", fee="30.00", dues="20")
    token = preview_token(client.post(contact_url(member), form))
    other = TenderTypeFactory(name="Cheque by post")
    changed = {
        {"amount_fee": f"amount_{member.fee.pk}", "amount_dues": f"amount_{member.dues.pk}"}.get(
            name, name
        ): (other.pk if value == "other" else value)
        for name, value in change.items()
    }

    response = client.post(
        contact_url(member), {**form, **changed, "action": "confirm", "preview": token}
    )

    assert response.status_code == 200
    assert not Payment.objects.exists()
    assert item_balances(member) == [Decimal("75.00"), Decimal("50.00"), Decimal("20.00")]
    page = page_of(response)
    assert messages_of(page, "warning") == [CHANGED]
    assert page.find("button", name="action", value="confirm").text() == "Record payment"
    assert preview_token(response) != token


def test_a_contact_payment_previewed_by_another_user_records_nothing(client, member):
    form = contact_form(member, "preview", fee="30.00")
    someone_else = Client()
    someone_else.force_login(cashier_user())
    token = preview_token(someone_else.post(contact_url(member), form))

    response = client.post(contact_url(member), {**form, "action": "confirm", "preview": token})

    assert response.status_code == 200
    assert messages_of(page_of(response), "warning") == [CHANGED]
    assert not Payment.objects.exists()


def test_a_contact_confirm_with_the_preview_token_records_it_as_previewed(client, user, member):
    """Amounts are compared as the service reads them: "30" previewed is "30.00" confirmed."""
    form = contact_form(member, "preview", fee="30")
    token = preview_token(client.post(contact_url(member), form))
    confirm = {**form, f"amount_{member.fee.pk}": "30.00", "action": "confirm", "preview": token}

    response = client.post(contact_url(member), confirm)

    assert response.status_code == 302
    payment = Payment.objects.get()
    assert (payment.amount, payment.tender_type, payment.recorded_by_user) == (
        Decimal("30.00"),
        member.card,
        user,
    )
    assert item_balances(member) == [Decimal("45.00"), Decimal("50.00"), Decimal("20.00")]
