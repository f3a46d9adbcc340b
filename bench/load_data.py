"""The data of `bench/load.py`: built once with COPY, reset at the start of every run, restored
after every paying target, and read into the request files that wrk replays.

Layout (account numbers; every account is named "Load account ..."):

- 700000-700999, the large accounts: 100 invoices each (due from 370 days ago to 26 days ahead,
  so about 93 past due), two items each, half of them paid in part by an earlier payment (so each
  has about 50 payments), 1% void. The first 100 (700000-700099) are only read (past-due list,
  payment list, one payment); the other 900 are paid one invoice at a time.
- 701000-710999, the small accounts: 10 invoices each (3 past due), two contacts each with 10
  billing items (20,000 contacts, 200,000 billing items). Paid all past due at once (DocuSign),
  and through their contacts' billing items (Legend).
- 711000, the hot account: one contact and one billing item of 10,000,000.00 that every client
  pays 0.01 of at once.
- 64 partner keys (ApiCredential, `admin` roles): account i is granted to key i % 64, the hot
  account to every key (so no key reaches a rate limit). Their secrets are derived from their
  number (bench only), so the request files can be written again on every run.

Money stays consistent (balance = amount - allocations of unreversed payments): the earlier
payments are made from the invoices' balances, and whatever a run pays is reversed afterwards
(`restore`), which also gives the next round its rows back unpaid.
"""

import base64
import datetime
import hashlib
import json
import random
import sys
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal

LAYOUT_VERSION = "1"
FIRST_LARGE = 700_000
FIRST_SMALL = 701_000
HOT_NUMBER = 711_000
ACCOUNT_NAME = "Load account"
PARTNERS = 64
TENDER_TYPE = 3  # Card, one of Legend's presets (payments/migrations/0002)
CURRENCIES = (("USD", 0.6), ("EUR", 0.3), ("GBP", 0.1))


@dataclass(frozen=True)
class Sizes:
    large_accounts: int = 1_000
    read_accounts: int = 100
    invoices_per_large: int = 100
    small_accounts: int = 10_000
    invoices_per_small: int = 10
    contacts_per_small: int = 2
    items_per_contact: int = 10

    @property
    def accounts(self) -> int:
        return self.large_accounts + self.small_accounts + 1

    @property
    def invoices(self) -> int:
        return (
            self.large_accounts * self.invoices_per_large
            + self.small_accounts * self.invoices_per_small
        )

    @property
    def contacts(self) -> int:
        return self.small_accounts * self.contacts_per_small + 1

    @property
    def billing_items(self) -> int:
        return self.contacts * self.items_per_contact - self.items_per_contact + 1

    def describe(self) -> str:
        return (
            f"{self.accounts:,} accounts, {self.invoices:,} invoices with "
            f"{self.invoices * 2:,} items, {self.contacts:,} contacts with "
            f"{self.billing_items:,} billing items, {PARTNERS} partner keys"
        )


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.done = total, label, 0
        self.started = time.perf_counter()
        self.shown = -1.0
        self.step = ""

    def add(self, count: int, step: str = "") -> None:
        self.done += count
        share = min(self.done / self.total, 1.0) if self.total else 1.0
        if share - self.shown < 0.01 and share < 1.0:
            return
        self.shown = share
        bar = "#" * int(share * 30)
        elapsed = time.perf_counter() - self.started
        text = f"{self.label} [{bar:<30}] {share:4.0%} {elapsed:5.1f} s {step:<16}"
        if sys.stderr.isatty():
            sys.stderr.write(f"\r{text}")
        elif step != self.step:  # a log, not a terminal: a line per step
            sys.stderr.write(f"{text}\n")
        self.step = step
        sys.stderr.flush()

    def finish(self) -> float:
        elapsed = time.perf_counter() - self.started
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        return elapsed


def partner_secret(index: int) -> str:
    """The secret of partner key `index`: fixed, so every run can write its requests again."""
    from contacts.credentials import SECRET_PREFIX

    digest = hashlib.sha256(f"bench/load.py partner {index}".encode()).digest()
    return SECRET_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def account_secret(number: int) -> str:
    return partner_secret((number - FIRST_LARGE) % PARTNERS)


# Building.

MONEY_TABLES = (
    "payments_paymentallocation",
    "payments_reversal",
    "payments_writedown",
    "payments_payment",
    "payments_idempotencyrecord",
)
EVENT_TABLES = ("audit_invoiceevent", "audit_billingitemevent", "pghistory_context", "events_event")
DATA_TABLES = (
    *MONEY_TABLES,
    "invoices_invoiceitem",
    "invoices_billingitem",
    "invoices_invoice",
    "contacts_accountrole",
    "contacts_apicredential",
    "contacts_contact",
    "contacts_account",
    "audit_accountevent",
    "audit_accountroleevent",
    "audit_apicredentialevent",
    *EVENT_TABLES,
)
SEQUENCED = (
    "contacts_account",
    "contacts_contact",
    "invoices_invoice",
    "invoices_invoiceitem",
    "invoices_billingitem",
)


def cents(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def meta(cursor, key: str) -> str | None:
    cursor.execute("CREATE TABLE IF NOT EXISTS benchload_meta (key text PRIMARY KEY, value text)")
    cursor.execute("SELECT value FROM benchload_meta WHERE key = %s", [key])
    row = cursor.fetchone()
    return row[0] if row else None


def set_meta(cursor, key: str, value: str) -> None:
    cursor.execute(
        "INSERT INTO benchload_meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = %s",
        [key, value, value],
    )


def built_with(sizes: Sizes) -> str | None:
    """When the data in the database was built with these sizes (ISO date), else None."""
    from django.db import connection

    with connection.cursor() as cursor:
        if meta(cursor, "layout") != f"{LAYOUT_VERSION} {sizes}":
            return None
        return meta(cursor, "built_on")


def build(sizes: Sizes, today: datetime.date) -> float:
    """Empty the bench database's data and build it again. Returns the seconds it took."""
    from django.db import connection, transaction

    rng = random.Random(2026)
    total = (
        sizes.accounts
        + sizes.contacts
        + sizes.invoices * 3
        + sizes.billing_items
        + sizes.large_accounts * sizes.invoices_per_large // 2
    )
    progress = Progress(total, "bench: building")
    now = datetime.datetime.now(datetime.UTC)
    # Each table in a transaction of its own, analysed before the next one is loaded: the
    # foreign-key checks of the next COPY then look rows up by index (planned against an empty,
    # never-analysed table, each check scans the whole table: hours instead of seconds).
    with connection.cursor() as cursor:
        meta(cursor, "layout")
        cursor.execute("DELETE FROM benchload_meta")
        cursor.execute(f"TRUNCATE {', '.join(DATA_TABLES)} RESTART IDENTITY CASCADE")
        raw = cursor.cursor

        def copy(table: str, columns: tuple[str, ...], rows, step: str) -> None:
            with transaction.atomic():
                attach_context(cursor, "build")
                with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as out:
                    count = 0
                    for row in rows:
                        out.write_row(row)
                        count += 1
                        if count == 5_000:
                            progress.add(count, step)
                            count = 0
                    progress.add(count, step)
            cursor.execute(f"ANALYZE {table}")

        codes, weights = zip(*CURRENCIES, strict=True)
        accounts = []  # (id, number, currency)
        for index in range(sizes.large_accounts):
            accounts.append(
                (len(accounts) + 1, FIRST_LARGE + index, rng.choices(codes, weights)[0])
            )
        for index in range(sizes.small_accounts):
            accounts.append(
                (len(accounts) + 1, FIRST_SMALL + index, rng.choices(codes, weights)[0])
            )
        accounts.append((len(accounts) + 1, HOT_NUMBER, "USD"))
        copy(
            "contacts_account",
            ("id", "number", "guid", "name", "currency", "api_payments_blocked", "created_at"),
            (
                (
                    pk,
                    number,
                    rng.randbytes(16).hex(),
                    f"{ACCOUNT_NAME} {number}",
                    currency,
                    False,
                    now,
                )
                for pk, number, currency in accounts
            ),
            "accounts",
        )

        def invoices():
            pk = 0
            for account_id, number, _ in accounts:
                if number >= HOT_NUMBER:
                    continue
                large = number < FIRST_SMALL
                count = sizes.invoices_per_large if large else sizes.invoices_per_small
                for k in range(count):
                    pk += 1
                    if large:
                        due = today + datetime.timedelta(days=-370 + 4 * k)
                        amount = cents(rng, 10, 5_000)
                    else:
                        due = today + datetime.timedelta(days=-25 + 10 * k)
                        amount = cents(rng, 10, 2_000)
                    balance, status = amount, "open"
                    if large and rng.random() < 0.01:
                        status = "void"
                    elif large and rng.random() < 0.5:
                        share = Decimal(rng.randint(10, 90)) / 100
                        balance = amount - max(
                            (amount * share).quantize(Decimal("0.01")), Decimal("0.01")
                        )
                    yield (
                        pk,
                        account_id,
                        f"L-{number}-{k:03d}",
                        due - datetime.timedelta(days=30),
                        due,
                        amount,
                        balance,
                        status,
                        now,
                    )

        invoice_rows = list(invoices())
        copy(
            "invoices_invoice",
            (
                "id",
                "account_id",
                "number",
                "issue_date",
                "due_date",
                "amount",
                "balance",
                "status",
                "created_at",
            ),
            invoice_rows,
            "invoices",
        )

        def invoice_items():
            pk = 0
            for invoice_id, account_id, _, _, _, amount, *_ in invoice_rows:
                first = (amount * Decimal("0.6")).quantize(Decimal("0.01"))
                for name, charge in (("Subscription", first), ("Usage", amount - first)):
                    pk += 1
                    yield (pk, account_id, invoice_id, name, 1, charge, charge, 0, 0)

        copy(
            "invoices_invoiceitem",
            (
                "id",
                "account_id",
                "invoice_id",
                "charge_name",
                "quantity",
                "unit_price",
                "charge_amount",
                "tax_amount",
                "tax_exempt_amount",
            ),
            invoice_items(),
            "invoice items",
        )

        contacts = []  # (id, account_id, is_hot)
        for account_id, number, _ in accounts:
            if FIRST_SMALL <= number < HOT_NUMBER:
                for _ in range(sizes.contacts_per_small):
                    contacts.append((len(contacts) + 1, account_id, False))
            elif number == HOT_NUMBER:
                contacts.append((len(contacts) + 1, account_id, True))
        copy(
            "contacts_contact",
            ("id", "account_id", "guid", "first_name", "last_name", "email", "created_at"),
            (
                (pk, account_id, rng.randbytes(16).hex(), "Member", f"Load {pk}", "", now)
                for pk, account_id, _ in contacts
            ),
            "contacts",
        )

        def billing_items():
            pk = 0
            for contact_id, account_id, hot in contacts:
                for k in range(1 if hot else sizes.items_per_contact):
                    pk += 1
                    total_amount = Decimal("10000000.00") if hot else cents(rng, 20, 500)
                    due = today + datetime.timedelta(days=-60 + 10 * k)
                    yield (
                        pk,
                        account_id,
                        contact_id,
                        f"Membership {k + 1}",
                        due,
                        total_amount,
                        total_amount,
                        now,
                    )

        copy(
            "invoices_billingitem",
            (
                "id",
                "account_id",
                "contact_id",
                "description",
                "due_date",
                "total_amount",
                "balance",
                "created_at",
            ),
            billing_items(),
            "billing items",
        )
        for table in SEQUENCED:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - our tables
                f"(SELECT max(id) FROM {table}))"
            )
        with transaction.atomic():
            attach_context(cursor, "build")
            make_partners(cursor, accounts)
        with transaction.atomic():
            history = make_history(cursor)
        progress.add(history, "earlier payments")
        # As autovacuum would on a live database: statistics, and the visibility map that lets
        # the key's roles be read from their index alone.
        cursor.execute("VACUUM ANALYZE")
        set_meta(cursor, "layout", f"{LAYOUT_VERSION} {sizes}")
        set_meta(cursor, "built_on", today.isoformat())
    return progress.finish()


def attach_context(cursor, what: str) -> None:
    """Open an audit context (pghistory's) for the rest of the transaction, as manage.py does
    for a command: the audit triggers then record who wrote the rows, and stay fast. Without one,
    each audited row costs the trigger a caught exception (a subtransaction), and a statement
    writing n rows takes time in n squared: 200,000 invoices took minutes instead of seconds."""
    cursor.execute(
        "SELECT set_config('pghistory.context_id', %s, true), "
        "set_config('pghistory.context_metadata', %s, true)",
        [str(uuid.uuid4()), json.dumps({"channel": "command", "command": f"bench/load.py {what}"})],
    )


def make_partners(cursor, accounts) -> None:
    from contacts.credentials import secret_digest, secret_prefix
    from contacts.models import ApiCredential

    credentials = ApiCredential.objects.bulk_create(
        ApiCredential(
            name=f"Load partner {index:02d}",
            prefix=secret_prefix(partner_secret(index)),
            secret_hash=secret_digest(partner_secret(index)),
        )
        for index in range(PARTNERS)
    )
    credential_ids = [credential.pk for credential in credentials]
    with cursor.cursor.copy(
        "COPY contacts_accountrole (account_id, role, credential_id) FROM STDIN"
    ) as out:
        for account_id, number, _ in accounts:
            if number == HOT_NUMBER:
                for credential_id in credential_ids:
                    out.write_row((account_id, "admin", credential_id))
            else:
                index = (number - FIRST_LARGE) % PARTNERS
                out.write_row((account_id, "admin", credential_ids[index]))


def make_history(cursor) -> int:
    """The earlier payments: one per invoice paid in part, of what it no longer owes, with the
    invoice's id as its own (so the bench's own payments come after them). Returns the count."""
    cursor.execute(
        "INSERT INTO payments_payment (id, channel, amount, currency, payment_date, "
        "processed_at, description, reference, authorization_code, notes, account_id) "
        "SELECT i.id, 'system', i.amount - i.balance, a.currency, pd, pd, '', '', '', '', "
        "i.account_id FROM invoices_invoice i JOIN contacts_account a ON a.id = i.account_id, "
        "LATERAL (SELECT (least(i.issue_date + (i.id % 25)::int, current_date - 1) "
        "  + time '12:00') AT TIME ZONE 'UTC' AS pd) d "
        "WHERE i.status <> 'void' AND i.balance < i.amount"
    )
    count = cursor.rowcount
    cursor.execute(
        "INSERT INTO payments_paymentallocation (account_id, payment_id, invoice_id, amount, "
        "reference, authorization_code, notes) "
        "SELECT i.account_id, i.id, i.id, i.amount - i.balance, '', '', '' "
        "FROM invoices_invoice i WHERE i.status <> 'void' AND i.balance < i.amount"
    )
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence('payments_payment', 'id'), "
        "greatest((SELECT max(id) FROM invoices_invoice), 1))"
    )
    return count


# Between runs and between rounds.

RESTORE = """
WITH new AS (
    SELECT p.id, p.account_id FROM payments_payment p
    WHERE p.id > %(mark)s AND p.channel <> 'system'
      AND NOT EXISTS (SELECT 1 FROM payments_reversal r WHERE r.payment_id = p.id)
), reversed AS (
    INSERT INTO payments_reversal (channel, reason, reversed_at, payment_id, account_id)
    SELECT 'system', 'bench/load.py: restored for the next round', now(), id, account_id FROM new
    RETURNING payment_id
), moved AS (
    SELECT a.invoice_id, a.billing_item_id, a.amount
    FROM payments_paymentallocation a JOIN new ON new.id = a.payment_id
), invoices AS (
    UPDATE invoices_invoice i SET balance = i.balance + m.amount, status = 'open'
    FROM (SELECT invoice_id, sum(amount) AS amount FROM moved
          WHERE invoice_id IS NOT NULL GROUP BY invoice_id) m
    WHERE i.id = m.invoice_id
    RETURNING i.id
), items AS (
    UPDATE invoices_billingitem b SET balance = b.balance + m.amount
    FROM (SELECT billing_item_id, sum(amount) AS amount FROM moved
          WHERE billing_item_id IS NOT NULL GROUP BY billing_item_id) m
    WHERE b.id = m.billing_item_id
    RETURNING b.id
)
SELECT (SELECT count(*) FROM reversed), (SELECT max(payment_id) FROM reversed)
"""


class Ledger:
    """Restores what the load paid: every payment after `mark` is reversed, which gives its
    invoices and billing items their balances back and keeps the ledger exact."""

    def __init__(self) -> None:
        self.mark = 0
        self.repaired = 0  # billing items whose balance `reset` gave back (see there)

    def restore(self) -> int:
        from django.db import connection, transaction

        with transaction.atomic(), connection.cursor() as cursor:
            attach_context(cursor, "restore")
            cursor.execute(RESTORE, {"mark": self.mark})
            count, last = cursor.fetchone()
        if last:
            self.mark = max(self.mark, last)
        return count

    def reset(self) -> float:
        """At the start of a run: reverse what an interrupted run left, then drop every payment,
        reversal, idempotency record and audit event of earlier runs, and make the earlier
        payments again, so that every run starts from the same rows."""
        from django.db import connection, transaction

        started = time.perf_counter()
        self.mark = 0
        self.restore()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"TRUNCATE {', '.join(MONEY_TABLES + EVENT_TABLES)} RESTART IDENTITY CASCADE"
            )
            make_history(cursor)
            # The billing items have no earlier payments: each owes its total. A balance that
            # does not is what a run killed between a payment and its reversal, or two runs on
            # one database (load.hold_database now stops the second), left behind.
            cursor.execute(
                "UPDATE invoices_billingitem SET balance = total_amount "
                "WHERE balance <> total_amount"
            )
            self.repaired = cursor.rowcount
            cursor.execute("SELECT coalesce(max(id), 0) FROM payments_payment")
            self.mark = cursor.fetchone()[0]
        with connection.cursor() as cursor:
            for table in MONEY_TABLES + EVENT_TABLES:
                cursor.execute(f"ANALYZE {table}")
        return time.perf_counter() - started


# What the load sends: one file line per request, "METHOD\tPATH\tBEARER\tBODY".


def line(method: str, path: str, number: int, body: dict | None = None) -> str:
    text = json.dumps(body, separators=(",", ":")) if body is not None else ""
    return f"{method}\t{path}\t{account_secret(number)}\t{text}"


def spread(rows: list[tuple], cap: int) -> list[tuple]:
    """Rows (account number first) reordered so that consecutive rows name different accounts:
    every account's first row, then every account's second row, and so on."""
    by_account: dict[int, list[tuple]] = {}
    for row in rows:
        by_account.setdefault(row[0], []).append(row)
    out, rank = [], 0
    while len(out) < cap:
        level = [rows_[rank] for rows_ in by_account.values() if rank < len(rows_)]
        if not level:
            break
        out.extend(level)
        rank += 1
    return out[:cap]


def request_lines(sizes: Sizes, today: datetime.date, cap: int) -> dict[str, list[str]]:
    """The requests of every target, read from the database as it stands (after `reset`)."""
    from django.db import connection

    paid_on = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)).isoformat()
    large_paid = (FIRST_LARGE + sizes.read_accounts, FIRST_SMALL - 1)
    read = (FIRST_LARGE, FIRST_LARGE + sizes.read_accounts - 1)
    small = (FIRST_SMALL, HOT_NUMBER - 1)
    lines: dict[str, list[str]] = {}

    def legend(number: int, guid, items: list[int], amount: str) -> str:
        body = {
            "ContactId": str(guid),
            "PaymentDate": paid_on,
            "TenderTypeId": TENDER_TYPE,
            "BillingPayments": [
                {"BillingId": item, "Amount": "@", "ThirdPartyReference": f"load-{item}"}
                for item in items
            ],
        }
        # Amounts as JSON numbers with two places, as a till sends them.
        return line("POST", "/POS/BillingPayments", number, body).replace('"@"', amount)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.number, c.guid, array_agg(b.id ORDER BY b.id) "
            "FROM contacts_contact c JOIN contacts_account a ON a.id = c.account_id "
            "JOIN invoices_billingitem b ON b.contact_id = c.id "
            "WHERE a.number BETWEEN %s AND %s GROUP BY a.number, c.id ORDER BY a.number, c.id",
            list(small),
        )
        contacts = cursor.fetchall()
        items = [(number, guid, item) for number, guid, ids in contacts for item in ids]
        lines["legend1"] = [
            legend(number, guid, [item], "1.00") for number, guid, item in spread(items, cap)
        ]
        lines["legend10"] = [
            legend(number, guid, ids, "1.00") for number, guid, ids in spread(contacts, cap)
        ]
        lines["billings"] = [
            line("GET", f"/POS/Billings?ContactId={guid}", number)
            for number, guid, _ in spread(contacts, cap)
        ]

        cursor.execute(
            "SELECT c.guid, b.id FROM invoices_billingitem b "
            "JOIN contacts_contact c ON c.id = b.contact_id "
            "JOIN contacts_account a ON a.id = b.account_id WHERE a.number = %s",
            [HOT_NUMBER],
        )
        guid, item = cursor.fetchone()
        body = legend(HOT_NUMBER, guid, [item], "0.01")
        lines["hot"] = [
            body.replace(f"\t{account_secret(HOT_NUMBER)}\t", f"\t{partner_secret(index)}\t")
            for index in range(PARTNERS)
        ]

        cursor.execute(
            "SELECT a.number, i.id, i.balance FROM invoices_invoice i "
            "JOIN contacts_account a ON a.id = i.account_id "
            "WHERE a.number BETWEEN %s AND %s AND i.status = 'open' AND i.due_date < %s "
            "ORDER BY a.number, i.due_date, i.id",
            [*large_paid, today],
        )
        lines["ds_one"] = [
            line(
                "POST",
                f"/restapi/v2.1/accounts/{number}/billing_payments",
                number,
                {"paymentAmount": f"{balance:.2f}", "invoiceId": str(invoice)},
            )
            for number, invoice, balance in spread(cursor.fetchall(), cap)
        ]

        cursor.execute(
            "SELECT a.number, sum(i.balance) FROM invoices_invoice i "
            "JOIN contacts_account a ON a.id = i.account_id "
            "WHERE a.number BETWEEN %s AND %s AND i.status = 'open' AND i.due_date < %s "
            "GROUP BY a.number ORDER BY a.number",
            [*small, today],
        )
        lines["ds_all"] = [
            line(
                "POST",
                f"/restapi/v2.1/accounts/{number}/billing_payments",
                number,
                {"paymentAmount": f"{owed:.2f}"},
            )
            for number, owed in cursor.fetchall()[:cap]
        ]

        numbers = list(range(read[0], read[1] + 1))
        lines["past_due"] = [
            line("GET", f"/restapi/v2.1/accounts/{n}/billing_invoices_past_due", n) for n in numbers
        ]
        lines["payments"] = [
            line("GET", f"/restapi/v2.1/accounts/{n}/billing_payments", n) for n in numbers
        ]
        cursor.execute(
            "SELECT a.number, p.id FROM payments_payment p "
            "JOIN contacts_account a ON a.id = p.account_id "
            "WHERE a.number BETWEEN %s AND %s ORDER BY a.number, p.id",
            list(read),
        )
        lines["payment"] = [
            line("GET", f"/restapi/v2.1/accounts/{number}/billing_payments/{pk}", number)
            for number, pk in spread(cursor.fetchall(), cap)
        ]
    return lines


def shape(sizes: Sizes, today: datetime.date) -> dict[str, str]:
    """What the read targets read, for the report."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT avg(n) FROM (SELECT count(*) n FROM invoices_invoice i "
            "JOIN contacts_account a ON a.id = i.account_id "
            "WHERE a.number BETWEEN %s AND %s AND i.status = 'open' AND i.due_date < %s "
            "GROUP BY a.id) s",
            [FIRST_LARGE, FIRST_LARGE + sizes.read_accounts - 1, today],
        )
        past_due = cursor.fetchone()[0] or 0
        cursor.execute(
            "SELECT avg(n) FROM (SELECT count(*) n FROM payments_payment p "
            "JOIN contacts_account a ON a.id = p.account_id "
            "WHERE a.number BETWEEN %s AND %s AND p.payment_date > now() - interval '365 days' "
            "GROUP BY a.id) s",
            [FIRST_LARGE, FIRST_LARGE + sizes.read_accounts - 1],
        )
        payments = cursor.fetchone()[0] or 0
        cursor.execute(
            "SELECT avg(n) FROM (SELECT count(*) n FROM invoices_invoice i "
            "JOIN contacts_account a ON a.id = i.account_id "
            "WHERE a.number BETWEEN %s AND %s AND i.status = 'open' AND i.due_date < %s "
            "GROUP BY a.id) s",
            [FIRST_SMALL, HOT_NUMBER - 1, today],
        )
        small_past_due = cursor.fetchone()[0] or 0
    return {
        "past_due": f"{past_due:.0f} past-due invoices (2 items each) per account",
        "payments": f"{min(payments, 100):.0f} payments a page (of {payments:.0f} in 365 days)",
        "ds_all": f"{small_past_due:.1f} past-due invoices per account",
    }
