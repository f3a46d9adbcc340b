"""Ageing of receivables as of a date, checked by hand (payments.receivables.receivables_on)."""

import datetime
from decimal import Decimal

import pytest

from invoices.due import today
from invoices.models import BillingItem, InvoiceStatus
from invoices.services import billing_item_create
from payments.actors import SYSTEM
from payments.ledger import ledger_drift
from payments.lines import BillingLine
from payments.models import TenderType
from payments.receivables import receivables_on
from payments.services import billing_items_pay, invoices_pay, payment_reverse
from tests.factories import (
    AccountFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    PaymentAllocationFactory,
    PaymentFactory,
    ReversalFactory,
    WriteDownFactory,
    days_ago,
)

pytestmark = pytest.mark.django_db

AS_OF = datetime.date(2026, 6, 30)


def on(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{text}T12:00:00+00:00")


def invoice(account, issued, due, amount, **extra):
    return InvoiceFactory(
        account=account, issue_date=on(issued), due_date=on(due), amount=Decimal(amount), **extra
    )


def pay(invoice_, amount, dated, reversed_on=None):
    payment = PaymentFactory(
        account=invoice_.account, amount=Decimal(amount), payment_date=at(dated)
    )
    PaymentAllocationFactory(payment=payment, invoice=invoice_, amount=Decimal(amount))
    if reversed_on:
        ReversalFactory(payment=payment, reversed_at=at(reversed_on))
    else:  # the stored balance, as the money service keeps it: what unreversed payments leave
        invoice_.balance -= Decimal(amount)
        invoice_.status = InvoiceStatus.PAID if invoice_.balance == 0 else InvoiceStatus.OPEN
        invoice_.save(update_fields=["balance", "status"])
    return payment


@pytest.fixture
def ledger():
    usd = AccountFactory(currency="USD")
    late = invoice(usd, "2026-01-01", "2026-02-01", "1000.00")  # 149 days late: 90+
    pay(late, "400.00", "2026-03-01")  # stands: 600.00 owed
    invoice(usd, "2026-01-01", "2026-01-02", "70.00", status=InvoiceStatus.VOID)  # never owed
    paid_after = invoice(usd, "2026-04-01", "2026-05-15", "500.00")  # 46 days: 31-60
    pay(paid_after, "500.00", "2026-07-05")  # dated after the as-of date: still owed then
    invoice(usd, "2026-06-01", "2026-06-30", "200.00")  # due on the day: current
    invoice(usd, "2026-07-01", "2026-07-30", "999.00")  # issued after the as-of date
    bounced = invoice(usd, "2026-03-01", "2026-04-15", "300.00")  # 76 days: 61-90
    pay(bounced, "300.00", "2026-05-01", reversed_on="2026-06-10")  # reversed by then: owed
    settled = invoice(usd, "2026-05-01", "2026-06-20", "150.00")  # 10 days late, but...
    pay(settled, "150.00", "2026-06-25", reversed_on="2026-07-02")  # ...paid on that date

    eur = AccountFactory(currency="EUR")
    invoice(eur, "2026-05-01", "2026-05-31", "80.00")  # 30 days late: 1-30
    invoice(eur, "2026-03-01", "2026-04-01", "20.00")  # 90 days late: 61-90
    invoice(eur, "2026-03-01", "2026-03-31", "5.00")  # 91 days late: 90+
    # Today's balances are the stored ones; earlier days correct them by the later movements.
    assert ledger_drift() == []


def test_ageing_as_of_a_past_date_counts_only_what_was_dated_up_to_it(ledger):
    eur, usd = receivables_on(AS_OF)  # sorted by currency code

    assert usd.currency == "USD"
    assert usd.buckets == {
        "current": Decimal("200.00"),
        "1-30": Decimal("0.00"),
        "31-60": Decimal("500.00"),
        "61-90": Decimal("300.00"),
        "90+": Decimal("600.00"),
    }
    assert usd.receivable == Decimal("1600.00")
    assert usd.past_due == Decimal("1400.00")
    assert usd.accounts_past_due == 1
    # Dated 2026-06-01 .. 2026-06-30 and standing on the 30th: the 150.00 of 2026-06-25.
    assert usd.collected_30_days == Decimal("150.00")

    assert eur.currency == "EUR"
    assert eur.buckets == {
        "current": Decimal("0.00"),
        "1-30": Decimal("80.00"),
        "31-60": Decimal("0.00"),
        "61-90": Decimal("20.00"),
        "90+": Decimal("5.00"),
    }
    assert eur.accounts_past_due == 1
    assert eur.collected_30_days == Decimal("0.00")


def test_ageing_moves_with_the_as_of_date(ledger):
    _eur, usd = receivables_on(on("2026-07-10"))

    # The 500.00 was paid on 07-05; the 150.00 payment was reversed on 07-02 and is owed again,
    # 20 days late, with the 200.00 due 06-30 (10 days late); the invoice issued 07-01 is current.
    assert usd.buckets == {
        "current": Decimal("999.00"),
        "1-30": Decimal("350.00"),
        "31-60": Decimal("0.00"),
        "61-90": Decimal("300.00"),
        "90+": Decimal("600.00"),
    }
    assert usd.collected_30_days == Decimal("500.00")


def test_before_anything_was_issued_nothing_is_owed(ledger):
    assert receivables_on(on("2025-12-31")) == []


def test_as_of_today_the_ageing_adds_up_to_the_stored_balances(django_assert_num_queries):
    account = AccountFactory(currency="GBP")
    invoices = [
        InvoiceFactory(account=account, due_date=days_ago(days), amount=Decimal("100.00"))
        for days in (-5, 0, 1, 31, 61, 91)
    ]
    invoices_pay(account_id=account.pk, amount="150.00", actor=SYSTEM)  # oldest first

    with django_assert_num_queries(2):
        (gbp,) = receivables_on(today())

    for row in invoices:
        row.refresh_from_db()
    assert gbp.receivable == sum(row.balance for row in invoices)
    assert gbp.buckets == {
        "current": Decimal("200.00"),
        "1-30": Decimal("100.00"),
        "31-60": Decimal("100.00"),
        "61-90": Decimal("50.00"),
        "90+": Decimal("0.00"),
    }
    assert gbp.accounts_past_due == 1
    assert gbp.collected_30_days == Decimal("150.00")


def test_billing_items_count_with_their_payments_and_write_downs_dated_up_to_the_day():
    contact = ContactFactory(account=AccountFactory(currency="GBP"))
    fee = BillingItemFactory(
        contact=contact, due_date=on("2026-06-10"), total_amount=Decimal("100.00")
    )
    later = BillingItemFactory(
        contact=contact, due_date=on("2026-06-01"), total_amount=Decimal("7.00")
    )
    BillingItem.objects.filter(pk=fee.pk).update(created_at=at("2026-05-01"))
    BillingItem.objects.filter(pk=later.pk).update(created_at=at("2026-07-05"))  # not yet there
    WriteDownFactory(billing_item=fee, amount=Decimal("30.00"), write_down_date=at("2026-06-15"))
    WriteDownFactory(billing_item=fee, amount=Decimal("20.00"), write_down_date=at("2026-07-01"))
    payment = PaymentFactory(
        account=contact.account, amount=Decimal("10.00"), payment_date=at("2026-06-20")
    )
    PaymentAllocationFactory(
        payment=payment, invoice=None, billing_item=fee, amount=Decimal("10.00")
    )
    # The stored balance, as the money service keeps it: 100.00 - 30.00 - 20.00 - 10.00.
    BillingItem.objects.filter(pk=fee.pk).update(balance=Decimal("40.00"))
    assert ledger_drift() == []

    (gbp,) = receivables_on(AS_OF)

    # 100.00 - 30.00 written down on 06-15 - 10.00 paid on 06-20; the 07-01 write-down is later.
    assert gbp.buckets == {
        "current": Decimal("0.00"),
        "1-30": Decimal("60.00"),
        "31-60": Decimal("0.00"),
        "61-90": Decimal("0.00"),
        "90+": Decimal("0.00"),
    }
    assert gbp.accounts_past_due == 1
    assert gbp.collected_30_days == Decimal("10.00")
    (gbp_later,) = receivables_on(on("2026-07-10"))
    assert gbp_later.buckets["1-30"] == Decimal("40.00")  # 20.00 more written down on 07-01
    assert gbp_later.buckets["31-60"] == Decimal("7.00")  # created 07-05, due 06-01: 39 days


def test_a_row_paid_twice_on_a_day_owed_nothing_then_not_less():
    """A payment reversed today, and another dated in the past on top of it: on the days both
    stood, the row owed less than zero. It counts as nothing, not against the account's others."""
    account = AccountFactory(currency="GBP")
    card = TenderType.objects.get(name="Card").pk

    def dated(days: int) -> datetime.datetime:
        return datetime.datetime.combine(days_ago(days), datetime.time(12), datetime.UTC)

    twice = InvoiceFactory(account=account, issue_date=days_ago(30), due_date=days_ago(20))
    InvoiceFactory(
        account=account, issue_date=days_ago(30), due_date=days_ago(20), amount=Decimal("50.00")
    )
    fee = billing_item_create(
        contact=ContactFactory(account=account),
        description="Fee",
        due_date=days_ago(20),
        total_amount=Decimal("40.00"),
    )
    BillingItem.objects.filter(pk=fee.pk).update(created_at=dated(30))
    for days in (15, 12):  # the first is reversed today, after the second was recorded
        invoice_payment = invoices_pay(
            account_id=account.pk,
            invoice_ids=[twice.pk],
            amount=Decimal("100.00"),
            past_due_only=False,
            payment_date=dated(days),
            actor=SYSTEM,
        ).payment
        item_payment = billing_items_pay(
            contact=fee.contact,
            tender_type_id=card,
            payment_date=dated(days),
            lines=[BillingLine(fee.pk, Decimal("40.00"))],
            actor=SYSTEM,
        ).payment
        if days == 15:
            for payment in (invoice_payment, item_payment):
                payment_reverse(payment_id=payment.pk, reason="Bounced", actor=SYSTEM)
    assert ledger_drift() == []

    # 10 days ago both payments of each row stood: 100.00 - 200.00 and 40.00 - 80.00 owed.
    (gbp,) = receivables_on(days_ago(10))
    assert gbp.buckets["1-30"] == Decimal("50.00")
    assert gbp.receivable == Decimal("50.00")
    assert gbp.accounts_past_due == 1
    # 13 days ago only the first stood; today only the second does.
    (gbp,) = receivables_on(days_ago(13))
    assert gbp.receivable == Decimal("50.00")
    # 16 days ago neither had been made.
    (gbp,) = receivables_on(days_ago(16))
    assert gbp.receivable == Decimal("190.00")
    (gbp,) = receivables_on(today())
    assert gbp.receivable == Decimal("50.00")
