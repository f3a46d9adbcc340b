"""payments.services.payment_reverse: balances restored, the payment left as it was."""

from decimal import Decimal

import pytest
from django.utils import timezone

from invoices.models import BillingItem, Invoice, InvoiceStatus
from payments.actors import SYSTEM, Actor, Channel
from payments.errors import PaymentAlreadyReversed, ReasonRequired
from payments.lines import BillingLine
from payments.models import Payment, PaymentAllocation, Reversal
from payments.services import billing_items_pay, invoices_pay, payment_reverse
from tests.factories import (
    AccountFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    TenderTypeFactory,
    UserFactory,
    days_ago,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return Actor(channel=Channel.STAFF, user=UserFactory())


@pytest.fixture
def account():
    return AccountFactory()


@pytest.fixture
def invoices(account):
    first = InvoiceFactory(account=account, due_date=days_ago(20), amount=Decimal("30.00"))
    second = InvoiceFactory(account=account, due_date=days_ago(10), amount=Decimal("50.00"))
    return first, second


@pytest.fixture
def payment(account, invoices):
    """60.00 over both invoices: the first paid, the second down to 20.00."""
    return invoices_pay(account_id=account.pk, amount="60.00", actor=SYSTEM).payment


def invoice_state(*invoices):
    return [
        Invoice.objects.values_list("balance", "status").get(pk=invoice.pk) for invoice in invoices
    ]


def frozen(payment):
    """The payment and its allocations, every column, to compare before and after."""
    return (
        Payment.objects.filter(pk=payment.pk).values().get(),
        list(PaymentAllocation.objects.filter(payment=payment).order_by("pk").values()),
    )


def test_reversing_restores_every_invoice_it_paid(invoices, payment, staff):
    assert invoice_state(*invoices) == [
        (Decimal("0.00"), InvoiceStatus.PAID),
        (Decimal("20.00"), InvoiceStatus.OPEN),
    ]
    before = frozen(payment)
    start = timezone.now()

    reversal = payment_reverse(payment_id=payment.pk, reason="  Entered twice  ", actor=staff)

    assert invoice_state(*invoices) == [
        (Decimal("30.00"), InvoiceStatus.OPEN),
        (Decimal("50.00"), InvoiceStatus.OPEN),
    ]
    assert Reversal.objects.get() == reversal
    reversal.refresh_from_db()
    assert (reversal.payment_id, reversal.reason) == (payment.pk, "Entered twice")
    assert (reversal.channel, reversal.recorded_by_user) == (Channel.STAFF, staff.user)
    assert reversal.recorded_by_credential is None
    assert start <= reversal.reversed_at <= timezone.now()
    assert frozen(payment) == before
    assert len(before[1]) == 2


def test_reversing_restores_billing_item_balances(staff):
    contact = ContactFactory()
    first = BillingItemFactory(contact=contact, total_amount=Decimal("50.00"))
    second = BillingItemFactory(contact=contact, total_amount=Decimal("40.00"))
    untouched = BillingItemFactory(contact=contact, total_amount=Decimal("10.00"))
    paid = billing_items_pay(
        contact=contact,
        tender_type_id=TenderTypeFactory().pk,
        payment_date=timezone.now(),
        lines=[BillingLine(first.pk, "50.00"), BillingLine(second.pk, "15.25")],
        actor=staff,
    )
    before = frozen(paid.payment)

    payment_reverse(payment_id=paid.payment.pk, reason="Card charge-back", actor=staff)

    balances = BillingItem.objects.filter(pk__in=[first.pk, second.pk, untouched.pk])
    assert dict(balances.values_list("pk", "balance")) == {
        first.pk: Decimal("50.00"),
        second.pk: Decimal("40.00"),
        untouched.pk: Decimal("10.00"),
    }
    assert frozen(paid.payment) == before


def test_only_the_reversed_payment_is_given_back(account, staff):
    invoice = InvoiceFactory(account=account, amount=Decimal("100.00"))
    first = invoices_pay(account_id=account.pk, amount="20.00", actor=staff).payment
    invoices_pay(account_id=account.pk, amount="80.00", actor=staff)
    assert invoice_state(invoice) == [(Decimal("0.00"), InvoiceStatus.PAID)]

    payment_reverse(payment_id=first.pk, reason="Bounced", actor=staff)

    assert invoice_state(invoice) == [(Decimal("20.00"), InvoiceStatus.OPEN)]


def test_a_second_reversal_is_refused_and_changes_nothing(invoices, payment, staff):
    payment_reverse(payment_id=payment.pk, reason="Entered twice", actor=staff)
    before = (invoice_state(*invoices), frozen(payment), list(Reversal.objects.values()))

    with pytest.raises(PaymentAlreadyReversed) as error:
        payment_reverse(payment_id=payment.pk, reason="Again", actor=staff)

    assert error.value.message == f"Payment {payment.number} has already been reversed."
    assert (invoice_state(*invoices), frozen(payment), list(Reversal.objects.values())) == before


@pytest.mark.parametrize("reason", ["", "  \n "])
def test_a_reversal_needs_a_reason(invoices, payment, staff, reason):
    before = invoice_state(*invoices)

    with pytest.raises(ReasonRequired):
        payment_reverse(payment_id=payment.pk, reason=reason, actor=staff)

    assert invoice_state(*invoices) == before
    assert not Reversal.objects.exists()


def test_a_reversed_invoice_can_be_paid_again(account, invoices, payment, staff):
    payment_reverse(payment_id=payment.pk, reason="Wrong account", actor=staff)

    again = invoices_pay(account_id=account.pk, amount="80.00", actor=staff, settle_in_full=True)

    assert [(a.invoice_id, a.amount) for a in again.allocations] == [
        (invoices[0].pk, Decimal("30.00")),
        (invoices[1].pk, Decimal("50.00")),
    ]
    assert invoice_state(*invoices) == [(Decimal("0.00"), InvoiceStatus.PAID)] * 2
    assert Payment.objects.count() == 2
