"""`from_date` / `to_date` query parameters: dates or ISO datetimes, inclusive, in UTC.

A date-only `to_date` covers that whole day. Missing `to_date` means now; missing `from_date`
means `to_date` minus 365 days (DocuSign: "the last 365 days").
"""

import datetime
from dataclasses import dataclass

from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

DEFAULT_SPAN = datetime.timedelta(days=365)
EARLIEST = datetime.datetime.min.replace(tzinfo=datetime.UTC)
LATEST = datetime.datetime.max.replace(tzinfo=datetime.UTC)


@dataclass(frozen=True)
class DateRange:
    start: datetime.datetime  # inclusive
    stop: datetime.datetime  # exclusive

    def datetime_lookups(self, field: str) -> dict:
        return {f"{field}__gte": self.start, f"{field}__lt": self.stop}

    def date_lookups(self, field: str) -> dict:
        last = self.stop - datetime.timedelta(microseconds=1)
        return {f"{field}__gte": self.start.date(), f"{field}__lte": last.date()}


def _parse(name: str, text: str) -> tuple[datetime.datetime, bool]:
    """The instant `text` names, and whether it was a bare date.

    What the client sent goes into the message as a parameter, never into its format: Django
    (and django-filter) apply `message % params`, so a `%` in the text must not be format.
    """
    text = text.strip()
    try:
        as_date = parse_date(text)
        if as_date is not None:
            return datetime.datetime.combine(as_date, datetime.time(), tzinfo=datetime.UTC), True
        as_datetime = parse_datetime(text)
    except ValueError:
        as_datetime = None
    if as_datetime is None:
        raise forms.ValidationError(
            f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 datetime, not %(value)r.",
            code="invalid",
            params={"value": text},
        )
    if timezone.is_naive(as_datetime):
        as_datetime = as_datetime.replace(tzinfo=datetime.UTC)
    try:
        return as_datetime.astimezone(datetime.UTC), False
    except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 is before year 1 in UTC
        raise forms.ValidationError(
            f"{name} is out of range (years 1 to 9999 in UTC): %(value)r.",
            code="invalid",
            params={"value": text},
        ) from None


def _shift(instant: datetime.datetime, delta: datetime.timedelta) -> datetime.datetime:
    """`instant + delta`, held at the ends of the calendar (to_date 9999-12-31, say)."""
    try:
        return instant + delta
    except OverflowError:
        return LATEST if delta > datetime.timedelta(0) else EARLIEST


def parse_date_range(from_text: str | None, to_text: str | None) -> DateRange:
    if to_text:
        to_instant, whole_day = _parse("to_date", to_text)
        stop = _shift(
            to_instant,
            datetime.timedelta(days=1) if whole_day else datetime.timedelta(microseconds=1),
        )
    else:
        to_instant = timezone.now()
        stop = to_instant + datetime.timedelta(microseconds=1)
    start = _parse("from_date", from_text)[0] if from_text else _shift(to_instant, -DEFAULT_SPAN)
    if start >= stop:
        raise forms.ValidationError("from_date must not be after to_date.", code="invalid")
    return DateRange(start=start, stop=stop)
