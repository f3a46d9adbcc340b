"""The demo's customer credit (`manage.py seed_demo`, payments/demo.py): an overpayment held as
credit, a refund of part of it and a credit note, each made once (found again by its reference or
number), so that `make run` shows every kind of credit row on the account and statement pages."""

import datetime
from collections import Counter
from decimal import Decimal

from .actors import SYSTEM
from .models import CreditNote, Payment, Refund
from .services import CreditNoteLineInput, credit_note_issue, invoices_pay, refund_issue

OVERPAYMENT_REFERENCE = "DEMO-OVERPAYMENT"
REFUND_REFERENCE = "DEMO-REFUND"
CREDIT_NOTE_NUMBER = "CN-FU-3002-1"
WIRE = 8  # EFT, of the tender types the migration presets


def _noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(12), datetime.UTC)


def credit_history(invoices: dict, day: datetime.date, created: Counter) -> None:
    overpaid = invoices["WW-5001"]
    account_id = overpaid.account_id
    if not Payment.objects.filter(account_id=account_id, reference=OVERPAYMENT_REFERENCE).exists():
        invoices_pay(
            account_id=account_id,
            amount=Decimal("1000.00"),
            actor=SYSTEM,
            invoice_ids=[overpaid.pk],
            past_due_only=False,
            excess_to_credit=True,
            payment_date=_noon(day - datetime.timedelta(days=10)),
            tender_type_id=WIRE,
            description="Wire for WW-5001, 190.00 over",
            reference=OVERPAYMENT_REFERENCE,
        )
        created["payments"] += 1
    if not Refund.objects.filter(account_id=account_id, reference=REFUND_REFERENCE).exists():
        refund_issue(
            account_id=account_id,
            amount=Decimal("40.00"),
            actor=SYSTEM,
            refund_date=_noon(day - datetime.timedelta(days=2)),
            tender_type_id=WIRE,
            reference=REFUND_REFERENCE,
            reason="Part of the overpayment sent back (demo).",
        )
        created["refunds"] += 1
    discounted = invoices["FU-3002"]
    if not CreditNote.objects.filter(
        account_id=discounted.account_id, number=CREDIT_NOTE_NUMBER
    ).exists():
        credit_note_issue(
            invoice_id=discounted.pk,
            number=CREDIT_NOTE_NUMBER,
            issue_date=day,
            reason="Priority support started a week late (demo).",
            lines=[CreditNoteLineInput("Priority support, one week", Decimal("10.00"))],
            actor=SYSTEM,
        )
        created["credit notes"] += 1
