"""invoices.services: issuing invoices (the balance starts at the whole amount)."""

import datetime
from decimal import Decimal

import pytest

from invoices.models import InvoiceStatus
from invoices.services import InvoiceLine, invoice_issue
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

DATES = {"issue_date": datetime.date(2026, 1, 1), "due_date": datetime.date(2026, 1, 31)}


def test_an_invoice_for_lines_owes_their_charges_and_tax():
    lines = [
        InvoiceLine("Seats", unit_price=Decimal("45.00"), quantity=10, tax_amount=Decimal("36.00")),
        InvoiceLine("Onboarding", unit_price=Decimal("150.00")),
    ]

    invoice = invoice_issue(account=AccountFactory(), number="A-1", lines=lines, **DATES)

    assert (invoice.amount, invoice.balance, invoice.status) == (
        Decimal("636.00"),
        Decimal("636.00"),
        InvoiceStatus.OPEN,
    )
    assert list(invoice.items.values_list("charge_name", "charge_amount", "tax_amount")) == [
        ("Seats", Decimal("450.00"), Decimal("36.00")),
        ("Onboarding", Decimal("150.00"), Decimal("0.00")),
    ]


def test_an_invoice_for_an_amount_alone_owes_it_all():
    invoice = invoice_issue(account=AccountFactory(), number="A-2", amount="99.90", **DATES)

    assert (invoice.amount, invoice.balance, invoice.status) == (
        Decimal("99.90"),
        Decimal("99.90"),
        InvoiceStatus.OPEN,
    )
    assert not invoice.items.exists()


@pytest.mark.parametrize(
    "what",
    [
        {},
        {"amount": "10.00", "lines": [InvoiceLine("x", unit_price=Decimal("10.00"))]},
    ],
    ids=["neither", "both"],
)
def test_lines_or_an_amount_is_required_not_both(what):
    with pytest.raises(ValueError, match="lines or"):
        invoice_issue(account=AccountFactory(), number="A-3", **what, **DATES)
