"""What the record-payment page tests pay from: an account's past-due invoices (the `books`
fixture of tests/conftest.py), and the form the account's pay page posts (`account_form`, with the
details every payment has: tender type, payment date, reference, notes)."""

from decimal import Decimal
from types import SimpleNamespace

from django.apps import apps

from invoices.models import Invoice
from tests.factories import AccountFactory, InvoiceFactory, days_ago

OUR_APPS = ("contacts", "invoices", "payments")

# The details a payment form needs besides its amounts: Legend's preset "EFT" tender type and a
# day in the past; no reference, no notes.
EFT = 8
PAID_ON = "2026-03-04"
DETAILS = {"tender_type": str(EFT), "payment_date": PAID_ON, "reference": "", "notes": ""}


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for label in OUR_APPS
        for model in apps.get_app_config(label).get_models()
    }


def past_due_books() -> SimpleNamespace:
    """An account with three past-due invoices (oldest first: old, mid, new), one not yet due,
    and another account's past-due invoice."""
    account = AccountFactory(currency="USD")

    def invoice(days_late, amount, balance=None, **extra):
        return InvoiceFactory(
            account=extra.pop("account", account),
            due_date=days_ago(days_late),
            amount=Decimal(amount),
            balance=Decimal(balance or amount),
        )

    return SimpleNamespace(
        account=account,
        old=invoice(70, "250.00"),
        mid=invoice(40, "400.00", "120.00"),
        new=invoice(10, "99.99"),
        not_due=invoice(-5, "500.00"),
        other=invoice(30, "50.00", account=AccountFactory(currency="USD")),
    )


def balances(*invoices) -> list[Decimal]:
    return [Invoice.objects.get(pk=invoice.pk).balance for invoice in invoices]


def pay_url(books) -> str:
    return f"/backoffice/accounts/{books.account.pk}/pay/"


def account_form(books, invoices=("old", "new"), amount="100.00", **details) -> dict:
    """The account pay form as the page posts it (without its action)."""
    return {
        "invoices": [getattr(books, name).pk for name in invoices],
        "amount": amount,
        **DETAILS,
        **details,
    }


def account_content(books, user, amount="100.00", invoices=("old", "new"), **details) -> dict:
    """What `backoffice.previews` signs for `account_form(books, invoices, amount, **details)`."""
    recorded = {**DETAILS, **details}
    return {
        "user": user.pk,
        "account": books.account.pk,
        "amount": amount,
        "invoices": sorted(getattr(books, name).pk for name in invoices),
        "tender_type": int(recorded["tender_type"]),
        "payment_date": f"{recorded['payment_date']}T00:00:00+00:00",
        "reference": recorded["reference"],
        "notes": recorded["notes"],
    }
