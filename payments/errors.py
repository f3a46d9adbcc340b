"""Typed refusals of the money service. Each API maps them to its own codes and envelope."""

from decimal import Decimal


class PaymentError(Exception):
    """A refused money operation; nothing was written. `code` is stable, `message` for people."""

    code = "PAYMENT_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PaymentNotAllowed(PaymentError):
    """The account is blocked from API payments."""

    code = "PAYMENT_NOT_ALLOWED"


class NothingToPay(PaymentError):
    """No open (past-due, where asked) invoice matched."""

    code = "NOTHING_TO_PAY"


class InvoiceNotPayable(PaymentError):
    """A named invoice is unknown, another account's, not open, or not past due where required."""

    code = "INVOICE_NOT_PAYABLE"


class AmountMismatch(PaymentError):
    """The amount must settle the invoices exactly, and does not."""

    code = "AMOUNT_MISMATCH"

    def __init__(self, message: str, *, expected: Decimal) -> None:
        super().__init__(message)
        self.expected = expected


class AmountOverBalance(PaymentError):
    """More than is owed; there is no credit balance to put the rest on."""

    code = "AMOUNT_OVER_BALANCE"


class InvalidPaymentAmount(PaymentError):
    """Not a positive decimal with at most two places (see billing_site.money.parse_amount)."""

    code = "INVALID_AMOUNT"


class TenderTypeNotAvailable(PaymentError):
    code = "TENDER_TYPE_NOT_AVAILABLE"


class NoLines(PaymentError):
    code = "NO_LINES"


class DuplicateLine(PaymentError):
    code = "DUPLICATE_BILLING_ID"


class ReasonRequired(PaymentError):
    code = "REASON_REQUIRED"


class PaymentAlreadyReversed(PaymentError):
    code = "PAYMENT_ALREADY_REVERSED"


class CreditInsufficient(PaymentError):
    """More than the account's credit holds (an application, a refund, a reversal that would
    take back credit already applied or refunded)."""

    code = "CREDIT_INSUFFICIENT"


class NothingToSettle(PaymentError):
    """No open invoice or billing item with a balance among those chosen."""

    code = "NOTHING_TO_SETTLE"


class RefundNotAllowed(PaymentError):
    """A refund of a reversed payment, or of more than the payment still holds."""

    code = "REFUND_NOT_ALLOWED"


class CreditNoteRefused(PaymentError):
    """A credit note that cannot be issued: no lines, a number used already in the account, more
    than the invoice owes without the excess going to credit, or an invoice that is void."""

    code = "CREDIT_NOTE_REFUSED"
