"""Customer credit in the money service: a payment's excess held as credit, credit applied to
invoices and billing items, refunds (from credit, or of a payment), and reversals that take the
credit back. Exact amounts and database state after each call; verify_ledger clean after each."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.utils import timezone

from contacts.models import Account
from invoices.models import BillingItem, Invoice, InvoiceStatus
from payments.actors import SYSTEM
from payments.errors import (
    AmountOverBalance,
    CreditInsufficient,
    InvalidPaymentAmount,
    NothingToSettle,
    ReasonRequired,
    RefundNotAllowed,
)
from payments.lines import BillingLine
from payments.models import AllocationRelease, CreditApplication, Payment, Refund
from payments.services import (
    billing_items_pay,
    credit_apply,
    invoices_pay,
    payment_reverse,
    refund_issue,
)
from tests.factories import (
    AccountFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    TenderTypeFactory,
    days_ago,
)

pytestmark = pytest.mark.django_db


def credit_of(account) -> Decimal:
    return Account.objects.get(pk=account.pk).credit_balance


def balances(*rows) -> list[Decimal]:
    return [type(row).objects.get(pk=row.pk).balance for row in rows]


def ledger_clean() -> None:
    call_command("verify_ledger", stdout=StringIO())  # raises CommandError on any drift


@pytest.fixture
def books():
    """An account owing 30.00 (20 days past due) and 50.00 (5 days), and next month's 70.00."""
    account = AccountFactory(currency="EUR")
    older = InvoiceFactory(account=account, due_date=days_ago(20), amount=Decimal("30.00"))
    newer = InvoiceFactory(account=account, due_date=days_ago(5), amount=Decimal("50.00"))
    later = InvoiceFactory(account=account, due_date=days_ago(-30), amount=Decimal("70.00"))
    return account, older, newer, later


def overpay(account, amount: str, **options):
    return invoices_pay(
        account_id=account.pk, amount=amount, actor=SYSTEM, excess_to_credit=True, **options
    )


def test_an_overpayment_settles_the_invoices_and_holds_the_rest_as_credit(books):
    account, older, newer, later = books
    paid = overpay(account, "100.00")

    assert paid.to_credit == Decimal("20.00")
    payment = Payment.objects.get()
    assert (payment.amount, payment.credit_amount) == (Decimal("100.00"), Decimal("20.00"))
    assert [(a.invoice_id, a.amount) for a in paid.allocations] == [
        (older.pk, Decimal("30.00")),
        (newer.pk, Decimal("50.00")),
    ]
    assert balances(older, newer, later) == [Decimal("0.00"), Decimal("0.00"), Decimal("70.00")]
    assert credit_of(account) == Decimal("20.00")
    ledger_clean()


def test_money_for_no_invoice_is_all_credit(books):
    account, older, *_ = books
    paid = overpay(account, "12.34", invoice_ids=[])
    assert (paid.allocations, paid.to_credit) == ([], Decimal("12.34"))
    assert Payment.objects.get().credit_amount == Decimal("12.34")
    assert balances(older) == [Decimal("30.00")]
    assert credit_of(account) == Decimal("12.34")
    ledger_clean()


def test_without_the_credit_option_too_much_is_still_refused(books):
    account, *_ = books
    with pytest.raises(AmountOverBalance):
        invoices_pay(account_id=account.pk, amount="80.01", actor=SYSTEM)
    assert credit_of(account) == Decimal("0.00")
    assert not Payment.objects.exists()


def test_credit_settles_the_chosen_invoices_oldest_first(books):
    account, older, newer, later = books
    overpay(account, "60.00", invoice_ids=[])

    applied = credit_apply(
        account_id=account.pk, actor=SYSTEM, invoice_ids=[later.pk, newer.pk], amount="55.00"
    )

    assert applied.credit_balance == Decimal("5.00")
    assert [(a.invoice_id, a.amount) for a in applied.applications] == [
        (newer.pk, Decimal("50.00")),
        (later.pk, Decimal("5.00")),
    ]
    assert balances(older, newer, later) == [Decimal("30.00"), Decimal("0.00"), Decimal("65.00")]
    assert Invoice.objects.get(pk=newer.pk).status == InvoiceStatus.PAID
    assert credit_of(account) == Decimal("5.00")
    # Not new money: one payment, of 60.00, whatever the credit settled.
    assert list(Payment.objects.values_list("amount", flat=True)) == [Decimal("60.00")]
    ledger_clean()


def test_by_default_as_much_as_the_credit_and_the_balances_allow(books):
    account, older, newer, _later = books
    overpay(account, "40.00", invoice_ids=[])
    applied = credit_apply(account_id=account.pk, actor=SYSTEM, invoice_ids=[older.pk, newer.pk])
    assert applied.amount == Decimal("40.00")
    assert balances(older, newer) == [Decimal("0.00"), Decimal("40.00")]
    assert credit_of(account) == Decimal("0.00")
    ledger_clean()


def test_credit_applied_twice_is_refused_the_second_time(books):
    account, older, newer, _later = books
    overpay(account, "30.00", invoice_ids=[])
    credit_apply(account_id=account.pk, actor=SYSTEM, invoice_ids=[older.pk])
    with pytest.raises(CreditInsufficient, match=r"credit is 0\.00"):
        credit_apply(account_id=account.pk, actor=SYSTEM, invoice_ids=[newer.pk])
    assert CreditApplication.objects.count() == 1
    assert balances(newer) == [Decimal("50.00")]
    ledger_clean()


@pytest.mark.parametrize(
    ("amount", "error", "says"),
    [
        ("25.01", CreditInsufficient, "25.01 cannot be applied"),
        ("0", InvalidPaymentAmount, "greater than zero"),
        ("-1", InvalidPaymentAmount, "greater than zero"),
        ("1.001", InvalidPaymentAmount, "decimal places"),
    ],
)
def test_an_application_over_the_credit_or_malformed_is_refused(books, amount, error, says):
    account, _older, newer, _later = books
    overpay(account, "25.00", invoice_ids=[])
    with pytest.raises(error, match=says):
        credit_apply(account_id=account.pk, actor=SYSTEM, invoice_ids=[newer.pk], amount=amount)
    assert credit_of(account) == Decimal("25.00")
    assert not CreditApplication.objects.exists()


def test_an_application_over_what_the_rows_owe_or_to_nothing_owed_is_refused(books):
    account, older, *_ = books
    overpay(account, "100.00", invoice_ids=[])
    with pytest.raises(NothingToSettle, match="more than the chosen rows owe"):
        credit_apply(account_id=account.pk, actor=SYSTEM, invoice_ids=[older.pk], amount="30.01")
    overpay(account, "30.00", invoice_ids=[older.pk])
    with pytest.raises(NothingToSettle, match="owes anything"):
        credit_apply(account_id=account.pk, actor=SYSTEM, invoice_ids=[older.pk])
    with pytest.raises(NothingToSettle, match="owes anything"):
        credit_apply(account_id=account.pk, actor=SYSTEM)
    assert credit_of(account) == Decimal("100.00")


def test_another_accounts_invoice_is_never_settled(books):
    account, *_ = books
    theirs = InvoiceFactory(amount=Decimal("10.00"))
    overpay(account, "10.00", invoice_ids=[])
    with pytest.raises(NothingToSettle, match=f"{theirs.pk}: not an invoice"):
        credit_apply(account_id=account.pk, actor=SYSTEM, invoice_ids=[theirs.pk])
    assert balances(theirs) == [Decimal("10.00")]
    assert credit_of(account) == Decimal("10.00")


def test_credit_settles_a_contacts_billing_items(books):
    account, *_ = books
    contact = ContactFactory(account=account)
    item = BillingItemFactory(contact=contact, total_amount=Decimal("15.00"))
    overpay(account, "20.00", invoice_ids=[])
    applied = credit_apply(account_id=account.pk, actor=SYSTEM, billing_item_ids=[item.pk])
    assert [(a.billing_item_id, a.amount) for a in applied.applications] == [
        (item.pk, Decimal("15.00"))
    ]
    assert balances(item) == [Decimal("0.00")]
    assert credit_of(account) == Decimal("5.00")
    ledger_clean()


def test_a_refund_from_credit(books):
    account, *_ = books
    overpay(account, "20.00", invoice_ids=[])
    with pytest.raises(CreditInsufficient, match="more than the account's credit"):
        refund_issue(account_id=account.pk, amount="20.01", actor=SYSTEM)
    tender = TenderTypeFactory()
    refund = refund_issue(
        account_id=account.pk,
        amount="15.00",
        actor=SYSTEM,
        tender_type_id=tender.pk,
        reference="bank transfer 42",
    )
    assert (refund.amount, refund.currency, refund.payment, refund.reference) == (
        Decimal("15.00"),
        "EUR",
        None,
        "bank transfer 42",
    )
    assert credit_of(account) == Decimal("5.00")
    assert Payment.objects.get().amount == Decimal("20.00")  # the payment stays as it was
    ledger_clean()


def test_a_refund_of_a_payment_releases_its_allocations_latest_first(books):
    account, older, newer, _later = books
    payment = invoices_pay(account_id=account.pk, amount="80.00", actor=SYSTEM).payment
    refund = refund_issue(
        account_id=account.pk,
        amount="60.00",
        actor=SYSTEM,
        payment_id=payment.pk,
        reason="Service cancelled",
    )

    releases = AllocationRelease.objects.order_by("pk")
    assert [(r.allocation.invoice_id, r.amount, r.refund_id, r.reason) for r in releases] == [
        (newer.pk, Decimal("50.00"), refund.pk, "Service cancelled"),
        (older.pk, Decimal("10.00"), refund.pk, "Service cancelled"),
    ]
    assert balances(older, newer) == [Decimal("10.00"), Decimal("50.00")]
    assert [Invoice.objects.get(pk=i.pk).status for i in (older, newer)] == [InvoiceStatus.OPEN] * 2
    assert credit_of(account) == Decimal("0.00")  # released in, refunded out
    assert refund.payment == payment
    # What is left of it: 20.00 still settles the older invoice; a second refund of 20.01 cannot.
    with pytest.raises(RefundNotAllowed, match=r"still settles 20\.00"):
        refund_issue(
            account_id=account.pk, amount="20.01", actor=SYSTEM, payment_id=payment.pk, reason="x"
        )
    ledger_clean()


def test_a_refund_of_a_payment_needs_a_reason_and_an_unreversed_payment_of_the_account(books):
    account, *_ = books
    payment = invoices_pay(account_id=account.pk, amount="30.00", actor=SYSTEM).payment
    with pytest.raises(ReasonRequired):
        refund_issue(account_id=account.pk, amount="1.00", actor=SYSTEM, payment_id=payment.pk)
    other = AccountFactory()
    with pytest.raises(RefundNotAllowed, match="not a payment of this account"):
        refund_issue(
            account_id=other.pk, amount="1.00", actor=SYSTEM, payment_id=payment.pk, reason="x"
        )
    payment_reverse(payment_id=payment.pk, reason="Bounced", actor=SYSTEM)
    with pytest.raises(RefundNotAllowed, match="reversed"):
        refund_issue(
            account_id=account.pk, amount="1.00", actor=SYSTEM, payment_id=payment.pk, reason="x"
        )
    assert not Refund.objects.exists()
    assert not AllocationRelease.objects.exists()
    ledger_clean()


def test_reversing_an_overpayment_takes_its_credit_back(books):
    account, older, newer, _later = books
    payment = overpay(account, "100.00").payment
    payment_reverse(payment_id=payment.pk, reason="Bounced", actor=SYSTEM)
    assert balances(older, newer) == [Decimal("30.00"), Decimal("50.00")]
    assert credit_of(account) == Decimal("0.00")
    ledger_clean()


def test_a_payment_whose_credit_was_applied_or_refunded_cannot_be_reversed(books):
    account, older, newer, later = books
    payment = overpay(account, "100.00").payment  # 20.00 to credit
    credit_apply(account_id=account.pk, actor=SYSTEM, invoice_ids=[later.pk], amount="15.00")
    with pytest.raises(CreditInsufficient, match=r"put 20\.00 into the account's credit"):
        payment_reverse(payment_id=payment.pk, reason="Bounced", actor=SYSTEM)
    refunded = invoices_pay(
        account_id=account.pk,
        amount="10.00",
        actor=SYSTEM,
        invoice_ids=[later.pk],
        past_due_only=False,
    )
    refund_issue(
        account_id=account.pk,
        amount="1.00",
        actor=SYSTEM,
        payment_id=refunded.payment.pk,
        reason="Overcharged",
    )
    with pytest.raises(CreditInsufficient, match="refunded in part"):
        payment_reverse(payment_id=refunded.payment.pk, reason="Bounced", actor=SYSTEM)
    assert balances(older, newer, later) == [Decimal("0.00"), Decimal("0.00"), Decimal("46.00")]
    ledger_clean()


def test_the_new_rows_are_immutable_and_keep_their_account(books):
    account, older, *_ = books
    overpay(account, "10.00", invoice_ids=[])
    application = credit_apply(account_id=account.pk, actor=SYSTEM, invoice_ids=[older.pk])
    payment = invoices_pay(account_id=account.pk, amount="20.00", actor=SYSTEM).payment
    refund_issue(
        account_id=account.pk, amount="5.00", actor=SYSTEM, payment_id=payment.pk, reason="x"
    )
    other = AccountFactory()
    for table, row in (
        ("payments_creditapplication", application.applications[0].pk),
        ("payments_refund", Refund.objects.get().pk),
        ("payments_allocationrelease", AllocationRelease.objects.get().pk),
    ):
        with (
            pytest.raises(ProgrammingError, match="Cannot update or delete rows"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"UPDATE {table} SET amount = amount + 1 WHERE id = %s", [row])  # noqa: S608
    release = AllocationRelease.objects.get()
    with pytest.raises(IntegrityError, match="its allocation's account"), transaction.atomic():
        AllocationRelease.objects.create(
            account=other, allocation=release.allocation, amount=Decimal("1.00"), reason="x"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditApplication.objects.create(account=other, invoice=older, amount=Decimal("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(credit_balance=Decimal("-0.01"))
    ledger_clean()


def test_legend_payments_put_nothing_into_credit(books):
    account, *_ = books
    contact = ContactFactory(account=account)
    item = BillingItemFactory(contact=contact, total_amount=Decimal("15.00"))
    billing_items_pay(
        contact=contact,
        tender_type_id=TenderTypeFactory().pk,
        payment_date=timezone.now(),
        lines=[BillingLine(item.pk, "15.00")],
        actor=SYSTEM,
    )
    assert Payment.objects.get().credit_amount == Decimal("0.00")
    assert BillingItem.objects.get(pk=item.pk).balance == Decimal("0.00")
    assert credit_of(account) == Decimal("0.00")
    ledger_clean()


def test_a_new_invoice_is_settled_from_credit_when_the_account_says_so():
    from payments.services import invoice_issue_applying_credit

    account = AccountFactory(currency="EUR")
    overpay(account, "25.00", invoice_ids=[])

    def issue(number: str, amount: str, issued_in: int = 0):
        return invoice_issue_applying_credit(
            actor=SYSTEM,
            account=account,
            number=number,
            issue_date=days_ago(-issued_in),
            due_date=days_ago(-30 - issued_in),
            amount=Decimal(amount),
        )

    first, applied = issue("NEXT-1", "40.00")
    assert applied is None  # the setting is off
    assert (first.balance, credit_of(account)) == (Decimal("40.00"), Decimal("25.00"))

    Account.objects.filter(pk=account.pk).update(auto_apply_credit=True)
    # Oldest due first: NEXT-1 (still open, due sooner) takes the credit, not the new invoice.
    second, applied = issue("NEXT-2", "10.00")
    assert [(a.invoice_id, a.amount) for a in applied.applications] == [
        (first.pk, Decimal("25.00"))
    ]
    assert second.balance == Decimal("10.00")
    assert balances(first) == [Decimal("15.00")]
    assert credit_of(account) == Decimal("0.00")

    overpay(account, "30.00", invoice_ids=[])
    # An invoice issued later than today is not owed yet: it takes no credit, those owed do.
    issue("LATER-1", "5.00", issued_in=10)
    assert credit_of(account) == Decimal("5.00")  # NEXT-1 15.00 and NEXT-2 10.00 settled
    third, applied = issue("NEXT-3", "3.00")
    assert [(a.invoice_id, a.amount) for a in applied.applications] == [(third.pk, Decimal("3.00"))]
    assert (third.balance, third.status) == (Decimal("0.00"), InvoiceStatus.PAID)
    assert credit_of(account) == Decimal("2.00")
    ledger_clean()


def test_a_payment_that_went_all_to_credit_is_refunded_from_credit_not_as_a_payment(books):
    account, *_ = books
    payment = overpay(account, "20.00", invoice_ids=[]).payment
    with pytest.raises(RefundNotAllowed, match=r"still settles 0\.00.*refund the account's credit"):
        refund_issue(
            account_id=account.pk, amount="5.00", actor=SYSTEM, payment_id=payment.pk, reason="x"
        )
    assert credit_of(account) == Decimal("20.00")


def test_a_backdated_refund_of_a_payment_dates_its_releases_with_it(books):
    account, *_ = books
    payment = invoices_pay(account_id=account.pk, amount="30.00", actor=SYSTEM).payment
    when = timezone.now() - datetime.timedelta(days=3)
    refund_issue(
        account_id=account.pk,
        amount="10.00",
        actor=SYSTEM,
        payment_id=payment.pk,
        reason="Cancelled",
        refund_date=when,
    )
    assert list(AllocationRelease.objects.values_list("released_at", flat=True)) == [when]
    assert Refund.objects.get().refund_date == when
    ledger_clean()
