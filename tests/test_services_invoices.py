"""payments.services.invoices_pay: an account's invoices, oldest due date first."""

import datetime
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.utils import timezone

from invoices.models import Invoice, InvoiceStatus
from payments.actors import SYSTEM, Actor, Channel
from payments.errors import (
    AmountMismatch,
    AmountOverBalance,
    InvalidPaymentAmount,
    InvoiceNotPayable,
    NothingToPay,
    PaymentNotAllowed,
    TenderTypeNotAvailable,
)
from payments.models import Payment, PaymentAllocation
from payments.services import dry_run, invoices_pay
from tests.factories import (
    AccountFactory,
    ApiCredentialFactory,
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
    return AccountFactory(currency="EUR")


@pytest.fixture
def invoices(account):
    """Three past-due invoices (150.00 in all), created out of due-date order."""
    middle = InvoiceFactory(account=account, due_date=days_ago(20), amount=Decimal("50.00"))
    newest = InvoiceFactory(account=account, due_date=days_ago(1), amount=Decimal("70.00"))
    oldest = InvoiceFactory(account=account, due_date=days_ago(40), amount=Decimal("30.00"))
    return oldest, middle, newest


def state(invoices):
    """Everything a refused call must leave as it was, read fresh from the database."""
    rows = Invoice.objects.filter(pk__in=[i.pk for i in invoices]).order_by("pk")
    return (
        Payment.objects.count(),
        PaymentAllocation.objects.count(),
        list(rows.values_list("pk", "balance", "status")),
    )


@contextmanager
def refused(error, invoices):
    before = state(invoices)
    with pytest.raises(error) as info:
        yield info
    assert state(invoices) == before


def balances(*invoices):
    for invoice in invoices:
        invoice.refresh_from_db()
    return [(invoice.balance, invoice.status) for invoice in invoices]


def test_pays_oldest_first_and_the_last_one_in_part(account, invoices, staff):
    oldest, middle, newest = invoices
    tender = TenderTypeFactory()
    collected = timezone.now() - datetime.timedelta(hours=3)

    paid = invoices_pay(
        account_id=account.pk,
        amount="100.00",
        actor=staff,
        payment_date=collected,
        tender_type_id=tender.pk,
        reference="BANK-42",
    )

    assert balances(oldest, middle, newest) == [
        (Decimal("0.00"), InvoiceStatus.PAID),
        (Decimal("0.00"), InvoiceStatus.PAID),
        (Decimal("50.00"), InvoiceStatus.OPEN),
    ]
    expected = [
        (oldest.pk, Decimal("30.00")),
        (middle.pk, Decimal("50.00")),
        (newest.pk, Decimal("20.00")),
    ]
    assert [(a.invoice_id, a.amount) for a in paid.allocations] == expected
    stored = PaymentAllocation.objects.filter(payment=paid.payment).order_by("pk")
    assert list(stored.values_list("invoice_id", "amount")) == expected
    assert not stored.filter(billing_item__isnull=False).exists()

    payment = Payment.objects.get()
    assert payment == paid.payment
    assert payment.account_id == account.pk
    assert payment.contact_id is None
    assert payment.amount == Decimal("100.00")
    assert payment.currency == "EUR"
    assert payment.channel == Channel.STAFF
    assert payment.recorded_by_user == staff.user
    assert payment.recorded_by_credential is None
    assert payment.tender_type_id == tender.pk
    assert payment.payment_date == collected
    assert payment.reference == "BANK-42"


def test_a_second_payment_continues_where_the_first_stopped(account, invoices, staff):
    oldest, middle, newest = invoices
    invoices_pay(account_id=account.pk, amount="40.00", actor=staff)

    paid = invoices_pay(account_id=account.pk, amount="60.00", actor=staff)

    assert [(a.invoice_id, a.amount) for a in paid.allocations] == [
        (middle.pk, Decimal("40.00")),
        (newest.pk, Decimal("20.00")),
    ]
    assert balances(oldest, middle, newest) == [
        (Decimal("0.00"), InvoiceStatus.PAID),
        (Decimal("0.00"), InvoiceStatus.PAID),
        (Decimal("50.00"), InvoiceStatus.OPEN),
    ]


def test_settle_in_full_with_the_exact_total_pays_everything(account, invoices, staff):
    oldest, middle, newest = invoices
    api = Actor(channel=Channel.DOCUSIGN_API, credential=ApiCredentialFactory())

    paid = invoices_pay(account_id=account.pk, amount="150", actor=api, settle_in_full=True)

    assert balances(oldest, middle, newest) == [(Decimal("0.00"), InvoiceStatus.PAID)] * 3
    assert [(a.invoice_id, a.amount) for a in paid.allocations] == [
        (oldest.pk, Decimal("30.00")),
        (middle.pk, Decimal("50.00")),
        (newest.pk, Decimal("70.00")),
    ]
    payment = Payment.objects.get()
    assert (payment.amount, payment.channel) == (Decimal("150.00"), Channel.DOCUSIGN_API)
    assert (payment.recorded_by_credential, payment.recorded_by_user) == (api.credential, None)


def test_equal_due_dates_are_paid_in_creation_order(account, staff):
    first = InvoiceFactory(account=account, due_date=days_ago(3), amount=Decimal("10.00"))
    second = InvoiceFactory(account=account, due_date=days_ago(3), amount=Decimal("10.00"))

    paid = invoices_pay(account_id=account.pk, amount="15.00", actor=staff)

    assert [(a.invoice_id, a.amount) for a in paid.allocations] == [
        (first.pk, Decimal("10.00")),
        (second.pk, Decimal("5.00")),
    ]


def test_invoice_ids_limit_the_payment(account, invoices, staff):
    oldest, middle, newest = invoices

    paid = invoices_pay(account_id=account.pk, amount="70.00", actor=staff, invoice_ids=[newest.pk])

    assert [(a.invoice_id, a.amount) for a in paid.allocations] == [(newest.pk, Decimal("70.00"))]
    assert balances(oldest, middle, newest) == [
        (Decimal("30.00"), InvoiceStatus.OPEN),
        (Decimal("50.00"), InvoiceStatus.OPEN),
        (Decimal("0.00"), InvoiceStatus.PAID),
    ]


def test_a_current_invoice_can_be_paid_when_not_limited_to_past_due(account, staff):
    current = InvoiceFactory(account=account, due_date=days_ago(-10))

    paid = invoices_pay(account_id=account.pk, amount="25.00", actor=staff, past_due_only=False)

    assert [(a.invoice_id, a.amount) for a in paid.allocations] == [(current.pk, Decimal("25.00"))]
    assert balances(current) == [(Decimal("75.00"), InvoiceStatus.OPEN)]


def test_void_invoices_are_never_paid(account, staff):
    void = InvoiceFactory(account=account, due_date=days_ago(90), status=InvoiceStatus.VOID)
    due = InvoiceFactory(account=account, due_date=days_ago(9))

    paid = invoices_pay(account_id=account.pk, amount="100.00", actor=staff, settle_in_full=True)

    assert [(a.invoice_id, a.amount) for a in paid.allocations] == [(due.pk, Decimal("100.00"))]
    assert balances(void, due) == [
        (Decimal("100.00"), InvoiceStatus.VOID),
        (Decimal("0.00"), InvoiceStatus.PAID),
    ]
    with refused(InvoiceNotPayable, [void]):
        invoices_pay(account_id=account.pk, amount="1.00", actor=staff, invoice_ids=[void.pk])
    with refused(InvoiceNotPayable, [void]):
        invoices_pay(
            account_id=account.pk,
            amount="1.00",
            actor=staff,
            invoice_ids=[void.pk],
            past_due_only=False,
        )


@pytest.mark.parametrize("amount", ["149.99", "150.01"])
def test_settle_in_full_refuses_an_amount_one_cent_off(account, invoices, staff, amount):
    with refused(AmountMismatch, invoices) as error:
        invoices_pay(account_id=account.pk, amount=amount, actor=staff, settle_in_full=True)

    assert error.value.expected == Decimal("150.00")
    assert error.value.code == "AMOUNT_MISMATCH"
    assert error.value.message == (f"The amount {amount} does not match the balance due 150.00.")


def test_more_than_is_owed_is_refused(account, invoices, staff):
    with refused(AmountOverBalance, invoices) as error:
        invoices_pay(account_id=account.pk, amount="150.01", actor=staff)

    assert error.value.message == "The amount 150.01 is more than the balance due 150.00."


@pytest.mark.parametrize("amount", ["0", "0.00", "-5.00", "12.345", 1.5, "abc", None])
def test_invalid_amounts_are_refused(account, invoices, staff, amount):
    with refused(InvalidPaymentAmount, invoices) as error:
        invoices_pay(account_id=account.pk, amount=amount, actor=staff)

    assert error.value.code == "INVALID_AMOUNT"


def test_nothing_past_due_when_the_only_invoice_is_due_tomorrow(account, staff):
    tomorrow = InvoiceFactory(account=account, due_date=days_ago(-1))

    with refused(NothingToPay, [tomorrow]) as error:
        invoices_pay(account_id=account.pk, amount="100.00", actor=staff)

    assert error.value.message == "There is nothing past due to pay."


def test_an_invoice_due_today_is_not_past_due(account, staff):
    today = InvoiceFactory(account=account, due_date=days_ago(0))

    with refused(NothingToPay, [today]):
        invoices_pay(account_id=account.pk, amount="100.00", actor=staff, settle_in_full=True)


def test_paid_invoices_leave_nothing_to_pay(account, staff):
    paid = InvoiceFactory(account=account, balance=Decimal("0.00"))
    assert paid.status == InvoiceStatus.PAID

    with refused(NothingToPay, [paid]):
        invoices_pay(account_id=account.pk, amount="1.00", actor=staff, past_due_only=False)


def test_an_account_without_invoices_has_nothing_to_pay(account, staff):
    with refused(NothingToPay, []):
        invoices_pay(account_id=account.pk, amount="1.00", actor=staff)


@pytest.mark.parametrize("kind", ["other_account", "paid", "void", "not_yet_due", "unknown"])
def test_invoice_ids_must_name_payable_invoices(account, invoices, staff, kind):
    named = {
        "other_account": lambda: InvoiceFactory(due_date=days_ago(30)).pk,
        "paid": lambda: InvoiceFactory(account=account, balance=Decimal("0.00")).pk,
        "void": lambda: InvoiceFactory(account=account, status=InvoiceStatus.VOID).pk,
        "not_yet_due": lambda: InvoiceFactory(account=account, due_date=days_ago(-5)).pk,
        "unknown": lambda: 999_999_999,
    }[kind]()
    oldest = invoices[0]

    with refused(InvoiceNotPayable, [*invoices, Invoice(pk=named)]) as error:
        invoices_pay(
            account_id=account.pk,
            amount="10.00",
            actor=staff,
            invoice_ids=[oldest.pk, named],
        )

    assert error.value.message == (
        f"Invoice {named} is not an open and past due invoice of this account."
    )


def test_api_payments_blocked_refuses_partners_but_not_staff(staff):
    account = AccountFactory(api_payments_blocked=True)
    invoice = InvoiceFactory(account=account)
    partner = Actor(channel=Channel.DOCUSIGN_API, credential=ApiCredentialFactory())

    with refused(PaymentNotAllowed, [invoice]) as error:
        invoices_pay(account_id=account.pk, amount="100.00", actor=partner, settle_in_full=True)
    assert error.value.message == (
        f"Payments over the API are not allowed for account {account.number}."
    )

    paid = invoices_pay(account_id=account.pk, amount="100.00", actor=staff, settle_in_full=True)

    assert paid.payment.channel == Channel.STAFF
    assert balances(invoice) == [(Decimal("0.00"), InvoiceStatus.PAID)]


@pytest.mark.parametrize("kind", ["inactive", "unknown"])
def test_an_inactive_or_unknown_tender_type_is_refused(account, invoices, staff, kind):
    tender_id = TenderTypeFactory(is_active=False).pk if kind == "inactive" else 999

    with refused(TenderTypeNotAvailable, invoices) as error:
        invoices_pay(account_id=account.pk, amount="10.00", actor=staff, tender_type_id=tender_id)

    assert error.value.message == f"Tender type {tender_id} is unknown or inactive."


def test_dry_run_shows_the_settlement_and_writes_nothing():
    account = AccountFactory()
    older = InvoiceFactory(account=account, due_date=days_ago(40), amount=Decimal("30.00"))
    newer = InvoiceFactory(account=account, due_date=days_ago(5), amount=Decimal("50.00"))

    preview = dry_run(invoices_pay, account_id=account.pk, amount="40.00", actor=SYSTEM)

    assert [(a.invoice.pk, a.amount) for a in preview.allocations] == [
        (older.pk, Decimal("30.00")),
        (newer.pk, Decimal("10.00")),
    ]
    assert not Payment.objects.exists()
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.balance, newer.balance) == (Decimal("30.00"), Decimal("50.00"))
