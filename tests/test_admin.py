import datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from contacts.credentials import secret_digest, secret_prefix
from contacts.models import Account, AccountRole, ApiCredential
from contacts.selectors import active_credential_for_secret
from invoices.models import BillingItem, Invoice
from payments.actors import SYSTEM, Channel
from payments.models import IdempotencyRecord, Payment, Reversal
from payments.services import invoices_pay
from tests.factories import (
    AccountFactory,
    AccountRoleFactory,
    ApiCredentialFactory,
    BillingItemFactory,
    ContactFactory,
    InvoiceFactory,
    InvoiceItemFactory,
    PaymentAllocationFactory,
    PaymentFactory,
    ReversalFactory,
    TenderTypeFactory,
    UserFactory,
    WriteDownFactory,
    days_ago,
)

pytestmark = pytest.mark.django_db

OUR_APPS = {"contacts", "invoices", "payments"}
MODEL_ADMINS = sorted(
    model._meta.label for model in admin.site._registry if model._meta.app_label in OUR_APPS
)


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def messages_after(client, response):
    """The messages a redirect leads to, read (so consumed) by following it."""
    assert response.status_code == 302
    return [str(message) for message in client.get(response.url).context["messages"]]


def no_inline_rows(*prefixes):
    """The management form of inlines posted without rows (read-only ones post none)."""
    return {
        f"{prefix}-{count}": "0"
        for prefix in prefixes
        for count in ("TOTAL_FORMS", "INITIAL_FORMS")
    }


def listed(response):
    return set(response.context["cl"].result_list)


def pay_in_full(invoice):
    return invoices_pay(
        account_id=invoice.account_id, amount=invoice.balance, actor=SYSTEM, settle_in_full=True
    ).payment


def make_credit_rows(account):
    """A credit application, a refund of a payment (with its release) and a credit note."""
    from payments.actors import SYSTEM
    from payments.services import (
        CreditNoteLineInput,
        credit_apply,
        credit_note_issue,
        invoices_pay,
        refund_issue,
    )

    owed = InvoiceFactory(account=account, amount=Decimal("40.00"))
    paid = invoices_pay(
        account_id=account.pk,
        amount="30.00",
        actor=SYSTEM,
        invoice_ids=[owed.pk],
        past_due_only=False,
        excess_to_credit=True,
    ).payment
    refund_issue(account_id=account.pk, amount="5.00", actor=SYSTEM, payment_id=paid.pk, reason="x")
    invoices_pay(
        account_id=account.pk, amount="3.00", actor=SYSTEM, invoice_ids=[], excess_to_credit=True
    )
    credit_apply(account_id=account.pk, actor=SYSTEM, invoice_ids=[owed.pk], amount="2.00")
    credit_note_issue(
        invoice_id=owed.pk,
        number="CN-1",
        issue_date=owed.issue_date,
        reason="Discount",
        lines=[CreditNoteLineInput("Discount", "1.00")],
        actor=SYSTEM,
    )


def make_one_of_each(staff):
    """At least a row of every model, with every relation their list pages show."""
    invoice = InvoiceItemFactory().invoice
    pay_in_full(invoice)
    staff_payment = PaymentAllocationFactory(
        payment__contact=ContactFactory(),
        payment__tender_type=TenderTypeFactory(),
        payment__channel=Channel.STAFF,
        payment__recorded_by_user=staff,
    ).payment
    ReversalFactory(payment=staff_payment, channel=Channel.STAFF, recorded_by_user=staff)
    AccountRoleFactory(account=invoice.account)
    AccountRoleFactory(account=invoice.account, user=staff, credential=None)
    item = PaymentAllocationFactory(invoice=None, billing_item=BillingItemFactory()).billing_item
    WriteDownFactory(billing_item=item, channel=Channel.STAFF, recorded_by_user=staff)
    make_credit_rows(invoice.account)
    IdempotencyRecord.objects.create(
        key=f"key-{item.pk}",
        credential=ApiCredentialFactory(),
        fingerprint="0" * 64,
        status_code=201,
        response_body=f'{{"paymentId": "{staff_payment.pk}"}}',
    )


def model_of(label):
    return next(model for model in admin.site._registry if model._meta.label == label)


# Every page answers, at a fixed number of queries.


def test_every_model_of_the_apps_is_in_the_admin():
    models = [model for app in OUR_APPS for model in apps.get_app_config(app).get_models()]
    assert sorted(model._meta.label for model in models) == MODEL_ADMINS


@pytest.mark.parametrize("label", MODEL_ADMINS)
def test_changelist_and_change_page_answer(admin_client, admin_user, label):
    make_one_of_each(admin_user)
    model = model_of(label)
    assert admin_client.get(url(model, "changelist")).status_code == 200
    for row in model.objects.all():
        assert admin_client.get(url(model, "change", row.pk)).status_code == 200
    for term in ["1", "P00000001", "first0 x-1"]:
        assert admin_client.get(url(model, "changelist"), {"q": term}).status_code == 200


def test_changelist_queries_do_not_grow_with_rows(
    admin_client, admin_user, django_assert_max_num_queries
):
    def queries_per_changelist():
        counts = {}
        for label in MODEL_ADMINS:
            with django_assert_max_num_queries(10) as captured:
                response = admin_client.get(url(model_of(label), "changelist"))
            assert response.status_code == 200
            counts[label] = len(captured)
        return counts

    for _ in range(3):
        make_one_of_each(admin_user)
    with_three = queries_per_changelist()
    for _ in range(27):
        make_one_of_each(admin_user)
    # each set: 3 invoices and 5 payments
    assert (Invoice.objects.count(), Payment.objects.count()) == (90, 150)
    assert Account.objects.count() >= 30
    assert queries_per_changelist() == with_three


# Payments are never changed or deleted.


def test_payment_cannot_be_added_changed_or_deleted(admin_client):
    payment = PaymentFactory(amount=Decimal("40.00"), reference="R-1")
    assert admin_client.get(url(Payment, "change", payment.pk)).status_code == 200
    post = admin_client.post(
        url(Payment, "change", payment.pk), {"amount": "1.00", "reference": "X"}
    )
    assert post.status_code == 403
    assert admin_client.get(url(Payment, "delete", payment.pk)).status_code == 403
    assert admin_client.post(url(Payment, "delete", payment.pk), {"post": "yes"}).status_code == 403
    assert admin_client.get(url(Payment, "add")).status_code == 403
    payment.refresh_from_db()
    assert (payment.amount, payment.reference) == (Decimal("40.00"), "R-1")


def test_payment_actions_are_reverse_only(admin_client):
    PaymentFactory()
    response = admin_client.get(url(Payment, "changelist"))
    actions = [name for name, _label in response.context["action_form"].fields["action"].choices]
    assert actions == ["", "reverse_payments"]


def test_payment_found_by_number_or_id(admin_client):
    payment, _other = PaymentFactory(), PaymentFactory()
    by_number = admin_client.get(url(Payment, "changelist"), {"q": payment.number})
    assert listed(by_number) == {payment}
    by_id = admin_client.get(url(Payment, "changelist"), {"q": str(payment.pk)})
    assert payment in listed(by_id)


# Reversing payments.


def reverse_action(client, payment, **data):
    return client.post(
        url(Payment, "changelist"),
        {"action": "reverse_payments", "_selected_action": [payment.pk], **data},
    )


def test_reverse_action_asks_for_a_reason_first(admin_client):
    payment = pay_in_full(InvoiceFactory())
    response = reverse_action(admin_client, payment)
    assert response.status_code == 200
    assert payment.number in response.content.decode()
    assert not Reversal.objects.exists()


@pytest.mark.parametrize("reason", ["", "   "])
def test_reverse_action_without_reason_reverses_nothing(admin_client, reason):
    payment = pay_in_full(InvoiceFactory())
    response = reverse_action(admin_client, payment, post="yes", reason=reason)
    assert response.status_code == 200
    assert response.context["form"].errors == {"reason": ["This field is required."]}
    assert not Reversal.objects.exists()


def test_reverse_action_restores_the_invoice(admin_client, admin_user):
    invoice = InvoiceFactory(amount=Decimal("120.50"))
    payment = pay_in_full(invoice)
    invoice.refresh_from_db()
    assert (invoice.balance, invoice.status) == (Decimal("0.00"), "paid")

    response = reverse_action(admin_client, payment, post="yes", reason="Cheque bounced")

    assert response.status_code == 302
    assert messages_after(admin_client, response) == [f"Reversed {payment.number}."]
    reversal = Reversal.objects.get()
    assert (reversal.payment, reversal.reason) == (payment, "Cheque bounced")
    assert (reversal.channel, reversal.recorded_by_user) == (Channel.STAFF, admin_user)
    assert reversal.recorded_by_credential is None
    invoice.refresh_from_db()
    assert (invoice.balance, invoice.status) == (Decimal("120.50"), "open")


def test_reverse_action_reports_a_payment_already_reversed(admin_client):
    invoice = InvoiceFactory(amount=Decimal("80.00"))
    payment = pay_in_full(invoice)
    first = reverse_action(admin_client, payment, post="yes", reason="First")
    assert messages_after(admin_client, first) == [f"Reversed {payment.number}."]

    response = reverse_action(admin_client, payment, post="yes", reason="Second")

    assert messages_after(admin_client, response) == [
        f"Payment {payment.number} has already been reversed."
    ]
    assert list(Reversal.objects.values_list("reason", flat=True)) == ["First"]
    invoice.refresh_from_db()
    assert (invoice.balance, invoice.status) == (Decimal("80.00"), "open")


def test_reverse_needs_the_add_reversal_permission(client):
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_payment"))
    client.force_login(user)
    payment = pay_in_full(InvoiceFactory())
    response = client.get(url(Payment, "changelist"))
    assert response.status_code == 200
    assert response.context["action_form"] is None
    reverse_action(client, payment, post="yes", reason="Sneaky")
    assert not Reversal.objects.exists()


def test_invoice_and_payment_pages_show_the_allocations(admin_client):
    invoice = InvoiceItemFactory(charge_name="Seats", invoice__number="INV-77").invoice
    payment = pay_in_full(invoice)
    ReversalFactory(payment=payment)

    invoice_page = admin_client.get(url(Invoice, "change", invoice.pk)).content.decode()
    payment_page = admin_client.get(url(Payment, "change", payment.pk)).content.decode()

    assert "Seats" in invoice_page
    assert f'{url(Payment, "change", payment.pk)}">Payment {payment.number}</a>' in invoice_page
    assert f'{url(Invoice, "change", invoice.pk)}">Invoice INV-77</a>' in payment_page
    assert "Entered in error" in payment_page


# Invoices.


def invoice_form(account, **values):
    return {
        "account": account.pk,
        "number": "INV-2001",
        "issue_date": "2025-03-01",
        "due_date": "2025-03-31",
        "amount": "250.50",
        **values,
    }


def test_invoice_added_in_admin_is_owed_in_full(admin_client):
    account = AccountFactory()
    response = admin_client.post(url(Invoice, "add"), invoice_form(account))
    assert response.status_code == 302
    invoice = Invoice.objects.get()
    assert (invoice.account, invoice.number, invoice.amount) == (
        account,
        "INV-2001",
        Decimal("250.50"),
    )
    assert (invoice.balance, invoice.status) == (Decimal("250.50"), "open")
    assert (invoice.issue_date, invoice.due_date) == (
        datetime.date(2025, 3, 1),
        datetime.date(2025, 3, 31),
    )


@pytest.mark.parametrize(
    ("values", "field", "error"),
    [
        ({"number": "INV-1"}, "__all__", "Invoice with this Account and Number already exists."),
        ({"due_date": "2025-02-28"}, "due_date", "The due date cannot be before the issue date."),
        ({"amount": "0"}, "amount", "The amount must be greater than zero."),
        ({"amount": "-5.00"}, "amount", "The amount must be greater than zero."),
        ({"amount": "1.234"}, "amount", "Ensure that there are no more than 2 decimal places."),
    ],
    ids=["duplicate-number", "due-before-issue", "zero", "negative", "three-places"],
)
def test_invoice_add_refusals_are_form_errors(admin_client, values, field, error):
    existing = InvoiceFactory(number="INV-1")
    response = admin_client.post(url(Invoice, "add"), invoice_form(existing.account, **values))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {field: [error]}
    assert list(Invoice.objects.all()) == [existing]


def test_invoice_edit_keeps_amount_and_balance(admin_client):
    invoice = InvoiceFactory(amount=Decimal("100.00"), balance=Decimal("60.00"))
    data = {
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": "2099-01-31",
        "amount": "1.00",
        "balance": "0.00",
        "status": "paid",
        **no_inline_rows("items", "allocations"),
    }
    response = admin_client.post(url(Invoice, "change", invoice.pk), data)
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.due_date == datetime.date(2099, 1, 31)
    assert (invoice.amount, invoice.balance, invoice.status) == (
        Decimal("100.00"),
        Decimal("60.00"),
        "open",
    )


def test_invoice_edit_does_not_write_back_a_balance_paid_meanwhile(admin_user, rf):
    invoice = InvoiceFactory(amount=Decimal("100.00"), due_date=days_ago(3))
    request = rf.post("/")
    request.user = admin_user
    invoice_admin = admin.site._registry[Invoice]
    form_class = invoice_admin.get_form(request, invoice, change=True)
    data = {"issue_date": invoice.issue_date.isoformat(), "due_date": "2099-01-31"}
    form = form_class(data, instance=invoice)
    assert form.is_valid()

    invoices_pay(account_id=invoice.account_id, amount="30.00", actor=SYSTEM)
    invoice_admin.save_model(request, form.save(commit=False), form, change=True)

    invoice.refresh_from_db()
    assert (invoice.due_date, invoice.balance) == (datetime.date(2099, 1, 31), Decimal("70.00"))


def test_void_action_voids_unpaid_invoices_and_reports_the_others(admin_client):
    unpaid = InvoiceFactory(number="INV-A")
    part_paid = InvoiceFactory(number="INV-B", amount=Decimal("100.00"))
    invoices_pay(account_id=part_paid.account_id, amount="30.00", actor=SYSTEM)

    response = admin_client.post(
        url(Invoice, "changelist"),
        {"action": "void_invoices", "_selected_action": [unpaid.pk, part_paid.pk]},
    )

    assert response.status_code == 302
    assert messages_after(admin_client, response) == [
        "Invoice INV-B cannot be voided: only an open invoice with nothing paid or credited on "
        "it can be. Issue a credit note for what it still owes instead.",
        "Voided 1 invoice(s).",
    ]
    unpaid.refresh_from_db()
    part_paid.refresh_from_db()
    assert (unpaid.status, unpaid.balance) == ("void", Decimal("100.00"))
    assert (part_paid.status, part_paid.balance) == ("open", Decimal("70.00"))


def test_past_due_filter(admin_client):
    account = AccountFactory()
    late = InvoiceFactory(account=account, due_date=days_ago(1))
    due_today = InvoiceFactory(account=account, due_date=days_ago(0))
    not_yet_due = InvoiceFactory(account=account, due_date=days_ago(-5))
    paid = InvoiceFactory(account=account, due_date=days_ago(9), balance=Decimal("0.00"))
    void = InvoiceFactory(account=account, due_date=days_ago(9), status="void")

    past_due = admin_client.get(url(Invoice, "changelist"), {"past_due": "yes"})
    not_past_due = admin_client.get(url(Invoice, "changelist"), {"past_due": "no"})

    assert listed(past_due) == {late}
    assert listed(not_past_due) == {due_today, not_yet_due, paid, void}
    days_late = admin.site._registry[Invoice].days_late
    assert [days_late(row) for row in listed(past_due)] == [1]
    assert {days_late(row) for row in listed(not_past_due)} == {0}


def test_account_list_shows_what_invoices_and_billing_items_owe_and_what_is_past_due(
    admin_client,
):
    account = AccountFactory()
    InvoiceFactory(account=account, amount=Decimal("100.00"), due_date=days_ago(3))
    InvoiceFactory(account=account, amount=Decimal("40.25"), due_date=days_ago(-3))
    InvoiceFactory(account=account, amount=Decimal("10.00"), status="void")
    InvoiceFactory(  # issued tomorrow: not yet owed
        account=account, amount=Decimal("5.00"), issue_date=days_ago(-1), due_date=days_ago(-9)
    )
    contact = ContactFactory(account=account)
    BillingItemFactory(contact=contact, total_amount=Decimal("7.50"), due_date=days_ago(2))
    BillingItemFactory(contact=contact, total_amount=Decimal("2.00"), due_date=days_ago(-2))
    other = AccountFactory()

    response = admin_client.get(url(Account, "changelist"))

    rows = {row: (row.owed, row.past_due) for row in listed(response)}
    assert rows == {
        account: (Decimal("149.75"), Decimal("107.50")),
        other: (Decimal("0.00"), Decimal("0.00")),
    }
    assert response.context["cl"].model_admin.list_display[-2:] == ["balance", "past_due"]


# Billing items.


def test_billing_item_added_in_admin_is_owed_in_full(admin_client):
    contact = ContactFactory()
    response = admin_client.post(
        url(BillingItem, "add"),
        {
            "contact": contact.pk,
            "description": "Annual fee",
            "due_date": "2025-06-30",
            "total_amount": "75.10",
        },
    )
    assert response.status_code == 302
    item = BillingItem.objects.get()
    assert (item.contact, item.description, item.due_date) == (
        contact,
        "Annual fee",
        datetime.date(2025, 6, 30),
    )
    assert (item.total_amount, item.balance) == (Decimal("75.10"), Decimal("75.10"))


@pytest.mark.parametrize(
    ("total_amount", "error"),
    [
        ("0.00", "The amount must be greater than zero."),
        ("9.999", "Ensure that there are no more than 2 decimal places."),
    ],
)
def test_billing_item_add_refusals_are_form_errors(admin_client, total_amount, error):
    data = {
        "contact": ContactFactory().pk,
        "description": "Fee",
        "due_date": "2025-06-30",
        "total_amount": total_amount,
    }
    response = admin_client.post(url(BillingItem, "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"total_amount": [error]}
    assert not BillingItem.objects.exists()


def test_settled_filter(admin_client):
    settled = BillingItemFactory(balance=Decimal("0.00"))
    open_item = BillingItemFactory()
    yes = admin_client.get(url(BillingItem, "changelist"), {"settled": "yes"})
    no = admin_client.get(url(BillingItem, "changelist"), {"settled": "no"})
    assert (listed(yes), listed(no)) == ({settled}, {open_item})


# Credentials.


def test_credential_added_in_admin_shows_its_secret_once(admin_client):
    account = AccountFactory()
    response = admin_client.post(
        url(ApiCredential, "add"),
        {
            "name": "Acme payments, prod",
            "account_roles-TOTAL_FORMS": "1",
            "account_roles-INITIAL_FORMS": "0",
            "account_roles-0-account": account.pk,
            "account_roles-0-role": "billing_payment",
        },
    )

    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("bk_")
    assert secret in response.content.decode()
    credential = ApiCredential.objects.get()
    assert credential.name == "Acme payments, prod"
    assert (credential.prefix, credential.secret_hash) == (
        secret_prefix(secret),
        secret_digest(secret),
    )
    assert active_credential_for_secret(secret) == credential
    assert list(AccountRole.objects.values_list("account", "role", "credential", "user")) == [
        (account.pk, "billing_payment", credential.pk, None)
    ]
    page = admin_client.get(url(ApiCredential, "change", credential.pk)).content.decode()
    assert secret not in page
    assert credential.secret_hash not in page
    assert secret not in str(response.cookies)


def credential_form(*accounts):
    data = {
        "name": "Acme",
        "account_roles-TOTAL_FORMS": str(len(accounts)),
        "account_roles-INITIAL_FORMS": "0",
    }
    for index, account in enumerate(accounts):
        data |= {
            f"account_roles-{index}-account": account.pk,
            f"account_roles-{index}-role": "admin",
        }
    return data


def test_credential_with_a_role_granted_twice_is_refused(admin_client):
    account = AccountFactory()
    response = admin_client.post(url(ApiCredential, "add"), credential_form(account, account))
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.non_form_errors() == [
        "The same role is granted twice."
    ]
    assert not ApiCredential.objects.exists()


def test_role_needs_exactly_one_grantee(admin_client, admin_user):
    account, credential = AccountFactory(), AccountRoleFactory().credential
    for grantees in [{}, {"user": admin_user.pk, "credential": credential.pk}]:
        data = {"account": account.pk, "role": "admin", **grantees}
        response = admin_client.post(url(AccountRole, "add"), data)
        assert response.status_code == 200
        assert response.context["adminform"].form.errors == {
            "user": ["Grant the role to one staff user or one credential."]
        }
    assert not AccountRole.objects.filter(account=account).exists()


def test_revoke_action(admin_client):
    credential = AccountRoleFactory().credential
    still_active = AccountRoleFactory().credential

    response = admin_client.post(
        url(ApiCredential, "changelist"),
        {"action": "revoke_credentials", "_selected_action": [credential.pk]},
    )

    assert response.status_code == 302
    assert messages_after(admin_client, response) == ["Revoked 1 credential(s)."]
    credential.refresh_from_db()
    assert credential.revoked_at is not None
    assert active_credential_for_secret(credential.secret) is None
    assert active_credential_for_secret(still_active.secret) == still_active
