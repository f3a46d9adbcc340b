"""A small account with one movement of most kinds, on fixed days of 2025, for exact outputs."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from contacts.models import Account, Contact
from invoices.models import BillingItem
from invoices.services import billing_item_create, invoice_issue
from payments.actors import SYSTEM
from payments.models import Payment, Refund
from payments.services import (
    CreditNoteLineInput,
    credit_apply,
    credit_note_issue,
    invoices_pay,
    refund_issue,
)
from tests.factories import AccountFactory, ContactFactory

START, END = datetime.date(2025, 1, 15), datetime.date(2025, 2, 28)


def at(month: int, day: int) -> datetime.datetime:
    return datetime.datetime(2025, month, day, 12, tzinfo=datetime.UTC)


@dataclass
class Example:
    account: Account
    contact: Contact
    payment: Payment
    refund: Refund
    item: BillingItem


def example() -> Example:
    account = AccountFactory(currency="EUR", number=800001, name="Exact & Sons Ltd")
    contact = ContactFactory(account=account, first_name="Grace", last_name="Hopper")
    first = invoice_issue(
        account=account,
        number="INV-A",
        issue_date=datetime.date(2025, 1, 5),
        due_date=datetime.date(2025, 2, 4),
        amount=Decimal("100.00"),
    )
    second = invoice_issue(
        account=account,
        number="INV-B",
        issue_date=datetime.date(2025, 1, 20),
        due_date=datetime.date(2025, 2, 19),
        amount=Decimal("200.00"),
    )
    item = billing_item_create(
        contact=contact,
        description="Locker",
        due_date=datetime.date(2025, 1, 31),
        total_amount=Decimal("40.00"),
    )
    BillingItem.objects.filter(pk=item.pk).update(created_at=at(1, 10))
    paid = invoices_pay(
        account_id=account.pk,
        amount="150.00",
        actor=SYSTEM,
        invoice_ids=[first.pk],
        past_due_only=False,
        payment_date=at(1, 25),
        excess_to_credit=True,
    )
    credit_apply(
        account_id=account.pk,
        actor=SYSTEM,
        invoice_ids=[second.pk],
        amount="30.00",
        applied_at=at(2, 1),
    )
    credit_note_issue(
        invoice_id=second.pk,
        number="CN-9",
        issue_date=datetime.date(2025, 2, 3),
        reason="Late delivery",
        lines=[CreditNoteLineInput("Late delivery", "20.00")],
        actor=SYSTEM,
    )
    credit_apply(
        account_id=account.pk,
        actor=SYSTEM,
        billing_item_ids=[item.pk],
        amount="5.00",
        applied_at=at(2, 5),
    )
    refund = refund_issue(
        account_id=account.pk, amount="10.00", actor=SYSTEM, refund_date=at(2, 10)
    )
    return Example(account, contact, paid.payment, refund, item)
