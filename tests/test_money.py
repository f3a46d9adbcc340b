from decimal import Decimal

import pytest

from billing_site.money import InvalidAmount, format_amount, parse_amount


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("125", "125.00"),
        ("125.5", "125.50"),
        ("125.50", "125.50"),
        (" 125.50 ", "125.50"),
        ("0.01", "0.01"),
        (Decimal("125.5"), "125.50"),
        (Decimal("1E+2"), "100.00"),
        ("1e2", "100.00"),
        ("+5", "5.00"),
        (125, "125.00"),
        ("99999999999999999.99", "99999999999999999.99"),
        # Trailing zeros are the same amount (.NET's decimal keeps its scale: 1.000).
        ("1.000", "1.00"),
        ("5117.000", "5117.00"),
        (Decimal("2.5000"), "2.50"),
        ("99999999999999999.990", "99999999999999999.99"),
    ],
)
def test_parse_amount_accepts(value, expected):
    amount = parse_amount(value)

    assert amount == Decimal(expected)
    assert str(amount) == expected  # exactly two places, not just an equal value
    assert isinstance(amount, Decimal)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("12.345", "AMOUNT_TOO_PRECISE"),
        ("1.005", "AMOUNT_TOO_PRECISE"),
        (Decimal("1.0050"), "AMOUNT_TOO_PRECISE"),
        ("1.001000", "AMOUNT_TOO_PRECISE"),
        (Decimal("0.001"), "AMOUNT_TOO_PRECISE"),
        ("0", "AMOUNT_NOT_POSITIVE"),
        ("0.00", "AMOUNT_NOT_POSITIVE"),
        (0, "AMOUNT_NOT_POSITIVE"),
        ("-1", "AMOUNT_NOT_POSITIVE"),
        ("-0.01", "AMOUNT_NOT_POSITIVE"),
        ("-0", "AMOUNT_NOT_POSITIVE"),
        (1.5, "AMOUNT_NOT_A_NUMBER"),
        (True, "AMOUNT_NOT_A_NUMBER"),
        (None, "AMOUNT_NOT_A_NUMBER"),
        ("abc", "AMOUNT_NOT_A_NUMBER"),
        ("", "AMOUNT_NOT_A_NUMBER"),
        ("1_000", "AMOUNT_NOT_A_NUMBER"),
        ("\u0661\u0662", "AMOUNT_NOT_A_NUMBER"),  # Arabic-Indic digits
        ("1,000.00", "AMOUNT_NOT_A_NUMBER"),
        ("NaN", "AMOUNT_NOT_A_NUMBER"),
        ("Infinity", "AMOUNT_NOT_A_NUMBER"),
        (Decimal("NaN"), "AMOUNT_NOT_A_NUMBER"),
        ("1e30", "AMOUNT_TOO_LARGE"),
        (10**17, "AMOUNT_TOO_LARGE"),
        ("100000000000000000.00", "AMOUNT_TOO_LARGE"),
    ],
)
def test_parse_amount_refuses(value, code):
    with pytest.raises(InvalidAmount) as refused:
        parse_amount(value)

    assert refused.value.code == code
    assert refused.value.message == str(refused.value)


def test_allow_zero_accepts_zero_but_not_negative():
    assert str(parse_amount("0", allow_zero=True)) == "0.00"
    assert str(parse_amount("-0", allow_zero=True)) == "0.00"
    assert parse_amount("1.5", allow_zero=True) == Decimal("1.50")
    with pytest.raises(InvalidAmount) as refused:
        parse_amount("-0.01", allow_zero=True)
    assert refused.value.code == "AMOUNT_NOT_POSITIVE"


@pytest.mark.parametrize(
    ("amount", "wire"),
    [
        (Decimal("5"), "5.00"),
        (Decimal("5.1"), "5.10"),
        (Decimal("125.00"), "125.00"),
        (Decimal("0"), "0.00"),
        (Decimal("1E+3"), "1000.00"),
        (Decimal("99999999999999999.99"), "99999999999999999.99"),
    ],
)
def test_format_amount(amount, wire):
    assert format_amount(amount) == wire
