"""Template filters for the back office: amounts, dates and lateness, by the one rule for each.

Amounts are shown with thousands separators and exactly two places ("1,234,567.89"), formatted
from the `Decimal` (never a float); a form field is given the plain wire form (`plain_amount`) that
it reads back. Dates are ISO ("2026-06-30"); datetimes are in UTC ("2026-06-30 14:05 UTC").
"""

import datetime

from django import template

from billing_site.money import display_amount, format_amount
from invoices import due

register = template.Library()


@register.filter
def amount(value) -> str:
    """An amount for reading: "1,234,567.80" (the currency is shown beside it)."""
    return "" if value is None else display_amount(value)  # refuses more than two places


@register.filter
def plain_amount(value) -> str:
    """An amount as a form field takes it back: "1234567.80"."""
    return "" if value is None else format_amount(value)


@register.filter
def iso_date(value) -> str:
    """A date (or a datetime's UTC date) as YYYY-MM-DD."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime.datetime):
        value = _utc(value).date()
    return value.isoformat()


@register.filter
def iso_datetime(value) -> str:
    """A datetime in UTC as "YYYY-MM-DD HH:MM UTC"."""
    if value is None or value == "":
        return ""
    return f"{_utc(value):%Y-%m-%d %H:%M} UTC"


def _utc(value: datetime.datetime) -> datetime.datetime:
    return value.astimezone(datetime.UTC) if value.tzinfo else value


@register.filter
def days_late(due_date, as_of=None) -> int:
    """Whole days past `due_date` on `as_of` (default today); 0 when not yet late."""
    return due.days_late(due_date, as_of or None)


@register.filter
def after_today(day) -> bool:
    """Whether `day` is later than today (UTC): an invoice issued then is not yet owed."""
    return day > due.today()
