"""Demo data to click through: accounts, contacts, invoices, billing items and a little history.

Idempotent: account numbers, GUIDs, invoice numbers and billing-item descriptions are fixed, so a
second run finds every row and creates nothing. Dates count from the day of the first run
(`invoices.due.today()`), so there is something past due in every ageing bucket; rows found again
on a later day keep their dates. Money moves only through payments.services, once: each demo
payment or write-down is recognised again by its reference or reason.
"""

import datetime
import uuid
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Prefetch, Q, Sum, Value
from django.db.models.functions import Coalesce

from billing_site.money import ZERO, MoneyField, format_amount
from contacts.models import Account, Contact
from invoices.due import owed_q, past_due_q, today
from invoices.models import BillingItem, Invoice
from invoices.services import InvoiceLine, billing_item_create, invoice_issue

from . import demo_bulk, demo_credit
from .actors import SYSTEM
from .lines import BillingLine, WriteDownLine
from .models import Payment, PaymentAllocation, TenderType, WriteDown
from .services import billing_items_pay, billing_items_write_down, invoices_pay, payment_reverse

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "demo.billing-back-office.example")
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password-123"  # noqa: S105 - published on purpose; refused unless DEBUG
FINANCE_USERNAME = "finance"
FINANCE_PASSWORD = "finance-password-123"  # noqa: S105 - as DEMO_PASSWORD
FINANCE_GROUP = "Finance"  # read-only back-office access; made by backoffice's migration
DEFAULT_HOST = "127.0.0.1:8000"  # `make run`'s; seed_demo --host (or DEMO_HOST) names another

CASH, CHEQUE, CARD, EFT = 1, 2, 3, 8  # Legend's presets, seeded by payments/migrations/0002
PARTIAL_REFERENCE = "DEMO-PARTIAL-PAYMENT"
REVERSED_REFERENCE = "DEMO-REVERSED-PAYMENT"
LEGEND_REFERENCE = "DEMO-LEGEND-PAYMENT"
WRITE_DOWN_REASON = "Goodwill: workshop materials arrived late (demo)."


class DemoLoginRefused(Exception):
    """The demo login has a published password: it is only ever made with DEBUG on."""


def line(name: str, price: str, quantity: int = 1, tax: str = "0.00") -> InvoiceLine:
    return InvoiceLine(
        charge_name=name, unit_price=Decimal(price), quantity=quantity, tax_amount=Decimal(tax)
    )


@dataclass(frozen=True)
class DemoInvoice:
    number: str
    due_in: int  # days from today: negative is past due
    lines: tuple[InvoiceLine, ...]


@dataclass(frozen=True)
class DemoContact:
    first_name: str
    last_name: str
    items: tuple[tuple[str, int, str], ...]  # (description, due in days, total amount)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class DemoAccount:
    number: int
    name: str
    currency: str
    invoices: tuple[DemoInvoice, ...]
    contacts: tuple[DemoContact, ...] = ()
    api_payments_blocked: bool = False


MONTHLY = line("Platinum plan, monthly", "99.00", tax="7.92")
STANDARD = line("Standard plan, monthly", "49.00", 3, tax="29.40")

ACCOUNTS = (
    DemoAccount(
        900001,
        "Northwind Traders",
        "USD",
        invoices=(
            DemoInvoice(
                "NW-1001",
                -120,
                (
                    line("Platinum plan, annual", "1000.00", tax="80.00"),
                    line("Onboarding", "150.00", tax="12.00"),
                ),
            ),
            DemoInvoice("NW-1002", -75, (line("Platinum plan, seats", "45.00", 10, "36.00"),)),
            DemoInvoice(
                "NW-1003",
                -45,
                (
                    line("Support hours", "120.00", 3, "28.80"),
                    line("Storage add-on", "25.00", tax="2.00"),
                    line("Courier", "18.50"),
                ),
            ),
            DemoInvoice("NW-1004", -15, (MONTHLY,)),
            DemoInvoice("NW-1005", 15, (MONTHLY,)),
        ),
        contacts=(
            DemoContact(
                "Ada",
                "Lovelace",
                (
                    ("Membership 2026", -40, "240.00"),
                    ("Locker rental Q3", -10, "45.00"),
                    ("Course: advanced analytics", 20, "180.00"),
                ),
            ),
            DemoContact(
                "Grace",
                "Hopper",
                (("Membership 2026", -40, "240.00"), ("Guest passes", -5, "30.00")),
            ),
            DemoContact(
                "Alan",
                "Turing",
                (("Membership 2026", -40, "240.00"), ("Workshop fee", 10, "75.00")),
            ),
        ),
    ),
    DemoAccount(
        900002,
        "Contoso Europe",
        "EUR",
        invoices=(
            DemoInvoice("CE-2001", -100, (line("Enterprise licence", "2400.00", tax="456.00"),)),
            DemoInvoice("CE-2002", -20, (line("Consulting day", "950.00", 2, "361.00"),)),
            DemoInvoice("CE-2003", 25, (line("Licence extension", "600.00", tax="114.00"),)),
        ),
        contacts=(
            DemoContact(
                "Marie",
                "Curie",
                (("Conference ticket", -12, "350.00"), ("Workshop materials", -12, "60.00")),
            ),
            DemoContact(
                "Lise", "Meitner", (("Conference ticket", -12, "350.00"), ("Dinner", 5, "85.00"))
            ),
        ),
    ),
    DemoAccount(
        900003,
        "Fabrikam UK",
        "GBP",
        invoices=(
            DemoInvoice("FU-3000", 0, (line("Setup", "80.00", tax="16.00"),)),  # due today
            DemoInvoice("FU-3001", 10, (STANDARD,)),
            DemoInvoice("FU-3002", 40, (STANDARD, line("Priority support", "30.00", tax="6.00"))),
        ),
        contacts=(
            DemoContact(
                "Charles",
                "Babbage",
                (("Club membership", 30, "90.00"), ("Parking permit", 30, "25.00")),
            ),
            DemoContact(
                "Mary", "Somerville", (("Club membership", 30, "90.00"), ("Locker", 45, "20.00"))
            ),
        ),
    ),
    DemoAccount(
        900004,
        "Tailspin Toys",
        "USD",
        api_payments_blocked=True,
        invoices=(
            DemoInvoice(
                "TT-4001",
                -65,
                (
                    line("Retail plan, quarterly", "300.00", tax="24.00"),
                    line("Extra terminals", "40.00", 2, "6.40"),
                ),
            ),
            DemoInvoice("TT-4002", -35, (line("Retail plan, quarterly", "300.00", tax="24.00"),)),
            DemoInvoice("TT-4003", -5, (line("Card reader", "129.00", tax="10.32"),)),
        ),
    ),
    DemoAccount(
        900005,
        "Wide World Importers",
        "USD",
        invoices=(
            DemoInvoice("WW-5001", 5, (line("Logistics plan", "750.00", tax="60.00"),)),
            DemoInvoice("WW-5002", 35, (line("Logistics plan", "750.00", tax="60.00"),)),
        ),
    ),
)


def account_guid(spec: DemoAccount) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"account {spec.number} {spec.name}")


def contact_guid(spec: DemoContact, account: DemoAccount) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"contact {account.number} {spec.name}")


def _days(day: datetime.date, days: int) -> datetime.date:
    return day + datetime.timedelta(days=days)


def _noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)


def admin_url(host: str = DEFAULT_HOST) -> str:
    return f"http://{host}/admin/"


def backoffice_url(host: str = DEFAULT_HOST) -> str:
    return f"http://{host}/backoffice/"


@transaction.atomic
def seed(
    *, demo_login: bool = False, size: int = 0, progress: demo_bulk.Progress | None = None
) -> Counter:
    """Create whatever demo rows are missing, and `size` bulk invoices (payments/demo_bulk.py);
    return how many of each kind were created."""
    day, created = today(), Counter()
    invoices, items = {}, {}
    for spec in ACCOUNTS:
        account, new = Account.objects.get_or_create(
            number=spec.number,
            defaults={
                "guid": account_guid(spec),
                "name": spec.name,
                "currency": spec.currency,
                "api_payments_blocked": spec.api_payments_blocked,
            },
        )
        created["accounts"] += new
        for invoice in spec.invoices:
            invoices[invoice.number] = _invoice(account, invoice, day, created)
        for person in spec.contacts:
            contact, new = Contact.objects.get_or_create(
                guid=contact_guid(person, spec),
                defaults={
                    "account": account,
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "email": f"{person.first_name}.{person.last_name}@example.com".lower(),
                },
            )
            created["contacts"] += new
            for description, due_in, total in person.items:
                items[person.name, description] = _billing_item(
                    contact, description, _days(day, due_in), Decimal(total), created
                )
    _history(invoices, items, day, created)
    demo_credit.credit_history(invoices, day, created)
    demo_bulk.seed_bulk(size, day, created, progress or (lambda done, total: None))
    if demo_login:
        demo_login_reset()
    return +created  # without the kinds of which nothing was created


def _invoice(account: Account, spec: DemoInvoice, day: datetime.date, created: Counter) -> Invoice:
    invoice = Invoice.objects.filter(account=account, number=spec.number).first()
    if invoice is None:
        due_date = _days(day, spec.due_in)
        invoice = invoice_issue(
            account=account,
            number=spec.number,
            issue_date=min(_days(due_date, -30), day),  # issued by now: owed (invoices.due)
            due_date=due_date,
            lines=spec.lines,
        )
        created["invoices"] += 1
    return invoice


def _billing_item(
    contact: Contact, description: str, due_date: datetime.date, total: Decimal, created: Counter
) -> BillingItem:
    item = BillingItem.objects.filter(contact=contact, description=description).first()
    if item is None:
        item = billing_item_create(
            contact=contact, description=description, due_date=due_date, total_amount=total
        )
        created["billing items"] += 1
    return item


def _history(invoices: dict, items: dict, day: datetime.date, created: Counter) -> None:
    """The demo's money movements, each made once: found again by its reference or reason."""
    partial = invoices["NW-1001"]
    if not Payment.objects.filter(
        account_id=partial.account_id, reference=PARTIAL_REFERENCE
    ).exists():
        invoices_pay(
            account_id=partial.account_id,
            amount=Decimal("500.00"),
            actor=SYSTEM,
            invoice_ids=[partial.pk],
            past_due_only=False,
            payment_date=_noon(_days(day, -100)),
            tender_type_id=EFT,
            description="Part payment of NW-1001",
            reference=PARTIAL_REFERENCE,
        )
        created["payments"] += 1

    bounced = invoices["CE-2002"]
    if not Payment.objects.filter(
        account_id=bounced.account_id, reference=REVERSED_REFERENCE
    ).exists():
        paid = invoices_pay(
            account_id=bounced.account_id,
            amount=bounced.amount,
            actor=SYSTEM,
            invoice_ids=[bounced.pk],
            past_due_only=False,
            payment_date=_noon(_days(day, -8)),
            tender_type_id=CHEQUE,
            description="Cheque for CE-2002",
            reference=REVERSED_REFERENCE,
        )
        payment_reverse(
            payment_id=paid.payment.pk, reason="Cheque returned unpaid (demo).", actor=SYSTEM
        )
        created["payments"] += 1
        created["reversals"] += 1

    membership, locker = (
        items["Ada Lovelace", "Membership 2026"],
        items["Ada Lovelace", "Locker rental Q3"],
    )
    if not PaymentAllocation.objects.filter(
        billing_item=membership, reference=LEGEND_REFERENCE
    ).exists():
        billing_items_pay(
            contact=membership.contact,
            tender_type_id=CARD,
            payment_date=_noon(_days(day, -3)),
            lines=[
                BillingLine(membership.pk, Decimal("240.00"), reference=LEGEND_REFERENCE),
                BillingLine(locker.pk, Decimal("20.00"), reference=LEGEND_REFERENCE),
            ],
            actor=SYSTEM,
        )
        created["payments"] += 1

    materials = items["Marie Curie", "Workshop materials"]
    if not WriteDown.objects.filter(billing_item=materials, reason=WRITE_DOWN_REASON).exists():
        billing_items_write_down(
            contact=materials.contact,
            write_down_date=_noon(_days(day, -2)),
            lines=[WriteDownLine(materials.pk, Decimal("25.00"))],
            reason=WRITE_DOWN_REASON,
            actor=SYSTEM,
        )
        created["write-downs"] += 1


def demo_login_reset():
    """Create or reset the staff superuser `demo`, and the read-only staff user `finance` of the
    Finance group, with their published passwords (DEBUG only). Returns `demo`."""
    if not settings.DEBUG:
        raise DemoLoginRefused("The demo login is only made with DEBUG on.")
    finance = _login_reset(FINANCE_USERNAME, FINANCE_PASSWORD, superuser=False)
    finance.groups.set(Group.objects.filter(name=FINANCE_GROUP))
    return _login_reset(DEMO_USERNAME, DEMO_PASSWORD, superuser=True)


def _login_reset(username: str, password: str, *, superuser: bool):
    user, _created = get_user_model().objects.get_or_create(username=username)
    user.email = f"{username}@example.com"
    user.is_active = user.is_staff = True
    user.is_superuser = superuser
    user.set_password(password)
    user.save()
    return user


def _invoices_balance(condition: Q) -> Coalesce:
    """What the account's invoices matching `condition` owe, as the DocuSign API reports it."""
    owed = Sum("invoices__balance", filter=condition)
    return Coalesce(owed, Value(ZERO), output_field=MoneyField())


def summary() -> dict:
    """The demo rows as plain data (amounts as strings), in four queries whatever their number."""
    accounts = (
        Account.objects.filter(number__in=[spec.number for spec in ACCOUNTS])
        .annotate(
            account_balance=_invoices_balance(owed_q(prefix="invoices__")),
            past_due_balance=_invoices_balance(past_due_q(prefix="invoices__")),
        )
        .order_by("number")
    )
    guids = [contact_guid(person, spec) for spec in ACCOUNTS for person in spec.contacts]
    contacts = (
        Contact.objects.filter(guid__in=guids)
        .select_related("account")
        .prefetch_related(Prefetch("billing_items", BillingItem.objects.order_by("pk")))
        .order_by("account__number", "last_name", "first_name", "pk")
    )
    return {
        "accounts": [
            {
                "number": account.number,
                "guid": str(account.guid),
                "name": account.name,
                "currency": account.currency,
                "api_payments_blocked": account.api_payments_blocked,
                "account_balance": format_amount(account.account_balance),
                "past_due_balance": format_amount(account.past_due_balance),
            }
            for account in accounts
        ],
        "contacts": [
            {
                "guid": str(contact.guid),
                "name": str(contact),
                "account_number": contact.account.number,
                "billing_item_ids": [item.pk for item in contact.billing_items.all()],
                "outstanding_billing_item_ids": [
                    item.pk for item in contact.billing_items.all() if item.balance > 0
                ],
            }
            for contact in contacts
        ],
        "tender_types": list(
            TenderType.objects.filter(is_active=True).order_by("id").values("id", "name")
        ),
    }
