"""Property-based fuzzing of both APIs (schemathesis) against the schema the app serves.

In process: the WSGI app is called directly on the current database (the test's transaction, or
bench/fuzz.py's database), with an `admin` key on the demo accounts and the demo's real ids, so
that generated requests get past authentication and 404s. Shared by tests/test_api_fuzz.py (a
short run in CI) and bench/fuzz.py (a longer one).
"""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import hypothesis
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = (
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
)
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


@dataclass(frozen=True)
class World:
    """A credential and the real ids the fuzzer puts into its requests (most of the time)."""

    secret: str
    accounts: tuple[str, ...]  # account numbers and GUIDs
    record_ids: tuple[str, ...]  # invoice and payment ids
    # per account number and GUID, and per kind ("invoices", "payments"): that account's ids
    records_by_account: dict[tuple[str, str], tuple[str, ...]]
    contacts: tuple[str, ...]  # contact GUIDs
    billing_ids: tuple[int, ...]
    amounts: tuple[str, ...]  # past-due balances of the accounts and of their invoices
    # per account number and GUID, its past-due total; per invoice id, its balance: a payment's
    # amount that matches what it pays, so that some payments are accepted
    past_due_by_account: dict[str, str]
    invoice_balances: dict[str, str]


def demo_world() -> World:
    """The demo data (payments.demo.seed), an admin key on every demo account, and their ids."""
    from billing_site.money import format_amount
    from contacts.models import Account, Contact
    from contacts.services import credential_create
    from invoices.due import past_due_q
    from invoices.models import BillingItem, Invoice
    from payments import demo
    from payments.models import Payment

    demo.seed()
    accounts = list(Account.objects.filter(number__in=[spec.number for spec in demo.ACCOUNTS]))
    _credential, secret = credential_create(name="API fuzzer", accounts=accounts)
    invoices = Invoice.objects.filter(account__in=accounts).values_list("pk", flat=True)
    payments = Payment.objects.filter(account__in=accounts).values_list("pk", flat=True)
    contacts = Contact.objects.filter(account__in=accounts)
    summary = demo.summary()["accounts"]
    past_due = Invoice.objects.filter(past_due_q(), account__in=accounts, balance__gt=0)
    return World(
        secret=secret,
        accounts=tuple(ref for a in accounts for ref in (str(a.number), str(a.guid))),
        record_ids=tuple(str(pk) for pk in [*invoices, *payments]),
        records_by_account={
            (ref, kind): tuple(
                str(pk) for pk in model.objects.filter(account=a).values_list("pk", flat=True)
            )
            for a in accounts
            for ref in (str(a.number), str(a.guid))
            for kind, model in (("invoices", Invoice), ("payments", Payment))
        },
        contacts=tuple(str(c.guid) for c in contacts),
        billing_ids=tuple(
            BillingItem.objects.filter(contact__in=contacts).values_list("pk", flat=True)
        ),
        amounts=tuple(
            [a["past_due_balance"] for a in summary]
            + [format_amount(balance) for balance in past_due.values_list("balance", flat=True)]
        ),
        past_due_by_account={
            ref: a["past_due_balance"] for a in summary for ref in (str(a["number"]), a["guid"])
        },
        invoice_balances={
            str(pk): format_amount(balance)
            for pk, balance in Invoice.objects.filter(account__in=accounts).values_list(
                "pk", "balance"
            )
        },
    )


def _mostly(draw, real: tuple, generated):
    """A real value nine times in ten, else what schemathesis generated. (Hypothesis favours
    small integers: 9 is the rare one.)"""
    return draw(st.sampled_from(real)) if real and draw(st.integers(0, 9)) != 9 else generated


def make_realistic(case, world: World, draw) -> None:
    """Put real account, invoice, payment, contact and billing item ids into `case`."""
    path = case.path_parameters or {}
    if "account_id" in path:
        path["account_id"] = _mostly(draw, world.accounts, path["account_id"])
    if "id" in path:  # most often one of that account's own invoices (or payments)
        kind = "payments" if "billing_payments" in case.path else "invoices"
        own = world.records_by_account.get((str(path.get("account_id")), kind), ())
        path["id"] = _mostly(draw, own or world.record_ids, path["id"])
    if isinstance(case.query, dict) and "ContactId" in case.query:
        case.query["ContactId"] = _mostly(draw, world.contacts, case.query["ContactId"])
    body = case.body
    if not isinstance(body, dict):
        return
    if "ContactId" in body:
        body["ContactId"] = _mostly(draw, world.contacts, body["ContactId"])
    account = str(path.get("account_id"))
    if "invoiceId" in body:  # most often one of the account's own invoices
        own = world.records_by_account.get((account, "invoices"), ())
        body["invoiceId"] = _mostly(
            draw, tuple(map(int, own or world.record_ids)), body["invoiceId"]
        )
    if "paymentAmount" in body:  # most often what that invoice, or the account, owes
        owed = world.invoice_balances.get(str(body.get("invoiceId")))
        if "invoiceId" not in body:
            owed = world.past_due_by_account.get(account)
        body["paymentAmount"] = _mostly(
            draw, (owed,) if owed else world.amounts, body["paymentAmount"]
        )
    for key in ("BillingPayments", "BillingWriteDowns"):
        lines = body.get(key)
        for line in lines if isinstance(lines, list) else []:  # a negative case may send 1.5
            if isinstance(line, dict) and "BillingId" in line:
                line["BillingId"] = _mostly(draw, world.billing_ids, line["BillingId"])


@dataclass
class Tally:
    """Examples run per operation, statuses per (operation, status), failures per (operation,
    check), and a sample of each failure."""

    examples: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    samples: dict = field(default_factory=dict)

    def record(self, operation: str, group: FailureGroup) -> None:
        for failure in group.exceptions:
            key = (operation, failure.checks[0] if failure.checks else type(failure).__name__)
            self.failures[key] += 1
            self.samples.setdefault(key, f"{failure.title}\n{failure.message}\n{group}")


@contextmanager
def in_this_transaction() -> Iterator[None]:
    """Keep Django from closing the database connection at the end of each request (as the test
    client does), so that requests run on the caller's connection and see its data."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def load_schema():
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


def fuzz(world: World, *, examples: int, seed: int, operations: str | None = None) -> Tally:
    """Run `examples` generated requests per operation and generation mode, with a fixed seed."""
    tally = Tally()
    headers = {"Authorization": f"Bearer {world.secret}"}
    with in_this_transaction():
        schema = load_schema()
        for result in schema.get_all_operations():
            operation = result.ok()
            if operations and operations not in operation.label:
                continue
            for mode in MODES:
                _fuzz_operation(operation, mode, world, headers, examples, seed, tally)
    return tally


def _fuzz_operation(operation, mode, world, headers, examples, seed, tally) -> None:
    label = operation.label

    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def run(case, data):
        make_realistic(case, world, data.draw)
        response = case.call(headers=headers)
        tally.examples[label] += 1
        tally.statuses[label, response.status_code] += 1
        try:
            case.validate_response(response, checks=list(CHECKS), headers=headers)
        except FailureGroup as group:
            tally.record(label, group)

    run()
