"""Real concurrency on PostgreSQL: threads with their own connections, released together.

Every test asserts how many calls succeeded and how the others failed, so that a run where the
threads never overlapped or never ran cannot pass by accident.
"""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from contacts.models import Contact
from invoices.models import BillingItem, Invoice, InvoiceStatus
from payments.actors import SYSTEM
from payments.errors import AmountMismatch, NothingToPay, PaymentAlreadyReversed
from payments.lines import BillingLine, LineRefusal, WriteDownLine
from payments.models import Payment, PaymentAllocation, Reversal
from payments.services import (
    billing_items_pay,
    billing_items_write_down,
    invoices_pay,
    payment_reverse,
)
from tests.concurrent_calls import run_together
from tests.factories import (
    AccountFactory,
    BillingItemFactory,
    InvoiceFactory,
    TenderTypeFactory,
    days_ago,
)

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 10


def assert_ledger_clean():
    call_command("verify_ledger")  # raises CommandError on any drift


def pay_billing_item(contact_id, tender_id, item_id, amount):
    def call():
        return billing_items_pay(
            contact=Contact.objects.get(pk=contact_id),
            tender_type_id=tender_id,
            payment_date=timezone.now(),
            lines=[BillingLine(item_id, amount)],
            actor=SYSTEM,
        )

    return call


def test_many_payments_on_one_billing_item_never_overdraw_it():
    item = BillingItemFactory(total_amount=Decimal("100.00"))
    tender = TenderTypeFactory()
    call = pay_billing_item(item.contact_id, tender.pk, item.pk, "15.00")

    outcomes = run_together([call] * THREADS)

    assert [error for _result, error in outcomes] == [None] * THREADS
    lines = [result.lines[0] for result, _error in outcomes]
    applied = [line for line in lines if line.is_applied]
    assert len(applied) == 6  # floor(100 / 15)
    assert {line.refusal for line in lines if not line.is_applied} <= {
        LineRefusal.OVER_BALANCE,
        LineRefusal.ALREADY_SETTLED,
    }
    # Each applied line saw the balance the one before it left: they ran one after another.
    assert sorted(line.balance for line in applied) == [
        Decimal(b) for b in ("10.00", "25.00", "40.00", "55.00", "70.00", "85.00")
    ]
    item.refresh_from_db()
    assert item.balance == Decimal("10.00")
    allocated = PaymentAllocation.objects.aggregate(total=Sum("amount"))["total"]
    assert allocated == Decimal("100.00") - item.balance == Decimal("90.00")
    assert Payment.objects.count() == 6
    assert_ledger_clean()


def test_settling_the_same_past_due_invoices_succeeds_once():
    account = AccountFactory()
    invoices = [
        InvoiceFactory(account=account, due_date=days_ago(days), amount=Decimal(amount))
        for days, amount in ((30, "30.00"), (20, "50.00"), (10, "70.00"))
    ]

    def call():
        return invoices_pay(
            account_id=account.pk, amount="150.00", actor=SYSTEM, settle_in_full=True
        )

    outcomes = run_together([call] * THREADS)

    paid = [result for result, error in outcomes if error is None]
    errors = [error for _result, error in outcomes if error is not None]
    assert len(paid) == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(error, NothingToPay | AmountMismatch) for error in errors), errors
    assert [(a.invoice_id, a.amount) for a in paid[0].allocations] == [
        (invoices[0].pk, Decimal("30.00")),
        (invoices[1].pk, Decimal("50.00")),
        (invoices[2].pk, Decimal("70.00")),
    ]
    assert (
        list(Invoice.objects.order_by("due_date").values_list("balance", "status"))
        == [(Decimal("0.00"), InvoiceStatus.PAID)] * 3
    )
    assert (Payment.objects.count(), PaymentAllocation.objects.count()) == (1, 3)
    assert_ledger_clean()


def test_reversing_one_payment_at_once_reverses_it_once():
    invoice = InvoiceFactory(amount=Decimal("100.00"))
    payment = invoices_pay(account_id=invoice.account_id, amount="60.00", actor=SYSTEM).payment

    def call():
        return payment_reverse(payment_id=payment.pk, reason="Bounced", actor=SYSTEM)

    outcomes = run_together([call] * THREADS)

    reversals = [result for result, error in outcomes if error is None]
    errors = [error for _result, error in outcomes if error is not None]
    assert len(reversals) == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(error, PaymentAlreadyReversed) for error in errors), errors
    assert list(Reversal.objects.values_list("pk", flat=True)) == [reversals[0].pk]
    invoice.refresh_from_db()
    assert (invoice.balance, invoice.status) == (Decimal("100.00"), InvoiceStatus.OPEN)
    assert_ledger_clean()


def test_payments_and_a_reversal_at_once_on_one_invoice():
    invoice = InvoiceFactory(amount=Decimal("100.00"))
    account_id = invoice.account_id
    first = invoices_pay(account_id=account_id, amount="40.00", actor=SYSTEM).payment

    def pay():
        return invoices_pay(account_id=account_id, amount="10.00", actor=SYSTEM)

    def reverse():
        return payment_reverse(payment_id=first.pk, reason="Bounced", actor=SYSTEM)

    calls = [pay] * (THREADS - 1)
    calls.insert(THREADS // 2, reverse)
    outcomes = run_together(calls)

    reversal, reversal_error = outcomes.pop(THREADS // 2)
    assert reversal_error is None
    assert isinstance(reversal, Reversal)
    paid = [result for result, error in outcomes if error is None]
    errors = [error for _result, error in outcomes if error is not None]
    # 60.00 owed before the reversal, 100.00 after: six payments fit, or all nine.
    assert 6 <= len(paid) <= THREADS - 1
    assert all(isinstance(error, NothingToPay) for error in errors), errors
    assert len(paid) + len(errors) == THREADS - 1
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("100.00") - Decimal("10.00") * len(paid)
    assert invoice.status == (InvoiceStatus.PAID if invoice.balance == 0 else InvoiceStatus.OPEN)
    assert_ledger_clean()


def test_billing_payments_a_write_down_and_a_reversal_at_once_on_one_item():
    item = BillingItemFactory(total_amount=Decimal("100.00"))
    contact_id, tender_id = item.contact_id, TenderTypeFactory().pk
    first = pay_billing_item(contact_id, tender_id, item.pk, "40.00")().payment

    def reverse():
        return payment_reverse(payment_id=first.pk, reason="Charge-back", actor=SYSTEM)

    def write_down():
        return billing_items_write_down(
            contact=Contact.objects.get(pk=contact_id),
            write_down_date=timezone.now(),
            lines=[WriteDownLine(item.pk, "10.00")],
            reason="Goodwill",
            actor=SYSTEM,
        )

    calls = [pay_billing_item(contact_id, tender_id, item.pk, "10.00")] * (THREADS - 2)
    calls[3:3] = [reverse, write_down]
    outcomes = run_together(calls)

    assert [error for _result, error in outcomes] == [None] * THREADS
    assert isinstance(outcomes.pop(3)[0], Reversal)
    lines = [result.lines[0] for result, _error in outcomes]
    applied = [line for line in lines if line.is_applied]
    # 60.00 left before the reversal, 100.00 after: six lines of 10.00 fit, or all nine.
    assert 6 <= len(applied) <= THREADS - 1
    assert {line.refusal for line in lines if not line.is_applied} <= {
        LineRefusal.OVER_BALANCE,
        LineRefusal.ALREADY_SETTLED,
    }
    balance = BillingItem.objects.get(pk=item.pk).balance
    assert balance == Decimal("100.00") - Decimal("10.00") * len(applied)
    assert_ledger_clean()
