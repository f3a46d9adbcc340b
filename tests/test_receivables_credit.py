"""Ageing as of a past day with customer credit: credit applied, credit notes and releases dated
before or after the day (payments.receivables.receivables_on, the dashboard's, and
payments.owed_then.with_owed_then, the past-due list's, must agree with each other and, today,
with the stored balances)."""

import datetime
from decimal import Decimal

import pytest

from invoices.due import today
from invoices.models import Invoice
from payments.actors import SYSTEM
from payments.ledger import ledger_drift
from payments.owed_then import with_owed_then
from payments.receivables import _end_of, receivables_on
from payments.services import (
    CreditNoteLineInput,
    credit_apply,
    credit_note_issue,
    invoices_pay,
    refund_issue,
)
from tests.factories import AccountFactory, InvoiceFactory, days_ago

pytestmark = pytest.mark.django_db


def noon(days: int) -> datetime.datetime:
    return datetime.datetime.combine(days_ago(days), datetime.time(12), datetime.UTC)


@pytest.fixture
def books():
    """A: 100.00, settled from credit 5 days ago. B: 50.00, a credit note of 20.00 5 days ago.
    C: 60.00, paid 40.00 30 days ago, 10.00 of it refunded (released) today. All due 40 days ago."""
    account = AccountFactory(currency="CHF")

    def invoice(amount: str):
        return InvoiceFactory(
            account=account,
            issue_date=days_ago(60),
            due_date=days_ago(40),
            amount=Decimal(amount),
        )

    a, b, c = invoice("100.00"), invoice("50.00"), invoice("60.00")
    invoices_pay(
        account_id=account.pk,
        amount="150.00",
        actor=SYSTEM,
        invoice_ids=[],
        excess_to_credit=True,
        payment_date=noon(30),
    )
    credit_apply(account_id=account.pk, actor=SYSTEM, invoice_ids=[a.pk], applied_at=noon(5))
    credit_note_issue(
        invoice_id=b.pk,
        number="CN-1",
        issue_date=days_ago(5),
        reason="Discount",
        lines=[CreditNoteLineInput("Discount", "20.00")],
        actor=SYSTEM,
    )
    paid_c = invoices_pay(
        account_id=account.pk,
        amount="40.00",
        actor=SYSTEM,
        invoice_ids=[c.pk],
        payment_date=noon(30),
    ).payment
    refund_issue(
        account_id=account.pk,
        amount="10.00",
        actor=SYSTEM,
        payment_id=paid_c.pk,
        reason="Partly cancelled",
    )
    assert ledger_drift() == []
    return a, b, c


def owed_on(day: datetime.date, *invoices) -> list[Decimal]:
    rows = with_owed_then(
        Invoice.objects.filter(pk__in=[i.pk for i in invoices]), "invoices", _end_of(day)
    )
    owed = dict(rows.values_list("pk", "owed"))
    return [owed[i.pk] for i in invoices]


def test_ten_days_ago_nothing_of_the_credit_had_happened_yet(books):
    a, b, c = books
    assert owed_on(days_ago(10), a, b, c) == [Decimal("100.00"), Decimal("50.00"), Decimal("20.00")]
    (chf,) = receivables_on(days_ago(10))
    assert chf.buckets["1-30"] == Decimal("170.00")  # due 40 days ago: 30 days late then
    assert chf.receivable == Decimal("170.00")


def test_yesterday_the_application_and_the_credit_note_stood_not_the_release(books):
    a, b, c = books
    assert owed_on(days_ago(1), a, b, c) == [Decimal("0.00"), Decimal("30.00"), Decimal("20.00")]
    (chf,) = receivables_on(days_ago(1))
    assert chf.buckets["31-60"] == Decimal("50.00")
    assert chf.receivable == Decimal("50.00")


def test_today_it_is_the_stored_balances(books):
    a, b, c = books
    stored = [Invoice.objects.get(pk=i.pk).balance for i in (a, b, c)]
    assert stored == [Decimal("0.00"), Decimal("30.00"), Decimal("30.00")]
    assert owed_on(today(), a, b, c) == stored
    (chf,) = receivables_on(today())
    assert chf.receivable == sum(stored)


def test_collected_cash_counts_the_payment_once_never_its_credit_applied(books):
    # Yesterday, the 30 days before it hold the two payments (150.00 received into credit and
    # 40.00 for C, 30 days ago); the 100.00 of credit applied to A 5 days ago is not money
    # collected again.
    (chf,) = receivables_on(days_ago(1))
    assert chf.collected_30_days == Decimal("190.00")
