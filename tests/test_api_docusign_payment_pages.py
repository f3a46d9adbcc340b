"""DocuSign's payment list reads its pages with one statement written once
(payments.selectors.account_payment_page) under DRF's own cursor paging
(billing_site.api.pagination.KeysetRows), and its date range without building the filter set
(billing_site.api.filters.valid_date_range). These tests hold both to what they replaced: DRF's
paginator over the filtered queryset, and DateRangeFilterSet."""

import datetime
import itertools
from base64 import b64encode
from functools import partial
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from billing_site.api.filters import DateRangeFilterSet, valid_date_range
from billing_site.api.pagination import KeysetRows, uri_cursor_pagination
from payments.models import Payment
from payments.selectors import account_payment_page, account_payment_rows
from tests.docusign_api import both_mounts, data, get, url
from tests.factories import PaymentFactory, ReversalFactory

pytestmark = pytest.mark.django_db

START = datetime.datetime(2025, 3, 1, tzinfo=datetime.UTC)


def cursor_text(offset: int, reverse: bool, position: int | None) -> str:
    tokens = {}
    if offset:
        tokens["o"] = str(offset)
    if reverse:
        tokens["r"] = "1"
    if position is not None:
        tokens["p"] = str(position)
    return b64encode(urlencode(tokens).encode("ascii")).decode("ascii")


def request_for(params: dict) -> Request:
    return Request(APIRequestFactory().get("/restapi/v2.1/accounts/1/billing_payments", params))


@pytest.fixture
def spread(account):
    """Seven payments of the account a day apart (one reversed), one outside the range, and
    another account's in it."""
    made = [
        PaymentFactory(account=account, payment_date=START + datetime.timedelta(days=n))
        for n in range(7)
    ]
    ReversalFactory(payment=made[3])
    PaymentFactory(account=account, payment_date=START - datetime.timedelta(days=1))
    PaymentFactory(payment_date=START + datetime.timedelta(days=2))
    return made


def test_keyset_pages_are_drfs_over_the_queryset(account, spread):
    """Every cursor a client could send (positions on, between and past the rows, offsets,
    either direction, page sizes): the same rows and the same links."""
    stop = START + datetime.timedelta(days=6, hours=1)  # the seventh payment is left out
    pks = [payment.pk for payment in spread]
    positions = [None, pks[0] - 1, pks[0], pks[2], pks[5], pks[6], pks[6] + 50]
    queryset = account_payment_rows(account).filter(payment_date__gte=START, payment_date__lt=stop)
    fetch = partial(account_payment_page, account, START, stop)
    pagination = uri_cursor_pagination("billingPayments")
    for count, offset, reverse, position in itertools.product(
        [None, "1", "2", "3"], [0, 1, 2, 7], [False, True], positions
    ):
        params = {"cursor": cursor_text(offset, reverse, position)}
        if count is not None:
            params["count"] = count
        expected, actual = pagination(), pagination()
        expected_rows = expected.paginate_queryset(queryset, request_for(params))
        actual_rows = actual.paginate_queryset(KeysetRows(fetch), request_for(params))

        case = (count, offset, reverse, position)
        assert [row["pk"] for row in actual_rows] == [row["pk"] for row in expected_rows], case
        assert actual.get_paginated_response([]).data == (
            expected.get_paginated_response([]).data
        ), case


def test_keyset_rows_refuse_what_they_do_not_read():
    rows = KeysetRows(lambda **_: [])
    for call in (
        lambda: rows.order_by("payment_date"),
        lambda: rows.filter(pk__gte=3),
        lambda: rows[2],
        lambda: rows[0:10:2],
    ):
        with pytest.raises(TypeError):
            call()


def test_page_rows_are_the_accounts_only(account, spread):
    rows = account_payment_page(
        account,
        START - datetime.timedelta(days=30),
        START + datetime.timedelta(days=30),
        descending=True,
        after=None,
        before=spread[5].pk,
        offset=1,
        limit=3,
    )

    assert [row["pk"] for row in rows] == [spread[3].pk, spread[2].pk, spread[1].pk]
    assert rows[0]["reversal"] is not None
    assert rows[1]["reversal"] is None
    assert Payment.objects.count() == 9


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"from_date": "2025-03-01"},
        {"to_date": "2025-03-10"},
        {"from_date": " 2025-03-01 ", "to_date": "\t2025-03-10T12:00:00+02:00\n"},
        {"from_date": "2025-03-05T12:00:00Z", "to_date": "2025-03-05T12:00:00Z"},
        {"from_date": "", "to_date": "2025-03-10"},
        {"from_date": "0001-01-01", "to_date": "9999-12-31"},
        {"to_date": "9999-12-31T23:59:59.999999Z"},
        {"from_date": "2025-03-01T00:00:00.5"},
        # refused:
        {"from_date": "yesterday"},
        {"from_date": "2025-02-30"},
        {"to_date": "2025-03-10T25:00:00Z"},
        {"from_date": "2025-03-10", "to_date": "2025-03-09"},
        {"from_date": "2999-01-01"},
        {"from_date": "0001-01-01T00:00:00+05:00"},
        {"from_date": "2025-03-01\x00"},
        {"to_date": "\x00"},
        {"from_date": "   "},
        [("from_date", "yesterday"), ("from_date", "2025-03-01")],  # the last one counts
        [("to_date", "2025-03-10"), ("to_date", "nonsense")],
    ],
)
def test_date_range_is_the_filter_sets(params, monkeypatch):
    now = datetime.datetime(2026, 12, 6, 14, 0, 0, 123456, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: now)  # "now" read by each
    query = QueryDict(urlencode(params))
    filter_set = DateRangeFilterSet(data=query, queryset=Payment.objects.none())

    date_range = valid_date_range(query)

    if filter_set.is_valid():
        assert date_range == filter_set.form.cleaned_data["date_range"]
    else:
        assert date_range is None


@both_mounts
def test_list_in_another_time_zone_is_drfs(client, mount, account, credential):
    """The payment date is written from UTC text; a zone other than UTC (never activated by the
    app) still gets what DRF's DateTimeField writes."""
    payment = PaymentFactory(
        account=account,
        payment_date=timezone.now().replace(microsecond=0) - datetime.timedelta(days=2),
    )
    other = PaymentFactory(
        account=account, payment_date=timezone.now() - datetime.timedelta(microseconds=7)
    )
    with timezone.override("America/New_York"):
        body = data(mount, get(client, url(mount, account, "billing_payments"), credential))
        single = data(
            mount, get(client, url(mount, account, f"billing_payments/{payment.pk}"), credential)
        )
        written = [
            timezone.localtime(p.payment_date).isoformat() for p in (payment, other)
        ]  # DRF: isoformat in the current zone, "+00:00" as "Z" (not here)

    assert [item["paymentDate"] for item in body["billingPayments"]] == written
    assert single["paymentDate"] == written[0]
    assert written[0].endswith(("-05:00", "-04:00"))
