"""The line-by-line shape of billing-item payments and write-downs (Legend's request lines).

Lines are independent: each is applied or refused on its own, and its outcome says which.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

AUTHORIZATION_CODE_MAX_LENGTH = 100


class LineRefusal(Enum):
    """Why a line was not applied: a stable code and a message template."""

    NOT_FOUND = "Billing item {billing_id} was not found for this contact."
    ALREADY_SETTLED = "Billing item {billing_id} is already settled."
    OVER_BALANCE = (
        "The amount {amount} is more than the balance {balance} of billing item {billing_id}."
    )
    AMOUNT_NOT_A_NUMBER = "The amount must be a decimal number."
    AMOUNT_NOT_POSITIVE = "The amount must be greater than zero."
    AMOUNT_TOO_PRECISE = "The amount must have at most two decimal places."
    AMOUNT_TOO_LARGE = "The amount is too large."
    AUTHORIZATION_CODE_TOO_LONG = (
        f"The authorization code must be at most {AUTHORIZATION_CODE_MAX_LENGTH} characters."
    )

    @property
    def code(self) -> str:
        return self.name


@dataclass(frozen=True)
class BillingLine:
    """One line of a billing-item payment. `amount` is raw input; the service parses it."""

    billing_id: int
    amount: object
    reference: str = ""
    notes: str = ""
    authorization_code: str = ""


@dataclass(frozen=True)
class WriteDownLine:
    billing_id: int
    amount: object
    gl_account_id: int | None = None


@dataclass(frozen=True)
class LineOutcome:
    """What happened to one line. `balance` is the item's balance after the request (None when
    the item is not the contact's); `processed_at` is set only on applied lines."""

    billing_id: int
    balance: Decimal | None
    applied: Decimal | None = None
    processed_at: datetime.datetime | None = None
    refusal: LineRefusal | None = None
    message: str | None = None

    @property
    def is_applied(self) -> bool:
        return self.refusal is None
