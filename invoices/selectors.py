import datetime
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.db import connection
from django.db.models import QuerySet

from billing_site import model_sql
from contacts.models import Account, Contact

from .due import OVERDUE_SQL, OWED_SQL, PAST_DUE_SQL, past_due_q, today
from .models import BillingItem, Invoice, InvoiceItem, InvoiceStatus


@dataclass(frozen=True)
class PastDueSummary:
    account: Account
    account_balance: Decimal
    past_due_balance: Decimal
    invoices: list[Invoice]

    @property
    def payment_allowed(self) -> bool:
        """A payment can be posted now: something is past due and API payments are not blocked."""
        return self.past_due_balance > 0 and not self.account.api_payments_blocked


def past_due_summary(account: Account, as_of: datetime.date | None = None) -> PastDueSummary:
    """What the account's invoices owe (those issued by `as_of`), what of it is past due, and the
    past-due invoices, oldest first: DocuSign's `billing_invoices_past_due`. Contacts' billing
    items are not in it (invoices.balances has the account's whole figures).

    Three queries whatever the number of invoices and items.
    """
    as_of = as_of or today()
    totals = _owed_totals(account, as_of)
    invoices = list(account_invoices(account).filter(past_due_q(as_of)).order_by("due_date", "pk"))
    return PastDueSummary(account=account, invoices=invoices, **totals)


@dataclass(frozen=True)
class PastDueRows:
    """`PastDueSummary` as plain rows, for an API answer built without model instances: each
    invoice a dict (`PAST_DUE_INVOICE_FIELDS`) with its items under "items" (dicts of
    `PAST_DUE_ITEM_FIELDS`, in id order)."""

    account: Account
    account_balance: Decimal
    past_due_balance: Decimal
    invoices: list[dict]

    payment_allowed = PastDueSummary.payment_allowed


PAST_DUE_INVOICE_FIELDS = ("pk", "number", "amount", "balance", "due_date")
PAST_DUE_ITEM_FIELDS = (
    "pk",
    "charge_name",
    "quantity",
    "unit_price",
    "charge_amount",
    "tax_amount",
    "tax_exempt_amount",
)


def past_due_rows(account: Account, as_of: datetime.date | None = None) -> PastDueRows:
    """`past_due_summary` read as rows: the same figures and invoices, in the same order, and no
    model instance built. DocuSign's `billing_invoices_past_due` lists ~100 invoices: building
    and serializing instances was most of its CPU.

    Two statements, written once (billing_site/model_sql.py, with the rules of invoices.due),
    whatever the number of invoices and items: the totals, and the past-due invoices joined to
    their items (an invoice without items comes once, with nulls).
    """
    as_of = as_of or today()
    totals = _owed_totals(account, as_of)
    with connection.cursor() as cursor:
        cursor.execute(_past_due_rows_sql(), {"account": account.pk, "as_of": as_of})
        rows = cursor.fetchall()
    invoices: list[dict] = []
    for pk, number, amount, balance, due_date, *item in rows:
        if not invoices or invoices[-1]["pk"] != pk:
            invoices.append(
                {
                    "pk": pk,
                    "number": number,
                    "amount": amount,
                    "balance": balance,
                    "due_date": due_date,
                    "items": [],
                }
            )
        if item[0] is not None:  # the item's pk
            invoices[-1]["items"].append(dict(zip(PAST_DUE_ITEM_FIELDS, item, strict=True)))
    return PastDueRows(account=account, invoices=invoices, **totals)


@cache
def _owed_totals_sql() -> str:
    """The account's owed and past-due totals on `%(as_of)s` (invoices.due's rules)."""
    return model_sql.sql(
        "SELECT COALESCE(SUM({i.balance}), 0.00), "  # noqa: S608 - names from the model
        f"COALESCE(SUM({{i.balance}}) FILTER (WHERE {OVERDUE_SQL}), 0.00) "
        f"FROM {{i.table}} i WHERE {{i.account}} = %(account)s AND {OWED_SQL}",
        i=Invoice,
    )


@cache
def _past_due_rows_sql() -> str:
    """The account's past-due invoices (`account_invoices` and `past_due_q`) with their items."""
    items = ", ".join("{it.%s}" % ("id" if name == "pk" else name) for name in PAST_DUE_ITEM_FIELDS)
    return model_sql.sql(
        "SELECT {i.id}, {i.number}, {i.amount}, {i.balance}, {i.due_date}, "  # noqa: S608
        f"{items} FROM {{i.table}} i LEFT JOIN {{it.table}} it ON {{it.invoice}} = {{i.id}} "
        f"WHERE {{i.account}} = %(account)s AND {{i.status}} <> 'void' AND {PAST_DUE_SQL} "
        "ORDER BY {i.due_date}, {i.id}, {it.id}",
        i=Invoice,
        it=InvoiceItem,
    )


def _owed_totals(account: Account, as_of: datetime.date) -> dict[str, Decimal]:
    """`account_balance` (what the invoices issued by `as_of` owe) and `past_due_balance`: one
    statement written once (`_owed_totals_sql`)."""
    with connection.cursor() as cursor:
        cursor.execute(_owed_totals_sql(), {"account": account.pk, "as_of": as_of})
        account_balance, past_due_balance = cursor.fetchone()
    return {"account_balance": account_balance, "past_due_balance": past_due_balance}


def account_invoices(account: Account) -> QuerySet[Invoice]:
    """The account's invoices (void ones left out) with their items, for listing or fetching."""
    return (
        Invoice.objects.filter(account=account)
        .exclude(status=InvoiceStatus.VOID)
        .prefetch_related("items")
    )


def contact_billing_items(
    contact: Contact, *, outstanding_only: bool = False
) -> QuerySet[BillingItem]:
    """The contact's billing items, oldest due first; only those with a balance if asked."""
    items = BillingItem.objects.filter(contact=contact).order_by("due_date", "pk")
    return items.filter(balance__gt=0) if outstanding_only else items


def contact_billing_item_rows(
    guid, fields: tuple[str, ...], *, outstanding_only: bool
) -> tuple[int, int, list[tuple]] | None:
    """The contact whose GUID is `guid` (its id and its account's id) and its billing items as
    rows of `fields` (column names of BillingItem, "pk" for its id), oldest due first, only those
    with a balance if asked (`contact_billing_items`); None if no contact has that GUID. Legend's
    `GET /POS/Billings`: one statement written once (billing_site/model_sql.py), the contact and
    its items together. The caller checks the account against the key's scope before it shows a
    row."""
    with connection.cursor() as cursor:
        cursor.execute(_billing_item_rows_sql(fields, outstanding_only), [guid])
        rows = cursor.fetchall()
    if not rows:
        return None
    contact_id, account_id = rows[0][:2]
    items = [row[2:] for row in rows if row[2] is not None]  # no item: one row of nulls
    return contact_id, account_id, items


@cache
def _billing_item_rows_sql(fields: tuple[str, ...], outstanding_only: bool) -> str:
    if fields[0] != "pk":
        raise ValueError("the rows start with the item's id")
    columns = ", ".join("{b.%s}" % ("id" if name == "pk" else name) for name in fields)
    outstanding = " AND {b.balance} > 0" if outstanding_only else ""
    return model_sql.sql(
        f"SELECT {{c.id}}, {{c.account}}, {columns} FROM {{c.table}} c "  # noqa: S608
        f"LEFT JOIN {{b.table}} b ON {{b.contact}} = {{c.id}}{outstanding} "
        "WHERE {c.guid} = %s ORDER BY {b.due_date}, {b.id}",
        c=Contact,
        b=BillingItem,
    )
