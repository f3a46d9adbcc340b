"""Credit notes in the money service: an invoice reduced by a numbered document, the excess to
the account's credit only when asked, one number per account, immutable, verify_ledger clean."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from contacts.models import Account
from invoices.models import Invoice, InvoiceStatus
from payments.actors import SYSTEM
from payments.errors import CreditNoteRefused
from payments.models import CreditNote, CreditNoteLine
from payments.services import CreditNoteLineInput, credit_note_issue, invoices_pay
from tests.factories import AccountFactory, InvoiceFactory, days_ago

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 6)


def issue(invoice, number="CN-1", lines=(("Seats not used", "20.00"),), **options):
    return credit_note_issue(
        invoice_id=invoice.pk,
        number=number,
        issue_date=TODAY,
        reason=options.pop("reason", "Two seats were never used"),
        lines=[CreditNoteLineInput(d, a) for d, a in lines],
        actor=SYSTEM,
        **options,
    )


def ledger_clean():
    call_command("verify_ledger", stdout=StringIO())


@pytest.fixture
def invoice():
    return InvoiceFactory(
        account=AccountFactory(currency="GBP"), due_date=days_ago(10), amount=Decimal("100.00")
    )


def test_a_credit_note_reduces_what_the_invoice_owes(invoice):
    note = issue(invoice, lines=[("Seats not used", "20.00"), ("Support", "5.50")])

    assert (note.amount, note.applied_amount, note.credit_amount) == (
        Decimal("25.50"),
        Decimal("25.50"),
        Decimal("0.00"),
    )
    assert list(
        CreditNoteLine.objects.filter(credit_note=note).values_list("description", "amount")
    ) == [
        ("Seats not used", Decimal("20.00")),
        ("Support", Decimal("5.50")),
    ]
    stored = Invoice.objects.get(pk=invoice.pk)
    assert (stored.balance, stored.status) == (Decimal("74.50"), InvoiceStatus.OPEN)
    ledger_clean()


def test_crediting_all_it_owes_settles_it(invoice):
    issue(invoice, lines=[("Cancelled", "100.00")])
    stored = Invoice.objects.get(pk=invoice.pk)
    assert (stored.balance, stored.status) == (Decimal("0.00"), InvoiceStatus.PAID)
    ledger_clean()


def test_more_than_it_owes_is_refused_without_the_credit_option(invoice):
    invoices_pay(account_id=invoice.account_id, amount="70.00", actor=SYSTEM)
    with pytest.raises(CreditNoteRefused, match=r"more than invoice .* still owes \(30\.00\)"):
        issue(invoice, lines=[("Cancelled", "100.00")])
    assert not CreditNote.objects.exists()
    assert Invoice.objects.get(pk=invoice.pk).balance == Decimal("30.00")


def test_with_the_credit_option_a_paid_invoice_credited_gives_the_money_back_as_credit(invoice):
    invoices_pay(account_id=invoice.account_id, amount="70.00", actor=SYSTEM)
    note = issue(invoice, lines=[("Cancelled", "100.00")], excess_to_credit=True)
    assert (note.applied_amount, note.credit_amount) == (Decimal("30.00"), Decimal("70.00"))
    assert Invoice.objects.get(pk=invoice.pk).balance == Decimal("0.00")
    assert Account.objects.get(pk=invoice.account_id).credit_balance == Decimal("70.00")
    ledger_clean()


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"number": " "}, "needs a number"),
        ({"number": "X" * 41}, "needs a number"),
        ({"reason": " "}, "needs a reason"),
        ({"lines": []}, "at least one line"),
        ({"lines": [("", "1.00")]}, "Line 1 needs a description"),
        ({"lines": [("Ok", "1.00"), ("Bad", "0")]}, "Line 2: The amount must be greater than zero"),
        ({"lines": [("Bad", "1.001")]}, "at most two decimal places"),
    ],
)
def test_malformed_credit_notes_are_refused(invoice, options, says):
    with pytest.raises(CreditNoteRefused, match=says):
        issue(invoice, **options)
    assert not CreditNote.objects.exists()


def test_a_number_once_per_account(invoice):
    issue(invoice, number="CN-7")
    with pytest.raises(CreditNoteRefused, match="CN-7 is used already"):
        issue(invoice, number="CN-7")
    other = InvoiceFactory(amount=Decimal("10.00"))  # another account may use it
    issue(other, number="CN-7", lines=[("x", "1.00")])
    assert CreditNote.objects.filter(number="CN-7").count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():  # and the database says so too
        CreditNote.objects.create(
            account_id=invoice.account_id,
            invoice=invoice,
            number="CN-7",
            issue_date=TODAY,
            reason="x",
            amount=Decimal("1.00"),
            applied_amount=Decimal("1.00"),
            credit_amount=Decimal("0.00"),
        )


def test_a_void_invoice_gets_no_credit_note():
    void = InvoiceFactory(amount=Decimal("10.00"), status=InvoiceStatus.VOID)
    with pytest.raises(CreditNoteRefused, match="is void"):
        issue(void, lines=[("x", "1.00")])


def test_the_split_must_add_up_in_the_database(invoice):
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditNote.objects.create(
            account_id=invoice.account_id,
            invoice=invoice,
            number="CN-9",
            issue_date=TODAY,
            reason="x",
            amount=Decimal("10.00"),
            applied_amount=Decimal("4.00"),
            credit_amount=Decimal("5.00"),
        )
    other = AccountFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditNote.objects.create(
            account=other,
            invoice=invoice,
            number="CN-10",
            issue_date=TODAY,
            reason="x",
            amount=Decimal("1.00"),
            applied_amount=Decimal("1.00"),
            credit_amount=Decimal("0.00"),
        )
