"""The DocuSign read endpoints build their bodies from rows (payments.docusign.bodies), not by
running the serializers that describe them in the schema. These tests hold them to those
serializers, run over model instances as the endpoints once did: the same bytes."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from invoices.selectors import past_due_summary
from payments.docusign.serializers import (
    BillingInvoicesSummarySerializer,
    BillingPaymentItemSerializer,
)
from payments.selectors import account_payments
from tests.docusign_api import PREFIXES, both_mounts, get
from tests.factories import InvoiceFactory, InvoiceItemFactory, PaymentFactory, ReversalFactory

pytestmark = pytest.mark.django_db

NAMESPACES = {"restapi": "docusign", "seed": "docusign-seed"}


def rendered(mount: str, body) -> bytes:
    """`body` as the mount renders a success (the seed's envelope around it)."""
    return JSONRenderer().render(body if mount == "restapi" else {"success": True, "data": body})


def by_guid(mount: str, account, path: str) -> str:
    """The URL with the account's GUID: `invoiceUri` still names the account by its number."""
    return f"{PREFIXES[mount]}/{account.guid}/{path}"


@pytest.fixture
def mixed_invoices(account):
    """Past-due invoices with no, one and several items, odd amounts, a non-ASCII name."""
    bare = InvoiceFactory(account=account, due_date=days(20), amount=Decimal("0.01"))
    one = InvoiceFactory(account=account, due_date=days(20), amount=Decimal("1234567.89"))
    InvoiceItemFactory(invoice=one, charge_name="Sièges «pro»", unit_price=Decimal("1234567.89"))
    several = InvoiceFactory(
        account=account, due_date=days(90), amount=Decimal("330.50"), balance=Decimal("0.50")
    )
    for quantity, price, tax, exempt in [
        (3, "25.00", "0.50", "0.00"),
        (1, "30.00", "0.00", "30.00"),
        (10, "22.55", "1.05", "100.00"),
    ]:
        InvoiceItemFactory(
            invoice=several,
            quantity=quantity,
            unit_price=Decimal(price),
            tax_amount=Decimal(tax),
            tax_exempt_amount=Decimal(exempt),
        )
    InvoiceFactory(account=account, due_date=days(-3))  # not yet due: in the totals only
    return bare, one, several


def days(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


@both_mounts
@pytest.mark.parametrize("blocked", [False, True])
def test_past_due_body_is_the_serializers(
    client, mount, account, credential, mixed_invoices, blocked
):
    account.api_payments_blocked = blocked
    account.save()
    view = SimpleNamespace(
        account=account,
        request=SimpleNamespace(resolver_match=SimpleNamespace(namespace=NAMESPACES[mount])),
    )
    expected = BillingInvoicesSummarySerializer(
        past_due_summary(account), context={"view": view}
    ).data

    response = get(client, by_guid(mount, account, "billing_invoices_past_due"), credential)

    assert response.status_code == 200
    assert response.content == rendered(mount, expected)
    assert len(expected["billingInvoices"]) == 3


@pytest.fixture
def payments(account):
    """Payments described and not, reversed and not, with and without microseconds."""
    now = timezone.now().replace(microsecond=0)
    made = [
        PaymentFactory(account=account, amount=Decimal("125.50"), payment_date=now),
        PaymentFactory(
            account=account,
            amount=Decimal("0.01"),
            description="Wire «March»",
            payment_date=now - datetime.timedelta(days=3, microseconds=250),
        ),
        PaymentFactory(account=account, amount=Decimal("9999999.99"), description="By card"),
        PaymentFactory(account=account, amount=Decimal("10.00")),
    ]
    ReversalFactory(payment=made[2])
    ReversalFactory(payment=made[3])
    PaymentFactory(amount=Decimal("999.00"))  # another account's
    return made


def serialized_payments(account, pks) -> list:
    rows = account_payments(account).filter(pk__in=pks).order_by("pk")
    return BillingPaymentItemSerializer(rows, many=True).data


@both_mounts
def test_payment_list_body_is_the_serializers(client, mount, account, credential, payments):
    address = by_guid(mount, account, "billing_payments")
    first = get(client, address, credential, {"count": 3})
    assert first.status_code == 200
    chunk = first.json() if mount == "restapi" else first.json()["data"]
    assert chunk["nextUri"] is not None

    last = get(client, chunk["nextUri"], credential)

    pks = [payment.pk for payment in payments]
    for response, expected in [
        (first, {"billingPayments": serialized_payments(account, pks[:3]), **links(first, mount)}),
        (last, {"billingPayments": serialized_payments(account, pks[3:]), **links(last, mount)}),
    ]:
        assert response.status_code == 200
        assert response.content == rendered(mount, expected)


def links(response, mount: str) -> dict:
    body = response.json() if mount == "restapi" else response.json()["data"]
    return {"nextUri": body["nextUri"], "previousUri": body["previousUri"]}


@both_mounts
def test_payment_body_is_the_serializers(client, mount, account, credential, payments):
    for payment in payments:
        address = by_guid(mount, account, f"billing_payments/{payment.pk}")

        response = get(client, address, credential)

        assert response.status_code == 200
        expected = BillingPaymentItemSerializer(account_payments(account).get(pk=payment.pk)).data
        assert response.content == rendered(mount, expected)
