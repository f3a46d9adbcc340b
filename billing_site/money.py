"""Money: `Decimal` with two places, never `float`.

Amounts are parsed (and refused, never rounded) here, and formatted for the wire here, so that the
rules live in one place whatever API or form the amount came through.
"""

import re
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.core.validators import RegexValidator
from django.db import models

MAX_DIGITS = 19
DECIMAL_PLACES = 2
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal(10 ** (MAX_DIGITS - DECIMAL_PLACES)) - CENT
# What `Decimal()` would take from a string, minus its leniencies ("1_000", non-ASCII digits).
DECIMAL_STRING = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)

currency_code_validator = RegexValidator(
    r"^[A-Z]{3}$", "Enter an ISO 4217 currency code: three capital letters, e.g. USD."
)


class InvalidAmount(ValueError):
    """An amount that is not a finite decimal of at most two places within range."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class MoneyField(models.DecimalField):
    """A `DecimalField(max_digits=19, decimal_places=2)`: the one shape of every stored amount."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("max_digits", MAX_DIGITS)
        kwargs.setdefault("decimal_places", DECIMAL_PLACES)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "billing_site.money.MoneyField", args, kwargs


def parse_decimal(value: object) -> Decimal:
    """`value` as an exact `Decimal` if it is a finite decimal number, else `InvalidAmount`.

    Accepts `Decimal`, `int` and plain ASCII numeric strings ("125", "-1.5", "1e3"). A `float`
    is refused: JSON numbers must be parsed as `Decimal` at the edge. Booleans are not numbers
    here, and neither are the strings `Decimal()` is lenient with ("1_000", non-ASCII digits).
    """
    not_a_number = InvalidAmount("AMOUNT_NOT_A_NUMBER", "The amount must be a decimal number.")
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise not_a_number
    if isinstance(value, str):
        value = value.strip()
        if not DECIMAL_STRING.fullmatch(value):
            raise not_a_number
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise not_a_number from None
    if not number.is_finite():
        raise not_a_number
    return number


def parse_amount(value: object, *, allow_zero: bool = False) -> Decimal:
    """Return `value` as a two-place `Decimal`, or raise `InvalidAmount`.

    `value` must be a decimal number (`parse_decimal`). More than two decimal places is refused,
    not rounded; so is anything not greater than zero (or, with `allow_zero`, less than zero).
    """
    amount = parse_decimal(value)
    if amount < 0 or (amount == 0 and not allow_zero):
        limit = "must not be negative" if allow_zero else "must be greater than zero"
        raise InvalidAmount("AMOUNT_NOT_POSITIVE", f"The amount {limit}.")
    if amount > MAX_AMOUNT:
        raise InvalidAmount("AMOUNT_TOO_LARGE", "The amount is too large.")
    if amount != amount.quantize(CENT, rounding=ROUND_DOWN):
        raise InvalidAmount(
            "AMOUNT_TOO_PRECISE", "The amount must have at most two decimal places."
        )
    return amount.copy_abs().quantize(CENT)  # "-0" is zero: never "-0.00" on the wire


def format_amount(amount: Decimal) -> str:
    """The wire form of an amount: a string with exactly two places, e.g. "125.00".

    Never rounds: an amount with more places is a bug upstream, and is refused loudly.
    """
    two_places = amount.quantize(CENT)
    if two_places != amount:
        raise ValueError(f"{amount!r} has more than two decimal places.")
    return f"{two_places:f}"


def display_amount(amount: Decimal) -> str:
    """An amount for reading, as the back office and the admin show it: "1,234,567.80".

    Like `format_amount`, never rounds: an amount of more than two places is refused.
    """
    format_amount(amount)
    return f"{amount:,.2f}"
