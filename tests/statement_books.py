"""A year of an account's money, made through the services, for the statement tests.

Dates are relative to today, `YEAR_AGO` days back (the services date reversals now; a release is
dated as its refund); everything else is dated in the past, at noon UTC, so that the data is the
same whatever the hour.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from contacts.models import Account, Contact
from invoices.models import BillingItem, Invoice
from invoices.services import billing_item_create, invoice_issue, invoice_void
from payments.actors import SYSTEM
from payments.lines import BillingLine, WriteDownLine
from payments.services import (
    CreditNoteLineInput,
    billing_items_pay,
    billing_items_write_down,
    credit_apply,
    credit_note_issue,
    invoices_pay,
    payment_reverse,
    refund_issue,
)
from tests.factories import AccountFactory, ContactFactory

YEAR_AGO = 365


def day(offset: int) -> datetime.date:
    """`offset` days after the start of the year (a year ago today)."""
    return timezone.localdate() - datetime.timedelta(days=YEAR_AGO - offset)


def noon(offset: int) -> datetime.datetime:
    return datetime.datetime.combine(day(offset), datetime.time(12), datetime.UTC)


@dataclass
class Books:
    account: Account
    contact: Contact
    other_contact: Contact
    invoices: list[Invoice]
    items: list[BillingItem]


def _pay(account: Account, invoice: Invoice | None, amount: str, offset: int, **kwargs):
    return invoices_pay(
        account_id=account.pk,
        amount=amount,
        actor=SYSTEM,
        invoice_ids=[invoice.pk] if invoice else [],
        past_due_only=False,
        payment_date=noon(offset),
        **kwargs,
    )


def _item(contact: Contact, offset: int, amount: str) -> BillingItem:
    item = billing_item_create(
        contact=contact,
        description=f"Fee {offset}",
        due_date=day(offset + 15),
        total_amount=Decimal(amount),
    )
    BillingItem.objects.filter(pk=item.pk).update(created_at=noon(offset))
    return item


def year_of_books() -> Books:
    account = AccountFactory(currency="USD", number=700001, name="Harbour Rowing Club")
    contact = ContactFactory(account=account, first_name="Ada", last_name="Lovelace")
    other = ContactFactory(account=account, first_name="Alan", last_name="Turing")
    invoices = [
        invoice_issue(
            account=account,
            number=f"INV-{month + 1:02d}",
            issue_date=day(month * 30),
            due_date=day(month * 30 + 30),
            amount=Decimal(100 + month * 10),
        )
        for month in range(12)
    ]
    # Paid in full, in part, late, early; an overpayment and a payment all to credit.
    for month in range(0, 11, 2):
        _pay(account, invoices[month], str(invoices[month].amount), month * 30 + 10)
    for month in range(1, 10, 2):
        _pay(account, invoices[month], "40.00", month * 30 + 45)
    over = _pay(account, invoices[3], "150.00", 130, excess_to_credit=True)  # 90 owed: 60 to credit
    _pay(account, None, "60.00", 200, excess_to_credit=True)
    # Credit applied to an invoice and to a billing item; a refund of credit.
    credit_apply(
        account_id=account.pk,
        actor=SYSTEM,
        invoice_ids=[invoices[5].pk],
        amount="30.00",
        applied_at=noon(210),
    )
    items = [_item(contact, offset, "50.00") for offset in (20, 90, 160, 250)]
    items.append(_item(other, 100, "75.00"))
    credit_apply(
        account_id=account.pk,
        actor=SYSTEM,
        billing_item_ids=[items[1].pk],
        amount="10.00",
        applied_at=noon(215),
    )
    refund_issue(account_id=account.pk, amount="15.00", actor=SYSTEM, refund_date=noon(220))
    # Credit notes: part of an open invoice, and one beyond a paid invoice (excess to credit).
    credit_note_issue(
        invoice_id=invoices[7].pk,
        number="CN-1",
        issue_date=day(240),
        reason="Discount",
        lines=[CreditNoteLineInput("Discount", "25.00")],
        actor=SYSTEM,
    )
    credit_note_issue(
        invoice_id=invoices[8].pk,
        number="CN-2",
        issue_date=day(260),
        reason="Returned",
        lines=[CreditNoteLineInput("Returned", "120.00"), CreditNoteLineInput("Goodwill", "5.00")],
        actor=SYSTEM,
        excess_to_credit=True,
    )
    # Billing items paid, written down; one paid on a past day and refunded later (released then).
    tender = 1
    billing_items_pay(
        contact=contact,
        tender_type_id=tender,
        payment_date=noon(40),
        lines=[BillingLine(items[0].pk, "50.00")],
        actor=SYSTEM,
    )
    billing_items_pay(
        contact=contact,
        tender_type_id=tender,
        payment_date=noon(120),
        lines=[BillingLine(items[1].pk, "20.00")],
        actor=SYSTEM,
    )
    billing_items_write_down(
        contact=contact,
        write_down_date=noon(180),
        lines=[WriteDownLine(items[1].pk, "5.00")],
        reason="Goodwill",
        actor=SYSTEM,
    )
    item_paid = billing_items_pay(
        contact=contact,
        tender_type_id=tender,
        payment_date=noon(255),
        lines=[BillingLine(items[2].pk, "30.00"), BillingLine(items[3].pk, "10.00")],
        actor=SYSTEM,
    )
    billing_items_pay(
        contact=other,
        tender_type_id=tender,
        payment_date=noon(110),
        lines=[BillingLine(items[4].pk, "75.00")],
        actor=SYSTEM,
    )
    refund_issue(
        account_id=account.pk,
        amount="35.00",
        actor=SYSTEM,
        payment_id=item_paid.payment.pk,
        reason="Charged twice",
        refund_date=noon(300),
    )
    # An invoice payment refunded in part (released that day), and the overpayment reversed today.
    refunded = _pay(account, invoices[11], "50.00", 340)
    refund_issue(
        account_id=account.pk,
        amount="20.00",
        actor=SYSTEM,
        payment_id=refunded.payment.pk,
        reason="Service not given",
        refund_date=noon(350),
    )
    payment_reverse(payment_id=over.payment.pk, reason="Cheque bounced", actor=SYSTEM)
    # A billing-item payment reversed, and a void invoice.
    bounced = billing_items_pay(
        contact=contact,
        tender_type_id=tender,
        payment_date=noon(330),
        lines=[BillingLine(items[3].pk, "15.00")],
        actor=SYSTEM,
    )
    payment_reverse(payment_id=bounced.payment.pk, reason="Card charged back", actor=SYSTEM)
    void = invoice_issue(
        account=account,
        number="INV-VOID",
        issue_date=day(100),
        due_date=day(130),
        amount=Decimal("999.00"),
    )
    invoice_void(invoice_id=void.pk)
    for invoice in invoices:
        invoice.refresh_from_db()
    return Books(account, contact, other, invoices, items)
