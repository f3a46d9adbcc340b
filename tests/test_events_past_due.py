"""invoice.past_due: the scheduled job records one event per invoice that became past due."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from procrastinate.contrib.django import app

from events.models import Event, PastDueNotice
from events.past_due import record_past_due_events
from invoices.due import today
from invoices.models import InvoiceStatus
from payments.actors import SYSTEM
from payments.services import invoices_pay
from tests.factories import AccountFactory, InvoiceFactory, days_ago

pytestmark = pytest.mark.django_db


def test_each_invoice_that_became_past_due_gets_one_event():
    account = AccountFactory(currency="GBP")
    late = InvoiceFactory(account=account, due_date=days_ago(3), amount=Decimal("40.00"))
    InvoiceFactory(account=account, due_date=days_ago(0), amount=Decimal("10.00"))  # due today
    InvoiceFactory(account=account, due_date=days_ago(-5), amount=Decimal("10.00"))  # not yet
    InvoiceFactory(account=account, due_date=days_ago(9), status=InvoiceStatus.VOID)
    paid = InvoiceFactory(account=account, due_date=days_ago(8), amount=Decimal("5.00"))
    invoices_pay(account_id=account.pk, amount="5.00", actor=SYSTEM, invoice_ids=[paid.pk])
    before = Event.objects.count()

    assert record_past_due_events() == 1
    event = Event.objects.get(type="invoice.past_due")
    assert event.account == account
    assert event.data == {
        "accountId": str(account.guid),
        "accountNumber": str(account.number),
        "invoiceId": str(late.pk),
        "invoiceNumber": late.number,
        "amount": "40.00",
        "balance": "40.00",
        "dueDate": late.due_date.isoformat(),
        "daysLate": "3",
    }
    assert list(PastDueNotice.objects.values_list("invoice_id", flat=True)) == [late.pk]
    # Run again (the next tick, or another worker): nothing new.
    assert record_past_due_events() == 0
    assert Event.objects.count() == before + 1
    # Tomorrow, the one due today is late too.
    tomorrow = today() + datetime.timedelta(days=1)
    assert record_past_due_events(tomorrow) == 1
    assert Event.objects.filter(type="invoice.past_due").count() == 2


def test_the_command_and_the_worker_schedule():
    InvoiceFactory(due_date=days_ago(2), amount=Decimal("10.00"))
    out = StringIO()
    call_command("record_past_due_events", stdout=out)
    assert out.getvalue() == "Recorded 1 invoice.past_due event(s).\n"
    task = app.tasks["events.record_past_due"]
    periodic = [p for p in app.periodic_registry.periodic_tasks.values() if p.task is task]
    assert [(p.cron, p.periodic_id) for p in periodic] == [
        ("*/10 * * * *", "record-past-due-events")
    ]
