"""payments.services.billing_items_pay and billing_items_write_down: line by line."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from invoices.models import BillingItem
from payments.actors import Actor, Channel
from payments.errors import DuplicateLine, NoLines, ReasonRequired, TenderTypeNotAvailable
from payments.lines import BillingLine, LineOutcome, LineRefusal, WriteDownLine
from payments.models import Payment, PaymentAllocation, WriteDown
from payments.services import billing_items_pay, billing_items_write_down
from tests.factories import (
    ApiCredentialFactory,
    BillingItemFactory,
    ContactFactory,
    TenderTypeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

COLLECTED = datetime.datetime(2025, 11, 2, 17, 38, 19, 788753, tzinfo=datetime.UTC)


@pytest.fixture
def contact():
    return ContactFactory(account__currency="GBP")


@pytest.fixture
def tender():
    return TenderTypeFactory()


@pytest.fixture
def partner():
    return Actor(channel=Channel.LEGEND_API, credential=ApiCredentialFactory())


def item(contact, total="50.00", balance=None):
    total = Decimal(total)
    return BillingItemFactory(
        contact=contact, total_amount=total, balance=Decimal(balance or total)
    )


def balance(billing_item):
    return BillingItem.objects.get(pk=billing_item.pk).balance


def written():
    """Every row a money service may write, counted."""
    return (Payment.objects.count(), PaymentAllocation.objects.count(), WriteDown.objects.count())


def refusal(billing_id, left, reason, **values):
    """The outcome of a refused line: `left` is the item's unchanged balance."""
    message = reason.value.format(billing_id=billing_id, **values)
    return LineOutcome(billing_id, left, refusal=reason, message=message)


def pay(contact, tender, actor, *lines):
    return billing_items_pay(
        contact=contact,
        tender_type_id=tender.pk,
        payment_date=COLLECTED,
        lines=list(lines),
        actor=actor,
    )


def test_all_lines_applied_in_one_payment(contact, tender, partner):
    first, second = item(contact), item(contact, "80.00")
    before = timezone.now()

    result = pay(
        contact,
        tender,
        partner,
        BillingLine(first.pk, "50.00", reference="T-1", notes="till 3", authorization_code="A1"),
        BillingLine(second.pk, Decimal("30.5"), authorization_code="X" * 100),
    )

    payment = Payment.objects.get()
    assert result.payment == payment
    assert result.all_applied
    assert (payment.amount, payment.currency) == (Decimal("80.50"), "GBP")
    assert (payment.account_id, payment.contact_id) == (contact.account_id, contact.pk)
    assert (payment.tender_type_id, payment.payment_date) == (tender.pk, COLLECTED)
    assert (payment.channel, payment.recorded_by_credential) == (
        Channel.LEGEND_API,
        partner.credential,
    )
    assert before <= payment.processed_at <= timezone.now()
    allocations = PaymentAllocation.objects.filter(payment=payment).order_by("pk")
    assert list(
        allocations.values_list(
            "billing_item_id", "invoice_id", "amount", "reference", "notes", "authorization_code"
        )
    ) == [
        (first.pk, None, Decimal("50.00"), "T-1", "till 3", "A1"),
        (second.pk, None, Decimal("30.50"), "", "", "X" * 100),
    ]
    assert (balance(first), balance(second)) == (Decimal("0.00"), Decimal("49.50"))
    assert result.lines == [
        LineOutcome(first.pk, Decimal("0.00"), Decimal("50.00"), payment.processed_at),
        LineOutcome(second.pk, Decimal("49.50"), Decimal("30.50"), payment.processed_at),
    ]


def test_mixed_request_applies_only_the_good_lines(contact, tender, partner):
    good, zero, negative, over, precise, long_code = (item(contact) for _ in range(6))
    settled = item(contact, balance="0.00")
    foreign = item(ContactFactory(account=contact.account))
    lines = [
        BillingLine(good.pk, "20.00", reference="OK"),
        BillingLine(999_999_999, "1.00"),
        BillingLine(foreign.pk, "1.00"),
        BillingLine(zero.pk, "0"),
        BillingLine(negative.pk, "-1.00"),
        BillingLine(over.pk, "50.01"),
        BillingLine(precise.pk, "1.005"),
        BillingLine(long_code.pk, "1.00", authorization_code="A" * 101),
        BillingLine(settled.pk, "1.00"),
    ]

    result = pay(contact, tender, partner, *lines)

    payment = Payment.objects.get()
    assert result.payment == payment
    assert not result.all_applied
    fifty = Decimal("50.00")
    assert result.lines == [
        LineOutcome(good.pk, Decimal("30.00"), Decimal("20.00"), payment.processed_at),
        refusal(999_999_999, None, LineRefusal.NOT_FOUND),
        refusal(foreign.pk, None, LineRefusal.NOT_FOUND),
        refusal(zero.pk, fifty, LineRefusal.AMOUNT_NOT_POSITIVE),
        refusal(negative.pk, fifty, LineRefusal.AMOUNT_NOT_POSITIVE),
        refusal(over.pk, fifty, LineRefusal.OVER_BALANCE, amount="50.01", balance="50.00"),
        refusal(precise.pk, fifty, LineRefusal.AMOUNT_TOO_PRECISE),
        refusal(long_code.pk, fifty, LineRefusal.AUTHORIZATION_CODE_TOO_LONG),
        refusal(settled.pk, Decimal("0.00"), LineRefusal.ALREADY_SETTLED),
    ]
    assert result.lines[1].message == "Billing item 999999999 was not found for this contact."
    assert result.lines[5].message == (
        f"The amount 50.01 is more than the balance 50.00 of billing item {over.pk}."
    )
    assert result.lines[7].message == "The authorization code must be at most 100 characters."
    assert payment.amount == Decimal("20.00")
    assert list(payment.allocations.values_list("billing_item_id", "amount", "reference")) == [
        (good.pk, Decimal("20.00"), "OK")
    ]
    assert [balance(i) for i in (good, zero, negative, over, precise, long_code, foreign)] == [
        Decimal("30.00"),
        *[fifty] * 6,
    ]
    assert balance(settled) == Decimal("0.00")


def test_no_line_applied_writes_nothing(contact, tender, partner):
    small = item(contact, "10.00")

    result = pay(contact, tender, partner, BillingLine(small.pk, "10.01"), BillingLine(0, "1"))

    assert result.payment is None
    assert [line.refusal for line in result.lines] == [
        LineRefusal.OVER_BALANCE,
        LineRefusal.NOT_FOUND,
    ]
    assert all(line.processed_at is None and line.applied is None for line in result.lines)
    assert written() == (0, 0, 0)
    assert balance(small) == Decimal("10.00")


@pytest.mark.parametrize("case", ["no_lines", "duplicate", "unknown_tender", "inactive_tender"])
def test_global_refusals_write_nothing(contact, tender, partner, case):
    first, second = item(contact), item(contact)
    good = [BillingLine(first.pk, "5.00"), BillingLine(second.pk, "5.00")]
    tender_id, lines, error = {
        "no_lines": (tender.pk, [], NoLines),
        "duplicate": (tender.pk, [*good, BillingLine(first.pk, "1.00")], DuplicateLine),
        "unknown_tender": (999, good, TenderTypeNotAvailable),
        "inactive_tender": (TenderTypeFactory(is_active=False).pk, good, TenderTypeNotAvailable),
    }[case]

    with pytest.raises(error):
        billing_items_pay(
            contact=contact,
            tender_type_id=tender_id,
            payment_date=COLLECTED,
            lines=lines,
            actor=partner,
        )

    assert written() == (0, 0, 0)
    assert (balance(first), balance(second)) == (Decimal("50.00"), Decimal("50.00"))


def test_duplicate_line_message(contact, tender, partner):
    first = item(contact)

    with pytest.raises(DuplicateLine) as error:
        pay(contact, tender, partner, BillingLine(first.pk, "1.00"), BillingLine(first.pk, "2.00"))

    assert error.value.message == f"Billing item {first.pk} appears more than once."
    assert error.value.code == "DUPLICATE_BILLING_ID"


def test_write_down_reduces_the_balance_and_records_why(contact):
    target, small = item(contact), item(contact, "5.00")
    staff = Actor(channel=Channel.STAFF, user=UserFactory())

    result = billing_items_write_down(
        contact=contact,
        write_down_date=COLLECTED,
        lines=[
            WriteDownLine(target.pk, "12.50", gl_account_id=4010),
            WriteDownLine(small.pk, "5.01"),
        ],
        reason="  Goodwill after complaint  ",
        actor=staff,
    )

    write_down = WriteDown.objects.get()
    assert result.write_downs == [write_down]
    assert (write_down.billing_item_id, write_down.amount) == (target.pk, Decimal("12.50"))
    assert (write_down.reason, write_down.gl_account_id) == ("Goodwill after complaint", 4010)
    assert (write_down.channel, write_down.recorded_by_user) == (Channel.STAFF, staff.user)
    assert write_down.recorded_by_credential is None
    assert write_down.write_down_date == COLLECTED
    assert (balance(target), balance(small)) == (Decimal("37.50"), Decimal("5.00"))
    assert result.lines == [
        LineOutcome(target.pk, Decimal("37.50"), Decimal("12.50"), write_down.recorded_at),
        refusal(small.pk, Decimal("5.00"), LineRefusal.OVER_BALANCE, amount="5.01", balance="5.00"),
    ]
    assert (Payment.objects.count(), PaymentAllocation.objects.count()) == (0, 0)


@pytest.mark.parametrize("reason", ["", "   "])
def test_write_down_needs_a_reason(contact, reason):
    target = item(contact)

    with pytest.raises(ReasonRequired):
        billing_items_write_down(
            contact=contact,
            write_down_date=COLLECTED,
            lines=[WriteDownLine(target.pk, "1.00")],
            reason=reason,
            actor=Actor(channel=Channel.STAFF, user=UserFactory()),
        )

    assert written() == (0, 0, 0)
    assert balance(target) == Decimal("50.00")
