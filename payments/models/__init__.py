"""The money rows. `core`: tender types, payments, their allocations, reversals, write-downs and
idempotency records; `credit`: an account's credit (unapplied cash), its applications, releases
and refunds; `credit_notes`: invoices reduced by a document."""

from .core import (
    IdempotencyRecord,
    Payment,
    PaymentAllocation,
    Recorded,
    Reversal,
    TenderType,
    WriteDown,
    account_field,
    immutable,
)
from .credit import AllocationRelease, CreditApplication, Refund
from .credit_notes import CreditNote, CreditNoteLine

__all__ = [
    "AllocationRelease",
    "CreditApplication",
    "CreditNote",
    "CreditNoteLine",
    "IdempotencyRecord",
    "Payment",
    "PaymentAllocation",
    "Recorded",
    "Refund",
    "Reversal",
    "TenderType",
    "WriteDown",
    "account_field",
    "immutable",
]
