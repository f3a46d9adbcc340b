"""What each account owes today: its invoices and its contacts' billing items (invoices.due).

The same figures wherever an account is shown (account page, accounts list, admin): `owed` is what
its invoices (issued by today) and its contacts' billing items still owe, `past_due` the part of it
due before today. DocuSign's `billing_invoices_past_due` reports the invoices' part only
(invoices.selectors.past_due_summary), Legend's `Billings` the billing items' part.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from billing_site.money import ZERO, MoneyField
from contacts.models import Account, Contact

from .due import overdue_q, owed_q
from .models import BillingItem, Invoice


def per_row(rows: QuerySet, key: str, aggregate, output_field):
    """`aggregate` over the `rows` whose `key` is the outer row, 0 when it has none."""
    total = (
        rows.filter(**{key: OuterRef("pk")})
        .order_by()
        .values(key)
        .annotate(total=aggregate)
        .values("total")
    )
    zero = ZERO if isinstance(output_field, MoneyField) else 0
    return Coalesce(
        Subquery(total, output_field=output_field), Value(zero), output_field=output_field
    )


def per_account(rows: QuerySet, aggregate, output_field):
    """`aggregate` over the `rows` of the outer account, 0 when it has none."""
    return per_row(rows, "account", aggregate, output_field)


def _owing_rows():
    """(name, rows) of each figure: what is owed today, and the part of it that is past due."""
    invoices = Invoice.objects.filter(owed_q())
    items = BillingItem.objects.filter(balance__gt=0)
    return (
        ("invoices_owed", invoices),
        ("invoices_past_due", invoices.filter(overdue_q())),
        ("items_owed", items),
        ("items_past_due", items.filter(overdue_q())),
    )


def with_balances(accounts: QuerySet[Account]) -> QuerySet[Account]:
    """`accounts` annotated with `invoices_owed`, `invoices_past_due`, `items_owed`,
    `items_past_due`, and their sums `owed` and `past_due`: one subquery per figure, no query
    per row."""
    money = MoneyField()
    figures = {name: per_account(rows, Sum("balance"), money) for name, rows in _owing_rows()}
    return accounts.annotate(**figures).annotate(
        owed=F("invoices_owed") + F("items_owed"),
        past_due=F("invoices_past_due") + F("items_past_due"),
    )


def with_item_balances(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """`contacts` annotated with what their billing items owe today (`owed`), of which past due
    (`past_due`), and how many items owe anything (`outstanding`): one subquery each."""
    money = MoneyField()
    owing = BillingItem.objects.filter(balance__gt=0)
    return contacts.annotate(
        owed=per_row(owing, "contact", Sum("balance"), money),
        past_due=per_row(owing.filter(overdue_q()), "contact", Sum("balance"), money),
        outstanding=per_row(owing, "contact", Count("pk"), IntegerField()),
    )


@dataclass(frozen=True)
class AccountBalances:
    invoices_owed: Decimal
    invoices_past_due: Decimal
    items_owed: Decimal
    items_past_due: Decimal

    @property
    def owed(self) -> Decimal:
        return self.invoices_owed + self.items_owed

    @property
    def past_due(self) -> Decimal:
        return self.invoices_past_due + self.items_past_due


def account_balances(account: Account) -> AccountBalances:
    """One account's figures, in one query."""
    row = with_balances(Account.objects.filter(pk=account.pk)).values(
        "invoices_owed", "invoices_past_due", "items_owed", "items_past_due"
    )
    return AccountBalances(**row.get())
