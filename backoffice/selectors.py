"""The reads behind the back-office pages, composed from the apps' selectors.

Each costs a fixed number of queries whatever the number of rows: related rows are joined
(`select_related`) or fetched in one query per kind (`prefetch_related`), sums are aggregates.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from billing_site.money import ZERO, MoneyField
from contacts.models import Account, Contact
from invoices import due
from invoices.balances import AccountBalances, account_balances
from invoices.due import overdue_q
from invoices.models import BillingItem, Invoice, InvoiceItem, InvoiceStatus
from invoices.selectors import (
    PastDueSummary,
    account_invoices,
    contact_billing_items,
    past_due_summary,
)
from payments.models import Payment, PaymentAllocation, Reversal, WriteDown
from payments.selectors import account_payments


@dataclass(frozen=True)
class CurrencyTotal:
    """The past-due list's totals in one currency: count and balance of each kind of row."""

    currency: str
    invoices: int = 0
    invoices_balance: Decimal = ZERO
    items: int = 0
    items_balance: Decimal = ZERO

    @property
    def balance(self) -> Decimal:
        return self.invoices_balance + self.items_balance

    def count(self, kind: str) -> int:
        """The rows of one kind ("invoices" or "items")."""
        return {"invoices": self.invoices, "items": self.items}[kind]


def per_currency(rows: QuerySet, currencies: list[str]) -> dict[str, tuple[int, Decimal]]:
    """Count and summed `owed` of `rows` in each of `currencies` that has any: one query (by
    `aggregate()`; as of an earlier day `owed` is a join of the corrections since the day)."""
    rows = rows.order_by().annotate(currency=F("account__currency"))
    sums = {}
    for code in currencies:
        sums[f"count_{code}"] = Count("pk", filter=Q(currency=code))
        sums[f"owed_{code}"] = Sum("owed", filter=Q(currency=code))
    totals = rows.aggregate(**sums) if sums else {}
    return {
        code: (totals[f"count_{code}"], totals[f"owed_{code}"])
        for code in currencies
        if totals[f"count_{code}"]
    }


def combined_totals(
    of_invoices: dict[str, tuple[int, Decimal]], of_items: dict[str, tuple[int, Decimal]]
) -> list[CurrencyTotal]:
    """The totals table from each kind's count and balance per currency (`per_currency`)."""
    totals = []
    for currency in sorted(of_invoices.keys() | of_items.keys()):
        invoices_count, invoices_balance = of_invoices.get(currency, (0, ZERO))
        items_count, items_balance = of_items.get(currency, (0, ZERO))
        totals.append(
            CurrencyTotal(currency, invoices_count, invoices_balance, items_count, items_balance)
        )
    return totals


def with_allocations(payments: QuerySet[Payment]) -> QuerySet[Payment]:
    """Payments with their reversal, tender type, recorder and allocations (and their targets)."""
    allocations = PaymentAllocation.objects.select_related("invoice", "billing_item").order_by("pk")
    return payments.select_related(
        "reversal", "tender_type", "contact", "recorded_by_user", "recorded_by_credential"
    ).prefetch_related(Prefetch("allocations", allocations))


@dataclass(frozen=True)
class AccountOverview:
    summary: PastDueSummary  # the account, its invoices' balance, past-due balance and invoices
    balances: AccountBalances  # what its invoices and its contacts' billing items owe
    invoices: list[Invoice]
    payments: list[Payment]
    reversals: list[Reversal]
    contacts: list[Contact]


def account_overview(account: Account) -> AccountOverview:
    return AccountOverview(
        summary=past_due_summary(account),
        balances=account_balances(account),
        invoices=list(account_invoices(account).prefetch_related(None).order_by("due_date", "pk")),
        payments=list(with_allocations(account_payments(account))),
        reversals=list(
            Reversal.objects.filter(payment__account=account).select_related(
                "payment", "recorded_by_user", "recorded_by_credential"
            )
        ),
        contacts=list(account.contacts.all()),
    )


@dataclass(frozen=True)
class ContactOverview:
    contact: Contact
    balance: Decimal  # what the contact's billing items still owe
    past_due_balance: Decimal  # of which due before today
    billing_items: list[BillingItem]
    payments: list[Payment]
    write_downs: list[WriteDown]


def contact_overview(contact: Contact) -> ContactOverview:
    items = contact_billing_items(contact)
    money = MoneyField()
    totals = items.aggregate(
        owed=Coalesce(Sum("balance"), Value(ZERO), output_field=money),
        late=Coalesce(Sum("balance", filter=overdue_q()), Value(ZERO), output_field=money),
    )
    return ContactOverview(
        contact=contact,
        balance=totals["owed"],
        past_due_balance=totals["late"],
        billing_items=list(items),
        payments=list(with_allocations(Payment.objects.filter(contact=contact))),
        write_downs=list(
            WriteDown.objects.filter(billing_item__contact=contact).select_related(
                "billing_item", "recorded_by_user", "recorded_by_credential"
            )
        ),
    )


def payment_with_allocations(payment_id: int) -> Payment | None:
    """One payment with its account, reversal and allocations, or None."""
    return with_allocations(Payment.objects.filter(pk=payment_id)).select_related("account").first()


@dataclass(frozen=True)
class InvoiceOverview:
    invoice: Invoice  # with its account
    items: list[InvoiceItem]
    allocations: list[PaymentAllocation]  # with their payment and its reversal, oldest first

    @property
    def is_void(self) -> bool:
        return self.invoice.status == InvoiceStatus.VOID

    @property
    def days_late(self) -> int | None:
        """Days past due today, for an open invoice only (a paid or void one is not late)."""
        if self.invoice.status != InvoiceStatus.OPEN:
            return None
        return due.days_late(self.invoice.due_date)


def invoice_overview(invoice: Invoice) -> InvoiceOverview:
    """The invoice page: its items and the allocations that paid it. Two queries."""
    allocations = (
        PaymentAllocation.objects.filter(invoice=invoice)
        .select_related("payment__reversal", "payment__tender_type")
        .order_by("payment__payment_date", "pk")
    )
    return InvoiceOverview(
        invoice=invoice,
        items=list(InvoiceItem.objects.filter(invoice=invoice).order_by("pk")),
        allocations=list(allocations),
    )


def payment_overview(payment_id: int) -> Payment | None:
    """The payment page: one payment with its account, contact, tender type, recorder, reversal
    (and who recorded it) and allocations (and their targets), or None. Two queries."""
    return (
        with_allocations(Payment.objects.filter(pk=payment_id))
        .select_related("account", "reversal__recorded_by_user", "reversal__recorded_by_credential")
        .first()
    )
