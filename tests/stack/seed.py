"""Rows for the stack tests, made inside the stack (`deploy/stack manage shell -c ...`).

The tests run outside the stack's database, so they ask the stack to make what they need and read
back a JSON summary (the last line printed). Numbers and names are unique per call (factory
sequences restart in every process), and every row is committed: the stack's servers see them.
"""

import json
import os
import uuid
from decimal import Decimal

from tests.factories import (
    AccountFactory,
    AccountRoleFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    TenderTypeFactory,
    UserFactory,
    days_ago,
)

CARD = 3  # Legend's tender type for a card (a migration preset)


def _unique_number() -> int:
    return 200_000_000 + uuid.uuid4().int % 1_000_000_000


def clients(count: int, per_client: int) -> list[dict]:
    """`count` USD accounts, each with an administrator's key, `per_client` past-due invoices and
    as many billing items of one contact."""
    TenderTypeFactory(id=CARD, name="Card")
    made = []
    for client in range(count):
        account = AccountFactory(number=_unique_number(), currency="USD", name=f"Stack {client}")
        role = AccountRoleFactory(account=account)
        contact = ContactFactory(account=account)
        invoices, items = [], []
        for index in range(per_client):
            amount = Decimal("20.00") + Decimal(index) + Decimal(client) / 100
            invoice = InvoiceFactory(
                account=account,
                amount=amount,
                due_date=days_ago(10),
                number=f"ST-{uuid.uuid4().hex[:12]}",
            )
            invoices.append({"id": invoice.pk, "amount": str(amount)})
            item = BillingItemFactory(contact=contact, total_amount=amount + Decimal("0.50"))
            items.append({"id": item.pk, "amount": str(amount + Decimal("0.50"))})
        made.append(
            {
                "secret": role.credential.secret,
                "account": account.number,
                "account_pk": account.pk,
                "contact": str(contact.guid),
                "invoices": invoices,
                "items": items,
            }
        )
    return made


def staff(username: str, password: str) -> dict:
    user = UserFactory(username=username, is_staff=True, is_superuser=True)
    user.set_password(password)
    user.save()
    return {"username": username}


def webhook(account_pk: int, url: str) -> dict:
    """A subscription to every event of the account; its id and signing secret."""
    from contacts.models import Account
    from webhooks.services import subscription_create

    subscription, secret = subscription_create(
        url=url, accounts=[Account.objects.get(pk=account_pk)]
    )
    return {"id": subscription.pk, "secret": secret}


def main() -> None:
    what = os.environ["STACK_SEED"]
    if what == "clients":
        result = clients(int(os.environ["STACK_SEED_COUNT"]), int(os.environ["STACK_SEED_EACH"]))
    elif what == "webhook":
        result = webhook(int(os.environ["STACK_SEED_ACCOUNT"]), os.environ["STACK_SEED_URL"])
    elif what == "staff":
        result = staff(os.environ["STACK_SEED_USER"], os.environ["STACK_SEED_PASSWORD"])
    else:
        raise SystemExit(f"unknown STACK_SEED {what!r}")
    print(json.dumps(result))
