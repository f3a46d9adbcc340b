"""`invoice.past_due`: an invoice becomes past due by the calendar, not by a money change, so a
scheduled job finds them (events.tasks, every 10 minutes in the worker; `manage.py
record_past_due_events` by hand): each open invoice that owes something, issued and due before
today (invoices.due), and that has no notice yet, gets one `PastDueNotice` and one event, in one
transaction. Run twice, or by two workers at once, an invoice still gets one event: the notice is
unique per invoice, and a second run finds nothing new."""

import datetime

from django.db import connection, transaction

from billing_site.money import format_amount
from invoices.due import today

from .models import EventType
from .recording import NewEvent, record, when

NEWLY_PAST_DUE = """
WITH newly AS (
    INSERT INTO events_pastduenotice (invoice_id, noticed_at)
    SELECT i.id, now() FROM invoices_invoice i
    WHERE i.status = 'open' AND i.balance > 0 AND i.due_date < %(today)s
      AND i.issue_date <= %(today)s
      AND NOT EXISTS (SELECT 1 FROM events_pastduenotice n WHERE n.invoice_id = i.id)
    ORDER BY i.id
    ON CONFLICT (invoice_id) DO NOTHING
    RETURNING invoice_id
)
SELECT i.id, i.number, i.amount, i.balance, i.due_date, a.id, a.guid, a.number
FROM newly JOIN invoices_invoice i ON i.id = newly.invoice_id
JOIN contacts_account a ON a.id = i.account_id
ORDER BY i.id
"""


def record_past_due_events(day: datetime.date | None = None) -> int:
    """Record `invoice.past_due` for each invoice past due on `day` (default today) that has none
    yet; how many were recorded."""
    day = day or today()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(NEWLY_PAST_DUE, {"today": day})
        rows = cursor.fetchall()
        record(
            NewEvent(
                EventType.INVOICE_PAST_DUE,
                account_id,
                {
                    "accountId": str(guid),
                    "accountNumber": str(number),
                    "invoiceId": str(invoice_id),
                    "invoiceNumber": invoice_number,
                    "amount": format_amount(amount),
                    "balance": format_amount(balance),
                    "dueDate": when(due_date),
                    "daysLate": str((day - due_date).days),
                },
            )
            for (
                invoice_id,
                invoice_number,
                amount,
                balance,
                due_date,
                account_id,
                guid,
                number,
            ) in rows
        )
    return len(rows)
