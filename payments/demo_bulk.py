"""`seed_demo --size N`: N more invoices, so the back office's lists and the APIs' chunks page.

Besides the fixed demo accounts (payments/demo.py, untouched), N invoices spread over bulk
accounts of INVOICES_PER_ACCOUNT each (numbers from FIRST_ACCOUNT), so one account holds more
invoices than an API chunk (100) and the past-due list (50 a page) has many pages. Every
CONTACT_EVERY-th invoice adds a contact with two billing items; every PAY_EVERY-th invoice and
every PAY_CONTACT_EVERY-th contact is paid in part, through payments.services.

Deterministic: invoice n's amounts and dates come from a random generator seeded with n, so
`--size 100` then `--size 200` makes the same rows as `--size 200` at once. Idempotent: rows are
found again by account number, invoice number, contact GUID, billing-item description and payment
reference; a second run with the same N creates nothing. Invoices are issued through
invoices.services.invoice_issue (there is no bulk issue service), one call per invoice.
"""

import datetime
import math
import random
import uuid
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

from django.db.models import Q

from billing_site.money import parse_amount
from contacts.models import Account, Contact
from invoices.due import today
from invoices.models import BillingItem, Invoice
from invoices.services import InvoiceLine, billing_item_create, invoice_issue

from .actors import SYSTEM
from .lines import BillingLine
from .models import Payment, PaymentAllocation
from .services import billing_items_pay, invoices_pay

FIRST_ACCOUNT = 910001
LAST_ACCOUNT = 919999  # the bulk accounts' number range (demo_reset recognises them by it)
INVOICES_PER_ACCOUNT = 250
CONTACT_EVERY = 20
PAY_EVERY = 10
PAY_CONTACT_EVERY = 4
CURRENCIES = ("USD", "EUR", "GBP")
CHARGES = ("Platform plan", "Support hours", "Seats", "Storage add-on", "Consulting day")
REFERENCE = "DEMO-BULK-{}"  # the partial payment of invoice or billing item {number/description}
CARD, EFT = 3, 8
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "bulk.demo.billing-back-office.example")

Progress = Callable[[int, int], None]  # (done, total)


def bulk_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}number__range": (FIRST_ACCOUNT, LAST_ACCOUNT)})


def account_count(size: int) -> int:
    return math.ceil(size / INVOICES_PER_ACCOUNT)


def invoice_number(n: int) -> str:
    return f"BK-{n + 1:06d}"


def contact_guid(n: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"contact {n}")


def _noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)


def _lines(rng: random.Random) -> list[InvoiceLine]:
    lines = []
    for _ in range(rng.randint(1, 3)):
        price = Decimal(rng.randint(1_000, 150_000)) / 100
        quantity = rng.randint(1, 5)
        tax = (price * quantity * Decimal("0.08")).quantize(Decimal("0.01"))
        lines.append(InvoiceLine(rng.choice(CHARGES), price, quantity, tax))
    return lines


def _accounts(size: int, created: Counter) -> list[Account]:
    numbers = range(FIRST_ACCOUNT, FIRST_ACCOUNT + account_count(size))
    found = {a.number: a for a in Account.objects.filter(number__in=numbers)}
    missing = [
        Account(
            number=number,
            guid=uuid.uuid5(NAMESPACE, f"account {number}"),
            name=f"Demo bulk account {number - FIRST_ACCOUNT + 1}",
            currency=CURRENCIES[(number - FIRST_ACCOUNT) % len(CURRENCIES)],
        )
        for number in numbers
        if number not in found
    ]
    for account in Account.objects.bulk_create(missing):
        found[account.number] = account
    created["accounts"] += len(missing)
    return [found[number] for number in numbers]


def seed_bulk(size: int, day: datetime.date, created: Counter, progress: Progress) -> None:
    """Create whichever of the `size` bulk invoices (and their contacts, payments) are missing."""
    if size <= 0:
        return
    accounts = _accounts(size, created)
    invoices = {
        (number, account_id): pk
        for pk, number, account_id in Invoice.objects.filter(
            account__in=accounts, number__startswith="BK-"
        ).values_list("pk", "number", "account_id")
    }
    paid = set(
        Payment.objects.filter(account__in=accounts, reference__startswith="DEMO-BULK-")
        .values_list("reference", flat=True)
        .distinct()
    )
    paid |= set(
        PaymentAllocation.objects.filter(
            account__in=accounts, reference__startswith="DEMO-BULK-"
        ).values_list("reference", flat=True)
    )
    contacts = {c.guid: c for c in Contact.objects.filter(account__in=accounts)}
    for n in range(size):
        account = accounts[n // INVOICES_PER_ACCOUNT]
        rng = random.Random(n)  # noqa: S311 - demo data, not secrets
        due_date = day + datetime.timedelta(days=rng.randint(-150, 45))
        lines = _lines(rng)
        number = invoice_number(n)
        pk = invoices.get((number, account.pk))
        if pk is None:
            pk = invoice_issue(
                account=account,
                number=number,
                issue_date=min(due_date - datetime.timedelta(days=30), day),
                due_date=due_date,
                lines=lines,
            ).pk
            created["invoices"] += 1
        if n % PAY_EVERY == PAY_EVERY - 1 and REFERENCE.format(number) not in paid:
            _pay_invoice_in_part(account, pk, number, rng)
            created["payments"] += 1
        if n % CONTACT_EVERY == CONTACT_EVERY - 1:
            _contact(account, n // CONTACT_EVERY, contacts, paid, day, created)
        progress(n + 1, size)


def _pay_invoice_in_part(account, pk, number, rng) -> None:
    invoice = Invoice.objects.get(pk=pk)
    share = Decimal(rng.randint(10, 90)) / 100
    invoices_pay(
        account_id=account.pk,
        amount=parse_amount((invoice.amount * share).quantize(Decimal("0.01"))),
        actor=SYSTEM,
        invoice_ids=[pk],
        past_due_only=False,
        payment_date=_noon(min(today(), invoice.issue_date + datetime.timedelta(days=10))),
        tender_type_id=EFT,
        description=f"Part payment of {number}",
        reference=REFERENCE.format(number),
    )


def _contact(account, m: int, contacts: dict, paid: set, day, created: Counter) -> None:
    guid = contact_guid(m)
    contact = contacts.get(guid)
    if contact is None:
        contact = Contact.objects.create(
            guid=guid,
            account=account,
            first_name="Member",
            last_name=f"{m + 1:05d}",
            email=f"member.{m + 1:05d}@example.com",
        )
        created["contacts"] += 1
    items = {item.description: item for item in BillingItem.objects.filter(contact=contact)}
    for description, due_in, total in (
        ("Membership", -30 - m % 60, "240.00"),
        ("Locker rental", 15 - m % 30, "45.00"),
    ):
        if description not in items:
            items[description] = billing_item_create(
                contact=contact,
                description=description,
                due_date=day + datetime.timedelta(days=due_in),
                total_amount=Decimal(total),
            )
            created["billing items"] += 1
    reference = REFERENCE.format(f"M{m + 1:05d}")
    if m % PAY_CONTACT_EVERY == 0 and reference not in paid:
        membership = items["Membership"]
        billing_items_pay(
            contact=contact,
            tender_type_id=CARD,
            payment_date=_noon(day - datetime.timedelta(days=1)),
            lines=[BillingLine(membership.pk, Decimal("100.00"), reference=reference)],
            actor=SYSTEM,
        )
        created["payments"] += 1
