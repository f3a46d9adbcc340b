"""The DocuSign API when the account's invoices were settled from credit or credit notes: its
rules are unchanged (a payment equals the past-due balance, nothing goes to credit), and its
summary and payment bodies stay right."""

from decimal import Decimal

import pytest

from contacts.models import Account
from invoices.models import Invoice
from payments.actors import SYSTEM
from payments.models import Payment
from payments.services import CreditNoteLineInput, credit_apply, credit_note_issue, invoices_pay
from tests.docusign_api import both_mounts, data, get, post, url
from tests.factories import InvoiceFactory, days_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(account):
    """30.00, 50.00 and 70.00 past due; 40.00 received into credit, 30.00 of it applied to the
    first, and a credit note of 20.00 on the second: 30.00 + 70.00 still past due."""
    first, second, third = (
        InvoiceFactory(account=account, due_date=days_ago(days), amount=Decimal(amount))
        for days, amount in ((30, "30.00"), (20, "50.00"), (10, "70.00"))
    )
    invoices_pay(
        account_id=account.pk, amount="40.00", actor=SYSTEM, invoice_ids=[], excess_to_credit=True
    )
    credit_apply(account_id=account.pk, actor=SYSTEM, invoice_ids=[first.pk])
    credit_note_issue(
        invoice_id=second.pk,
        number="CN-1",
        issue_date=days_ago(1),
        reason="Discount",
        lines=[CreditNoteLineInput("Discount", "20.00")],
        actor=SYSTEM,
    )
    return first, second, third


@both_mounts
def test_the_summary_counts_what_credit_and_credit_notes_left(
    client, mount, account, credential, books
):
    _first, second, third = books
    summary = data(mount, get(client, url(mount, account, "billing_invoices_past_due"), credential))
    assert (summary["pastDueBalance"], summary["accountBalance"]) == ("100.00", "100.00")
    assert [(i["invoiceId"], i["balance"]) for i in summary["billingInvoices"]] == [
        (str(second.pk), "30.00"),
        (str(third.pk), "70.00"),
    ]


@both_mounts
def test_a_payment_still_equals_the_past_due_balance_and_goes_to_no_credit(
    client, mount, account, credential, books
):
    _first, second, third = books
    address = url(mount, account, "billing_payments")
    too_much = post(client, address, {"paymentAmount": "110.00"}, credential)
    assert too_much.status_code == 400
    paid = data(mount, post(client, address, {"paymentAmount": "100.00"}, credential), 201)
    assert [(p["invoiceId"], p["amount"]) for p in paid["billingPayments"]] == [
        (str(second.pk), "30.00"),
        (str(third.pk), "70.00"),
    ]
    api_payment = Payment.objects.order_by("pk").last()
    assert (api_payment.amount, api_payment.credit_amount) == (Decimal("100.00"), Decimal("0.00"))
    assert Account.objects.get(pk=account.pk).credit_balance == Decimal("10.00")
    assert set(Invoice.objects.filter(account=account).values_list("balance", flat=True)) == {
        Decimal("0.00")
    }
