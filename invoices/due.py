"""When something is owed and when it is past due. One rule, used by every query, page and API.

An invoice is owed from its issue date (an invoice issued in the future is not yet owed: it is
listed, but counts in no balance) until it is paid or void. An invoice or billing item is past due
once its due date is before today (UTC): due today is not yet late. What was owed on an earlier day
is recomputed from the money movements dated up to it (payments.receivables).
"""

import datetime

from django.db.models import Q
from django.utils import timezone


def today() -> datetime.date:
    return timezone.localdate()  # TIME_ZONE is UTC


def overdue_q(as_of: datetime.date | None = None, prefix: str = "") -> Q:
    """Anything with a due date (invoice, billing item) due before `as_of` (default: today)."""
    return Q(**{f"{prefix}due_date__lt": as_of or today()})


def owed_q(as_of: datetime.date | None = None, prefix: str = "") -> Q:
    """Invoices owed on `as_of` (default: today) by their stored balance: open, and issued by
    then. Only for today or later: earlier days are recomputed (payments.receivables)."""
    return Q(**{f"{prefix}status": "open", f"{prefix}issue_date__lte": as_of or today()})


def past_due_q(as_of: datetime.date | None = None, prefix: str = "") -> Q:
    """Open invoices whose due date has passed on `as_of` (default: today). The due date is never
    before the issue date (a database constraint), so these are all owed."""
    return Q(**{f"{prefix}status": "open"}) & overdue_q(as_of, prefix)


def days_late(due_date: datetime.date, as_of: datetime.date | None = None) -> int:
    """Whole days past the due date on `as_of`; 0 when not yet late."""
    return max(((as_of or today()) - due_date).days, 0)


# The same rules as SQL conditions on an invoice aliased `i`, for the statements written once
# (billing_site/model_sql.py: `model_sql.sql(..., i=Invoice)`), with the day as `%(as_of)s`.
# tests/test_model_sql.py holds each to its Q object above, row for row.
OWED_SQL = "{i.status} = 'open' AND {i.issue_date} <= %(as_of)s"
OVERDUE_SQL = "{i.due_date} < %(as_of)s"
PAST_DUE_SQL = "{i.status} = 'open' AND {i.due_date} < %(as_of)s"
