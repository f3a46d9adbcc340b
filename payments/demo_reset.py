"""`seed_demo --reset`: delete the demo data so that it can be built again (DEBUG only).

Payments, allocations, reversals and write-downs cannot be deleted on PostgreSQL: triggers refuse
DELETE and no session can lift them (docs/audit.md, audit/lockdown.py). TRUNCATE is not covered,
so the app's data tables are emptied with one `TRUNCATE ... CASCADE`, as the benchmark's set-up
does (the app runs on PostgreSQL only: billing_site/settings.py). It empties every account, so it
is refused unless every account in the database is a demo account (the fixed ones or a bulk one):
nothing but demo data is ever lost. Users, groups, tender types and API
credentials are kept (an account's roles go with it); audit events are kept where they have no
foreign key to the emptied tables.
"""

from django.db import connection, transaction
from django.db.models import Q

from contacts.models import Account, AccountRole, Contact
from invoices.models import BillingItem, Invoice, InvoiceItem

from . import demo_bulk
from .models import Payment, PaymentAllocation, Reversal, WriteDown

# The tables emptied (children first).
TABLES = (
    Reversal,
    WriteDown,
    PaymentAllocation,
    Payment,
    InvoiceItem,
    BillingItem,
    Invoice,
    AccountRole,
    Contact,
    Account,
)


class DemoResetRefused(Exception):
    """The database holds accounts that are not demo data."""


def demo_account_q(fixed_numbers) -> Q:
    return Q(number__in=list(fixed_numbers)) | demo_bulk.bulk_q()


@transaction.atomic
def reset(fixed_numbers) -> None:
    others = Account.objects.exclude(demo_account_q(fixed_numbers)).count()
    if others:
        raise DemoResetRefused(
            f"--reset is refused: the database holds {others} account(s) that are not demo data, "
            "and a reset empties every account. Nothing was deleted."
        )
    with connection.cursor() as cursor:
        # Django's foreign keys are deferred: TRUNCATE refuses a table with checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in TABLES)
        cursor.execute(f"TRUNCATE {tables} CASCADE")
