"""Concurrent `POST billing_payments` over HTTP, on PostgreSQL: real threads, each with its own
`Client` and its own database connection, released together by a barrier.

Every test asserts exactly how many requests got which answer and what was written, so that a run
in which the requests happened not to overlap passes only if the outcome is the same anyway.
"""

from decimal import Decimal

import pytest
from django.core.management import call_command

from invoices.models import Invoice, InvoiceStatus
from payments.models import IdempotencyRecord, Payment, PaymentAllocation
from tests.concurrent_posts import Call, post_together
from tests.factories import AccountRoleFactory, InvoiceFactory, days_ago

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8
MOUNTS = {"restapi": "/restapi/v2.1", "seed": "/v2.1"}


@pytest.fixture
def role():
    """An account administrator's credential; the account owes 30.00 + 50.00 + 70.00 past due."""
    role = AccountRoleFactory()
    for days, amount in ((30, "30.00"), (20, "50.00"), (10, "70.00")):
        InvoiceFactory(account=role.account, due_date=days_ago(days), amount=Decimal(amount))
    return role


def payments_url(account, mount="restapi"):
    return f"{MOUNTS[mount]}/accounts/{account.number}/billing_payments"


def invoices(account):
    return list(Invoice.objects.filter(account=account).order_by("due_date"))


def balances(account):
    return [(invoice.balance, invoice.status) for invoice in invoices(account)]


def payment_body(payment, mount="restapi"):
    body = {
        "billingPayments": [
            {
                "amount": str(allocation.amount),
                "invoiceId": str(allocation.invoice_id),
                "paymentId": str(payment.pk),
            }
            for allocation in PaymentAllocation.objects.filter(payment=payment).order_by("pk")
        ]
    }
    if mount == "seed":
        created_at = payment.processed_at.isoformat().replace("+00:00", "Z")
        return {"success": True, "data": {"id": str(payment.pk), "created_at": created_at, **body}}
    return body


PAID_IN_FULL = [(Decimal("0.00"), InvoiceStatus.PAID)] * 3
NOTHING_PAST_DUE = {
    "errorCode": "PAYMENT_NOT_ALLOWED",
    "message": "There is nothing past due to pay.",
}


@pytest.mark.parametrize("keys", [(None, None), ("k1", "k1")], ids=["no-key", "same-key"])
def test_two_partners_paying_one_account_at_once_pay_it_once(role, keys):
    """Two credentials, both administrators of the account, post the full past-due balance at
    once: one pays, the other finds nothing past due. Their keys (if any) are their own, so the
    loser's request runs and is refused; it is not a replay of the winner's."""
    second = AccountRoleFactory(account=role.account)
    url = payments_url(role.account)
    body = {"paymentAmount": "150.00"}

    responses = post_together(
        [
            Call(role.credential.secret, url, body, keys[0]),
            Call(second.credential.secret, url, body, keys[1]),
        ]
    )

    assert sorted(response.status_code for response in responses) == [201, 400]
    (won,) = [r for r in responses if r.status_code == 201]
    (lost,) = [r for r in responses if r.status_code == 400]
    winner = (role, second)[responses.index(won)]
    loser = (role, second)[responses.index(lost)]
    payment = Payment.objects.get()
    assert (payment.amount, payment.account_id, payment.recorded_by_credential_id) == (
        Decimal("150.00"),
        role.account_id,
        winner.credential.pk,
    )
    assert won.json() == payment_body(payment)
    assert [r["invoiceId"] for r in won.json()["billingPayments"]] == [
        str(invoice.pk) for invoice in invoices(role.account)
    ]
    assert lost.json() == NOTHING_PAST_DUE
    assert "Idempotent-Replayed" not in won.headers
    assert "Idempotent-Replayed" not in lost.headers
    assert balances(role.account) == PAID_IN_FULL
    assert PaymentAllocation.objects.count() == 3
    expected_records = (
        []
        if keys[0] is None
        else [("k1", winner.credential.pk, 201), ("k1", loser.credential.pk, 400)]
    )
    assert (
        sorted(
            IdempotencyRecord.objects.values_list("key", "credential_id", "status_code"),
            key=lambda record: record[2],
        )
        == expected_records
    )
    call_command("verify_ledger")  # raises CommandError on any drift


@pytest.mark.parametrize("mount", sorted(MOUNTS))
def test_one_key_sent_eight_times_at_once_pays_once_and_answers_eight_times_alike(role, mount):
    call = Call(
        role.credential.secret, payments_url(role.account, mount), {"paymentAmount": "150.00"}, "k1"
    )

    responses = post_together([call] * THREADS)

    assert [response.status_code for response in responses] == [201] * THREADS
    payment = Payment.objects.get()
    assert payment.amount == Decimal("150.00")
    expected = payment_body(payment, mount)
    assert [response.json() for response in responses] == [expected] * THREADS
    assert len({response.content for response in responses}) == 1
    replayed = [response.headers.get("Idempotent-Replayed") for response in responses]
    assert sorted(replayed, key=str) == [None] + ["true"] * (THREADS - 1)
    assert PaymentAllocation.objects.count() == 3
    assert balances(role.account) == PAID_IN_FULL
    assert list(IdempotencyRecord.objects.values_list("key", "credential_id", "status_code")) == [
        ("k1", role.credential.pk, 201)
    ]
    call_command("verify_ledger")


def test_one_key_with_two_bodies_at_once_runs_one_body_only(role):
    """Half the requests pay everything, half pay only the oldest invoice, all with one key: the
    first to take the key pays; those with its body get its response replayed, the others 409."""
    url = payments_url(role.account)
    oldest = invoices(role.account)[0]
    everything = Call(role.credential.secret, url, {"paymentAmount": "150.00"}, "k1")
    oldest_only = Call(
        role.credential.secret, url, {"paymentAmount": "30.00", "invoiceId": oldest.pk}, "k1"
    )
    calls = [everything, oldest_only] * (THREADS // 2)

    responses = post_together(calls)

    payment = Payment.objects.get()
    winning = everything if payment.amount == Decimal("150.00") else oldest_only
    assert payment.amount == Decimal(winning.body["paymentAmount"])
    reused = {
        "errorCode": "IDEMPOTENCY_KEY_REUSED",
        "message": "The Idempotency-Key 'k1' was already used for a different request.",
    }
    for call, response in zip(calls, responses, strict=True):
        if call is winning:
            assert (response.status_code, response.json()) == (201, payment_body(payment))
        else:
            assert (response.status_code, response.json()) == (409, reused)
    replayed = [r.headers.get("Idempotent-Replayed") for r in responses if r.status_code == 201]
    assert sorted(replayed, key=str) == [None] + ["true"] * (THREADS // 2 - 1)
    if winning is everything:
        assert balances(role.account) == PAID_IN_FULL
    else:
        assert balances(role.account) == [
            (Decimal("0.00"), InvoiceStatus.PAID),
            (Decimal("50.00"), InvoiceStatus.OPEN),
            (Decimal("70.00"), InvoiceStatus.OPEN),
        ]
    assert list(IdempotencyRecord.objects.values_list("key", "status_code")) == [("k1", 201)]
    call_command("verify_ledger")


def test_distinct_keys_at_once_are_distinct_requests(role):
    """Eight different keys, one body: one pays, seven are refused, and each key keeps its own
    answer."""
    url = payments_url(role.account)
    calls = [
        Call(role.credential.secret, url, {"paymentAmount": "150.00"}, f"k{n}")
        for n in range(THREADS)
    ]

    responses = post_together(calls)

    assert sorted(response.status_code for response in responses) == [201] + [400] * (THREADS - 1)
    payment = Payment.objects.get()
    for response in responses:
        expected = payment_body(payment) if response.status_code == 201 else NOTHING_PAST_DUE
        assert response.json() == expected
        assert "Idempotent-Replayed" not in response.headers
    assert sorted(IdempotencyRecord.objects.values_list("key", "status_code")) == sorted(
        (call.key, response.status_code) for call, response in zip(calls, responses, strict=True)
    )
    assert balances(role.account) == PAID_IN_FULL
    call_command("verify_ledger")
