"""Every operation of both APIs, fuzzed (schemathesis) against the schema the app serves.

A short, pinned run for CI (tests/api_fuzz.py; bench/fuzz.py runs longer): an admin key on the
demo accounts and the demo's real ids, positive and negative examples. Checks: no server error,
documented status codes, responses (errors included) conform to the schema, content types too.
Afterwards the ledger must still balance: whatever the fuzzer paid or wrote down moved money
consistently.
"""

import pytest

from payments.ledger import ledger_drift
from tests.api_fuzz import CHECKS, MODES, demo_world, fuzz, load_schema

pytestmark = pytest.mark.django_db

SEED = 20261201
EXAMPLES = 12  # per operation and generation mode: about 30 s on 2 cores
OPERATIONS = 17  # 7 account-billing operations on two mounts, 3 Legend operations


@pytest.fixture
def world(settings):
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    return demo_world()


def test_the_schema_documents_the_common_errors_on_every_operation(world):
    operations = [result.ok() for result in load_schema().get_all_operations()]
    assert len(operations) == OPERATIONS
    for operation in operations:
        responses = operation.definition.raw["responses"]
        for status in ("401", "403", "406", "411", "413", "429", "503"):
            assert "content" in responses[status], (operation.label, status)
        for status in ("429", "503"):
            assert responses[status]["headers"]["Retry-After"]["required"] is True
        if operation.method.upper() == "POST":
            assert {"400", "409", "415"} <= set(responses), operation.label


def test_fuzz_every_operation_finds_nothing_and_the_ledger_balances(world):
    tally = fuzz(world, examples=EXAMPLES, seed=SEED)

    assert len(tally.examples) == OPERATIONS
    assert all(count >= EXAMPLES for count in tally.examples.values()), tally.examples
    reports = "\n\n".join(
        f"{key}: {count}\n{tally.samples[key]}" for key, count in tally.failures.items()
    )
    assert not tally.failures, reports
    # It got past authentication and 404s: every operation answered some 2xx, except that the
    # demo's past-due invoices can be paid only once: by one mount or the other.
    answered = {label for (label, status) in tally.statuses if 200 <= status < 300}
    payments = {
        label for label in tally.examples if label.startswith("POST") and "/accounts/" in label
    }
    assert answered & payments, "no payment was ever accepted"
    never = sorted(set(tally.examples) - answered - payments)
    statuses = {
        label: {s: n for (lb, s), n in tally.statuses.items() if lb == label} for label in never
    }
    assert answered | payments == set(tally.examples), statuses
    assert ledger_drift() == []
    assert len(CHECKS) == 4
    assert len(MODES) == 2
