"""factory_boy factories for every model.

Factories build rows directly, which is right for arranging a test; code under test moves money only
through payments.services. Balances start equal to the amount (nothing paid yet).
"""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from contacts.credentials import new_secret, secret_digest, secret_prefix
from contacts.models import Account, AccountRole, ApiCredential, Contact
from contacts.roles import Role
from invoices.models import BillingItem, Invoice, InvoiceItem, InvoiceStatus
from payments.actors import Channel
from payments.models import (
    IdempotencyRecord,
    Payment,
    PaymentAllocation,
    Reversal,
    TenderType,
    WriteDown,
)


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    password = factory.django.Password("password")


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    number = factory.Sequence(lambda n: 100000 + n)
    name = factory.Sequence(lambda n: f"Account {n}")
    currency = "USD"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = factory.Sequence(lambda n: f"Last{n}")
    email = factory.LazyAttribute(lambda c: f"{c.first_name.lower()}@example.com")


class ApiCredentialFactory(factory.django.DjangoModelFactory):
    """`credential.secret` holds the clear secret (never stored) for tests that authenticate."""

    class Meta:
        model = ApiCredential

    name = factory.Sequence(lambda n: f"Partner {n}")
    secret = factory.LazyFunction(new_secret)
    prefix = factory.LazyAttribute(lambda c: secret_prefix(c.secret))
    secret_hash = factory.LazyAttribute(lambda c: secret_digest(c.secret))

    @classmethod
    def _create(cls, model_class, *args, secret, **kwargs):
        credential = super()._create(model_class, *args, **kwargs)
        credential.secret = secret
        return credential


class AccountRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountRole

    account = factory.SubFactory(AccountFactory)
    role = Role.ADMIN
    credential = factory.SubFactory(ApiCredentialFactory)
    user = None


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    account = factory.SubFactory(AccountFactory)
    number = factory.Sequence(lambda n: f"INV-{n:05d}")
    issue_date = factory.LazyAttribute(lambda i: i.due_date - datetime.timedelta(days=30))
    due_date = factory.LazyFunction(lambda: days_ago(10))
    amount = Decimal("100.00")
    balance = factory.LazyAttribute(lambda i: i.amount)
    status = factory.LazyAttribute(
        lambda i: InvoiceStatus.PAID if i.balance == 0 else InvoiceStatus.OPEN
    )


class InvoiceItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvoiceItem

    invoice = factory.SubFactory(InvoiceFactory)
    account = factory.SelfAttribute("invoice.account")
    charge_name = factory.Sequence(lambda n: f"Charge {n}")
    quantity = 1
    unit_price = Decimal("100.00")
    charge_amount = factory.LazyAttribute(lambda i: i.unit_price * i.quantity)
    tax_amount = Decimal("0.00")
    tax_exempt_amount = Decimal("0.00")


class BillingItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BillingItem

    contact = factory.SubFactory(ContactFactory)
    account = factory.SelfAttribute("contact.account")
    description = factory.Sequence(lambda n: f"Membership fee {n}")
    due_date = factory.LazyFunction(lambda: days_ago(5))
    total_amount = Decimal("50.00")
    balance = factory.LazyAttribute(lambda b: b.total_amount)


class TenderTypeFactory(factory.django.DjangoModelFactory):
    """The migration seeds Legend's presets (1-8, 28); this makes further ones from 100 up."""

    class Meta:
        model = TenderType
        django_get_or_create = ("id",)

    id = factory.Sequence(lambda n: 100 + n)
    name = factory.Sequence(lambda n: f"Tender {n}")
    is_active = True


class PaymentFactory(factory.django.DjangoModelFactory):
    """A bare payment row. To pay something in a test, call payments.services instead."""

    class Meta:
        model = Payment

    contact = None
    # A contact's payment is its account's (the database refuses any other).
    account = factory.Maybe(
        "contact",
        yes_declaration=factory.SelfAttribute("contact.account"),
        no_declaration=factory.SubFactory(AccountFactory),
    )
    amount = Decimal("100.00")
    currency = factory.LazyAttribute(lambda p: p.account.currency)
    payment_date = factory.LazyFunction(timezone.now)
    channel = Channel.SYSTEM


class PaymentAllocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentAllocation

    # An allocation, its payment and its target are of one account (the database refuses any
    # other): a billing item's allocation defaults to a payment of the item's account.
    payment = factory.Maybe(
        "billing_item",
        yes_declaration=factory.SubFactory(
            PaymentFactory, account=factory.SelfAttribute("..billing_item.account")
        ),
        no_declaration=factory.SubFactory(PaymentFactory),
    )
    account = factory.SelfAttribute("payment.account")
    invoice = factory.SubFactory(InvoiceFactory, account=factory.SelfAttribute("..payment.account"))
    billing_item = None
    amount = factory.LazyAttribute(lambda a: a.payment.amount)


class ReversalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reversal

    payment = factory.SubFactory(PaymentFactory)
    account = factory.SelfAttribute("payment.account")
    reason = "Entered in error"
    channel = Channel.SYSTEM


class WriteDownFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WriteDown

    billing_item = factory.SubFactory(BillingItemFactory)
    account = factory.SelfAttribute("billing_item.account")
    amount = Decimal("10.00")
    write_down_date = factory.LazyFunction(timezone.now)
    reason = "Goodwill"
    channel = Channel.SYSTEM


class IdempotencyRecordFactory(factory.django.DjangoModelFactory):
    """A stored answer to a request made with an Idempotency-Key."""

    class Meta:
        model = IdempotencyRecord

    key = factory.Sequence(lambda n: f"key-{n}")
    credential = factory.SubFactory(ApiCredentialFactory)
    fingerprint = "0" * 64
    status_code = 201
    response_body = "{}"
