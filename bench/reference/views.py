"""The reference views: raw SQL on the product's tables, no authentication, nothing else.

A payment does what the product's money services do in the database, and no more: lock the
billing items or invoices it pays (`SELECT ... FOR UPDATE`), insert the payment and its
allocations, write the new balances, commit. One statement each, whatever the number of lines
(arrays, `unnest`). It does not lock the account row, check a tender type or a role, record a
credential or keep an Idempotency-Key: what the product adds on top is what the ratio measures.
A request it cannot apply in full is refused with 409 and rolled back (the benchmark counts it).

The reads return what the product's read endpoints return (the same rows, a similar shape), each
with the fewest queries that fetch them.
"""

import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.http import HttpResponse
from rest_framework.response import Response
from rest_framework.views import APIView

ZERO = Decimal("0.00")


def healthz(request):
    return HttpResponse("ok\n", content_type="text/plain")


def today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()


def money(value: Decimal) -> str:
    return f"{value:.2f}"


def refused(message: str, status: int = 409) -> Response:
    transaction.set_rollback(True)
    return Response({"errorCode": "REFERENCE_REFUSED", "message": message}, status=status)


LOCK_ITEMS = """
SELECT b.id, b.balance, b.account_id, b.contact_id, a.currency
FROM invoices_billingitem b
JOIN contacts_contact c ON c.id = b.contact_id
JOIN contacts_account a ON a.id = b.account_id
WHERE c.guid = %s AND b.id = ANY(%s)
ORDER BY b.id
FOR UPDATE OF b
"""

INSERT_PAYMENT = """
INSERT INTO payments_payment (channel, amount, currency, payment_date, processed_at,
    description, reference, authorization_code, notes, account_id, contact_id, tender_type_id)
VALUES (%s, %s, %s, %s, now(), '', '', '', '', %s, %s, %s)
RETURNING id, processed_at
"""

INSERT_ITEM_ALLOCATIONS = """
INSERT INTO payments_paymentallocation (account_id, payment_id, billing_item_id, amount,
    reference, authorization_code, notes)
SELECT %s, %s, t.item, t.amount, t.reference, '', ''
FROM unnest(%s::bigint[], %s::numeric[], %s::text[]) AS t(item, amount, reference)
"""

UPDATE_ITEMS = """
UPDATE invoices_billingitem b SET balance = t.balance
FROM unnest(%s::bigint[], %s::numeric[]) AS t(id, balance)
WHERE b.id = t.id
"""


class BillingPayments(APIView):
    """`POST /POS/BillingPayments` with Legend's body: every line applied, or 409."""

    def post(self, request):
        body = request.data
        lines = {
            int(line["BillingId"]): (
                Decimal(str(line["Amount"])),
                line.get("ThirdPartyReference") or "",
            )
            for line in body["BillingPayments"]
        }
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(LOCK_ITEMS, [body["ContactId"], list(lines)])
            items = cursor.fetchall()
            if len(items) != len(lines):
                return refused("A billing item is not the contact's.")
            balances = {}
            for item_id, balance, *_ in items:
                amount = lines[item_id][0]
                if not ZERO < amount <= balance:
                    return refused(f"Billing item {item_id}: {amount} is over its balance.")
                balances[item_id] = balance - amount
            _, _, account_id, contact_id, currency = items[0]
            ids = list(balances)
            total = sum((lines[item_id][0] for item_id in ids), ZERO)
            cursor.execute(
                INSERT_PAYMENT,
                [
                    "legend_api",
                    total,
                    currency,
                    body["PaymentDate"],
                    account_id,
                    contact_id,
                    body["TenderTypeId"],
                ],
            )
            payment_id, processed_at = cursor.fetchone()
            cursor.execute(
                INSERT_ITEM_ALLOCATIONS,
                [
                    account_id,
                    payment_id,
                    ids,
                    [lines[item_id][0] for item_id in ids],
                    [lines[item_id][1] for item_id in ids],
                ],
            )
            cursor.execute(UPDATE_ITEMS, [ids, [balances[item_id] for item_id in ids]])
        processed = processed_at.isoformat()
        return Response(
            {
                "ContactId": body["ContactId"],
                "Success": True,
                "ErrorMessage": None,
                "BillingPayments": [
                    {
                        "BillingId": item_id,
                        "Balance": balances[item_id],
                        "ProcessDate": processed,
                        "PaymentDate": body["PaymentDate"],
                        "ErrorMessage": None,
                    }
                    for item_id in ids
                ],
            }
        )


LOCK_INVOICES = """
SELECT i.id, i.balance, a.id, a.currency
FROM invoices_invoice i
JOIN contacts_account a ON a.id = i.account_id
WHERE a.number = %s AND i.status = 'open' AND i.due_date < %s AND (%s::bigint IS NULL OR i.id = %s)
ORDER BY i.id
FOR UPDATE OF i
"""

INSERT_INVOICE_ALLOCATIONS = """
INSERT INTO payments_paymentallocation (account_id, payment_id, invoice_id, amount,
    reference, authorization_code, notes)
SELECT %s, %s, t.invoice, t.amount, '', '', ''
FROM unnest(%s::bigint[], %s::numeric[]) AS t(invoice, amount)
"""

UPDATE_INVOICES = """
UPDATE invoices_invoice i
SET balance = t.balance, status = CASE WHEN t.balance = 0 THEN 'paid' ELSE 'open' END
FROM unnest(%s::bigint[], %s::numeric[]) AS t(id, balance)
WHERE i.id = t.id
"""

PAYMENTS = """
SELECT p.id, p.amount, p.payment_date, p.description, r.id IS NOT NULL
FROM payments_payment p
LEFT JOIN payments_reversal r ON r.payment_id = p.id
"""


def payment_item(row) -> dict:
    payment_id, amount, payment_date, description, is_reversed = row
    description = description or f"Payment P{payment_id:08d}"
    return {
        "amount": money(amount),
        "description": f"{description} (reversed)" if is_reversed else description,
        "paymentDate": payment_date.isoformat().replace("+00:00", "Z"),
        "paymentId": str(payment_id),
        "paymentNumber": f"P{payment_id:08d}",
    }


class AccountPayments(APIView):
    """`POST billing_payments`: pay every past-due invoice of the account (or `invoiceId`), the
    amount equal to what they owe; `GET billing_payments`: the first chunk (100) of the account's
    payments of the last 365 days."""

    def post(self, request, number):
        body = request.data
        amount = Decimal(str(body["paymentAmount"]))
        invoice_id = int(body["invoiceId"]) if body.get("invoiceId") is not None else None
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(LOCK_INVOICES, [number, today(), invoice_id, invoice_id])
            invoices = cursor.fetchall()
            if not invoices:
                return refused("There is nothing past due to pay.", status=400)
            owed = sum((balance for _, balance, _, _ in invoices), ZERO)
            if amount != owed:
                return refused(f"The amount {amount} does not match {owed}.", status=400)
            _, _, account_id, currency = invoices[0]
            ids = [invoice[0] for invoice in invoices]
            cursor.execute(
                INSERT_PAYMENT,
                [
                    "docusign_api",
                    amount,
                    currency,
                    datetime.datetime.now(datetime.UTC),
                    account_id,
                    None,
                    None,
                ],
            )
            payment_id, _ = cursor.fetchone()
            cursor.execute(
                INSERT_INVOICE_ALLOCATIONS,
                [account_id, payment_id, ids, [invoice[1] for invoice in invoices]],
            )
            cursor.execute(UPDATE_INVOICES, [ids, [ZERO] * len(ids)])
        return Response(
            {
                "billingPayments": [
                    {"amount": money(balance), "invoiceId": str(pk), "paymentId": str(payment_id)}
                    for pk, balance, _, _ in invoices
                ]
            },
            status=201,
        )

    def get(self, request, number):
        now = datetime.datetime.now(datetime.UTC)
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM contacts_account WHERE number = %s", [number])
            account = cursor.fetchone()
            if account is None:
                return Response({"errorCode": "ACCOUNT_NOT_FOUND"}, status=404)
            cursor.execute(
                PAYMENTS + "WHERE p.account_id = %s AND p.payment_date >= %s "
                "AND p.payment_date <= %s ORDER BY p.id LIMIT 101",
                [account[0], now - datetime.timedelta(days=365), now],
            )
            rows = cursor.fetchall()
        return Response(
            {
                "billingPayments": [payment_item(row) for row in rows[:100]],
                "nextUri": None if len(rows) <= 100 else "(more)",
                "previousUri": None,
            }
        )


class OnePayment(APIView):
    """`GET billing_payments/{paymentId}`."""

    def get(self, request, number, payment_id):
        with connection.cursor() as cursor:
            cursor.execute(
                PAYMENTS + "JOIN contacts_account a ON a.id = p.account_id "
                "WHERE a.number = %s AND p.id = %s",
                [number, payment_id],
            )
            row = cursor.fetchone()
        if row is None:
            return Response({"errorCode": "PAYMENT_NOT_FOUND"}, status=404)
        return Response(payment_item(row))


class PastDue(APIView):
    """`GET billing_invoices_past_due`: the account's totals and its past-due invoices with
    their items."""

    def get(self, request, number):
        day = today()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, currency, api_payments_blocked FROM contacts_account WHERE number = %s",
                [number],
            )
            account = cursor.fetchone()
            if account is None:
                return Response({"errorCode": "ACCOUNT_NOT_FOUND"}, status=404)
            account_id, currency, blocked = account
            cursor.execute(
                "SELECT coalesce(sum(balance), 0), "
                "coalesce(sum(balance) FILTER (WHERE due_date < %s), 0) "
                "FROM invoices_invoice WHERE account_id = %s AND status = 'open' "
                "AND issue_date <= %s",
                [day, account_id, day],
            )
            account_balance, past_due_balance = cursor.fetchone()
            cursor.execute(
                "SELECT id, number, amount, balance, due_date FROM invoices_invoice "
                "WHERE account_id = %s AND status = 'open' AND due_date < %s "
                "ORDER BY due_date, id",
                [account_id, day],
            )
            invoices = cursor.fetchall()
            cursor.execute(
                "SELECT invoice_id, id, charge_name, quantity, unit_price, charge_amount, "
                "tax_amount, tax_exempt_amount FROM invoices_invoiceitem "
                "WHERE invoice_id = ANY(%s) ORDER BY invoice_id, id",
                [[invoice[0] for invoice in invoices]],
            )
            items: dict[int, list] = {}
            for row in cursor.fetchall():
                items.setdefault(row[0], []).append(row)
        base = f"/restapi/v2.1/accounts/{number}/billing_invoices/"
        return Response(
            {
                "accountBalance": money(account_balance),
                "billingInvoices": [
                    {
                        "amount": money(amount),
                        "balance": money(balance),
                        "dueDate": due_date.isoformat(),
                        "invoiceId": str(pk),
                        "invoiceItems": [
                            {
                                "chargeAmount": money(charge),
                                "chargeName": name,
                                "invoiceItemId": str(item_id),
                                "quantity": str(quantity),
                                "taxAmount": money(tax),
                                "taxExemptAmount": money(exempt),
                                "unitPrice": money(unit),
                            }
                            for _, item_id, name, quantity, unit, charge, tax, exempt in items.get(
                                pk, []
                            )
                        ],
                        "invoiceNumber": invoice_number,
                        "invoiceUri": f"{base}{pk}",
                    }
                    for pk, invoice_number, amount, balance, due_date in invoices
                ],
                "currencyCode": currency,
                "pastDueBalance": money(past_due_balance),
                "paymentAllowed": "false" if blocked else "true",
            }
        )


class Billings(APIView):
    """`GET /POS/Billings?ContactId=`: the contact's billing items, oldest due first."""

    def get(self, request):
        outstanding = request.query_params.get("OutstandingOnly", "").lower() == "true"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM contacts_contact WHERE guid = %s",
                [request.query_params["ContactId"]],
            )
            contact = cursor.fetchone()
            if contact is None:
                return Response({"Success": False, "ErrorMessage": "Unknown contact."})
            cursor.execute(
                "SELECT id, description, due_date, total_amount, balance "
                "FROM invoices_billingitem WHERE contact_id = %s "
                + ("AND balance > 0 " if outstanding else "")
                + "ORDER BY due_date, id",
                [contact[0]],
            )
            rows = cursor.fetchall()
        return Response(
            {
                "ContactId": request.query_params["ContactId"],
                "Success": True,
                "ErrorMessage": None,
                "Billings": [
                    {
                        "BillingId": pk,
                        "Description": description,
                        "DueDate": due_date.isoformat(),
                        "TotalAmount": total,
                        "Balance": balance,
                    }
                    for pk, description, due_date, total, balance in rows
                ],
            }
        )
