"""OpenAPI for the DocuSign-compatible endpoints: DocuSign's operation ids, one tag per mount.

The examples are written once, as the /restapi mount answers (every value a string); on the seed
mount `finish_operation` wraps the success schemas and their examples in `{"success": true,
"data": ...}` (a new payment's `data` also has `id` and `created_at`), with the seed mount's URIs.
"""

from copy import deepcopy
from decimal import Decimal

from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework import exceptions

from billing_site.api.errors import ApiError
from billing_site.api.schema import JSON

from ..errors import AmountMismatch, NothingToPay
from ..schema import IdempotentApiSchema
from .serializers import EnvelopedErrorSerializer, ErrorSerializer

RESTAPI_PREFIX = "/restapi/v2.1/"
SEED_PREFIX = "/v2.1/"

CREATED = {  # what the seed mount adds to a new payment, as in the seed's sample
    "type": "object",
    "required": ["id", "created_at"],
    "properties": {
        "id": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}


def enveloped(schema: dict) -> dict:
    """`{"success": true, "data": <schema>}`, the seed mount's success body."""
    return {
        "type": "object",
        "required": ["success", "data"],
        "properties": {"success": {"type": "boolean", "enum": [True]}, "data": schema},
    }


ACCOUNT_ID = OpenApiParameter(
    "account_id",
    str,
    OpenApiParameter.PATH,
    description="The external account number (int) or account ID GUID.",
)

# --- examples, in the /restapi mount's types: every value a string ---------------------------

NOTHING_PAST_DUE = "There is nothing past due to pay."  # payments.services.invoices_pay
NOT_FOUND = {  # what `retrieve` answers for an id it does not find, by operation
    "getInvoice": ("INVOICE_NOT_FOUND", "Invoice"),
    "getPayment": ("PAYMENT_NOT_FOUND", "Payment"),
}
PAYMENT_ID = "4711"
CREATED_AT = "2026-11-21T10:00:00.123456Z"
INVOICE = {
    "amount": "125.00",
    "balance": "125.00",
    "dueDate": "2026-10-31",
    "invoiceId": "17",
    "invoiceItems": [
        {
            "chargeAmount": "125.00",
            "chargeName": "Monthly subscription",
            "invoiceItemId": "31",
            "quantity": "1",
            "taxAmount": "0.00",
            "taxExemptAmount": "0.00",
            "unitPrice": "125.00",
        }
    ],
    "invoiceNumber": "INV-00017",
    "invoiceUri": f"{RESTAPI_PREFIX}accounts/900001/billing_invoices/17",
    "nonTaxableAmount": "0.00",
    "pdfAvailable": "true",
    "taxableAmount": "125.00",
}
PAYMENT = {
    "amount": "125.00",
    "description": "Payment P00004711",
    "paymentDate": CREATED_AT,
    "paymentId": PAYMENT_ID,
    "paymentNumber": "P00004711",
}


def response_example(name: str, value) -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True)


PAST_DUE_EXAMPLES = [
    response_example(
        "One invoice past due",
        {
            "accountBalance": "250.00",
            "billingInvoices": [INVOICE],
            "currencyCode": "USD",
            "pastDueBalance": "125.00",
            "paymentAllowed": "true",
        },
    )
]
# A list operation's example is one item: drf-spectacular builds the chunk around it.
INVOICE_EXAMPLES = [response_example("An invoice", INVOICE)]
PAYMENT_EXAMPLES = [response_example("A payment", PAYMENT)]
EVENT = {
    "eventId": "5f0c2b1e-8a47-4c1d-9f0e-3b2a1c4d5e6f",
    "type": "payment.created",
    "occurredAt": CREATED_AT,
    "data": {
        "accountId": "0b6e1f57-3d2c-4a8e-9c71-5e2f8a9b0c1d",
        "accountNumber": "700001",
        "paymentId": PAYMENT_ID,
        "paymentNumber": "P00004711",
        "amount": "125.00",
        "currency": "USD",
        "paymentDate": CREATED_AT,
        "channel": "docusign_api",
        "reference": "",
        "allocations": [{"invoiceId": "4711", "invoiceNumber": "INV-1001", "amount": "125.00"}],
        "toCredit": "0.00",
    },
}
EVENT_EXAMPLES = [response_example("A payment's event", EVENT)]
PAY_EXAMPLES = [
    OpenApiExample(
        "Pay everything past due",
        value={"paymentAmount": "125.00"},
        request_only=True,
    ),
    OpenApiExample(
        "Pay one past-due invoice",
        value={"paymentAmount": "125.00", "invoiceId": "17"},
        request_only=True,
    ),
    response_example(
        "Paid",
        {"billingPayments": [{"amount": "125.00", "invoiceId": "17", "paymentId": PAYMENT_ID}]},
    ),
]


def on_seed_mount(value):
    """An example value with the seed mount's URIs instead of /restapi's."""
    if isinstance(value, dict):
        return {key: on_seed_mount(item) for key, item in value.items()}
    if isinstance(value, list):
        return [on_seed_mount(item) for item in value]
    if isinstance(value, str) and value.startswith(RESTAPI_PREFIX):
        return SEED_PREFIX + value.removeprefix(RESTAPI_PREFIX)
    return value


class AccountBillingSchema(IdempotentApiSchema):
    def is_seed_mount(self) -> bool:
        return getattr(self.view, "seed_mount", False)

    def error_schema(self, operation: dict) -> dict:
        serializer = EnvelopedErrorSerializer if self.is_seed_mount() else ErrorSerializer
        return self.resolve_serializer(serializer, "response").ref

    def describe(self, status: int) -> str:
        if status == 403:
            return (
                "Not an administrator of the account, or an unknown account (answered alike, so "
                "that account ids cannot be probed)."
            )
        if status == 404:
            unknown = (
                "an unknown id, or another account's; " if self.view.action == "retrieve" else ""
            )
            text = (
                f"{unknown}an `accountId` or id holding `/` (no endpoint); or a `format` query "
                "parameter naming a format this operation does not answer."
            )
            return text[0].upper() + text[1:]
        if status == 400 and self.method == "POST":
            return (
                "Refused; nothing was written: a malformed body or Idempotency-Key "
                "(INVALID_REQUEST_PARAMETER), payments not allowed or nothing past due "
                "(PAYMENT_NOT_ALLOWED), an amount that is not the balance due "
                "(INVALID_PAYMENT_AMOUNT)."
            )
        if status == 400:
            return "A malformed from_date, to_date, count or cursor, or from_date after to_date."
        return super().describe(status)

    def error_samples(self, status: int) -> list:
        samples = super().error_samples(status)
        if status == 400 and self.method == "GET":
            return [
                (
                    "bad_date",
                    "A malformed from_date",
                    exceptions.ValidationError(
                        "from_date must be a date (YYYY-MM-DD) or an ISO 8601 datetime, not "
                        "'yesterday'."
                    ),
                ),
                (
                    "bad_cursor",
                    "A cursor not taken from nextUri or previousUri",
                    exceptions.ValidationError({"cursor": ["Invalid cursor"]}),
                ),
            ]
        if status == 400:
            return [
                *samples,
                (
                    "missing_amount",
                    "No paymentAmount",
                    exceptions.ValidationError({"paymentAmount": ["This field is required."]}),
                ),
                ("nothing_past_due", "Nothing is past due", NothingToPay(NOTHING_PAST_DUE)),
                (
                    "amount_mismatch",
                    "paymentAmount is not pastDueBalance",
                    AmountMismatch(
                        "The amount 100.00 does not match the balance due 125.00.",
                        expected=Decimal("125.00"),
                    ),
                ),
            ]
        if status == 404 and self.view.action == "retrieve":
            code, what = NOT_FOUND[self.view.operation_ids["retrieve"]]
            unknown = ApiError(404, code, f"{what} '18' was not found in this account.")
            return [("unknown_id", f"No such {what.lower()} here", unknown), *samples]
        return samples

    def get_operation_id(self) -> str:
        operation_id = self.view.operation_ids[self.view.action]
        return f"{operation_id}Enveloped" if self.is_seed_mount() else operation_id

    def get_tags(self) -> list[str]:
        if self.is_seed_mount():
            return ["Account billing, enveloped ({success, data} / {success, error})"]
        return ["Account billing (DocuSign eSignature v2.1 compatible)"]

    def get_override_parameters(self) -> list:
        parameters = [ACCOUNT_ID]
        if self.view.action == "retrieve":
            parameters.append(OpenApiParameter("id", str, OpenApiParameter.PATH))
        return [*parameters, *super().get_override_parameters()]

    def finish_operation(self, operation: dict) -> dict:
        """On the seed mount: each success in its envelope, schema and examples."""
        if not self.is_seed_mount():
            return operation
        created = self.view.action == "create"
        for code, response in operation["responses"].items():
            content = response.get("content", {}).get(JSON)
            if not code.startswith("2") or content is None:
                continue
            data = content["schema"]
            content["schema"] = enveloped({"allOf": [deepcopy(CREATED), data]} if created else data)
            for example in content.get("examples", {}).values():
                value = on_seed_mount(example["value"])
                if created:
                    value = {"id": PAYMENT_ID, "created_at": CREATED_AT, **value}
                example["value"] = {"success": True, "data": value}
        return operation
