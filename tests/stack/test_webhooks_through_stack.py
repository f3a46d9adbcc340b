"""Webhooks in the production topology (docs/webhooks.md): a payment made over HTTPS through
nginx, an app server and PgBouncer in transaction mode queues its deliveries in its own
transaction; the stack's worker sends them to the subscriber, signed."""

import time
from decimal import Decimal

from tests.webhook_receiver import webhook_receiver


def test_a_payment_through_the_stack_reaches_its_subscriber_signed(stack, https):
    (client,) = stack.seed(what="clients", count=1, each=2)
    owed = sum(Decimal(invoice["amount"]) for invoice in client["invoices"])
    with webhook_receiver() as receiver:
        # The pytest environment allows http:// to loopback (WEBHOOK_ALLOW_HTTP_LOOPBACK), and
        # the stack's worker inherits it.
        subscription = stack.seed(what="webhook", account=client["account_pk"], url=receiver.url)
        started = time.monotonic()
        response = https.post(
            f"{stack.url}/restapi/v2.1/accounts/{client['account']}/billing_payments",
            json={"paymentAmount": str(owed)},
            headers={"Authorization": f"Bearer {client['secret']}"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        received = receiver.wait_for(3)  # payment.created and two invoice.paid
        elapsed = time.monotonic() - started

    events = stack.sql(
        "SELECT event_id::text, type FROM events_event WHERE account_id = %s ORDER BY id",
        [client["account_pk"]],
    )
    assert [kind for _, kind in events] == ["payment.created", "invoice.paid", "invoice.paid"]
    payloads = {r.webhook_id: r.verified(subscription["secret"]) for r in received}
    assert {event_id: payloads[event_id]["type"] for event_id in payloads} == dict(events)
    assert len(received) == 3
    payment = next(p for p in payloads.values() if p["type"] == "payment.created")
    assert payment["data"]["amount"] == f"{owed:.2f}"
    assert payment["data"]["channel"] == "docusign_api"
    # Woken by NOTIFY through the worker's direct connection, not its 5-second polling.
    assert elapsed < 5, elapsed
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        statuses = stack.sql(
            "SELECT status, count(*) FROM webhooks_delivery WHERE subscription_id = %s "
            "GROUP BY status",
            [subscription["id"]],
        )
        if statuses == [("succeeded", 3)]:
            break
        time.sleep(0.1)
    assert statuses == [("succeeded", 3)], stack.log("worker.log")
