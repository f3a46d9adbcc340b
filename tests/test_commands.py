import datetime
import hashlib
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command, get_commands, load_command_class
from django.core.management.base import BaseCommand
from django.test import RequestFactory

from contacts.models import Account, AccountRole, ApiCredential, Contact
from contacts.roles import Role
from contacts.selectors import active_credential_for_secret
from invoices.due import today
from invoices.models import BillingItem, Invoice, InvoiceItem
from payments import demo
from payments.actors import Channel
from payments.models import Payment, PaymentAllocation, Reversal, TenderType, WriteDown
from tests.factories import AccountFactory

SECRET_LINE = "Secret (shown once, store it now): "


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def days_ago(days: int) -> datetime.date:
    return today() - datetime.timedelta(days=days)


# every command of ours explains every option

ROOT = Path(__file__).resolve().parent.parent


def our_commands() -> dict[str, str]:
    """The management commands of the project's own apps (not Django's nor a library's)."""
    ours = {
        config.name
        for config in apps.get_app_configs()
        if Path(config.path).is_relative_to(ROOT) and ".venv" not in Path(config.path).parts
    }
    return {name: app for name, app in get_commands().items() if app in ours}


def test_every_option_of_our_commands_has_a_help_text():
    commands = our_commands()
    assert set(commands) >= {
        "create_api_key",
        "rotate_api_key",
        "purge_idempotency_records",
        "seed_demo",
        "verify_ledger",
    }
    defaults = {action.dest for action in BaseCommand().create_parser("manage.py", "x")._actions}
    missing = []
    for name, app in sorted(commands.items()):
        parser = load_command_class(app, name).create_parser("manage.py", name)
        actions = [action for action in parser._actions if action.dest not in defaults]
        missing += [
            f"{name} {'/'.join(a.option_strings) or a.dest}"
            for a in actions
            if not (a.help or "").strip()
        ]
    assert missing == []


# seed_demo


def test_seed_demo_twice_leaves_the_same_rows_and_json(db):
    first = run("seed_demo", "--json")
    counts = row_counts()
    second = run("seed_demo", "--json")

    assert row_counts() == counts
    assert second == first
    assert {
        "contacts.Account": 5,
        "contacts.Contact": 7,
        "invoices.Invoice": 16,
        "invoices.InvoiceItem": 21,
        "invoices.BillingItem": 15,
        "payments.Payment": 4,
        "payments.PaymentAllocation": 5,
        "payments.Refund": 1,
        "payments.CreditNote": 1,
        "payments.Reversal": 1,
        "payments.WriteDown": 1,
        "payments.TenderType": 9,
    }.items() <= counts.items()


def test_seed_demo_human_summary(db):
    output = run("seed_demo")

    assert output.splitlines()[0] == (
        "Demo data ready; created accounts 5, invoices 16, contacts 7, billing items 15, "
        "payments 4, reversals 1, write-downs 1, refunds 1, credit notes 1."
    )
    assert "900004  Tailspin Toys" in output
    assert "[API payments blocked]" in output
    assert run("seed_demo").splitlines()[0] == "Demo data ready; created nothing."


def test_seed_demo_ages_invoices_across_every_bucket(db):
    run("seed_demo")

    open_invoices = Invoice.objects.filter(account__number=900001, status="open")
    assert {(i.number, i.due_date, i.balance) for i in open_invoices} == {
        ("NW-1001", days_ago(120), Decimal("742.00")),  # over 90 days, part paid
        ("NW-1002", days_ago(75), Decimal("486.00")),  # 61-90
        ("NW-1003", days_ago(45), Decimal("434.30")),  # 31-60
        ("NW-1004", days_ago(15), Decimal("106.92")),  # 1-30
        ("NW-1005", days_ago(-15), Decimal("106.92")),  # not yet due
    }
    assert all(i.issue_date == i.due_date - datetime.timedelta(days=30) for i in open_invoices)
    nw_1003 = InvoiceItem.objects.filter(invoice__number="NW-1003")
    assert [(i.charge_name, i.quantity, i.charge_amount, i.tax_amount) for i in nw_1003] == [
        ("Support hours", 3, Decimal("360.00"), Decimal("28.80")),
        ("Storage add-on", 1, Decimal("25.00"), Decimal("2.00")),
        ("Courier", 1, Decimal("18.50"), Decimal("0.00")),
    ]
    assert not Invoice.objects.filter(account__number__in=[900003, 900005], due_date__lt=today())
    assert list(
        Account.objects.filter(api_payments_blocked=True).values_list("number", flat=True)
    ) == [900004]
    assert set(Account.objects.values_list("currency", flat=True)) == {"USD", "EUR", "GBP"}


def test_seed_demo_history_goes_through_the_money_service(db):
    run("seed_demo")

    partial = Payment.objects.get(reference=demo.PARTIAL_REFERENCE)
    assert (partial.account.number, partial.amount, partial.currency, partial.tender_type_id) == (
        900001,
        Decimal("500.00"),
        "USD",
        8,
    )
    assert partial.payment_date.date() == days_ago(100)
    assert partial.channel == Channel.SYSTEM
    reversed_payment = Payment.objects.get(reference=demo.REVERSED_REFERENCE)
    assert reversed_payment.reversal.reason == "Cheque returned unpaid (demo)."
    assert Invoice.objects.get(number="CE-2002").balance == Decimal("2261.00")
    legend = PaymentAllocation.objects.filter(reference=demo.LEGEND_REFERENCE)
    assert {(a.billing_item.description, a.amount) for a in legend} == {
        ("Membership 2026", Decimal("240.00")),
        ("Locker rental Q3", Decimal("20.00")),
    }
    assert {a.payment.contact.last_name for a in legend} == {"Lovelace"}
    write_down = WriteDown.objects.get()
    assert (write_down.billing_item.description, write_down.amount) == (
        "Workshop materials",
        Decimal("25.00"),
    )
    assert write_down.billing_item.balance == Decimal("35.00")
    assert Reversal.objects.count() == 1
    checked = (
        f"Checked {Invoice.objects.count()} invoices, {BillingItem.objects.count()} billing items, "
        f"{Payment.objects.count()} payments and the credit of {Account.objects.count()} "
        "accounts in "
    )
    assert re.fullmatch(re.escape(checked) + r"\d+\.\d\d s: no drift\.\n", run("verify_ledger"))


def test_seed_demo_json_matches_the_database(db, django_assert_num_queries):
    document = json.loads(run("seed_demo", "--json"))

    assert [(a["number"], a["guid"]) for a in document["accounts"]] == [
        (number, str(guid)) for number, guid in Account.objects.values_list("number", "guid")
    ]
    assert [
        (a["number"], a["currency"], a["account_balance"], a["past_due_balance"])
        for a in document["accounts"]
    ] == [
        (900001, "USD", "1876.14", "1769.22"),
        (900002, "EUR", "5831.00", "5117.00"),
        (900003, "GBP", "474.80", "0.00"),  # with a credit note of 10.00
        (900004, "USD", "873.72", "873.72"),
        (900005, "USD", "810.00", "0.00"),  # WW-5001 paid, 150.00 of credit
    ]
    # 1000.00 received for WW-5001 (810.00): 190.00 held as credit, 40.00 of it refunded.
    assert Account.objects.get(number=900005).credit_balance == Decimal("150.00")
    for entry in document["accounts"]:
        invoices = Invoice.objects.filter(
            account__number=entry["number"], status="open", issue_date__lte=today()
        )
        assert Decimal(entry["account_balance"]) == sum(i.balance for i in invoices)
        past_due = [i.balance for i in invoices if i.due_date < today()]
        assert Decimal(entry["past_due_balance"]) == sum(past_due, Decimal("0.00"))
    assert [a["api_payments_blocked"] for a in document["accounts"]] == [
        False,
        False,
        False,
        True,
        False,
    ]

    assert {c["guid"] for c in document["contacts"]} == {
        str(guid) for guid in Contact.objects.values_list("guid", flat=True)
    }
    for entry in document["contacts"]:
        items = BillingItem.objects.filter(contact__guid=entry["guid"]).order_by("pk")
        assert entry["billing_item_ids"] == [i.pk for i in items]
        assert entry["outstanding_billing_item_ids"] == [i.pk for i in items if i.balance > 0]
    ada = next(c for c in document["contacts"] if c["name"] == "Ada Lovelace")
    assert ada["account_number"] == 900001
    assert len(ada["billing_item_ids"]) == 3
    assert len(ada["outstanding_billing_item_ids"]) == 2  # the membership is paid
    assert document["tender_types"] == list(TenderType.objects.values("id", "name"))
    assert document["tender_types"][0] == {"id": 1, "name": "Cash"}

    with django_assert_num_queries(4):
        demo.summary()


def test_seed_demo_guids_are_fixed(db):
    run("seed_demo")

    spec = demo.ACCOUNTS[0]
    assert Account.objects.get(number=900001).guid == demo.account_guid(spec)
    ada = Contact.objects.get(first_name="Ada")
    assert ada.guid == demo.contact_guid(spec.contacts[0], spec)
    assert str(demo.account_guid(spec)) == "9a2fc89c-0d94-5f9a-ada7-c6e23dcbd7af"


def test_demo_login_refused_without_debug(db, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--demo-login is refused"):
        run("seed_demo", "--demo-login")

    assert not get_user_model().objects.exists()
    assert not Account.objects.exists()
    with pytest.raises(demo.DemoLoginRefused):
        demo.demo_login_reset()


def test_demo_login_with_debug_creates_and_resets_the_user(db, settings):
    settings.DEBUG = True

    output = run("seed_demo", "--demo-login")
    user = get_user_model().objects.get(username="demo")
    user.set_password("changed")
    user.is_superuser = False
    user.save()
    run("seed_demo", "--demo-login")

    assert "Demo only" in output
    assert f"Password: {demo.DEMO_PASSWORD}" in output
    assert "URL:      http://127.0.0.1:8000/admin/" in output
    # django-axes' backend needs the request (as a login form passes it).
    user = authenticate(
        RequestFactory().post("/admin/login/"), username="demo", password=demo.DEMO_PASSWORD
    )
    assert user is not None
    assert (user.is_staff, user.is_superuser, user.is_active) == (True, True, True)
    finance = authenticate(
        RequestFactory().post("/admin/login/"), username="finance", password=demo.FINANCE_PASSWORD
    )
    assert finance is not None
    assert (finance.is_staff, finance.is_superuser, finance.is_active) == (True, False, True)
    assert list(finance.groups.values_list("name", flat=True)) == ["Finance"]
    assert f"finance / {demo.FINANCE_PASSWORD}" in output
    assert get_user_model().objects.count() == 2


def test_demo_login_in_json(db, settings):
    settings.DEBUG = True

    document = json.loads(run("seed_demo", "--json", "--demo-login"))

    assert document["demo_login"] == {
        "demo_only": True,
        "username": "demo",
        "password": demo.DEMO_PASSWORD,
        "url": "http://127.0.0.1:8000/admin/",
    }


# create_api_key


def secret_of(output: str) -> str:
    [secret] = [
        line[len(SECRET_LINE) :] for line in output.splitlines() if line.startswith(SECRET_LINE)
    ]
    return secret


def grants() -> set[tuple]:
    return set(AccountRole.objects.values_list("account_id", "role", "credential_id", "user_id"))


def test_create_api_key_by_number_and_guid(db):
    first, second, _other = AccountFactory(), AccountFactory(), AccountFactory()

    output = run(
        "create_api_key",
        "Acme payments",
        "--account",
        str(first.number),
        "--account",
        str(second.guid),
    )

    credential = ApiCredential.objects.get()
    assert credential.name == "Acme payments"
    assert grants() == {
        (first.pk, Role.ADMIN, credential.pk, None),
        (second.pk, Role.ADMIN, credential.pk, None),
    }
    secret = secret_of(output)
    assert secret.startswith("bk_")
    assert active_credential_for_secret(secret) == credential
    assert credential.prefix == secret[:11]
    assert credential.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert f"prefix {credential.prefix}" in output
    assert f"{first.number}  {first.guid}  {first.name}" in output
    assert f"{second.number}  {second.guid}  {second.name}" in output
    for row in [*ApiCredential.objects.values(), *AccountRole.objects.values()]:
        assert not any(secret in str(value) for value in row.values())


def test_create_api_key_role_billing_payment(db):
    account = AccountFactory()

    run("create_api_key", "Till 1", "--account", str(account.number), "--role", "billing_payment")

    credential = ApiCredential.objects.get()
    assert grants() == {(account.pk, Role.BILLING_PAYMENT, credential.pk, None)}


def test_create_api_key_same_account_twice_grants_once(db):
    account = AccountFactory()

    run("create_api_key", "Acme", "--account", str(account.number), "--account", str(account.guid))

    assert grants() == {(account.pk, Role.ADMIN, ApiCredential.objects.get().pk, None)}


def test_create_api_key_quiet_prints_only_the_secret(db):
    account = AccountFactory()

    output = run("create_api_key", "Script", "--account", str(account.number), "--quiet")

    secret = output.removesuffix("\n")
    assert "\n" not in secret
    assert active_credential_for_secret(secret) == ApiCredential.objects.get()


@pytest.mark.parametrize("unknown", ["999999", "8c5e5ab4-6f0e-4c56-9d37-1f0c2b9f7a11", "nope"])
def test_create_api_key_unknown_account_creates_nothing(db, unknown):
    account = AccountFactory()

    with pytest.raises(CommandError, match=f"Unknown account '{unknown}'"):
        run("create_api_key", "Acme", "--account", str(account.number), "--account", unknown)

    assert not ApiCredential.objects.exists()
    assert not AccountRole.objects.exists()


def test_create_api_key_needs_an_account_and_a_known_role(db):
    account = AccountFactory()

    with pytest.raises(CommandError, match="--account"):
        run("create_api_key", "Acme")
    with pytest.raises(CommandError, match="--role"):
        run("create_api_key", "Acme", "--account", str(account.number), "--role", "owner")
    with pytest.raises(CommandError, match="name"):
        run("create_api_key", " ", "--account", str(account.number))

    assert not ApiCredential.objects.exists()
