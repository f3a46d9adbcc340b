"""Customer credit under real concurrency on PostgreSQL: threads with their own connections,
released together. The account's row lock makes every use of its credit wait its turn, so the
credit never goes below zero and never pays twice."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from contacts.models import Account
from invoices.models import Invoice
from payments.actors import SYSTEM
from payments.errors import CreditInsufficient
from payments.models import CreditApplication, Refund
from payments.services import credit_apply, invoices_pay, refund_issue
from tests.concurrent_calls import run_together
from tests.factories import AccountFactory, InvoiceFactory, days_ago

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def test_concurrent_applications_of_one_credit_never_take_it_below_zero():
    account = AccountFactory()
    invoices = [
        InvoiceFactory(account=account, due_date=days_ago(10 + n), amount=Decimal("10.00"))
        for n in range(THREADS)
    ]
    invoices_pay(
        account_id=account.pk, amount="30.00", actor=SYSTEM, invoice_ids=[], excess_to_credit=True
    )

    def apply_to(invoice_id):
        return lambda: credit_apply(
            account_id=account.pk, actor=SYSTEM, invoice_ids=[invoice_id], amount="10.00"
        )

    outcomes = run_together([apply_to(invoice.pk) for invoice in invoices])

    applied = [result for result, error in outcomes if error is None]
    refused = [error for _result, error in outcomes if error is not None]
    assert len(applied) == 3
    assert len(refused) == THREADS - 3
    assert all(isinstance(error, CreditInsufficient) for error in refused)
    assert Account.objects.get(pk=account.pk).credit_balance == Decimal("0.00")
    assert CreditApplication.objects.count() == 3
    settled = Invoice.objects.filter(pk__in=[i.pk for i in invoices], balance=0).count()
    assert settled == 3
    call_command("verify_ledger")


def test_applications_and_refunds_at_once_share_one_credit():
    account = AccountFactory()
    invoice = InvoiceFactory(account=account, due_date=days_ago(3), amount=Decimal("100.00"))
    invoices_pay(
        account_id=account.pk, amount="25.00", actor=SYSTEM, invoice_ids=[], excess_to_credit=True
    )

    def apply():
        return credit_apply(
            account_id=account.pk, actor=SYSTEM, invoice_ids=[invoice.pk], amount="10.00"
        )

    def refund():
        return refund_issue(account_id=account.pk, amount="10.00", actor=SYSTEM)

    outcomes = run_together([apply, refund] * (THREADS // 2))

    done = [result for result, error in outcomes if error is None]
    assert len(done) == 2  # 25.00 pays two of the 10.00s, whichever came first
    assert all(isinstance(error, CreditInsufficient) for _r, error in outcomes if error)
    assert Account.objects.get(pk=account.pk).credit_balance == Decimal("5.00")
    spent = sum(a.amount for a in CreditApplication.objects.all()) + sum(
        r.amount for r in Refund.objects.all()
    )
    assert spent == Decimal("20.00")
    call_command("verify_ledger")
