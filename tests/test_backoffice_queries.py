"""Every back-office page costs a fixed number of queries, whatever the number of rows.

Each page is requested on a small and on a large data set; both must stay within the page's
budget, and cost exactly the same. The user is a staff member with permissions (not a superuser),
so the permission checks are counted too.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.actors import SYSTEM
from payments.lines import BillingLine
from payments.models import Payment
from payments.services import billing_items_pay, invoices_pay, payment_reverse
from tests.backoffice_pages import cashier_user, preview_token
from tests.factories import (
    AccountFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    WriteDownFactory,
    days_ago,
)
from tests.pay_books import DETAILS

pytestmark = pytest.mark.django_db

# Session and user (2), the user's and its groups' permissions (2), then the page's own.
BUDGETS = {
    "dashboard": 6,
    "dashboard-as-of": 6,
    # with the totals per currency of every filtered row (one aggregate per kind, whose counts
    # are the pager's: no COUNT of its own) and the currency filter's choices
    "past-due": 9,
    "past-due-filtered": 10,
    "past-due-csv": 5,
    "past-due-xlsx": 5,
    "account": 14,  # with its invoices' and contacts' billing items' figures (one query)
    "contact": 10,
    "account-pay": 9,  # with the tender types to choose from
    # The service's own queries, in a savepoint rolled back; the chosen tender type is read by the
    # form, by the service (with its account lock) and (as the list to choose from) by the page.
    "account-pay-preview": 18,
    # A confirm also asks whether its token was used (1), claims it in a savepoint (3), runs the
    # service in a savepoint of that transaction (2) and names the payment on the claim (1).
    "account-pay-confirm": 21,
    "contact-pay": 7,
    "contact-pay-preview": 16,
    "contact-pay-confirm": 19,
    "payment-reverse": 6,
    # with whether the payment was refunded (a refunded payment is not reversed)
    "payment-reverse-confirm": 17,
    # The account (1), the opening balance (1, a subquery per kind), the movements (one query per
    # kind: 7 for an account, 6 for a contact), the ageing (1) and (account) the credit then (1).
    "account-statement": 15,
    "account-statement-pdf": 15,
    "account-statement-csv": 15,
    "contact-statement": 13,
    "contact-statement-pdf": 13,
    "contact-statement-csv": 13,
}


def populate(scale: int):
    """`scale` accounts like the first, whose rows grow with `scale` too."""
    first = None
    for _ in range(scale):
        account = AccountFactory(currency="USD")
        first = first or account
        for day in range(6 * scale):
            InvoiceFactory(account=account, due_date=days_ago(day * 13 - 10), amount=Decimal("100"))
        contact = ContactFactory(account=account)
        items = [
            BillingItemFactory(contact=contact, due_date=days_ago(day * 9 - 5))
            for day in range(4 * scale)
        ]
        for _ in range(2 * scale):
            invoices_pay(account_id=account.pk, amount="150.00", actor=SYSTEM)
            billing_items_pay(
                contact=contact,
                tender_type_id=1,
                payment_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
                lines=[BillingLine(item.pk, "5.00") for item in items[:3]],
                actor=SYSTEM,
            )
        for payment in Payment.objects.filter(account=account)[: scale + 1]:
            payment_reverse(payment_id=payment.pk, reason="Bounced", actor=SYSTEM)
        for item in items[:scale]:
            WriteDownFactory(billing_item=item, amount=Decimal("1.00"))
    contact = first.contacts.get()
    return {
        "account": first,
        "contact": contact,
        "payment": Payment.objects.filter(account=first, reversal__isnull=True).first(),
        "past_due": list(
            first.invoices.filter(status="open", due_date__lt=days_ago(0)).values_list(
                "pk", flat=True
            )
        ),
        "items": list(contact.billing_items.filter(balance__gt=0).values_list("pk", flat=True)),
    }


def requests(rows) -> dict:
    account, contact = rows["account"].pk, rows["contact"].pk
    amounts = {f"amount_{pk}": "1.00" for pk in rows["items"]}
    return {
        "dashboard": ("get", "/backoffice/", {}),
        "dashboard-as-of": ("get", "/backoffice/", {"as_of": days_ago(40).isoformat()}),
        "past-due": ("get", "/backoffice/past-due/", {"sort": "-balance"}),
        "past-due-filtered": (
            "get",
            "/backoffice/past-due/",
            {"account": account, "bucket": "31-60", "min_balance": "1", "page": "1"},
        ),
        "past-due-csv": ("get", "/backoffice/past-due/export.csv", {"sort": "account"}),
        "past-due-xlsx": ("get", "/backoffice/past-due/export.xlsx", {"sort": "account"}),
        "account": ("get", f"/backoffice/accounts/{account}/", {}),
        "contact": ("get", f"/backoffice/contacts/{contact}/", {}),
        "account-pay": ("get", f"/backoffice/accounts/{account}/pay/", {}),
        "account-pay-preview": (
            "post",
            f"/backoffice/accounts/{account}/pay/",
            {"invoices": rows["past_due"], **DETAILS, "action": "preview"},
        ),
        "contact-pay": ("get", f"/backoffice/contacts/{contact}/pay/", {}),
        "contact-pay-preview": (
            "post",
            f"/backoffice/contacts/{contact}/pay/",
            {"tender_type": 1, "payment_date": "2026-02-01", "action": "preview", **amounts},
        ),
        "payment-reverse": ("get", f"/backoffice/payments/{rows['payment'].pk}/reverse/", {}),
        "account-pay-confirm": (
            "post",
            f"/backoffice/accounts/{account}/pay/",
            {"invoices": rows["past_due"], "amount": "1.00", **DETAILS, "action": "confirm"},
        ),
        "contact-pay-confirm": (
            "post",
            f"/backoffice/contacts/{contact}/pay/",
            {"tender_type": 1, "payment_date": "2026-02-01", "action": "confirm", **amounts},
        ),
        **{
            f"{kind}-statement{suffix.replace('.', '-')}": (
                "get",
                f"/backoffice/{kind}s/{pk}/statement{suffix or '/'}",
                {"from": days_ago(400).isoformat(), "to": days_ago(0).isoformat()},
            )
            for kind, pk in (("account", account), ("contact", contact))
            for suffix in ("", ".pdf", ".csv")
        },
        "payment-reverse-confirm": (
            "post",
            f"/backoffice/payments/{rows['payment'].pk}/reverse/",
            {"reason": "Bounced"},
        ),
    }


def with_preview(client, url: str, data: dict) -> dict:
    """A confirm carries its preview's token, as the page does (the preview is not counted)."""
    if data.get("action") != "confirm":
        return data
    return {**data, "preview": preview_token(client.post(url, {**data, "action": "preview"}))}


def cost(client, method: str, url: str, data: dict) -> int:
    data = with_preview(client, url, data)
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, data)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code in (200, 302), (url, response.status_code)
    return len(queries)


@pytest.fixture
def client(client):
    client.force_login(cashier_user())
    return client


def costs(client, scale: int) -> dict[str, int]:
    rows = populate(scale)
    return {name: cost(client, *request) for name, request in requests(rows).items()}


def test_every_page_costs_the_same_few_queries_for_few_or_many_rows(
    client, django_assert_max_num_queries
):
    small = costs(client, 1)
    large = costs(client, 6)

    assert large == small
    for name, (method, url, data) in requests(populate(2)).items():
        data = with_preview(client, url, data)
        with django_assert_max_num_queries(BUDGETS[name]):
            response = getattr(client, method)(url, data)
            if response.streaming:
                b"".join(response.streaming_content)
    assert small == BUDGETS
