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
from payments.models import CreditNote, Payment, Refund
from payments.services import (
    CreditNoteLineInput,
    billing_items_pay,
    credit_apply,
    credit_note_issue,
    invoices_pay,
    payment_reverse,
    refund_issue,
)
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

REFUND = {"amount": "1.00", "tender_type": "1", "refund_date": "2026-02-01", "reference": "R"}

# Session and user (2), the user's and its groups' permissions (2), then the page's own. Every money
# service also writes its events (one statement, events.recording): previews and confirms of
# money pages count it.
BUDGETS = {
    # with the credit accounts hold, per currency (one aggregate)
    "dashboard": 7,
    "dashboard-as-of": 7,
    # with the totals per currency of every filtered row (one aggregate per kind, whose counts
    # are the pager's: no COUNT of its own) and the currency filter's choices
    "past-due": 9,
    "past-due-filtered": 10,
    "past-due-csv": 5,
    "past-due-xlsx": 5,
    # with its invoices' and contacts' billing items' figures (one query) and its credit's history
    # (one query per kind: applications, refunds, releases, credit notes)
    "account": 18,
    "contact": 11,  # with the credit applied to its billing items
    "account-pay": 9,  # with the tender types to choose from
    # The service's own queries, in a savepoint rolled back; the chosen tender type is read by the
    # form, by the service (with its account lock) and (as the list to choose from) by the page.
    "account-pay-preview": 19,
    # A confirm also asks whether its token was used (1), claims it in a savepoint (3), runs the
    # service in a savepoint of that transaction (2) and names the payment on the claim (1).
    "account-pay-confirm": 22,
    "contact-pay": 7,
    "contact-pay-preview": 17,
    "contact-pay-confirm": 20,
    "payment-reverse": 6,
    # with whether the payment was refunded (a refunded payment is not reversed)
    "payment-reverse-confirm": 18,
    # The account (1), the opening balance (1, a subquery per kind), the movements (one query per
    # kind: 7 for an account, 6 for a contact), the ageing (1) and (account) the credit then (1).
    "account-statement": 15,
    "account-statement-pdf": 15,
    "account-statement-csv": 15,
    "contact-statement": 13,
    "contact-statement-pdf": 13,
    "contact-statement-csv": 13,
    "invoice": 9,  # with the credit applied to it and its credit notes
    "payment": 7,  # with its refunds
    # The credit pages: the same pattern as record-a-payment (confirm_flow.py); a preview runs the
    # service in a savepoint rolled back, a confirm claims its token and names what it recorded.
    "apply-credit": 7,  # the open invoices and billing items to choose from
    "apply-credit-preview": 19,
    "apply-credit-confirm": 23,
    "account-refund": 6,
    "account-refund-preview": 18,
    "account-refund-confirm": 19,
    "payment-refund": 7,
    # with the releases of the payment's allocations (read back for the preview) and the locks
    # of what they settled
    "payment-refund-preview": 26,
    "payment-refund-confirm": 27,
    "refund": 8,  # with its releases and what their allocations settled
    "credit-note-new": 6,  # with the next free number
    "credit-note-preview": 18,
    "credit-note-confirm": 22,
    "credit-note": 6,
    "credit-note-pdf": 6,
}


def populate(scale: int):
    """`scale` accounts like the first, whose rows grow with `scale` too."""
    first = first_refundable = first_standing = None
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
        if first_standing is None:  # before the credit rows, as before there were any
            first_standing = Payment.objects.filter(account=account, reversal__isnull=True).first()
        refundable = credit_rows(account, items, scale)
        first_refundable = first_refundable or refundable
    contact = first.contacts.get()
    return {
        "refundable": first_refundable,
        "credit_note": CreditNote.objects.filter(account=first).first(),
        "refund": Refund.objects.filter(account=first, payment__isnull=False).first(),
        "account": first,
        "contact": contact,
        "payment": first_standing,
        "past_due": list(
            first.invoices.filter(status="open", due_date__lt=days_ago(0)).values_list(
                "pk", flat=True
            )
        ),
        "items": list(contact.billing_items.filter(balance__gt=0).values_list("pk", flat=True)),
    }


def credit_rows(account, items, scale: int) -> None:
    """Credit held, applied, refunded (from credit and of a payment), and credit notes."""
    for n in range(scale):
        invoices_pay(
            account_id=account.pk,
            amount="50.00",
            invoice_ids=[],
            excess_to_credit=True,
            actor=SYSTEM,
        )
        open_invoice = account.invoices.filter(status="open").order_by("pk").first()
        credit_apply(
            account_id=account.pk,
            invoice_ids=[open_invoice.pk],
            billing_item_ids=[items[-1].pk],
            amount="2.00",
            actor=SYSTEM,
        )
        refund_issue(account_id=account.pk, amount="1.00", actor=SYSTEM)
        credit_note_issue(
            invoice_id=open_invoice.pk,
            number=f"CN-P{n}",
            issue_date=days_ago(1),
            reason="Discount",
            lines=[CreditNoteLineInput(f"Line {k}", "1.00") for k in range(scale)],
            excess_to_credit=True,
            actor=SYSTEM,
        )
    refunded, refundable = (
        invoices_pay(account_id=account.pk, amount="10.00", actor=SYSTEM).payment for _ in range(2)
    )
    refund_issue(
        account_id=account.pk,
        payment_id=refunded.pk,
        amount="1.00",
        reason="Refunded",
        actor=SYSTEM,
    )
    return refundable


def requests(rows) -> dict:
    account, contact = rows["account"].pk, rows["contact"].pk
    amounts = {f"amount_{pk}": "1.00" for pk in rows["items"]}
    refundable, invoice = rows["refundable"].pk, rows["past_due"][0]
    apply = {"invoices": rows["past_due"], "billing_items": rows["items"], "amount": "1.00"}
    lines = {f"lines-{n}-description": f"Line {n}" for n in range(4)}
    lines |= {f"lines-{n}-amount": "0.50" for n in range(4)}
    note = {
        "number": "CN-NEW",
        "issue_date": "2026-02-01",
        "reason": "Discount",
        "lines-TOTAL_FORMS": "4",
        "lines-INITIAL_FORMS": "0",
        **lines,
    }
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
        "invoice": ("get", f"/backoffice/invoices/{rows['past_due'][0]}/", {}),
        "payment": ("get", f"/backoffice/payments/{rows['payment'].pk}/", {}),
        "apply-credit": ("get", f"/backoffice/accounts/{account}/apply-credit/", {}),
        "apply-credit-preview": (
            "post",
            f"/backoffice/accounts/{account}/apply-credit/",
            {**apply, "action": "preview"},
        ),
        "apply-credit-confirm": (
            "post",
            f"/backoffice/accounts/{account}/apply-credit/",
            {**apply, "action": "confirm"},
        ),
        "account-refund": ("get", f"/backoffice/accounts/{account}/refund/", {}),
        "account-refund-preview": (
            "post",
            f"/backoffice/accounts/{account}/refund/",
            {**REFUND, "action": "preview"},
        ),
        "account-refund-confirm": (
            "post",
            f"/backoffice/accounts/{account}/refund/",
            {**REFUND, "action": "confirm"},
        ),
        "payment-refund": ("get", f"/backoffice/payments/{refundable}/refund/", {}),
        "payment-refund-preview": (
            "post",
            f"/backoffice/payments/{refundable}/refund/",
            {**REFUND, "reason": "Refunded", "action": "preview"},
        ),
        "payment-refund-confirm": (
            "post",
            f"/backoffice/payments/{refundable}/refund/",
            {**REFUND, "reason": "Refunded", "action": "confirm"},
        ),
        "refund": ("get", f"/backoffice/refunds/{rows['refund'].pk}/", {}),
        "credit-note-new": ("get", f"/backoffice/invoices/{invoice}/credit-note/", {}),
        "credit-note-preview": (
            "post",
            f"/backoffice/invoices/{invoice}/credit-note/",
            {**note, "action": "preview"},
        ),
        "credit-note-confirm": (
            "post",
            f"/backoffice/invoices/{invoice}/credit-note/",
            {**note, "action": "confirm"},
        ),
        "credit-note": ("get", f"/backoffice/credit-notes/{rows['credit_note'].pk}/", {}),
        "credit-note-pdf": ("get", f"/backoffice/credit-notes/{rows['credit_note'].pk}/pdf", {}),
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
