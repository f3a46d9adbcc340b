"""The database itself refuses bad money rows, whatever code writes them.

`queryset.update()` and `objects.create()` skip model validation, so each refusal here comes from a
constraint or a protected foreign key in PostgreSQL.

Payments, allocations, reversals and write-downs cannot be updated at all (a trigger refuses it,
tests/test_history_immutable.py); to show that their CHECK constraints hold as well, those updates
run with the table's triggers disabled by its owner (tests/triggers.py), so the refusal can only be
the constraint.
"""

from contextlib import nullcontext
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from contacts.models import Account
from invoices.models import BillingItem, Invoice, InvoiceStatus
from payments.models import Payment, PaymentAllocation, Reversal
from tests.factories import (
    AccountFactory,
    BillingItemFactory,
    InvoiceFactory,
    PaymentAllocationFactory,
    PaymentFactory,
    ReversalFactory,
)
from tests.triggers import owner_disables_triggers

pytestmark = pytest.mark.django_db


def refused(write, *, immutable=None):
    """`write` fails with IntegrityError; `immutable`: the model whose immutability trigger is
    lifted meanwhile, so that only a constraint is left to refuse."""
    lifted = owner_disables_triggers(immutable) if immutable else nullcontext()
    with pytest.raises(IntegrityError), lifted, transaction.atomic():
        write()


@pytest.mark.parametrize(
    "values",
    [
        {"balance": Decimal("-0.01")},
        {"balance": Decimal("100.01")},
        {"amount": Decimal("0.00"), "balance": Decimal("0.00")},
        {"status": InvoiceStatus.PAID, "balance": Decimal("0.01")},
        {"status": InvoiceStatus.OPEN, "balance": Decimal("0.00")},
    ],
)
def test_invoice_rows_must_be_consistent(values):
    invoice = InvoiceFactory(amount=Decimal("100.00"))

    refused(lambda: Invoice.objects.filter(pk=invoice.pk).update(**values))

    invoice.refresh_from_db()
    assert (invoice.amount, invoice.balance, invoice.status) == (
        Decimal("100.00"),
        Decimal("100.00"),
        InvoiceStatus.OPEN,
    )


def test_a_void_invoice_keeps_its_balance_within_its_amount():
    invoice = InvoiceFactory(status=InvoiceStatus.VOID)

    refused(lambda: Invoice.objects.filter(pk=invoice.pk).update(balance=Decimal("-1.00")))
    Invoice.objects.filter(pk=invoice.pk).update(balance=Decimal("0.00"))  # void: either is fine


@pytest.mark.parametrize("balance", [Decimal("-0.01"), Decimal("50.01")])
def test_billing_item_balance_stays_within_its_total(balance):
    item = BillingItemFactory(total_amount=Decimal("50.00"))

    refused(lambda: BillingItem.objects.filter(pk=item.pk).update(balance=balance))

    assert BillingItem.objects.get(pk=item.pk).balance == Decimal("50.00")


def test_billing_item_total_must_be_positive():
    refused(lambda: BillingItemFactory(total_amount=Decimal("0.00")))


def test_allocation_amount_must_be_positive():
    allocation = PaymentAllocationFactory()

    refused(
        lambda: PaymentAllocation.objects.filter(pk=allocation.pk).update(amount=0),
        immutable=PaymentAllocation,
    )
    refused(lambda: PaymentAllocationFactory(amount=Decimal("-1.00")))


def test_allocation_targets_exactly_one_invoice_or_billing_item():
    allocation = PaymentAllocationFactory()
    item = BillingItemFactory(contact__account=allocation.payment.account)

    both = PaymentAllocation.objects.filter(pk=allocation.pk)
    refused(lambda: both.update(billing_item=item), immutable=PaymentAllocation)
    refused(lambda: both.update(invoice=None), immutable=PaymentAllocation)
    refused(lambda: PaymentAllocationFactory(invoice=None, billing_item=None))
    assert PaymentAllocation.objects.values_list("invoice_id", "billing_item_id").get(
        pk=allocation.pk
    ) == (allocation.invoice_id, None)


def test_payment_amount_must_be_positive():
    payment = PaymentFactory()

    refused(
        lambda: Payment.objects.filter(pk=payment.pk).update(amount=Decimal("0.00")),
        immutable=Payment,
    )
    refused(lambda: PaymentFactory(amount=Decimal("-5.00")))


def test_a_payment_is_reversed_at_most_once():
    reversal = ReversalFactory()

    refused(lambda: ReversalFactory(payment=reversal.payment))
    refused(lambda: Reversal.objects.filter(pk=reversal.pk).update(reason=""), immutable=Reversal)

    assert Reversal.objects.count() == 1


def test_rows_that_money_touched_cannot_be_deleted():
    on_invoice = PaymentAllocationFactory()
    on_item = PaymentAllocationFactory(invoice=None, billing_item=BillingItemFactory())

    with pytest.raises(ProtectedError):
        on_invoice.invoice.delete()
    with pytest.raises(ProtectedError):
        on_item.billing_item.delete()
    with pytest.raises(ProtectedError):
        on_invoice.payment.delete()
    with pytest.raises(ProtectedError):
        ReversalFactory().payment.delete()  # a reversed payment, even without allocations

    assert PaymentAllocation.objects.count() == 2
    assert Payment.objects.count() == 3


def test_invoice_numbers_are_unique_per_account():
    invoice = InvoiceFactory(number="INV-1")

    refused(lambda: InvoiceFactory(account=invoice.account, number="INV-1"))

    other = InvoiceFactory(account=AccountFactory(), number="INV-1")
    assert Invoice.objects.filter(number="INV-1").count() == 2
    assert other.account_id != invoice.account_id


@pytest.mark.parametrize("currency", ["usd", "US", "U$D", ""])
def test_account_currency_is_an_iso_4217_code(currency):
    account = AccountFactory(currency="USD")

    refused(lambda: Account.objects.filter(pk=account.pk).update(currency=currency))
    refused(lambda: AccountFactory(currency=currency))

    assert Account.objects.get(pk=account.pk).currency == "USD"


def test_a_payment_currency_must_be_an_iso_4217_code():
    payment = PaymentFactory()

    refused(lambda: Payment.objects.filter(pk=payment.pk).update(currency="us$"), immutable=Payment)
    assert Payment.objects.get(pk=payment.pk).currency == payment.currency
