"""A statement of account: the opening balance, every movement in date order with a running
balance, the closing balance and the ageing on the closing date (docs/statements.md).

Two kinds of statement:

- an account's: what its invoices owe (void ones never count) less its credit;
- a contact's: what that contact's billing items owe (credit is the account's, not the contact's).

Each movement is dated by its own date (the UTC day of a datetime) and signed as it moves the
statement's balance. The opening balance is the sum of the movements dated before the period, in
SQL (one scalar subquery per kind, one statement); the movements of the period are one query per
kind; the ageing one more. So a statement costs a fixed number of queries whatever its rows.
"""

import dataclasses
import datetime
from decimal import Decimal

from django.db.models import (
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from billing_site.money import CENT, ZERO, MoneyField
from contacts.models import Account, Contact
from invoices.models import BillingItem, Invoice
from payments.owed_then import with_owed_then
from payments.receivables import AGEING_BUCKETS, _end_of, bucket_bounds

from .credit import credit_on, total_of
from .parts import (
    KIND_LABELS,
    KIND_ORDER,
    NOT_VOID,
    Part,
    account_parts,
    contact_parts,
)


@dataclasses.dataclass(frozen=True)
class Movement:
    date: datetime.date
    kind: str
    reference: str
    amount: Decimal  # signed as it moves the statement's balance
    balance: Decimal  # the running balance after it
    pk: int = 0

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclasses.dataclass(frozen=True)
class Statement:
    account: Account
    contact: Contact | None
    start: datetime.date
    end: datetime.date
    opening_balance: Decimal
    movements: list[Movement]
    closing_balance: Decimal
    ageing: dict[str, Decimal]  # AGEING_BUCKETS -> what was owed on `end`, by lateness
    credit: Decimal = ZERO  # the account's credit on `end` (account statements)

    @property
    def currency(self) -> str:
        return self.account.currency

    @property
    def invoices_or_items(self) -> str:
        """What the ageing counts."""
        return "Billing items owed" if self.contact else "Invoices owed"

    @property
    def owed(self) -> Decimal:
        """What the invoices (or billing items) owed on `end`: the ageing's total."""
        return sum(self.ageing.values(), ZERO)


def _sum_before(part: Part, day: datetime.date) -> Coalesce:
    """The movements of `part` dated before `day`, summed."""
    return total_of(part.rows.filter(part.before(day)), "signed")


def balance_before(account: Account, parts: list[Part], day: datetime.date) -> Decimal:
    """The statement's balance at the start of `day`: every movement dated before it, in one
    statement (a scalar subquery per kind)."""
    sums = {f"before_{part.kind}": _sum_before(part, day) for part in parts}
    row = Account.objects.filter(pk=account.pk).values(**sums).get()
    return sum(row.values(), ZERO).quantize(CENT)


def _movements(parts: list[Part], start: datetime.date, end: datetime.date) -> list[Movement]:
    """The movements dated from `start` to `end`, in order, without their running balances."""
    found = []
    for part in parts:
        rows = (
            part.rows.filter(part.within(start, end))
            .annotate(day=part.day())
            .order_by()
            .values("pk", "day", "signed", *part.fields)
        )
        found += [
            Movement(
                date=row["day"],
                kind=part.kind,
                reference=part.reference(row),
                amount=row["signed"].quantize(CENT),
                balance=ZERO,
                pk=row["pk"],
            )
            for row in rows
        ]
    return sorted(found, key=lambda m: (m.date, KIND_ORDER[m.kind], m.pk))


def _with_balances(opening: Decimal, movements: list[Movement]) -> list[Movement]:
    balance, out = opening, []
    for movement in movements:
        balance += movement.amount
        out.append(dataclasses.replace(movement, balance=balance))
    return out


def ageing_on(rows: QuerySet, kind: str, day: datetime.date) -> dict[str, Decimal]:
    """What `rows` ("invoices" or "billing_items") owed at the end of `day`, per ageing bucket
    (payments.receivables' buckets), in one statement. Every row counts, even one that owed less
    than zero then (a payment dated in the past on top of one reversed later), so that the buckets
    add up to the statement's figure."""
    owed = with_owed_then(rows, kind, _end_of(day))
    sums = {
        bucket: Coalesce(Sum("owed", filter=condition), Value(ZERO), output_field=MoneyField())
        for bucket, condition in bucket_bounds(day).items()
    }
    totals = owed.aggregate(**sums)
    return {bucket: totals[bucket].quantize(CENT) for bucket in AGEING_BUCKETS}


def _check_period(start: datetime.date, end: datetime.date) -> None:
    if start > end:
        raise ValueError(f"The period starts ({start}) after it ends ({end}).")


def account_statement(account: Account, start: datetime.date, end: datetime.date) -> Statement:
    """The statement of `account` from `start` to `end` (both included)."""
    _check_period(start, end)
    parts = account_parts(account)
    opening = balance_before(account, parts, start)
    movements = _with_balances(opening, _movements(parts, start, end))
    closing = movements[-1].balance if movements else opening
    invoices = Invoice.objects.filter(account=account, status__in=NOT_VOID, issue_date__lte=end)
    return Statement(
        account=account,
        contact=None,
        start=start,
        end=end,
        opening_balance=opening,
        movements=movements,
        closing_balance=closing,
        ageing=ageing_on(invoices, "invoices", end),
        credit=credit_on(account, end),
    )


def contact_statement(contact: Contact, start: datetime.date, end: datetime.date) -> Statement:
    """The statement of `contact` (its billing items) from `start` to `end` (both included)."""
    _check_period(start, end)
    parts = contact_parts(contact)
    opening = balance_before(contact.account, parts, start)
    movements = _with_balances(opening, _movements(parts, start, end))
    closing = movements[-1].balance if movements else opening
    items = BillingItem.objects.filter(contact=contact, created_at__lt=_end_of(end))
    return Statement(
        account=contact.account,
        contact=contact,
        start=start,
        end=end,
        opening_balance=opening,
        movements=movements,
        closing_balance=closing,
        ageing=ageing_on(items, "billing_items", end),
    )
