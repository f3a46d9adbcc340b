"""payments.ledger and `manage.py verify_ledger`: stored balances against the movements."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from contacts.models import Account
from invoices.models import BillingItem, Invoice, InvoiceStatus
from payments.actors import SYSTEM
from payments.ledger import LedgerCheck, ledger_check, ledger_drift
from payments.lines import BillingLine, WriteDownLine
from payments.management.commands import verify_ledger as verify_ledger_command
from payments.models import PaymentAllocation
from payments.services import (
    billing_items_pay,
    billing_items_write_down,
    invoices_pay,
    payment_reverse,
)
from tests.factories import (
    AccountFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    PaymentAllocationFactory,
    PaymentFactory,
    TenderTypeFactory,
    WriteDownFactory,
    days_ago,
)
from tests.triggers import owner_disables_triggers

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    """Invoices and billing items after payments, a write-down and a reversal."""
    account = AccountFactory()
    older = InvoiceFactory(account=account, due_date=days_ago(30), amount=Decimal("30.00"))
    newer = InvoiceFactory(account=account, due_date=days_ago(3), amount=Decimal("50.00"))
    InvoiceFactory(account=account, status=InvoiceStatus.VOID)
    reversed_payment = invoices_pay(account_id=account.pk, amount="60.00", actor=SYSTEM).payment
    payment_reverse(payment_id=reversed_payment.pk, reason="Bounced", actor=SYSTEM)
    invoice_payment = invoices_pay(account_id=account.pk, amount="45.00", actor=SYSTEM).payment

    contact = ContactFactory(account=account)
    item = BillingItemFactory(contact=contact, total_amount=Decimal("50.00"))
    other = BillingItemFactory(contact=contact, total_amount=Decimal("40.00"))
    items_payment = billing_items_pay(
        contact=contact,
        tender_type_id=TenderTypeFactory().pk,
        payment_date=timezone.now(),
        lines=[BillingLine(item.pk, "20.00"), BillingLine(other.pk, "40.00")],
        actor=SYSTEM,
    ).payment
    billing_items_write_down(
        contact=contact,
        write_down_date=timezone.now(),
        lines=[WriteDownLine(item.pk, "10.00")],
        reason="Goodwill",
        actor=SYSTEM,
    )
    return {
        "older": older,
        "newer": newer,
        "item": item,
        "invoice_payment": invoice_payment,
        "items_payment": items_payment,
    }


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """verify_ledger reads the clock twice, before and after the check: 0.25 s apart."""
    monkeypatch.setattr(verify_ledger_command, "perf_counter", iter([100.0, 100.25]).__next__)


BOOKS_CHECKED = (
    "Checked 3 invoices, 2 billing items, 3 payments and the credit of 1 account in 0.25 s"
)


def verify_ledger():
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    return out.getvalue()


def drifting_ledger():
    out = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("verify_ledger", stdout=out)
    return str(error.value), out.getvalue().splitlines()


def test_the_books_balance_after_payments_write_down_and_reversal(books):
    balances = [
        Invoice.objects.get(pk=books["older"].pk).balance,
        Invoice.objects.get(pk=books["newer"].pk).balance,
        BillingItem.objects.get(pk=books["item"].pk).balance,
    ]
    assert balances == [Decimal("0.00"), Decimal("35.00"), Decimal("20.00")]

    assert verify_ledger() == f"{BOOKS_CHECKED}: no drift.\n"


def test_an_invoice_balance_changed_behind_the_service(books):
    newer = books["newer"]
    Invoice.objects.filter(pk=newer.pk).update(balance=Decimal("36.00"))

    error, lines = drifting_ledger()

    assert error == "Ledger drift found in 1 row(s)."
    assert lines == [
        f"invoice {newer.pk} ({newer.number}): stored 36.00, recomputed 35.00, drift 1.00",
        f"{BOOKS_CHECKED}: drift in 1 row(s).",
    ]


def test_a_billing_item_balance_changed_behind_the_service(books):
    item = books["item"]
    BillingItem.objects.filter(pk=item.pk).update(balance=Decimal("19.99"))

    error, lines = drifting_ledger()

    assert error == "Ledger drift found in 1 row(s)."
    assert lines == [
        f"billing item {item.pk} ({item.description}): stored 19.99, recomputed 20.00, drift -0.01",
        f"{BOOKS_CHECKED}: drift in 1 row(s).",
    ]


def test_an_allocation_changed_behind_the_service(books):
    payment = books["items_payment"]
    allocation = payment.allocations.get(billing_item=books["item"])
    # Allocations are immutable (a trigger refuses updates): only the table's owner, switching it
    # off, can make one drift.
    with owner_disables_triggers(PaymentAllocation):
        PaymentAllocation.objects.filter(pk=allocation.pk).update(amount=Decimal("25.00"))

    error, lines = drifting_ledger()

    assert error == "Ledger drift found in 2 row(s)."
    item = books["item"]
    assert lines == [
        f"billing item {item.pk} ({item.description}): stored 20.00, recomputed 15.00, drift 5.00",
        f"payment {payment.pk} ({payment.number}): stored 60.00, recomputed 65.00, drift -5.00",
        f"{BOOKS_CHECKED}: drift in 2 row(s).",
    ]


@pytest.mark.parametrize("rows", [1, 50])
def test_ledger_drift_costs_a_fixed_number_of_queries(django_assert_max_num_queries, rows):
    for _ in range(rows):
        PaymentAllocationFactory()  # its invoice still owes everything: drift
        WriteDownFactory(billing_item=BillingItemFactory())  # the item never went down: drift
        PaymentFactory()  # a payment without allocations: drift
        AccountFactory(credit_balance=Decimal("1.00"))  # credit from nowhere: drift

    with django_assert_max_num_queries(4):
        drifts = ledger_drift()

    assert len(drifts) == 4 * rows
    assert {drift.kind for drift in drifts} == {
        "invoice",
        "billing item",
        "payment",
        "account credit",
    }


@pytest.mark.parametrize("rows", [1, 50])
def test_ledger_check_counts_every_row_in_a_fixed_number_of_queries(
    django_assert_max_num_queries, rows
):
    InvoiceFactory.create_batch(rows)  # nothing paid: each owes its amount, no drift
    with django_assert_max_num_queries(4):
        clean = ledger_check()
    accounts = Account.objects.count()
    assert clean == LedgerCheck(
        invoices=rows, billing_items=0, payments=0, accounts=accounts, drifts=[]
    )

    for _ in range(rows):
        PaymentAllocationFactory()  # its invoice still owes everything: drift
        WriteDownFactory(billing_item=BillingItemFactory())  # the item never went down: drift
        PaymentFactory()  # a payment without allocations: drift
    with django_assert_max_num_queries(7):
        drifting = ledger_check()

    assert drifting.drifts == ledger_drift()
    assert len(drifting.drifts) == 3 * rows
    assert (drifting.invoices, drifting.billing_items) == (2 * rows, rows)
    assert drifting.payments == 2 * rows  # the allocations' payments and the bare ones


def test_an_empty_ledger_says_it_checked_nothing(db):
    assert (
        verify_ledger()
        == "Checked 0 invoices, 0 billing items, 0 payments and the credit of 0 accounts "
        "in 0.25 s: no drift.\n"
    )


def test_one_row_of_a_kind_is_singular_and_thousands_are_grouped():
    check = LedgerCheck(invoices=1, billing_items=1234, payments=1, accounts=1, drifts=[])
    assert verify_ledger_command.summary(check, 83.456) == (
        "Checked 1 invoice, 1,234 billing items, 1 payment and the credit of 1 account in 83.46 s"
    )


def test_verify_ledger_has_its_replica_flag(books):
    out = StringIO()
    call_command("verify_ledger", "--replica", stdout=out)
    assert out.getvalue() == f"{BOOKS_CHECKED}: no drift.\n"
