"""The official DocuSign Python SDK (`docusign-esign`) against this server, unchanged.

Contract 1.1: partners' existing client code must work with only `host` pointed here. Each test
drives `BillingApi` over real HTTP against pytest-django's `live_server` and compares the SDK's
models with the database.
"""

import datetime
import json
from decimal import Decimal

import docusign_esign
import pytest
from django.utils import timezone
from docusign_esign.client.api_exception import ApiException

from invoices.models import Invoice, InvoiceStatus
from payments.models import IdempotencyRecord, Payment, PaymentAllocation
from tests.factories import (
    AccountRoleFactory,
    ApiCredentialFactory,
    InvoiceFactory,
    InvoiceItemFactory,
    days_ago,
)

# live_server implies a transactional database; the marker says so explicitly.
pytestmark = pytest.mark.django_db(transaction=True)


def amount(value: Decimal) -> str:
    return f"{value:.2f}"


def wire_datetime(value: datetime.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@pytest.fixture
def role():
    """An administrator's credential on a EUR account that owes 30.00 + 120.00 past due, 40.00
    not yet due, and has one invoice already paid."""
    role = AccountRoleFactory(account__currency="EUR")
    account = role.account
    older = InvoiceFactory(account=account, due_date=days_ago(20), amount=Decimal("30.00"))
    InvoiceItemFactory(invoice=older, charge_name="Envelopes", unit_price=Decimal("30.00"))
    newer = InvoiceFactory(account=account, due_date=days_ago(10), amount=Decimal("120.00"))
    InvoiceItemFactory(
        invoice=newer,
        charge_name="Seats",
        quantity=2,
        unit_price=Decimal("50.00"),
        tax_amount=Decimal("0.00"),
    )
    InvoiceItemFactory(
        invoice=newer,
        charge_name="Support",
        unit_price=Decimal("20.00"),
        tax_exempt_amount=Decimal("20.00"),
    )
    InvoiceFactory(account=account, due_date=days_ago(-5), amount=Decimal("40.00"))
    InvoiceFactory(
        account=account, due_date=days_ago(60), amount=Decimal("10.00"), balance=Decimal("0.00")
    )
    return role


def billing_api(live_server, secret: str) -> docusign_esign.BillingApi:
    api_client = docusign_esign.ApiClient()
    api_client.host = live_server.url + "/restapi"
    api_client.set_default_header("Authorization", f"Bearer {secret}")
    return docusign_esign.BillingApi(api_client)


@pytest.fixture
def api(live_server, role):
    return billing_api(live_server, role.credential.secret)


@pytest.fixture(params=["number", "guid"])
def account_id(request, role):
    """DocuSign's {accountId}: the account number or the account GUID, to the same effect."""
    return str(role.account.number if request.param == "number" else role.account.guid)


def assert_invoice_matches(model, invoice: Invoice) -> None:
    """An SDK `BillingInvoice` equals the invoice as stored."""
    assert isinstance(model, docusign_esign.BillingInvoice)
    items = list(invoice.items.order_by("pk"))
    assert (
        model.invoice_id,
        model.invoice_number,
        model.amount,
        model.balance,
        model.due_date,
        model.invoice_uri,
        model.pdf_available,
    ) == (
        str(invoice.pk),
        invoice.number,
        amount(invoice.amount),
        amount(invoice.balance),
        invoice.due_date.isoformat(),
        f"/restapi/v2.1/accounts/{invoice.account.number}/billing_invoices/{invoice.pk}",
        "true",
    )
    non_taxable = sum((item.tax_exempt_amount for item in items), Decimal("0.00"))
    charged = sum((item.charge_amount for item in items), Decimal("0.00"))
    assert model.non_taxable_amount == amount(non_taxable)
    assert model.taxable_amount == amount(charged - non_taxable)
    assert all(isinstance(item, docusign_esign.BillingInvoiceItem) for item in model.invoice_items)
    assert [
        (
            item.invoice_item_id,
            item.charge_name,
            item.charge_amount,
            item.quantity,
            item.unit_price,
            item.tax_amount,
            item.tax_exempt_amount,
        )
        for item in model.invoice_items
    ] == [
        (
            str(item.pk),
            item.charge_name,
            amount(item.charge_amount),
            str(item.quantity),
            amount(item.unit_price),
            amount(item.tax_amount),
            amount(item.tax_exempt_amount),
        )
        for item in items
    ]


def past_due_invoices(account) -> list[Invoice]:
    return list(
        Invoice.objects.filter(account=account, due_date__lt=timezone.localdate(), balance__gt=0)
        .order_by("due_date")
        .prefetch_related("items")
    )


def test_list_invoices_past_due(api, role, account_id):
    summary = api.list_invoices_past_due(account_id)

    assert isinstance(summary, docusign_esign.BillingInvoicesSummary)
    assert (
        summary.past_due_balance,
        summary.account_balance,
        summary.payment_allowed,
        summary.currency_code,
    ) == ("150.00", "190.00", "true", "EUR")
    expected = past_due_invoices(role.account)
    assert [invoice.amount for invoice in expected] == [Decimal("30.00"), Decimal("120.00")]
    assert len(summary.billing_invoices) == 2
    for model, invoice in zip(summary.billing_invoices, expected, strict=True):
        assert_invoice_matches(model, invoice)
    assert [
        [item.charge_name for item in model.invoice_items] for model in summary.billing_invoices
    ] == [["Envelopes"], ["Seats", "Support"]]
    assert summary.billing_invoices[1].non_taxable_amount == "20.00"
    assert summary.billing_invoices[1].taxable_amount == "100.00"


def test_make_payment_then_read_it_back(api, role, account_id):
    summary = api.list_invoices_past_due(account_id)
    settled = past_due_invoices(role.account)

    response = api.make_payment(
        account_id,
        billing_payment_request=docusign_esign.BillingPaymentRequest(
            payment_amount=summary.past_due_balance
        ),
    )

    payment = Payment.objects.get()
    assert (payment.amount, payment.currency, payment.recorded_by_credential_id) == (
        Decimal("150.00"),
        "EUR",
        role.credential.pk,
    )
    assert isinstance(response, docusign_esign.BillingPaymentResponse)
    assert all(isinstance(p, docusign_esign.BillingPayment) for p in response.billing_payments)
    assert [(p.invoice_id, p.amount, p.payment_id) for p in response.billing_payments] == [
        (str(settled[0].pk), "30.00", str(payment.pk)),
        (str(settled[1].pk), "120.00", str(payment.pk)),
    ]
    assert list(PaymentAllocation.objects.order_by("pk").values_list("invoice_id", "amount")) == [
        (settled[0].pk, Decimal("30.00")),
        (settled[1].pk, Decimal("120.00")),
    ]
    assert list(
        Invoice.objects.filter(account=role.account)
        .order_by("due_date")
        .values_list("balance", "status")
    ) == [
        (Decimal("0.00"), InvoiceStatus.PAID),
        (Decimal("0.00"), InvoiceStatus.PAID),
        (Decimal("0.00"), InvoiceStatus.PAID),
        (Decimal("40.00"), InvoiceStatus.OPEN),
    ]

    after = api.list_invoices_past_due(account_id)
    assert (
        after.past_due_balance,
        after.account_balance,
        after.payment_allowed,
        after.billing_invoices,
    ) == ("0.00", "40.00", "false", [])

    expected_item = (
        "150.00",
        f"Payment {payment.number}",
        wire_datetime(payment.payment_date),
        str(payment.pk),
        payment.number,
    )

    def as_tuple(item):
        assert isinstance(item, docusign_esign.BillingPaymentItem)
        return (
            item.amount,
            item.description,
            item.payment_date,
            item.payment_id,
            item.payment_number,
        )

    listed = api.list_payments(account_id)
    assert isinstance(listed, docusign_esign.BillingPaymentsResponse)
    assert [as_tuple(item) for item in listed.billing_payments] == [expected_item]
    assert (listed.next_uri, listed.previous_uri) == (None, None)

    today = timezone.localdate()
    in_range = api.list_payments(
        account_id, from_date=days_ago(1).isoformat(), to_date=today.isoformat()
    )
    assert [as_tuple(item) for item in in_range.billing_payments] == [expected_item]
    before = api.list_payments(
        account_id, from_date=days_ago(30).isoformat(), to_date=days_ago(1).isoformat()
    )
    assert before.billing_payments == []

    fetched = api.get_payment(account_id, str(payment.pk))
    assert as_tuple(fetched) == expected_item
    assert fetched.payment_number == f"P{payment.pk:08d}"

    invoice = api.get_invoice(account_id, str(settled[1].pk))
    settled[1].refresh_from_db()
    assert_invoice_matches(invoice, settled[1])
    assert (invoice.amount, invoice.balance) == ("120.00", "0.00")


def test_list_invoices_in_a_date_range(api, role, account_id):
    """Invoices are dated by issue date (the factory issues them 30 days before they are due)."""
    issued_in_range = Invoice.objects.filter(
        account=role.account, issue_date__gte=days_ago(45), issue_date__lte=days_ago(20)
    ).order_by("pk")
    assert [invoice.amount for invoice in issued_in_range] == [
        Decimal("120.00"),
        Decimal("40.00"),
    ]

    listed = api.list_invoices(
        account_id, from_date=days_ago(45).isoformat(), to_date=days_ago(20).isoformat()
    )

    assert isinstance(listed, docusign_esign.BillingInvoicesResponse)
    assert (listed.next_uri, listed.previous_uri) == (None, None)
    assert len(listed.billing_invoices) == 2
    for model, invoice in zip(listed.billing_invoices, issued_in_range, strict=True):
        assert_invoice_matches(model, invoice)
    everything = api.list_invoices(account_id)
    assert [model.invoice_id for model in everything.billing_invoices] == [
        str(pk)
        for pk in Invoice.objects.filter(account=role.account)
        .order_by("pk")
        .values_list("pk", flat=True)
    ]


def test_a_wrong_amount_raises_the_sdks_api_exception(api, role, account_id):
    with pytest.raises(ApiException) as raised:
        api.make_payment(
            account_id,
            billing_payment_request=docusign_esign.BillingPaymentRequest(payment_amount="149.99"),
        )

    assert raised.value.status == 400
    assert json.loads(raised.value.body) == {
        "errorCode": "INVALID_PAYMENT_AMOUNT",
        "message": "The amount 149.99 does not match the balance due 150.00.",
    }
    assert not Payment.objects.exists()
    assert api.list_invoices_past_due(account_id).past_due_balance == "150.00"


def test_unknown_ids_and_bad_credentials_raise_the_sdks_api_exception(live_server, api, role):
    account_id = str(role.account.number)

    with pytest.raises(ApiException) as missing:
        api.get_payment(account_id, "999999")
    assert (missing.value.status, json.loads(missing.value.body)["errorCode"]) == (
        404,
        "PAYMENT_NOT_FOUND",
    )
    with pytest.raises(ApiException) as missing:
        api.get_invoice(account_id, "not-a-number")
    assert (missing.value.status, json.loads(missing.value.body)["errorCode"]) == (
        404,
        "INVOICE_NOT_FOUND",
    )

    stranger = billing_api(live_server, ApiCredentialFactory().secret)
    with pytest.raises(ApiException) as forbidden:
        stranger.list_invoices_past_due(account_id)
    assert (forbidden.value.status, json.loads(forbidden.value.body)["errorCode"]) == (
        403,
        "USER_LACKS_PERMISSIONS",
    )

    anonymous = billing_api(live_server, "not-a-key")
    with pytest.raises(ApiException) as unauthorized:
        anonymous.list_invoices_past_due(account_id)
    assert (unauthorized.value.status, json.loads(unauthorized.value.body)["errorCode"]) == (
        401,
        "AUTHORIZATION_INVALID_TOKEN",
    )


def test_an_sdk_client_can_retry_safely_with_an_idempotency_key(api, role, account_id):
    """The SDK has no idempotency parameter, but a default header reaches every call."""
    api.api_client.set_default_header("Idempotency-Key", "retry-1")
    request = docusign_esign.BillingPaymentRequest(payment_amount="150.00")

    first = api.make_payment(account_id, billing_payment_request=request)
    assert api.api_client.last_response.getheader("Idempotent-Replayed") is None
    retry = api.make_payment(account_id, billing_payment_request=request)

    assert api.api_client.last_response.getheader("Idempotent-Replayed") == "true"
    assert retry == first
    assert len(first.billing_payments) == 2
    assert Payment.objects.count() == 1
    assert list(IdempotencyRecord.objects.values_list("key", "credential_id", "status_code")) == [
        ("retry-1", role.credential.pk, 201)
    ]
