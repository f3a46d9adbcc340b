"""Where the dashboard's figures open: the filtered lists behind them, their URLs built here only.

The past-due list's query parameters are a contract shared with that list (its filters are its
own): `currency` (the ISO code), `bucket` (one of `LATE_BUCKETS`: 1-30, 31-60, 61-90, 90+)
and `as_of` (an ISO date, given only when it is not today), in that order:
`/backoffice/past-due/?currency=EUR&bucket=31-60&as_of=2026-06-30`. The accounts list takes
`past_due=1` and `currency` (search_views.AccountListView). Templates use these through the
`links` template tags, never by pasting query strings together.
"""

import datetime
from urllib.parse import urlencode

from django.urls import reverse

from invoices.due import today
from payments.receivables import AGEING_BUCKETS

LATE_BUCKETS = tuple(bucket for bucket in AGEING_BUCKETS if bucket != "current")


def past_due_url(
    currency: str, bucket: str | None = None, as_of: datetime.date | None = None
) -> str:
    """The past-due list of `currency`'s invoices, in `bucket` if given, as of `as_of`."""
    params = {"currency": currency}
    if bucket is not None:
        if bucket not in LATE_BUCKETS:
            raise ValueError(f"No past-due list for the bucket {bucket!r}.")
        params["bucket"] = bucket
    if as_of is not None and as_of != today():
        params["as_of"] = as_of.isoformat()
    return f"{reverse('backoffice:past-due')}?{urlencode(params)}"


def accounts_past_due_url(currency: str) -> str:
    """The accounts list, only the accounts of `currency` with a past-due balance (today)."""
    params = {"past_due": "1", "currency": currency}
    return f"{reverse('backoffice:accounts')}?{urlencode(params)}"
