"""Finding things: the accounts list with balances, and the header's search box.

Both cost a fixed number of queries whatever the number of rows: the list's balances are
correlated subqueries (one SUM per account and figure, no per-row query), and a search is one
query per kind of result, each cut at `SEARCH_LIMIT` rows.
"""

import uuid
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Concat, Lower

from contacts.models import Account, Contact
from invoices.balances import per_account, with_balances, with_item_balances
from invoices.models import Invoice
from payments.models import Payment, PaymentAllocation

SEARCH_LIMIT = 20  # rows shown per kind of result

# ?sort= of the accounts list -> its ORDER BY. Names ignore letter case; balances are compared
# within a currency only (currencies in code order).
ACCOUNT_SORTS = {
    "number": ("number",),
    "-number": ("-number",),
    "name": (Lower("name"), "number"),
    "-name": (Lower("name").desc(), "-number"),
    "balance": ("currency", "owed", "number"),
    "-balance": ("currency", "-owed", "number"),
}
DEFAULT_ACCOUNT_SORT = "number"


def accounts_with_balances(sort: str = DEFAULT_ACCOUNT_SORT) -> QuerySet[Account]:
    """Every account with its figures in its currency (invoices.balances.with_balances: `owed`,
    `past_due`, `invoices_owed`, `items_owed`, ...) and `contacts_count`. Sorted by
    `ACCOUNT_SORTS[sort]` (the default if unknown).
    """
    contacts = per_account(Contact.objects.all(), Count("pk"), IntegerField())
    return with_balances(Account.objects.annotate(contacts_count=contacts)).order_by(
        *ACCOUNT_SORTS.get(sort, ACCOUNT_SORTS[DEFAULT_ACCOUNT_SORT])
    )


@dataclass(frozen=True)
class Found:
    """Up to `SEARCH_LIMIT` rows of one kind; `more` when there were further ones."""

    rows: list
    more: bool


@dataclass(frozen=True)
class SearchResults:
    query: str
    accounts: Found
    contacts: Found
    invoices: Found
    payments: Found

    @property
    def nothing_found(self) -> bool:
        return not (self.accounts.rows or self.contacts.rows or self.invoices.rows) and not (
            self.payments.rows
        )


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _as_number(text: str) -> int | None:
    """The text as an account number: ASCII digits only, within the column's range."""
    if text.isascii() and text.isdigit() and int(text) <= 2**63 - 1:
        return int(text)
    return None


def _first(rows: QuerySet) -> Found:
    found = list(rows[: SEARCH_LIMIT + 1])
    return Found(rows=found[:SEARCH_LIMIT], more=len(found) > SEARCH_LIMIT)


def search(query: str) -> SearchResults:
    """What `query` names: accounts by name (contains), number (exact) or GUID (exact); contacts
    by name or email (contains) or GUID (exact); invoices by number (exact or prefix); payments
    by the partner's reference, the payment's or one of its allocations' (exact). Letter case is
    ignored. Four queries, whatever the query and the number of rows.
    """
    query = query.replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL
    guid, number = _as_uuid(query), _as_number(query)

    account_q = Q(name__icontains=query)
    contact_q = Q(full_name__icontains=query) | Q(email__icontains=query)
    if number is not None:
        account_q |= Q(number=number)
    if guid is not None:
        account_q |= Q(guid=guid)
        contact_q |= Q(guid=guid)

    contacts = with_item_balances(
        Contact.objects.annotate(full_name=Concat("first_name", Value(" "), "last_name"))
        .filter(contact_q)
        .select_related("account")
    )
    exact_first = Case(When(number__iexact=query, then=Value(0)), default=Value(1))
    invoices = (
        Invoice.objects.filter(number__istartswith=query)
        .select_related("account")
        .order_by(exact_first, "number", "pk")
    )
    allocation_reference = PaymentAllocation.objects.filter(
        payment=OuterRef("pk"), reference__iexact=query
    )
    payments = (
        Payment.objects.filter(Q(reference__iexact=query) | Exists(allocation_reference))
        .select_related("account", "contact")
        .order_by("-payment_date", "-pk")
    )
    return SearchResults(
        query=query,
        accounts=_first(with_balances(Account.objects.filter(account_q)).order_by("number")),
        contacts=_first(contacts),
        invoices=_first(invoices),
        payments=_first(payments),
    )
