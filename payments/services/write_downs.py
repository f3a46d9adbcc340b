"""Write-downs: part of a billing item's balance written off by finance."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils import timezone

from contacts.locks import lock_account
from contacts.models import Contact
from invoices.locks import lock_billing_items

from .. import events as money_events
from ..actors import Actor
from ..errors import (
    ReasonRequired,
)
from ..line_rules import check_distinct, contacts_item, line_amount
from ..lines import (
    LineOutcome,
    WriteDownLine,
)
from ..models import WriteDown
from ..request_transaction import money_transaction
from .rules import write_billing_item_balances


@dataclass(frozen=True)
class BillingItemsWrittenDown:
    write_downs: list[WriteDown]
    lines: list[LineOutcome] = field(default_factory=list)

    @property
    def all_applied(self) -> bool:
        return all(line.is_applied for line in self.lines)


@money_transaction
def billing_items_write_down(
    *,
    contact: Contact,
    write_down_date: datetime.datetime,
    lines: Sequence[WriteDownLine],
    reason: str,
    actor: Actor,
) -> BillingItemsWrittenDown:
    """Write off part of a contact's billing-item balances, line by line, as `billing_items_pay`."""
    reason = reason.strip()
    if not reason:
        raise ReasonRequired("A write-down needs a reason.")
    check_distinct(lines)
    # The account first, as every money service: a write-down's foreign key to it (its
    # account_id) waits on another service's account lock, which would deadlock with that
    # service waiting on these items.
    account = lock_account(contact.account_id)
    items = lock_billing_items(line.billing_id for line in lines)
    now = timezone.now()
    outcomes, write_downs = [], []
    for line in lines:
        item = contacts_item(items, line.billing_id, contact)
        amount = line_amount(line.billing_id, item, line.amount)
        if isinstance(amount, LineOutcome):
            outcomes.append(amount)
            continue
        item.balance -= amount
        write_downs.append(
            WriteDown(
                account_id=item.account_id,
                billing_item=item,
                amount=amount,
                write_down_date=write_down_date,
                gl_account_id=line.gl_account_id,
                reason=reason,
                recorded_at=now,
                **actor.recorded_by(),
            )
        )
        outcomes.append(
            LineOutcome(line.billing_id, balance=item.balance, applied=amount, processed_at=now)
        )
    WriteDown.objects.bulk_create(write_downs)
    write_billing_item_balances({wd.billing_item.pk: wd.billing_item.balance for wd in write_downs})
    money_events.record_events(
        money_events.written_down(account, contact, wd) for wd in write_downs
    )
    return BillingItemsWrittenDown(write_downs=write_downs, lines=outcomes)
