"""The fault tests' payment load (tests/fault_load.py), aimed at the stack through nginx.

The rows are made inside the stack (seed.py); a client retries with the same key on a lost
connection, a 502/504 from nginx, a 503 or a 429, as docs/operations.md tells partners to. The
checks read the stack's primary directly.
"""

import json
import uuid
from collections import Counter
from decimal import Decimal

from tests.fault_load import ACKNOWLEDGED, Job, Load, Outcome


def plan_for(clients: list[dict]) -> list[list[Job]]:
    """Each client's jobs, DocuSign and Legend interleaved, each with its own key."""
    plan = []
    for client in clients:
        jobs = []
        for invoice, item in zip(client["invoices"], client["items"], strict=True):
            body = json.dumps({"paymentAmount": invoice["amount"], "invoiceId": str(invoice["id"])})
            path = f"/restapi/v2.1/accounts/{client['account']}/billing_payments"
            jobs.append(
                Job(
                    "docusign",
                    client["secret"],
                    path,
                    body,
                    f"ds-{uuid.uuid4()}",
                    invoice["id"],
                    Decimal(invoice["amount"]),
                )
            )
            line = {"BillingId": item["id"], "Amount": "AMOUNT"}
            legend = {
                "ContactId": client["contact"],
                "PaymentDate": "2026-01-15T10:00:00+00:00",
                "TenderTypeId": 3,
                "BillingPayments": [line],
            }
            raw = json.dumps(legend).replace('"AMOUNT"', item["amount"])
            jobs.append(
                Job(
                    "legend",
                    client["secret"],
                    "/POS/BillingPayments",
                    raw,
                    f"lg-{uuid.uuid4()}",
                    item["id"],
                    Decimal(item["amount"]),
                )
            )
        plan.append(jobs)
    return plan


class StackLoad(Load):
    """`Load` through nginx: verifies the stack's certificate, and retries 502/504 too (nginx's
    answers while an app server is down)."""

    retried = frozenset({429, 502, 503, 504})

    def __init__(self, stack, plan):
        super().__init__(stack_server(stack), plan)
        self.verify = stack.ca


class stack_server:  # what Load calls `server`: a URL and a log
    def __init__(self, stack):
        self.stack = stack
        self.url = stack.url

    def log(self) -> str:
        return self.stack.logs()


def check_stack_ledger(stack, outcomes: list[Outcome], plan: list[list[Job]]) -> None:
    """Every job acknowledged and in the ledger exactly once, whole; nothing else paid on these
    accounts; one stored answer a key; `verify_ledger` clean."""
    jobs = [job for client_jobs in plan for job in client_jobs]
    attempts = Counter(attempt for outcome in outcomes for attempt in outcome.attempts)
    context = f"attempts: {dict(attempts)}\n{stack.logs()[-8000:]}"
    assert len(outcomes) == len(jobs), context
    assert [o.job.key for o in outcomes if o.acknowledged is None] == [], context
    for outcome in outcomes:
        job, body = outcome.job, outcome.acknowledged
        column = "invoice_id" if job.api == "docusign" else "billing_item_id"
        allocations = stack.sql(
            f"SELECT payment_id, amount FROM payments_paymentallocation WHERE {column} = %s",  # noqa: S608
            [job.target_id],
        )
        assert [amount for _, amount in allocations] == [job.amount], (job, allocations, context)
        if job.api == "docusign":
            (line,) = body["billingPayments"]
            assert int(line["paymentId"]) == allocations[0][0], (body, context)
        else:
            assert body["Success"] is True, (body, context)
        assert stack.sql(
            "SELECT amount FROM payments_payment WHERE id = %s", [allocations[0][0]]
        ) == [(job.amount,)], (job, context)
    accounts = {
        number
        for client_jobs in plan
        for number in {job.path.split("/")[4] for job in client_jobs if job.api == "docusign"}
    }
    ((count, allocated),) = stack.sql(
        "SELECT count(DISTINCT p.id), count(pa.id) FROM payments_payment p "
        "JOIN contacts_account a ON a.id = p.account_id "
        "LEFT JOIN payments_paymentallocation pa ON pa.payment_id = p.id "
        "WHERE a.number = ANY(%s)",
        [[int(number) for number in accounts]],
    )
    assert (count, allocated) == (len(jobs), len(jobs)), context
    records = dict(
        stack.sql(
            "SELECT key, status_code FROM payments_idempotencyrecord WHERE key = ANY(%s)",
            [[job.key for job in jobs]],
        )
    )
    assert records == {job.key: ACKNOWLEDGED[job.api] for job in jobs}, context
    stack.manage("verify_ledger")  # exits non-zero on any drift
