"""Staff receive money into an account's credit from the account's admin page."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.models import Account
from payments.actors import Channel
from payments.models import Payment
from tests.backoffice_pages import cashier_user, finance_user, with_permissions
from tests.factories import AccountFactory, InvoiceFactory, days_ago

pytestmark = pytest.mark.django_db


def receive_url(account) -> str:
    return reverse("admin:contacts_account_receive", args=[account.pk])


@pytest.fixture
def clerk(client):
    user = with_permissions(cashier_user(), "contacts.view_account", "contacts.change_account")
    client.force_login(user)
    return user


def test_money_received_into_credit_is_a_payment_that_settles_nothing(client, clerk):
    account = AccountFactory(currency="EUR")
    owed = InvoiceFactory(account=account, due_date=days_ago(5), amount=Decimal("50.00"))
    page = client.get(reverse("admin:contacts_account_change", args=[account.pk]))
    assert receive_url(account) in page.content.decode()

    response = client.post(
        receive_url(account),
        {"amount": "120.50", "payment_date": days_ago(1).isoformat(), "reference": "wire 77"},
    )

    assert response.status_code == 302
    payment = Payment.objects.get()
    assert (payment.amount, payment.credit_amount, payment.reference) == (
        Decimal("120.50"),
        Decimal("120.50"),
        "wire 77",
    )
    assert (payment.channel, payment.recorded_by_user) == (Channel.STAFF, clerk)
    assert payment.payment_date.date() == days_ago(1)
    assert not payment.allocations.exists()
    assert Account.objects.get(pk=account.pk).credit_balance == Decimal("120.50")
    assert type(owed).objects.get(pk=owed.pk).balance == Decimal("50.00")  # nothing applied
    messages = [str(m) for m in client.get(response.url).context["messages"]]
    assert messages == [f"{payment} of 120.50 EUR received into the account's credit."]


@pytest.mark.parametrize(
    ("amount", "day", "says"),
    [
        ("0", 0, "greater than zero"),
        ("1.001", 0, "two decimal places"),
        ("ten", 0, "amount"),
        ("10.00", -1, "cannot be after today"),
    ],
)
def test_bad_input_is_a_form_error_and_records_nothing(client, clerk, amount, day, says):
    account = AccountFactory()
    response = client.post(
        receive_url(account), {"amount": amount, "payment_date": days_ago(day).isoformat()}
    )
    assert response.status_code == 200
    assert says in response.content.decode()
    assert not Payment.objects.exists()
    assert Account.objects.get(pk=account.pk).credit_balance == Decimal("0.00")


def test_only_who_may_record_payments_may_receive_credit(client):
    account = AccountFactory()
    reader = with_permissions(finance_user(), "contacts.view_account")
    client.force_login(reader)
    assert (
        receive_url(account)
        not in client.get(
            reverse("admin:contacts_account_change", args=[account.pk])
        ).content.decode()
    )
    today = timezone.localdate().isoformat()
    response = client.post(receive_url(account), {"amount": "5.00", "payment_date": today})
    assert response.status_code == 403
    assert not Payment.objects.exists()
