"""The hot paths' hand-written statements (billing_site/model_sql.py) read and write exactly what
the ORM would: the same instances, the same rows."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from billing_site import model_sql
from contacts.locks import lock_account
from contacts.models import Account, ApiCredential, Contact
from contacts.selectors import (
    active_credential_for_secret,
    contact_by_guid,
    has_privilege_anywhere,
    roles_on_account,
)
from invoices.locks import lock_billing_items
from invoices.models import BillingItem, Invoice, InvoiceStatus
from payments.locks import lock_account_for_payment
from payments.models import Payment, PaymentAllocation
from tests.factories import (
    AccountRoleFactory,
    ApiCredentialFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    TenderTypeFactory,
)

pytestmark = pytest.mark.django_db


def fields(instance) -> dict:
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


def test_rows_become_the_instances_the_orm_builds():
    item = BillingItemFactory(total_amount=Decimal("12.34"))
    contact = item.contact

    found = contact_by_guid(contact.guid)
    assert fields(found) == fields(Contact.objects.get(pk=contact.pk))
    assert fields(found.account) == fields(Account.objects.get(pk=contact.account_id))
    assert not found._state.adding
    assert found._state.db == "default"
    assert contact_by_guid(ContactFactory.build().guid) is None

    assert fields(lock_account(contact.account_id)) == fields(
        Account.objects.get(pk=contact.account_id)
    )
    with pytest.raises(Account.DoesNotExist):
        lock_account(10**12)

    locked = lock_billing_items([item.pk, item.pk, 10**12])
    assert list(locked) == [item.pk]
    assert fields(locked[item.pk]) == fields(BillingItem.objects.get(pk=item.pk))
    assert locked[item.pk].balance == Decimal("12.34")


def test_the_credential_comes_with_its_roles_and_only_while_it_is_valid():
    role = AccountRoleFactory(role="admin")
    AccountRoleFactory(credential=role.credential, account=role.account, role="billing_payment")
    other = AccountRoleFactory(credential=role.credential, role="admin")
    credential = active_credential_for_secret(role.credential.secret)

    assert fields(credential) == fields(ApiCredential.objects.get(pk=role.credential.pk))
    assert credential.role_accounts == {
        "admin": frozenset({role.account_id, other.account_id}),
        "billing_payment": frozenset({role.account_id}),
    }
    grantee = {"credential": credential}
    assert roles_on_account(account_id=role.account_id, **grantee) == {"admin", "billing_payment"}
    assert roles_on_account(account_id=other.account_id, **grantee) == {"admin"}
    assert roles_on_account(account_id=10**12, **grantee) == frozenset()
    bare = ApiCredentialFactory()
    bare_credential = active_credential_for_secret(bare.secret)
    assert bare_credential.role_accounts == {"admin": frozenset(), "billing_payment": frozenset()}
    assert not has_privilege_anywhere(privilege="billing_payment", credential=bare_credential)
    assert has_privilege_anywhere(privilege="billing_payment", credential=credential)

    ApiCredential.objects.filter(pk=bare.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert active_credential_for_secret(bare.secret) is None
    ApiCredential.objects.filter(pk=role.credential.pk).update(revoked_at=timezone.now())
    assert active_credential_for_secret(role.credential.secret) is None


def test_the_account_lock_reads_whether_the_tender_type_is_active():
    account = InvoiceFactory().account
    active, inactive = TenderTypeFactory(is_active=True), TenderTypeFactory(is_active=False)
    assert lock_account_for_payment(account.pk, active.pk)[1] is True
    assert lock_account_for_payment(account.pk, inactive.pk)[1] is False
    assert lock_account_for_payment(account.pk, 10**9)[1] is False
    locked, ok = lock_account_for_payment(account.pk, None)
    assert ok is True
    assert fields(locked) == fields(Account.objects.get(pk=account.pk))


def test_insert_writes_the_rows_bulk_create_would_and_gives_them_ids():
    invoice = InvoiceFactory(amount=Decimal("50.00"))
    now = timezone.now()
    payment = Payment(
        account=invoice.account,
        amount=Decimal("7.50"),
        currency=invoice.account.currency,
        payment_date=now,
        processed_at=now,
        reference="ref",
        notes="n",
    )
    model_sql.insert([payment])
    assert payment.pk is not None
    assert not payment._state.adding
    assert fields(Payment.objects.get(pk=payment.pk)) == fields(payment)

    allocations = [
        PaymentAllocation(account=invoice.account, payment=payment, invoice=invoice, amount=amount)
        for amount in (Decimal("5.00"), Decimal("2.50"))
    ]
    model_sql.insert(allocations)
    stored = list(PaymentAllocation.objects.filter(payment=payment).order_by("pk"))
    assert [a.pk for a in stored] == [a.pk for a in allocations]
    assert [model_to_dict(a) for a in stored] == [model_to_dict(a) for a in allocations]
    model_sql.insert([])  # nothing to do


def test_update_balances_sets_each_row_in_one_statement(django_assert_num_queries):
    first, second, untouched = (InvoiceFactory(amount=Decimal("10.00")) for _ in range(3))
    with django_assert_num_queries(1):
        model_sql.update_balances(
            Invoice,
            {first.pk: Decimal("0.00"), second.pk: Decimal("3.25")},
            status={first.pk: InvoiceStatus.PAID, second.pk: InvoiceStatus.OPEN},
        )
    assert list(
        Invoice.objects.filter(pk__in=[first.pk, second.pk, untouched.pk])
        .order_by("pk")
        .values_list("balance", "status")
    ) == [
        (Decimal("0.00"), InvoiceStatus.PAID),
        (Decimal("3.25"), InvoiceStatus.OPEN),
        (Decimal("10.00"), InvoiceStatus.OPEN),
    ]


def test_the_past_due_lock_takes_exactly_what_past_due_q_selects():
    from invoices.due import past_due_q, today
    from invoices.locks import lock_open_invoices
    from tests.factories import days_ago

    account = InvoiceFactory(due_date=days_ago(3)).account
    for days in (10, 1, 0, -5):
        InvoiceFactory(account=account, due_date=days_ago(days))
    InvoiceFactory(account=account, due_date=days_ago(20), status=InvoiceStatus.VOID)
    InvoiceFactory(due_date=days_ago(9))  # another account's
    expected = list(
        Invoice.objects.filter(past_due_q(), account=account).order_by("pk").values_list("pk")
    )
    locked = lock_open_invoices(account.pk, due_before=today())
    assert [(invoice.pk,) for invoice in locked] == expected
    assert len(expected) == 3
    open_ = lock_open_invoices(account.pk)
    assert len(open_) == 5
    one = expected[0][0]
    assert [i.pk for i in lock_open_invoices(account.pk, ids=[one, 2**70, -(2**70)])] == [one]


def test_an_account_is_found_by_number_or_guid_and_nothing_else():
    from contacts.selectors import account_by_reference

    account = InvoiceFactory().account
    assert fields(account_by_reference(str(account.number))) == fields(account)
    assert fields(account_by_reference(str(account.guid).upper())) == fields(account)
    assert fields(account_by_reference(account.number)) == fields(account)
    for reference in ("9" * 30, "not-a-guid", "", "١٢٣", str(account.number + 10**6)):
        assert account_by_reference(reference) is None


def test_the_keys_query_brings_the_account_its_request_names():
    role = AccountRoleFactory(role="admin")
    account = role.account
    secret = role.credential.secret
    for reference in (str(account.number), str(account.guid), f" {account.number} "):
        found = active_credential_for_secret(secret, account_reference=reference)
        assert fields(found.account_in_path) == fields(Account.objects.get(pk=account.pk))
    for reference in (
        str(account.number + 10**6),
        "9" * 40,
        "nope",
        str(ContactFactory.build().guid),
    ):
        assert (
            active_credential_for_secret(secret, account_reference=reference).account_in_path
            is None
        )
    from contacts.selectors import NOT_ASKED

    assert active_credential_for_secret(secret).account_in_path is NOT_ASKED
    assert active_credential_for_secret("wrong", account_reference=str(account.number)) is None


@pytest.mark.parametrize(
    ("rule", "as_sql"),
    [("owed", "OWED_SQL"), ("overdue", "OVERDUE_SQL"), ("past_due", "PAST_DUE_SQL")],
)
@pytest.mark.parametrize("days_back", [0, 10])
def test_each_rule_in_sql_selects_what_its_q_selects(rule, as_sql, days_back):
    from django.db import connection

    from invoices import due
    from tests.factories import days_ago

    account = InvoiceFactory().account
    for status in (InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.VOID):
        for issued, due_in in ((30, 20), (12, 11), (10, 10), (10, 9), (3, -2), (-5, -9)):
            paid = {"balance": Decimal("0.00")} if status == InvoiceStatus.PAID else {}
            InvoiceFactory(
                account=account,
                status=status,
                issue_date=days_ago(issued),
                due_date=days_ago(due_in),
                **paid,
            )
    as_of = days_ago(days_back)
    expected = set(
        Invoice.objects.filter(getattr(due, f"{rule}_q")(as_of), account=account).values_list(
            "pk", flat=True
        )
    )
    condition = getattr(due, as_sql)
    with connection.cursor() as cursor:
        cursor.execute(
            model_sql.sql(
                "SELECT {i.id} FROM {i.table} i WHERE {i.account} = %(account)s AND "  # noqa: S608
                + condition,
                i=Invoice,
            ),
            {"account": account.pk, "as_of": as_of},
        )
        found = {pk for (pk,) in cursor.fetchall()}
    assert found == expected
    assert expected  # each rule selects some of these rows, and leaves some out
    assert expected != set(Invoice.objects.filter(account=account).values_list("pk", flat=True))


def test_the_past_due_rows_are_the_summarys():
    from invoices.selectors import past_due_rows, past_due_summary
    from tests.factories import InvoiceItemFactory, days_ago

    account = InvoiceFactory(due_date=days_ago(40), amount=Decimal("12.00")).account
    for days, amount in ((30, "5.00"), (30, "7.50"), (0, "9.00"), (-3, "4.00")):
        invoice = InvoiceFactory(account=account, due_date=days_ago(days), amount=Decimal(amount))
        InvoiceItemFactory.create_batch(2, invoice=invoice)
    InvoiceFactory(
        account=account, due_date=days_ago(50), issue_date=days_ago(60), status=InvoiceStatus.VOID
    )
    for as_of in (None, days_ago(20)):
        rows, summary = past_due_rows(account, as_of), past_due_summary(account, as_of)
        assert (rows.account_balance, rows.past_due_balance) == (
            summary.account_balance,
            summary.past_due_balance,
        )
        assert [invoice["pk"] for invoice in rows.invoices] == [
            invoice.pk for invoice in summary.invoices
        ]
        assert [[item["pk"] for item in invoice["items"]] for invoice in rows.invoices] == [
            sorted(item.pk for item in invoice.items.all()) for invoice in summary.invoices
        ]
    assert past_due_rows(account).past_due_balance == Decimal("24.50")


def test_a_request_naming_an_account_reads_only_the_roles_on_it(django_assert_num_queries):
    role = AccountRoleFactory(role="admin")
    AccountRoleFactory(credential=role.credential, account=role.account, role="billing_payment")
    other = AccountRoleFactory(credential=role.credential, role="billing_payment")
    secret = role.credential.secret

    for reference in (role.account.number, str(role.account.guid)):
        credential = active_credential_for_secret(secret, account_reference=reference)
        assert fields(credential.account_in_path) == fields(role.account)
        assert credential.roles_read_for == role.account_id
        assert credential.role_accounts == {
            "admin": frozenset({role.account_id}),
            "billing_payment": frozenset({role.account_id}),
        }
    grantee = {"credential": credential}
    with django_assert_num_queries(0):
        assert roles_on_account(account_id=role.account_id, **grantee) == {
            "admin",
            "billing_payment",
        }
        assert has_privilege_anywhere(privilege="billing_payment", **grantee)
    with django_assert_num_queries(1):  # another account's roles were not read: asked
        assert roles_on_account(account_id=other.account_id, **grantee) == {"billing_payment"}

    elsewhere = active_credential_for_secret(secret, account_reference=other.account.number)
    assert elsewhere.role_accounts == {
        "admin": frozenset(),
        "billing_payment": frozenset({other.account_id}),
    }
    with django_assert_num_queries(1):  # not held on this account: anywhere is asked
        assert has_privilege_anywhere(privilege="account_admin", credential=elsewhere)

    for unknown in ("999999999999", "not-a-reference", str(uuid.uuid4())):
        nowhere = active_credential_for_secret(secret, account_reference=unknown)
        assert nowhere.account_in_path is None
        assert nowhere.roles_read_for is None
        assert nowhere.role_accounts == {"admin": frozenset(), "billing_payment": frozenset()}
        assert roles_on_account(account_id=role.account_id, credential=nowhere) == {
            "admin",
            "billing_payment",
        }
