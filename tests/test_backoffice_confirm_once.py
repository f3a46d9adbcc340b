"""A preview's "Record payment" records once: the same token confirmed again (a double click, the
back button, a retry, even after the token expired) records nothing more and shows the payment it
recorded; two confirms at the same instant record one payment, because the database refuses the
second use of the token."""

import threading
import time
from decimal import Decimal
from types import SimpleNamespace
from unittest import mock

import pytest
from django.db import connection
from django.test import Client

from backoffice import previews
from backoffice.models import ConfirmedPreview
from backoffice.previews import CHANGED
from invoices.models import BillingItem, Invoice
from payments import services
from payments.models import Payment
from tests.backoffice_pages import cashier_user, messages_of, page_of, preview_token
from tests.factories import (
    AccountFactory,
    BillingItemFactory,
    ContactFactory,
    TenderTypeFactory,
    days_ago,
)
from tests.pay_books import EFT, account_form, balances, pay_url, row_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return cashier_user()


@pytest.fixture
def client(client, user):
    client.force_login(user)
    return client


def previewed(client, url: str, form: dict) -> dict:
    """`form` as "Record payment" posts it after its preview."""
    token = preview_token(client.post(url, {**form, "action": "preview"}))
    return {**form, "action": "confirm", "preview": token}


def already(payment) -> str:
    return (
        f"Payment {payment.number} ({payment.amount:.2f} {payment.currency}) was already "
        "recorded from this preview: nothing more was recorded."
    )


@pytest.mark.parametrize(
    ("invoices", "amount", "after"),
    [
        # Part of the oldest invoice: the form is as valid the second time as the first.
        (("old", "new"), "100.00", [Decimal("150.00"), Decimal("99.99")]),
        # Both in full: the second time, they are no longer offered.
        (("old", "new"), "", [Decimal("0.00"), Decimal("0.00")]),
    ],
)
def test_confirming_a_preview_again_records_nothing_and_shows_the_payment(
    client, books, invoices, amount, after
):
    confirm = previewed(client, pay_url(books), account_form(books, invoices, amount))
    first = client.post(pay_url(books), confirm)
    assert first.status_code == 302
    payment = Payment.objects.get()
    client.get(first.url)  # shows (and so clears) the success message
    counts = row_counts()

    again = client.post(pay_url(books), confirm)

    assert again.status_code == 302
    assert again.url == f"/backoffice/accounts/{books.account.pk}/#payment-{payment.pk}"
    assert row_counts() == counts
    assert list(Payment.objects.all()) == [payment]
    assert balances(books.old, books.new) == after
    page = page_of(client.get(again.url))
    assert messages_of(page, "warning") == [already(payment)]
    assert messages_of(page, "success") == []
    assert page.row_ids("payments", "data-payment-id") == [payment.pk]
    assert ConfirmedPreview.objects.get().payment == payment


def test_a_repeat_after_the_token_expired_is_still_a_repeat(client, books):
    confirm = previewed(client, pay_url(books), account_form(books))
    client.post(pay_url(books), confirm)
    payment = Payment.objects.get()

    later = time.time() + previews.MAX_AGE + 60
    with mock.patch("django.core.signing.time.time", return_value=later):
        again = client.post(pay_url(books), confirm)

    assert again.status_code == 302
    assert messages_of(page_of(client.get(again.url)), "warning") == [already(payment)]
    assert Payment.objects.count() == 1


def test_a_new_preview_of_the_same_payment_records_it_again(client, books):
    """Once per preview, not once per content: the clerk who previews again means it."""
    form = account_form(books)
    first = previewed(client, pay_url(books), form)
    client.post(pay_url(books), first)
    with mock.patch("django.core.signing.time.time", return_value=time.time() + 5):
        second = previewed(client, pay_url(books), form)  # signed at another second
    assert second["preview"] != first["preview"]

    second = client.post(pay_url(books), second)

    assert second.status_code == 302
    assert Payment.objects.count() == 2
    assert balances(books.old) == [Decimal("50.00")]


def test_a_refused_confirm_leaves_its_token_free(client, books):
    """Nothing recorded, nothing used up: once the refusal is gone, the same preview records."""
    confirm = previewed(client, pay_url(books), account_form(books, amount="300.00"))
    Invoice.objects.filter(pk=books.old.pk).update(balance=Decimal("100.00"))

    refused = client.post(pay_url(books), confirm)

    assert refused.status_code == 200
    assert messages_of(page_of(refused), "error") == [
        "The amount 300.00 is more than the balance due 199.99."
    ]
    assert not Payment.objects.exists()
    assert not ConfirmedPreview.objects.exists()
    Invoice.objects.filter(pk=books.old.pk).update(balance=Decimal("250.00"))
    recorded = client.post(pay_url(books), confirm)
    assert recorded.status_code == 302
    assert Payment.objects.get().amount == Decimal("300.00")


def test_another_users_repeat_of_a_used_token_is_no_repeat_of_theirs(client, books):
    confirm = previewed(client, pay_url(books), account_form(books))
    client.post(pay_url(books), confirm)
    someone_else = Client()
    someone_else.force_login(cashier_user())

    response = someone_else.post(pay_url(books), confirm)

    assert response.status_code == 200  # their own new preview, as for any token not theirs
    assert messages_of(page_of(response), "warning") == [CHANGED]
    assert Payment.objects.count() == 1


# A contact's billing items


@pytest.fixture
def member():
    contact = ContactFactory(account=AccountFactory(currency="EUR"))
    return SimpleNamespace(
        contact=contact,
        fee=BillingItemFactory(contact=contact, due_date=days_ago(35), total_amount=Decimal("75")),
        card=TenderTypeFactory(name="Card on file"),
    )


def test_confirming_a_contact_preview_again_records_nothing(client, member):
    url = f"/backoffice/contacts/{member.contact.pk}/pay/"
    form = {
        "tender_type": member.card.pk,
        "payment_date": days_ago(1).isoformat(),
        f"amount_{member.fee.pk}": "75.00",  # in full: the item is no longer offered after
    }
    confirm = previewed(client, url, form)
    assert client.post(url, confirm).status_code == 302
    payment = Payment.objects.get()

    again = client.post(url, confirm)

    assert again.status_code == 302
    assert again.url == f"/backoffice/contacts/{member.contact.pk}/#payment-{payment.pk}"
    assert messages_of(page_of(client.get(again.url)), "warning") == [already(payment)]
    assert Payment.objects.count() == 1
    assert BillingItem.objects.get(pk=member.fee.pk).balance == Decimal("0.00")


def test_a_contact_confirm_that_applies_no_line_leaves_its_token_free(client, member):
    url = f"/backoffice/contacts/{member.contact.pk}/pay/"
    form = {"tender_type": member.card.pk, "payment_date": days_ago(1).isoformat()}
    confirm = previewed(client, url, {**form, f"amount_{member.fee.pk}": "30.00"})
    BillingItem.objects.filter(pk=member.fee.pk).update(balance=Decimal("10.00"))

    refused = client.post(url, confirm)

    assert messages_of(page_of(refused), "error") == [
        "No line could be applied: nothing was recorded."
    ]
    assert not ConfirmedPreview.objects.exists()
    BillingItem.objects.filter(pk=member.fee.pk).update(balance=Decimal("75.00"))
    assert client.post(url, confirm).status_code == 302
    assert Payment.objects.get().amount == Decimal("30.00")


# Two confirms at the same instant


def waiting_on_a_lock(pids: set[int]) -> bool:
    """Whether one of the backends `pids` waits on a lock (here: the token's unique index)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE pid = ANY(%s) AND wait_event_type = 'Lock'",
            [list(pids)],
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_two_confirms_at_once_record_one_payment(books, user):
    """The first confirm is held inside its transaction, after the money service ran and before
    it commits; the second is sent meanwhile and must wait on the database, then record nothing.
    Nothing in the second request can see the first's uncommitted rows: only the unique index on
    the token's digest stops it."""
    TenderTypeFactory(id=EFT, name="EFT")  # a transactional test may have flushed the presets
    clients = [Client(), Client()]
    for each in clients:
        each.force_login(user)
    confirm = previewed(clients[0], pay_url(books), account_form(books))
    recorded, release = threading.Event(), threading.Event()
    real_pay = services.invoices_pay
    pids: set[int] = set()
    responses: dict[str, object] = {}
    errors: list[BaseException] = []

    def held_pay(**kwargs):
        paid = real_pay(**kwargs)
        if threading.current_thread().name == "first":
            recorded.set()
            assert release.wait(timeout=20)
        return paid

    def post(name: str, client: Client) -> None:
        try:
            connection.ensure_connection()
            pids.add(connection.connection.info.backend_pid)
            responses[name] = client.post(pay_url(books), confirm)
        except BaseException as error:  # handed to the main thread, asserted there
            errors.append(error)
        finally:
            connection.close()

    with mock.patch("backoffice.payment_views.invoices_pay", held_pay):
        first = threading.Thread(target=post, args=("first", clients[0]), name="first")
        first.start()
        assert recorded.wait(timeout=20)  # the first has recorded, not yet committed
        second = threading.Thread(target=post, args=("second", clients[1]), name="second")
        second.start()
        deadline = time.monotonic() + 20
        while not waiting_on_a_lock(pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        blocked = waiting_on_a_lock(pids)
        release.set()
        first.join(timeout=30)
        second.join(timeout=30)

    assert errors == []
    assert blocked, "the second confirm never waited on the first"
    payment = Payment.objects.get()
    assert (payment.amount, payment.tender_type_id) == (Decimal("100.00"), EFT)
    assert balances(books.old, books.new) == [Decimal("150.00"), Decimal("99.99")]
    assert ConfirmedPreview.objects.get().payment == payment
    account_page = f"/backoffice/accounts/{books.account.pk}/"
    assert responses["first"].status_code == 302
    assert responses["first"].url == account_page
    assert responses["second"].status_code == 302
    assert responses["second"].url == f"{account_page}#payment-{payment.pk}"
    assert messages_of(page_of(clients[0].get(account_page)), "success") == [
        f"Recorded payment {payment.number}: 100.00 USD."
    ]
    assert messages_of(page_of(clients[1].get(account_page)), "warning") == [already(payment)]
