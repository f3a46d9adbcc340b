"""The rules of a billing-item line (a Legend payment's or write-down's), checked by the money
services under their locks: each line is applied or refused on its own (payments.lines)."""

from collections.abc import Sequence
from decimal import Decimal

from billing_site.money import InvalidAmount, format_amount, parse_amount
from contacts.models import Contact
from invoices.models import BillingItem

from .errors import DuplicateLine, NoLines
from .lines import BillingLine, LineOutcome, LineRefusal, WriteDownLine


def check_distinct(lines: Sequence[BillingLine | WriteDownLine]) -> None:
    if not lines:
        raise NoLines("At least one billing line is required.")
    seen: set[int] = set()
    for line in lines:
        if line.billing_id in seen:
            raise DuplicateLine(f"Billing item {line.billing_id} appears more than once.")
        seen.add(line.billing_id)


def contacts_item(
    items: dict[int, BillingItem], billing_id: int, contact: Contact
) -> BillingItem | None:
    """The locked item if it is the contact's; another contact's item is as good as unknown."""
    item = items.get(billing_id)
    return item if item is not None and item.contact_id == contact.pk else None


def refused(
    billing_id: int, item: BillingItem | None, refusal: LineRefusal, **values
) -> LineOutcome:
    return LineOutcome(
        billing_id,
        balance=item.balance if item is not None else None,
        refusal=refusal,
        message=refusal.value.format(billing_id=billing_id, **values),
    )


def line_amount(billing_id: int, item: BillingItem | None, raw: object) -> Decimal | LineOutcome:
    """The line's amount if it can be applied to `item`, else the refused outcome."""
    if item is None:
        return refused(billing_id, None, LineRefusal.NOT_FOUND)
    try:
        amount = parse_amount(raw)
    except InvalidAmount as error:
        return refused(billing_id, item, LineRefusal[error.code])
    if item.balance == 0:
        return refused(billing_id, item, LineRefusal.ALREADY_SETTLED)
    if amount > item.balance:
        return refused(
            billing_id,
            item,
            LineRefusal.OVER_BALANCE,
            amount=format_amount(amount),
            balance=format_amount(item.balance),
        )
    return amount
