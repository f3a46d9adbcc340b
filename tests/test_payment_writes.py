"""A payment's rows in one statement (payments/writes.py): the payment, its allocations in order,
the balances and statuses, exactly as the ORM would have written them; a constraint refuses the
whole statement."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from invoices.models import BillingItem, Invoice, InvoiceStatus
from payments.models import Payment, PaymentAllocation
from payments.writes import record_payment
from tests.factories import BillingItemFactory, ContactFactory, InvoiceFactory, TenderTypeFactory

pytestmark = pytest.mark.django_db


def payment_of(account, amount, **extra):
    now = timezone.now()
    return Payment(
        account=account,
        amount=Decimal(amount),
        currency=account.currency,
        payment_date=now,
        processed_at=now,
        **extra,
    )


def test_invoices_paid_in_one_statement(django_assert_num_queries):
    first = InvoiceFactory(amount=Decimal("30.00"))
    account = first.account
    second = InvoiceFactory(account=account, amount=Decimal("70.00"))
    untouched = InvoiceFactory(account=account, amount=Decimal("5.00"))
    payment = payment_of(account, "50.00", description="wire", reference="r-1")
    allocations = [
        PaymentAllocation(account=account, invoice=first, amount=Decimal("30.00")),
        PaymentAllocation(account=account, invoice=second, amount=Decimal("20.00")),
    ]
    balances = {first.pk: Decimal("0.00"), second.pk: Decimal("50.00")}
    statuses = {first.pk: InvoiceStatus.PAID, second.pk: InvoiceStatus.OPEN}

    with django_assert_num_queries(1):
        record_payment(payment, allocations, Invoice, balances, statuses)

    stored = Payment.objects.get(pk=payment.pk)
    assert model_to_dict(stored) == model_to_dict(payment)
    assert not payment._state.adding
    rows = list(PaymentAllocation.objects.filter(payment=payment).order_by("pk"))
    assert [row.pk for row in rows] == [allocation.pk for allocation in allocations]
    assert [(row.invoice_id, row.amount, row.account_id) for row in rows] == [
        (first.pk, Decimal("30.00"), account.pk),
        (second.pk, Decimal("20.00"), account.pk),
    ]
    assert all(allocation.payment_id == payment.pk for allocation in allocations)
    assert list(
        Invoice.objects.filter(account=account).order_by("pk").values_list("balance", "status")
    ) == [
        (Decimal("0.00"), InvoiceStatus.PAID),
        (Decimal("50.00"), InvoiceStatus.OPEN),
        (untouched.balance, InvoiceStatus.OPEN),
    ]


def test_billing_items_paid_with_each_lines_texts():
    TenderTypeFactory(id=7, name="Cash")
    contact = ContactFactory()
    items = [BillingItemFactory(contact=contact, total_amount=Decimal("10.00")) for _ in range(3)]
    payment = payment_of(contact.account, "6.00", contact=contact, tender_type_id=7)
    allocations = [
        PaymentAllocation(
            account=contact.account,
            billing_item=item,
            amount=Decimal(amount),
            reference=f"ref {index}",
            authorization_code="A1" if index else "",
            notes="é ' \" ; -- notes",
        )
        for index, (item, amount) in enumerate(zip(items, ("1.00", "2.00", "3.00"), strict=True))
    ]
    balances = {
        item.pk: item.balance - allocation.amount
        for item, allocation in zip(items, allocations, strict=True)
    }
    record_payment(payment, allocations, BillingItem, balances)

    rows = PaymentAllocation.objects.filter(payment=payment).order_by("pk")
    assert [model_to_dict(row) for row in rows] == [model_to_dict(a) for a in allocations]
    assert [row.notes for row in rows] == ["é ' \" ; -- notes"] * 3
    assert list(
        BillingItem.objects.filter(pk__in=[i.pk for i in items])
        .order_by("pk")
        .values_list("balance", flat=True)
    ) == [Decimal("9.00"), Decimal("8.00"), Decimal("7.00")]
    assert Payment.objects.get(pk=payment.pk).tender_type_id == 7


def test_a_constraint_refuses_the_whole_statement():
    invoice = InvoiceFactory(amount=Decimal("10.00"))
    payment = payment_of(invoice.account, "10.00")
    allocations = [
        PaymentAllocation(account=invoice.account, invoice=invoice, amount=Decimal("10.00"))
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        # A balance below zero: the invoice's check constraint refuses it.
        record_payment(
            payment, allocations, Invoice, {invoice.pk: Decimal("-1.00")}, {invoice.pk: "open"}
        )
    assert not Payment.objects.exists()
    assert not PaymentAllocation.objects.exists()
    assert Invoice.objects.get(pk=invoice.pk).balance == Decimal("10.00")
