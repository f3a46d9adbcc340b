"""Statements of account: a year of varied data reconciles with the ledger, period after period.

The closing balance of one period is the opening balance of the next; on any day it equals what
the account's invoices owed then (payments.owed_then, the past-due list's rule) less the credit
then (statements.credit), and today the stored balances less `Account.credit_balance`. A
contact's statement, the same with its billing items.
"""

import datetime
import itertools

import pytest
from django.db.models import Sum

from billing_site.money import ZERO
from invoices.models import BillingItem, Invoice, InvoiceStatus
from payments.ledger import ledger_drift
from payments.owed_then import with_owed_then
from payments.receivables import _end_of
from statements.credit import credit_on
from statements.selectors import account_statement, contact_statement
from tests.statement_books import day, year_of_books

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    return year_of_books()


def periods(first: datetime.date, last: datetime.date, lengths=(31, 28, 1, 45, 7)):
    """Consecutive periods from `first` to `last`, of varied lengths."""
    start, index = first, 0
    while start <= last:
        end = min(start + datetime.timedelta(days=lengths[index % len(lengths)] - 1), last)
        yield start, end
        start, index = end + datetime.timedelta(days=1), index + 1


def owed_then(rows, kind: str, on: datetime.date):
    total = with_owed_then(rows, kind, _end_of(on)).aggregate(total=Sum("owed"))["total"]
    return total or ZERO


def invoices_owed(account, on: datetime.date):
    rows = Invoice.objects.filter(account=account, issue_date__lte=on).exclude(
        status=InvoiceStatus.VOID
    )
    return owed_then(rows, "invoices", on)


def items_owed(contact, on: datetime.date):
    rows = BillingItem.objects.filter(contact=contact, created_at__lt=_end_of(on))
    return owed_then(rows, "billing_items", on)


def test_the_books_are_in_balance(books):
    assert ledger_drift() == []


def test_account_periods_chain_and_match_the_ledger_every_day_they_end(books):
    today = day(365)
    chained = []
    for start, end in periods(day(-10), today):
        statement = account_statement(books.account, start, end)
        chained.append(statement)
        expected = invoices_owed(books.account, end) - credit_on(books.account, end)
        assert statement.closing_balance == expected, (start, end)
        assert statement.owed - statement.credit == statement.closing_balance, (start, end)
        running = statement.opening_balance
        for movement in statement.movements:
            running += movement.amount
            assert movement.balance == running
            assert start <= movement.date <= end
    assert len(chained) > 10
    assert chained[0].opening_balance == ZERO
    for earlier, later in itertools.pairwise(chained):
        assert earlier.closing_balance == later.opening_balance
    kinds = {movement.kind for statement in chained for movement in statement.movements}
    assert kinds == {
        "invoice",
        "payment",
        "credit_application",
        "credit_note",
        "allocation_release",
        "refund",
        "reversal",
    }


def test_account_closing_today_is_the_stored_ledger(books):
    today = day(365)
    account = books.account
    account.refresh_from_db()
    stored = Invoice.objects.filter(account=account, status=InvoiceStatus.OPEN).aggregate(
        total=Sum("balance")
    )["total"]
    whole_year = account_statement(account, day(-10), today)
    assert whole_year.closing_balance == stored - account.credit_balance
    assert credit_on(account, today) == account.credit_balance
    assert whole_year.credit == account.credit_balance
    # One statement for the year ends where the chain of short ones does.
    assert account_statement(account, day(200), today).closing_balance == (
        whole_year.closing_balance
    )


def test_contact_periods_chain_and_match_the_billing_items(books):
    today = day(365)
    for contact in (books.contact, books.other_contact):
        chained = []
        for start, end in periods(day(-10), today, lengths=(30, 3, 60)):
            statement = contact_statement(contact, start, end)
            chained.append(statement)
            assert statement.closing_balance == items_owed(contact, end), (contact, start, end)
            assert statement.owed == statement.closing_balance
        for earlier, later in itertools.pairwise(chained):
            assert earlier.closing_balance == later.opening_balance
        stored = BillingItem.objects.filter(contact=contact).aggregate(total=Sum("balance"))
        assert chained[-1].closing_balance == stored["total"]
    kinds = {m.kind for m in contact_statement(books.contact, day(-10), today).movements}
    assert kinds == {
        "billing_item",
        "payment",
        "credit_application",
        "write_down",
        "allocation_release",
        "reversal",
    }


def test_credit_on_a_past_day_counts_the_rows_dated_up_to_it(books):
    account = books.account
    assert credit_on(account, day(129)) == ZERO
    assert credit_on(account, day(130)) == 60  # the overpayment
    assert credit_on(account, day(200)) == 120  # and a payment all to credit
    assert credit_on(account, day(210)) == 90  # 30 applied to an invoice
    assert credit_on(account, day(215)) == 80  # 10 to a billing item
    assert credit_on(account, day(220)) == 65  # 15 refunded
    assert credit_on(account, day(260)) == 190  # a credit note's 125 beyond a paid invoice
    # Payments refunded on days 300 and 350: their allocations released on the refund's day, in
    # and out of credit the same day.
    assert credit_on(account, day(300)) == 190
    assert credit_on(account, day(364)) == 190
    assert credit_on(account, day(365)) == 130  # the overpayment reversed today
