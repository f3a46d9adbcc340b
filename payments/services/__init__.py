"""The one place where money moves.

Every balance change happens here, in one transaction, under row locks taken in a fixed order
(account, invoices, billing items, payment), with every rule checked again under the lock. The
database constraints on the models refuse whatever slips past: a balance below zero or above its
amount, an allocation that is not positive, a payment reversed twice.

Balances are written as exact `Decimal` values computed under the lock, one UPDATE per kind of row
whatever the number of rows, so that a request costs a fixed number of queries; a payment's rows
(the payment, its allocations, the balances) go in one statement (payments/writes.py).
"""

from .credit import CreditApplied, credit_apply, invoice_issue_applying_credit, refund_issue
from .credit_notes import CreditNoteLineInput, credit_note_issue
from .paying import BillingItemsPaid, InvoicesPaid, billing_items_pay, invoices_pay
from .reversals import payment_reverse
from .rules import dry_run
from .write_downs import BillingItemsWrittenDown, billing_items_write_down

__all__ = [
    "BillingItemsPaid",
    "BillingItemsWrittenDown",
    "CreditApplied",
    "CreditNoteLineInput",
    "InvoicesPaid",
    "billing_items_pay",
    "billing_items_write_down",
    "credit_apply",
    "credit_note_issue",
    "dry_run",
    "invoice_issue_applying_credit",
    "invoices_pay",
    "payment_reverse",
    "refund_issue",
]
