"""The primary lost, the replica promoted (`deploy/stack promote`: pg_ctl promote, PgBouncer's
entries rewritten and reloaded): the app serves again through nginx, with every payment that was
acknowledged before the primary stopped. Runs last (conftest): the stack has no replica after it.
"""

import time
from decimal import Decimal

import requests

from .load import StackLoad, check_stack_ledger, plan_for


def test_the_promoted_replica_serves_every_acknowledged_payment(stack, https):
    plan = plan_for(stack.seed(what="clients", count=2, each=3))
    outcomes = StackLoad(stack, plan).run(lambda load: None, deadline=60)
    check_stack_ledger(stack, outcomes, plan)

    stack.run("stop-primary")
    down = https.get(f"{stack.url}/healthz", timeout=5)
    assert down.status_code == 200  # nginx and the app servers still answer what needs no database
    stack.run("promote")
    assert "promoted" in stack.run("status")

    # The promoted server is the primary now: the checks read it there.
    stack.ports["primary"] = stack.ports["replica"]
    (in_recovery,) = stack.sql("SELECT pg_is_in_recovery()")
    assert in_recovery == (False,)
    check_stack_ledger(stack, outcomes, plan)

    # And the app writes to it, through nginx and PgBouncer.
    (client,) = stack.seed(what="clients", count=1, each=1)
    (invoice,) = client["invoices"]
    deadline = time.monotonic() + 20
    while True:
        paid = https.post(
            f"{stack.url}/restapi/v2.1/accounts/{client['account']}/billing_payments",
            json={"paymentAmount": invoice["amount"], "invoiceId": str(invoice["id"])},
            headers={"Authorization": f"Bearer {client['secret']}", "Idempotency-Key": "after"},
            timeout=10,
        )
        if paid.status_code != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert paid.status_code == 201, paid.text
    assert stack.sql("SELECT balance FROM invoices_invoice WHERE id = %s", [invoice["id"]]) == [
        (Decimal("0.00"),)
    ]
    assert requests.get(f"{stack.url}/healthz", verify=stack.ca, timeout=5).status_code == 200
