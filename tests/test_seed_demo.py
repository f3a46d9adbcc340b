"""seed_demo --size, --reset and --host (payments/demo_bulk.py, payments/demo_reset.py)."""

import io

import pytest
from django.core.management import CommandError, call_command

from contacts.models import Account, Contact
from invoices.models import BillingItem, Invoice
from payments.ledger import ledger_drift
from payments.management.commands.seed_demo import Progress
from payments.models import Payment, PaymentAllocation, Reversal, WriteDown
from tests.factories import AccountFactory

FRESH = {"accounts": 5, "invoices": 16, "contacts": 7, "billing items": 15, "payments": 4}
MODELS = {
    "accounts": Account,
    "invoices": Invoice,
    "contacts": Contact,
    "billing items": BillingItem,
    "payments": Payment,
}


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def counts() -> dict[str, int]:
    return {kind: model.objects.count() for kind, model in MODELS.items()}


def test_size_makes_exactly_the_bulk_rows_and_is_idempotent(db):
    output = run("--size", "30")

    # 30 invoices on one bulk account; a contact (two billing items) at invoice 20; invoices 10,
    # 20, 30 paid in part, and the first bulk contact's membership.
    assert counts() == {
        "accounts": 6,
        "invoices": 46,
        "contacts": 8,
        "billing items": 17,
        "payments": 8,
    }
    assert output.splitlines()[0] == (
        "Demo data ready; created accounts 6, invoices 46, contacts 8, billing items 17, "
        "payments 8, reversals 1, write-downs 1, refunds 1, credit notes 1."
    )
    assert ledger_drift() == []
    bulk = Account.objects.get(number=910001)
    assert (bulk.name, bulk.currency, bulk.invoices.count()) == ("Demo bulk account 1", "USD", 30)
    partial = Invoice.objects.get(number="BK-000010")
    assert 0 < partial.balance < partial.amount
    rows = set(Invoice.objects.values_list("number", "amount", "due_date", "balance"))

    assert run("--size", "30").splitlines()[0] == "Demo data ready; created nothing."
    assert set(Invoice.objects.values_list("number", "amount", "due_date", "balance")) == rows
    assert counts()["payments"] == 8


def test_size_is_deterministic_and_grows_by_the_difference(db):
    run("--size", "10")
    first = set(Invoice.objects.values_list("number", "amount", "due_date", "balance"))

    assert run("--size", "12").splitlines()[0] == "Demo data ready; created invoices 2."
    assert first < set(Invoice.objects.values_list("number", "amount", "due_date", "balance"))


def test_size_spreads_invoices_over_bulk_accounts_of_250(db):
    run("--size", "251")

    assert list(
        Account.objects.filter(number__gte=910001).order_by("number").values_list("number")
    ) == [(910001,), (910002,)]
    assert Invoice.objects.filter(account__number=910002).count() == 1
    assert ledger_drift() == []


def test_negative_size_is_refused(db):
    with pytest.raises(CommandError, match=r"^--size must be 0 or more\.$"):
        run("--size", "-1")
    assert not Account.objects.exists()


def test_reset_under_debug_rebuilds_the_fresh_demo(db, settings):
    settings.DEBUG = True
    run("--size", "30")

    output = run("--reset")

    assert counts() == FRESH
    assert output.splitlines()[0] == (
        "Demo data ready; created accounts 5, invoices 16, contacts 7, billing items 15, "
        "payments 4, reversals 1, write-downs 1, refunds 1, credit notes 1."
    )
    assert (Reversal.objects.count(), WriteDown.objects.count()) == (1, 1)
    assert PaymentAllocation.objects.count() == 5
    assert not Account.objects.filter(number__gte=910001).exists()
    assert ledger_drift() == []


def test_reset_refused_without_debug_deletes_nothing(db, settings):
    run("--size", "30")
    before = counts()
    settings.DEBUG = False

    with pytest.raises(CommandError) as refused:
        run("--reset")

    assert str(refused.value) == (
        "--reset is refused: DEBUG is off, and a reset deletes data. Nothing was deleted."
    )
    assert counts() == before


def test_reset_refused_when_an_account_is_not_demo_data(db, settings):
    settings.DEBUG = True
    run()
    AccountFactory(number=123456)
    before = counts()

    with pytest.raises(CommandError) as refused:
        run("--reset")

    assert str(refused.value) == (
        "--reset is refused: the database holds 1 account(s) that are not demo data, and a "
        "reset empties every account. Nothing was deleted."
    )
    assert counts() == before


def test_printed_urls_use_host(db, settings):
    settings.DEBUG = True

    output = run("--demo-login", "--host", "demo.example:9000")

    assert "  Back office: http://demo.example:9000/backoffice/" in output.splitlines()
    assert "  URL:      http://demo.example:9000/admin/" in output.splitlines()
    assert "(http://demo.example:9000/backoffice/)" in output
    assert "127.0.0.1" not in output


def test_host_defaults_to_demo_host(db, monkeypatch):
    monkeypatch.setenv("DEMO_HOST", "box.internal:8080")

    assert "  Back office: http://box.internal:8080/backoffice/" in run().splitlines()


def test_progress_off_a_terminal_prints_a_line_every_ten_percent():
    from django.core.management.base import OutputWrapper

    stream = io.StringIO()
    progress = Progress(OutputWrapper(stream))
    for done in range(1, 21):
        progress(done, 20)

    assert stream.getvalue().splitlines() == [
        f"Bulk invoices: {n}/20 ({n * 5}%)" for n in range(2, 21, 2)
    ]


def test_progress_on_a_terminal_rewrites_one_line():
    from django.core.management.base import OutputWrapper

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    progress = Progress(OutputWrapper(stream))
    for done in range(1, 5):
        progress(done, 4)

    assert stream.getvalue() == (
        "\rBulk invoices: 1/4 (25%)\rBulk invoices: 2/4 (50%)"
        "\rBulk invoices: 3/4 (75%)\rBulk invoices: 4/4 (100%)\n"
    )
