"""What recording events and queueing their webhooks cost a payment: the same money call without
its events, with them (no subscriber: the usual case), and with a webhook subscriber on the
account (a delivery and a job per event).

    .venv/bin/python bench/events_cost.py                 # 400 calls of each shape, interleaved
    .venv/bin/python bench/events_cost.py --calls 2000

On its own database (BENCH_EVENTS_DATABASE_URL, by default billing_bench_events, created and
migrated if missing; refused if it holds accounts this script did not make): an account with
past-due invoices and a contact with billing items. Each call runs in a transaction that is rolled
back, so every call sees the same rows. "Without" replaces payments.events.record_events by a
function that records nothing, for this process only: the product never runs without its events.
"Webhook" enables, for its calls only, a subscription to every event of the account. Prints per
shape the median wall time of each side, the ratios to "without", and the statements of each.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from load import configure  # noqa: E402 - bench/ is the script's own folder

MARK = "Events cost bench"


def build():
    from django.utils import timezone

    from contacts.models import Account, Contact
    from invoices.models import BillingItem, Invoice
    from payments.models import TenderType

    foreign = Account.objects.exclude(name=MARK).count()
    if foreign:
        sys.exit(f"bench: the database holds {foreign} account(s) this script did not make.")
    account = Account.objects.filter(name=MARK).first()
    if account is None:
        account = Account.objects.create(number=990001, name=MARK, currency="USD")
        contact = Contact.objects.create(account=account, first_name="Bench", last_name="Till")
        day = timezone.localdate()
        for index in range(10):
            Invoice.objects.create(
                account=account,
                number=f"EV-{index}",
                issue_date=day - datetime.timedelta(days=60),
                due_date=day - datetime.timedelta(days=30 - index),
                amount=Decimal("100.00"),
                balance=Decimal("100.00"),
            )
            BillingItem.objects.create(
                account=account,
                contact=contact,
                description=f"Item {index}",
                due_date=day,
                total_amount=Decimal("50.00"),
                balance=Decimal("50.00"),
            )
    TenderType.objects.get_or_create(pk=3, defaults={"name": "Card"})
    return account


def subscriber(account):
    """A subscription to every event of the account (switched on for the "webhook" side only)."""
    from webhooks.models import Subscription
    from webhooks.services import subscription_create, subscription_disable

    subscription = Subscription.objects.filter(accounts=account).first()
    if subscription is None:
        subscription, _ = subscription_create(url="https://hooks.invalid/bench", accounts=[account])
        subscription_disable(subscription, "bench: on for the webhook side only")
    return subscription


def switch(subscription, on: bool) -> None:
    from django.utils import timezone

    from webhooks.models import Subscription

    Subscription.objects.filter(pk=subscription.pk).update(
        is_active=on, disabled_at=None if on else timezone.now()
    )


def shapes(account):
    from django.utils import timezone

    from payments.actors import SYSTEM
    from payments.lines import BillingLine
    from payments.services import billing_items_pay, invoices_pay

    contact = account.contacts.get()
    items = list(contact.billing_items.order_by("pk"))

    def legend(lines: int):
        return lambda: billing_items_pay(
            contact=contact,
            tender_type_id=3,
            payment_date=timezone.now(),
            lines=[BillingLine(item.pk, "1.00") for item in items[:lines]],
            actor=SYSTEM,
        )

    return {
        "legend, 1 line": legend(1),
        "legend, 10 lines": legend(10),
        "invoices, 3 paid": lambda: invoices_pay(
            account_id=account.pk, amount="300.00", actor=SYSTEM
        ),
    }


def timed(call) -> tuple[float, int]:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    connection.queries_log.clear()  # it keeps 9,000: past that, the counts come out wrong
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        call()
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=400, help="calls of each shape and side")
    args = parser.parse_args()
    url = os.environ.get(
        "BENCH_EVENTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/billing_bench_events"
    )
    configure(url)
    from django.core.management import call_command

    from payments import events as money_events

    call_command("migrate", verbosity=0)
    account = build()
    subscription = subscriber(account)
    recording = money_events.record_events
    sides = {
        "without": (lambda events: (list(events), [])[1], False),
        "events": (recording, False),
        "webhook": (recording, True),
    }
    print("A money call without its events, with them, and with a webhook subscriber")
    print(f"({args.calls} calls each, ms, median; ratios to without; statements)")
    print(
        f"{'shape':<20}{'without':>9}{'events':>8}{'webhook':>9}{'ratio':>7}{'ratio':>7}"
        f"{'stmts':>7}{'':>4}{'':>4}"
    )
    try:
        for name, call in shapes(account).items():
            times = {side: [] for side in sides}
            statements = {}
            for _ in range(args.calls):
                for side, (function, subscribed) in sides.items():  # interleaved: noise hits all
                    money_events.record_events = function
                    switch(subscription, subscribed)
                    elapsed, count = timed(call)
                    times[side].append(elapsed)
                    statements[side] = count
            ms = {side: statistics.median(values) * 1000 for side, values in times.items()}
            print(
                f"{name:<20}{ms['without']:9.3f}{ms['events']:8.3f}{ms['webhook']:9.3f}"
                f"{ms['events'] / ms['without']:7.2f}{ms['webhook'] / ms['without']:7.2f}"
                f"{statements['without']:7d}{statements['events']:4d}{statements['webhook']:4d}"
            )
    finally:
        money_events.record_events = recording
        switch(subscription, False)


if __name__ == "__main__":
    main()
