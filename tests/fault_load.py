"""A payment load for the fault tests, and the ledger checks that must hold after it.

Each client thread pays its own account's past-due invoices (DocuSign `POST billing_payments` with
`invoiceId`) and its contact's billing items (Legend `POST /POS/BillingPayments`), one invoice or
item a request, each request with its own `Idempotency-Key`. As a partner would, a client retries
the same request with the same key after a 503 (waiting `Retry-After`), a 429 or a lost
connection, a bounded number of times. A disruptor thread (terminate the database backends, kill a
worker) runs beside the clients, paced on the number of payments acknowledged so far.
"""

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import requests
from django.db import connection
from django.db.models import Sum

from invoices.models import BillingItem, Invoice
from payments.ledger import ledger_drift
from payments.models import IdempotencyRecord, Payment, PaymentAllocation
from tests.factories import (
    AccountFactory,
    AccountRoleFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    TenderTypeFactory,
)

CARD = 3  # Legend's tender type for a card (a migration preset, flushed in transaction tests)
ACKNOWLEDGED = {"docusign": 201, "legend": 200}
REQUEST_TIMEOUT = 10  # seconds, every HTTP call
MAX_ATTEMPTS = 8
MAX_RETRY_WAIT = 1.0  # seconds: Retry-After is honoured up to this


@dataclass(frozen=True)
class Job:
    api: str  # "docusign" or "legend"
    secret: str
    path: str
    body: str  # raw JSON text, amounts as written
    key: str
    target_id: int  # the invoice or billing item paid
    amount: Decimal


@dataclass
class Outcome:
    job: Job
    attempts: list = field(default_factory=list)  # a status code, or the exception's name
    acknowledged: dict | None = None  # the 2xx body
    replayed: bool = False
    retry_after: list = field(default_factory=list)  # Retry-After of each 503
    unexpected: str | None = None


def arrange(clients: int, per_client: int) -> list[list[Job]]:
    """Committed rows for `clients` accounts, each with `per_client` past-due invoices and as many
    billing items of one contact; the jobs of each client, DocuSign and Legend interleaved."""
    TenderTypeFactory(id=CARD, name="Card")
    plan = []
    for client in range(clients):
        role = AccountRoleFactory(account=AccountFactory(currency="USD"))
        account, secret = role.account, role.credential.secret
        contact = ContactFactory(account=account)
        jobs = []
        for index in range(per_client):
            amount = Decimal("20.00") + Decimal(index) + Decimal(client) / 100
            invoice = InvoiceFactory(account=account, amount=amount)
            body = {"paymentAmount": str(amount), "invoiceId": str(invoice.pk)}
            jobs.append(
                Job(
                    "docusign",
                    secret,
                    f"/restapi/v2.1/accounts/{account.number}/billing_payments",
                    json.dumps(body),
                    f"ds-{uuid.uuid4()}",
                    invoice.pk,
                    amount,
                )
            )
            item_amount = amount + Decimal("0.50")
            item = BillingItemFactory(contact=contact, total_amount=item_amount)
            line = {"BillingId": item.pk, "Amount": "AMOUNT", "ThirdPartyReference": f"r{item.pk}"}
            body = {
                "ContactId": str(contact.guid),
                "PaymentDate": "2026-01-15T10:00:00+00:00",
                "TenderTypeId": CARD,
                "BillingPayments": [line],
            }
            raw = json.dumps(body).replace('"AMOUNT"', str(item_amount))  # a JSON number
            key = f"lg-{uuid.uuid4()}"
            jobs.append(
                Job("legend", secret, "/POS/BillingPayments", raw, key, item.pk, item_amount)
            )
        plan.append(jobs)
    return plan


class Load:
    """Runs the clients and one disruptor against `server`; `acknowledged` counts 2xx so far."""

    retried = frozenset({429, 503})  # answers a partner retries with the same key
    verify: bool | str = True  # requests' TLS verification (a CA file for the stack)

    def __init__(self, server, plan: list[list[Job]]) -> None:
        self.server = server
        self.plan = plan
        self.total = sum(len(jobs) for jobs in plan)
        self.outcomes: list[Outcome] = []
        self.acknowledged = 0
        self.finished = threading.Event()
        self._progress = threading.Condition()
        self._errors: list[BaseException] = []

    def wait_for_acknowledged(self, count: int, timeout: float = 20.0) -> bool:
        with self._progress:
            return self._progress.wait_for(
                lambda: self.acknowledged >= count or self.finished.is_set(), timeout=timeout
            )

    def _post(self, job: Job) -> Outcome:
        outcome = Outcome(job)
        headers = {
            "Authorization": f"Bearer {job.secret}",
            "Content-Type": "application/json",
            "Idempotency-Key": job.key,
        }
        for _attempt in range(MAX_ATTEMPTS):
            try:
                response = requests.post(
                    self.server.url + job.path,
                    data=job.body,
                    headers=headers,
                    timeout=REQUEST_TIMEOUT,
                    verify=self.verify,
                )
            except requests.RequestException as error:  # the worker died, the connection reset
                outcome.attempts.append(type(error).__name__)
                time.sleep(0.1)
                continue
            outcome.attempts.append(response.status_code)
            if response.status_code == ACKNOWLEDGED[job.api]:
                outcome.acknowledged = response.json(parse_float=Decimal, parse_int=Decimal)
                outcome.replayed = response.headers.get("Idempotent-Replayed") == "true"
                with self._progress:
                    self.acknowledged += 1
                    self._progress.notify_all()
                return outcome
            if response.status_code in self.retried:
                retry_after = response.headers.get("Retry-After")
                if response.status_code == 503:
                    outcome.retry_after.append(retry_after)
                time.sleep(min(float(retry_after or 0.2), MAX_RETRY_WAIT))
                continue
            outcome.unexpected = f"{response.status_code}: {response.text[:500]}"
            return outcome
        return outcome

    def _client(self, jobs: list[Job]) -> None:
        try:
            for job in jobs:
                outcome = self._post(job)
                with self._progress:
                    self.outcomes.append(outcome)
        except BaseException as error:  # handed to the main thread
            self._errors.append(error)

    def _disrupt(self, disruptor: Callable[["Load"], None]) -> None:
        try:
            disruptor(self)
        except BaseException as error:
            self._errors.append(error)
        finally:
            connection.close()  # the thread's own database connection

    def run(self, disruptor: Callable[["Load"], None], deadline: float = 60.0) -> list[Outcome]:
        clients = [threading.Thread(target=self._client, args=(jobs,)) for jobs in self.plan]
        disrupting = threading.Thread(target=self._disrupt, args=(disruptor,))
        for thread in [*clients, disrupting]:
            thread.start()
        stop = time.monotonic() + deadline
        for thread in clients:
            thread.join(timeout=max(0.0, stop - time.monotonic()))
        self.finished.set()
        with self._progress:
            self._progress.notify_all()
        disrupting.join(timeout=max(1.0, stop - time.monotonic()))
        alive = [thread for thread in [*clients, disrupting] if thread.is_alive()]
        assert not alive, f"threads still running after {deadline} s\n{self.server.log()}"
        assert not self._errors, f"{self._errors!r}\n{self.server.log()}"
        return self.outcomes


def summary(outcomes: list[Outcome]) -> Counter:
    """How many attempts ended with each status code or exception."""
    return Counter(attempt for outcome in outcomes for attempt in outcome.attempts)


def check_ledger(outcomes: list[Outcome], plan: list[list[Job]], log: str) -> None:
    """Every job acknowledged, each payment in the database exactly once and whole, the ledger
    balanced, and no idempotency record left behind without its answer."""
    context = f"attempts: {dict(summary(outcomes))}\n--- server log ---\n{log}"
    jobs = [job for client_jobs in plan for job in client_jobs]
    assert len(outcomes) == len(jobs), context
    unacknowledged = [o for o in outcomes if o.acknowledged is None]
    assert unacknowledged == [], context

    for outcome in outcomes:
        job, body = outcome.job, outcome.acknowledged
        if job.api == "docusign":
            assert len(body["billingPayments"]) == 1, (body, context)
            answered = body["billingPayments"][0]
            assert answered["invoiceId"] == str(job.target_id), (body, context)
            assert answered["amount"] == str(job.amount), (body, context)
            allocations = list(
                PaymentAllocation.objects.filter(invoice_id=job.target_id).values_list(
                    "payment_id", "amount"
                )
            )
            assert allocations == [(int(answered["paymentId"]), job.amount)], (job, context)
        else:
            assert body["Success"] is True, (body, context)
            (line,) = body["BillingPayments"]
            assert (line["BillingId"], line["Balance"]) == (job.target_id, 0), (body, context)
            assert line["ProcessDate"] is not None, (body, context)
            allocations = list(
                PaymentAllocation.objects.filter(billing_item_id=job.target_id).values_list(
                    "payment_id", "amount"
                )
            )
            assert len(allocations) == 1, (job, allocations, context)
            assert allocations[0][1] == job.amount, (job, allocations, context)
        payment = Payment.objects.get(pk=allocations[0][0])
        assert payment.amount == job.amount, (job, context)  # the payment is that one line, whole

    # Nothing else was paid, nothing half-written: one payment and one allocation a job, every
    # payment exactly covered by its allocations, every balance what the movements say.
    assert Payment.objects.count() == len(jobs), context
    assert PaymentAllocation.objects.count() == len(jobs), context
    assert not Payment.objects.filter(allocations__isnull=True).exists(), context
    assert Invoice.objects.exclude(balance=0).count() == 0, context
    assert BillingItem.objects.exclude(balance=0).count() == 0, context
    paid = PaymentAllocation.objects.aggregate(total=Sum("amount"))["total"]
    assert paid == sum(job.amount for job in jobs), context
    assert ledger_drift() == [], context
    # One stored answer a key, each the acknowledgement; none without its answer.
    records = dict(IdempotencyRecord.objects.values_list("key", "status_code"))
    assert records == {job.key: ACKNOWLEDGED[job.api] for job in jobs}, context
