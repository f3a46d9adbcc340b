"""GET billing_invoices_past_due (DocuSign listInvoicesPastDue), on both mounts."""

import datetime
from decimal import Decimal

import pytest

from invoices.models import InvoiceStatus
from tests.docusign_api import PREFIXES, both_mounts, data, get, url
from tests.factories import (
    AccountFactory,
    AccountRoleFactory,
    InvoiceFactory,
    InvoiceItemFactory,
    days_ago,
)

pytestmark = pytest.mark.django_db

PATH = "billing_invoices_past_due"


def invoice_body(mount, account, invoice, items, *, taxable, non_taxable) -> dict:
    """The exact `billingInvoice` expected for `invoice` and its `items`."""
    return {
        "amount": f"{invoice.amount:.2f}",
        "balance": f"{invoice.balance:.2f}",
        "dueDate": invoice.due_date.isoformat(),
        "invoiceId": str(invoice.pk),
        "invoiceItems": [
            {
                "chargeAmount": f"{item.charge_amount:.2f}",
                "chargeName": item.charge_name,
                "invoiceItemId": str(item.pk),
                "quantity": str(item.quantity),
                "taxAmount": f"{item.tax_amount:.2f}",
                "taxExemptAmount": f"{item.tax_exempt_amount:.2f}",
                "unitPrice": f"{item.unit_price:.2f}",
            }
            for item in items
        ],
        "invoiceNumber": invoice.number,
        "invoiceUri": f"{PREFIXES[mount]}/{account.number}/billing_invoices/{invoice.pk}",
        "nonTaxableAmount": non_taxable,
        "pdfAvailable": "true",
        "taxableAmount": taxable,
    }


@pytest.fixture
def ledger(account):
    """Past-due, current, paid and void invoices, and another account's past-due invoice."""
    # Created newest first, so that "oldest due date first" is not the creation order.
    recent = InvoiceFactory(
        account=account,
        number="INV-RECENT",
        due_date=days_ago(1),
        amount=Decimal("30.00"),
        balance=Decimal("20.00"),
    )
    recent_items = [
        InvoiceItemFactory(
            invoice=recent, charge_name="Seat", quantity=1, unit_price=Decimal("30.00")
        )
    ]
    oldest = InvoiceFactory(
        account=account, number="INV-OLDEST", due_date=days_ago(40), amount=Decimal("105.50")
    )
    oldest_items = [
        InvoiceItemFactory(
            invoice=oldest,
            charge_name="Envelopes",
            quantity=3,
            unit_price=Decimal("25.00"),
            tax_amount=Decimal("0.50"),
        ),
        InvoiceItemFactory(
            invoice=oldest,
            charge_name="Support plan",
            quantity=1,
            unit_price=Decimal("30.00"),
            tax_exempt_amount=Decimal("30.00"),
        ),
    ]
    InvoiceFactory(
        account=account, number="INV-TODAY", due_date=days_ago(0), amount=Decimal("50.00")
    )
    InvoiceFactory(
        account=account, number="INV-FUTURE", due_date=days_ago(-5), amount=Decimal("15.00")
    )
    InvoiceFactory(account=account, number="INV-PAID", due_date=days_ago(60), balance=Decimal("0"))
    InvoiceFactory(
        account=account,
        number="INV-VOID",
        due_date=days_ago(60),
        amount=Decimal("80.00"),
        status=InvoiceStatus.VOID,
    )
    InvoiceFactory(number="INV-OTHER", due_date=days_ago(30), amount=Decimal("999.00"))
    return (oldest, oldest_items), (recent, recent_items)


@both_mounts
def test_past_due_summary_exact_body(client, mount, account, credential, ledger):
    (oldest, oldest_items), (recent, recent_items) = ledger

    body = data(mount, get(client, url(mount, account, PATH), credential))

    assert body == {
        # 125.50 past due + 50.00 due today + 15.00 due in five days; paid and void left out.
        "accountBalance": "190.50",
        "billingInvoices": [
            invoice_body(
                mount, account, oldest, oldest_items, taxable="75.00", non_taxable="30.00"
            ),
            invoice_body(mount, account, recent, recent_items, taxable="30.00", non_taxable="0.00"),
        ],
        "currencyCode": "EUR",
        "pastDueBalance": "125.50",
        "paymentAllowed": "true",
    }


@both_mounts
def test_every_value_is_a_string(client, mount, account, credential, ledger):
    body = data(mount, get(client, url(mount, account, PATH), credential))

    def leaves(value):
        if isinstance(value, dict):
            for child in value.values():
                yield from leaves(child)
        elif isinstance(value, list):
            for child in value:
                yield from leaves(child)
        else:
            yield value

    assert body["billingInvoices"]
    assert all(isinstance(value, str) for value in leaves(body))


@both_mounts
def test_invoice_due_today_is_not_past_due(client, mount, account, credential):
    InvoiceFactory(account=account, due_date=days_ago(0), amount=Decimal("125.50"))

    body = data(mount, get(client, url(mount, account, PATH), credential))

    assert body == {
        "accountBalance": "125.50",
        "billingInvoices": [],
        "currencyCode": "EUR",
        "pastDueBalance": "0.00",
        "paymentAllowed": "false",
    }


@both_mounts
def test_nothing_owed(client, mount, account, credential):
    InvoiceFactory(account=account, due_date=days_ago(10), balance=Decimal("0"))

    body = data(mount, get(client, url(mount, account, PATH), credential))

    assert body == {
        "accountBalance": "0.00",
        "billingInvoices": [],
        "currencyCode": "EUR",
        "pastDueBalance": "0.00",
        "paymentAllowed": "false",
    }


@both_mounts
def test_payment_not_allowed_when_account_blocked(client, mount, account, credential):
    account.api_payments_blocked = True
    account.save()
    invoice = InvoiceFactory(account=account, due_date=days_ago(3), amount=Decimal("125.50"))

    body = data(mount, get(client, url(mount, account, PATH), credential))

    assert body["paymentAllowed"] == "false"
    assert body["pastDueBalance"] == "125.50"
    assert [i["invoiceId"] for i in body["billingInvoices"]] == [str(invoice.pk)]


@both_mounts
def test_oldest_due_date_first_then_id(client, mount, account, credential):
    same_day_second = InvoiceFactory(account=account, due_date=days_ago(5))
    newest = InvoiceFactory(account=account, due_date=days_ago(2))
    oldest = InvoiceFactory(account=account, due_date=days_ago(90))
    same_day_third = InvoiceFactory(account=account, due_date=days_ago(5))

    body = data(mount, get(client, url(mount, account, PATH), credential))

    assert [i["invoiceId"] for i in body["billingInvoices"]] == [
        str(oldest.pk),
        str(same_day_second.pk),
        str(same_day_third.pk),
        str(newest.pk),
    ]
    assert body["pastDueBalance"] == "400.00"


@both_mounts
def test_account_number_and_guid_give_identical_bodies(client, mount, account, credential, ledger):
    by_number = data(mount, get(client, url(mount, account, PATH), credential))
    by_guid = data(mount, get(client, url(mount, str(account.guid), PATH), credential))
    by_upper_guid = data(
        mount, get(client, url(mount, str(account.guid).upper(), PATH), credential)
    )

    assert by_guid == by_number
    assert by_upper_guid == by_number


@both_mounts
def test_currency_code_is_the_accounts(client, mount):
    role = AccountRoleFactory(account=AccountFactory(currency="JPY"))

    body = data(mount, get(client, url(mount, role.account, PATH), role.credential))

    assert body["currencyCode"] == "JPY"


def past_due_invoices(account, count: int) -> None:
    for n in range(count):
        invoice = InvoiceFactory(
            account=account, due_date=days_ago(10) - datetime.timedelta(days=n % 7)
        )
        for _ in range(3):
            InvoiceItemFactory(invoice=invoice, unit_price=Decimal("10.00"))


def test_query_count_does_not_grow_with_invoices(
    client, account, credential, django_assert_num_queries, django_assert_max_num_queries
):
    address = url("restapi", account, PATH)
    past_due_invoices(account, 3)
    # The key's roles and the account of the URL come with its authentication: no query of their
    # own. The key (with the account), the history context, the totals, the past-due invoices
    # joined to their items.
    with django_assert_num_queries(4) as small:
        response = get(client, address, credential)
    assert len(response.json()["billingInvoices"]) == 3

    past_due_invoices(account, 57)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = get(client, address, credential)
    assert len(response.json()["billingInvoices"]) == 60
    assert response.json()["pastDueBalance"] == "6000.00"
