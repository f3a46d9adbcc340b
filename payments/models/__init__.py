"""The money rows. `core`: tender types, payments, their allocations, reversals, write-downs and
idempotency records; `credit`: an account's credit (unapplied cash), its applications, releases
and refunds."""

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

__all__ = [
    "AllocationRelease",
    "CreditApplication",
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
