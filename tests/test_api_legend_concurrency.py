"""Concurrent Legend requests over HTTP, on PostgreSQL: real threads, each with its own `Client`
and its own database connection, released together by a barrier.

Each test asserts exactly how many lines were applied and refused and what was written, so that a
run in which the requests happened not to overlap passes only if the outcome is the same anyway.
"""

import io
import json
import re
from decimal import Decimal

import pytest
from django.core.management import call_command

from contacts.roles import Role
from invoices.models import BillingItem
from payments.actors import Channel
from payments.models import IdempotencyRecord, Payment, PaymentAllocation, WriteDown
from tests.concurrent_posts import Call, post_together
from tests.factories import (
    AccountRoleFactory,
    BillingItemFactory,
    ContactFactory,
    TenderTypeFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

PAYMENT_DATE = "2025-11-02T17:38:19.7887530+00:00"


@pytest.fixture
def account_and_contact():
    TenderTypeFactory(id=3, name="Card")  # the migration's presets are flushed in these tests
    role = AccountRoleFactory(role=Role.BILLING_PAYMENT)
    return role.account, ContactFactory(account=role.account)


def tills(account, count):
    """`count` tills: each its own credential with the `billing_payment` role on `account`."""
    return [AccountRoleFactory(account=account, role=Role.BILLING_PAYMENT) for _ in range(count)]


def payment_text(contact, lines):
    return json.dumps(
        {
            "ContactId": str(contact.guid),
            "PaymentDate": PAYMENT_DATE,
            "TenderTypeId": 3,
            "BillingPayments": [
                {"BillingId": billing_id, "Amount": amount, "ThirdPartyReference": reference}
                for billing_id, amount, reference in lines
            ],
        }
    )


def balance_of(item):
    return BillingItem.objects.get(pk=item.pk).balance


def assert_ledger_clean():
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    assert re.fullmatch(r"Checked [^\n]* in \d+\.\d\d s: no drift\.\n", out.getvalue())


@pytest.mark.parametrize(
    ("count", "total", "amount", "applied", "left", "refusal"),
    [
        # Two tills, 30.00 each on 50.00: one applies, the other finds 20.00 left.
        (2, "50.00", 30.0, 1, "20.00", "The amount 30.00 is more than the balance 20.00"),
        # Eight tills, 30.00 each on 100.00: three apply, five find 10.00 left.
        (8, "100.00", 30.0, 3, "10.00", "The amount 30.00 is more than the balance 10.00"),
        # Eight tills, 25.00 each on 100.00: four apply and settle it, four find it settled.
        (8, "100.00", 25.0, 4, "0.00", "already settled"),
    ],
    ids=["2-tills-over-balance", "8-tills-over-balance", "8-tills-settled"],
)
def test_tills_paying_one_item_at_once_never_take_it_below_zero(
    account_and_contact, count, total, amount, applied, left, refusal
):
    account, contact = account_and_contact
    item = BillingItemFactory(contact=contact, total_amount=Decimal(total))
    keys = tills(account, count)
    message = (
        f"{refusal} of billing item {item.pk}."
        if refusal.startswith("The amount")
        else f"Billing item {item.pk} is already settled."
    )

    responses = post_together(
        [
            Call(
                key.credential.secret,
                "/POS/BillingPayments",
                payment_text(contact, [(item.pk, amount, f"till-{n}")]),
            )
            for n, key in enumerate(keys)
        ]
    )

    assert [response.status_code for response in responses] == [200] * count
    results = [response.json() for response in responses]
    lines = [result["BillingPayments"][0] for result in results]
    winners = [line for line in lines if line["ErrorMessage"] is None]
    losers = [line for line in lines if line["ErrorMessage"] is not None]
    assert len(winners) == applied
    assert len(losers) == count - applied
    assert sum(result["Success"] for result in results) == applied
    assert all(line["ProcessDate"] is not None for line in winners)
    # Each winner saw the balance its own payment left: a strictly falling sequence.
    expected_after = [
        float(Decimal(total) - Decimal(str(amount)) * n) for n in range(1, applied + 1)
    ]
    assert sorted((line["Balance"] for line in winners), reverse=True) == expected_after
    assert [(line["Balance"], line["ProcessDate"], line["ErrorMessage"]) for line in losers] == [
        (float(Decimal(left)), None, message)
    ] * (count - applied)

    # The stored balance fell by exactly what was applied, and never below zero.
    assert balance_of(item) == Decimal(left)
    assert balance_of(item) >= 0
    applied_total = sum(
        PaymentAllocation.objects.filter(billing_item=item).values_list("amount", flat=True),
        Decimal("0.00"),
    )
    assert applied_total == Decimal(str(amount)) * applied == Decimal(total) - Decimal(left)
    assert Payment.objects.count() == applied
    winners_keys = {
        key.credential.pk
        for key, line in zip(keys, lines, strict=True)
        if line["ErrorMessage"] is None
    }
    assert set(Payment.objects.values_list("recorded_by_credential_id", flat=True)) == winners_keys
    assert set(Payment.objects.values_list("channel", flat=True)) == {Channel.LEGEND_API}
    assert_ledger_clean()


def test_tills_paying_the_same_items_in_different_orders_all_apply(account_and_contact):
    """Eight tills each pay 5.00 on the same five items, each listing them in another order:
    no deadlock, no lost update; 8 x 5.00 settles each 40.00 item exactly."""
    account, contact = account_and_contact
    items = [BillingItemFactory(contact=contact, total_amount=Decimal("40.00")) for _ in range(5)]
    keys = tills(account, 8)
    calls = []
    for n, key in enumerate(keys):
        ordered = items[n % 5 :] + items[: n % 5]
        if n % 2:
            ordered.reverse()
        lines = [(item.pk, 5.0, f"till-{n}") for item in ordered]
        calls.append(
            Call(key.credential.secret, "/POS/BillingPayments", payment_text(contact, lines))
        )

    responses = post_together(calls)

    assert [response.status_code for response in responses] == [200] * 8
    assert [response.json()["Success"] for response in responses] == [True] * 8
    assert [balance_of(item) for item in items] == [Decimal("0.00")] * 5
    assert Payment.objects.count() == 8
    assert PaymentAllocation.objects.count() == 40
    assert set(Payment.objects.values_list("amount", flat=True)) == {Decimal("25.00")}
    assert_ledger_clean()


def test_a_payment_and_a_write_down_of_one_item_at_once_apply_one(account_and_contact):
    """A till pays 30.00 and finance writes 30.00 off a 50.00 item at once: exactly one applies."""
    account, contact = account_and_contact
    item = BillingItemFactory(contact=contact, total_amount=Decimal("50.00"))
    till = tills(account, 1)[0]
    finance = AccountRoleFactory(account=account, role=Role.ADMIN)
    write_down = json.dumps(
        {
            "ContactId": str(contact.guid),
            "WriteDownDate": "2025-11-03T09:00:00+00:00",
            "Notes": "Goodwill",
            "BillingWriteDowns": [{"BillingId": item.pk, "Amount": 30.0, "GLAccountId": 4010}],
        }
    )

    paid, written = post_together(
        [
            Call(
                till.credential.secret,
                "/POS/BillingPayments",
                payment_text(contact, [(item.pk, 30.0, "t")]),
            ),
            Call(finance.credential.secret, "/POS/BillingWriteDowns", write_down),
        ]
    )

    assert (paid.status_code, written.status_code) == (200, 200)
    outcomes = [paid.json()["Success"], written.json()["Success"]]
    assert sorted(outcomes) == [False, True]
    if outcomes[0]:
        loser_line = written.json()["BillingWriteDowns"][0]
    else:
        loser_line = paid.json()["BillingPayments"][0]
    assert loser_line["Balance"] == 20.0
    assert loser_line["ErrorMessage"] == (
        f"The amount 30.00 is more than the balance 20.00 of billing item {item.pk}."
    )
    assert balance_of(item) == Decimal("20.00")
    assert Payment.objects.count() + WriteDown.objects.count() == 1
    assert_ledger_clean()


def test_eight_retries_with_one_key_at_once_pay_once(account_and_contact):
    """One till resends the same request eight times at once with one Idempotency-Key: one runs,
    seven wait for it and replay its response byte for byte."""
    account, contact = account_and_contact
    item = BillingItemFactory(contact=contact, total_amount=Decimal("50.00"))
    till = tills(account, 1)[0]
    text = payment_text(contact, [(item.pk, 8.0, "till-1")])

    responses = post_together(
        [Call(till.credential.secret, "/POS/BillingPayments", text, key="sale-42")] * 8
    )

    assert [response.status_code for response in responses] == [200] * 8
    replayed = [response.get("Idempotent-Replayed") for response in responses]
    assert sorted(replayed, key=str) == [None] + ["true"] * 7
    assert len({response.content for response in responses}) == 1
    assert '"Balance":42.00,' in responses[0].content.decode()
    assert responses[0].json()["Success"] is True
    assert balance_of(item) == Decimal("42.00")
    assert Payment.objects.count() == 1
    assert IdempotencyRecord.objects.get().status_code == 200
    assert_ledger_clean()
