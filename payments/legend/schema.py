"""OpenAPI for the Legend-compatible endpoints: every answer is the endpoint's own response object.

A refusal is that object with `Success: false`, the reason in `ErrorMessage` and an empty list;
global failures (an unknown contact, tender type...) answer it with 200, as Legend does. Amounts
are JSON numbers and ids integers in the examples, as on the wire.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import exceptions

from billing_site.api.schema import JSON

from ..schema import IdempotentApiSchema
from .errors import OTHER_ROLE, LegendFailure

CONTACT_ID = "3f2c9a4e-8b1d-4c6e-9f0a-2d7b5e1c8a93"
PAYMENT_DATE = "2026-11-21T10:00:00+00:00"
PROCESS_DATE = "2026-11-21T10:00:01.234567+00:00"


def request_example(name: str, value: dict) -> OpenApiExample:
    return OpenApiExample(name, value=value, request_only=True)


def response_example(name: str, value: dict, summary: str = "") -> OpenApiExample:
    return OpenApiExample(name, value=value, summary=summary, response_only=True)


def answered(lines_key: str, lines: list, error: str | None = None) -> dict:
    return {
        "ContactId": CONTACT_ID,
        "Success": error is None,
        "ErrorMessage": error,
        lines_key: lines,
    }


def global_failure(lines_key: str, message: str) -> OpenApiExample:
    return response_example(
        "Global failure",
        answered(lines_key, [], message),
        "200 too: nothing applied, the reason in ErrorMessage, an empty list",
    )


PAYMENT_EXAMPLES = [
    request_example(
        "Two lines",
        {
            "ContactId": CONTACT_ID,
            "PaymentDate": PAYMENT_DATE,
            "TenderTypeId": 3,
            "BillingPayments": [
                {
                    "BillingId": 512,
                    "Amount": 10.00,
                    "ThirdPartyReference": "till-42-receipt-7",
                    "Notes": "Card payment at the front desk",
                    "AuthorizationCode": "A1B2C3",
                },
                {"BillingId": 513, "Amount": 25.50},
            ],
        },
    ),
    response_example(
        "Every line applied",
        answered(
            "BillingPayments",
            [
                {
                    "BillingId": 512,
                    "Balance": 40.00,
                    "ProcessDate": PROCESS_DATE,
                    "PaymentDate": PAYMENT_DATE,
                    "ErrorMessage": None,
                },
                {
                    "BillingId": 513,
                    "Balance": 0.00,
                    "ProcessDate": PROCESS_DATE,
                    "PaymentDate": PAYMENT_DATE,
                    "ErrorMessage": None,
                },
            ],
        ),
    ),
    response_example(
        "A line not applied",
        answered(
            "BillingPayments",
            [
                {
                    "BillingId": 512,
                    "Balance": 40.00,
                    "ProcessDate": PROCESS_DATE,
                    "PaymentDate": PAYMENT_DATE,
                    "ErrorMessage": None,
                },
                {
                    "BillingId": 999,
                    "Balance": 0.00,
                    "ProcessDate": None,
                    "PaymentDate": PAYMENT_DATE,
                    "ErrorMessage": "Billing item 999 was not found for this contact.",
                },
            ],
            "Some lines were not applied.",
        ),
        "The other lines are applied: Success false, each refused line says why",
    ),
    global_failure("BillingPayments", "Tender type 99 is unknown or inactive."),
]
WRITE_DOWN_EXAMPLES = [
    request_example(
        "One line",
        {
            "ContactId": CONTACT_ID,
            "WriteDownDate": PAYMENT_DATE,
            "Notes": "Goodwill: the class was cancelled",
            "BillingWriteDowns": [{"BillingId": 512, "Amount": 15.00, "GLAccountId": 4010}],
        },
    ),
    response_example(
        "Written down",
        answered(
            "BillingWriteDowns",
            [
                {
                    "BillingId": 512,
                    "Balance": 25.00,
                    "ProcessDate": PROCESS_DATE,
                    "WriteDownDate": PAYMENT_DATE,
                    "ErrorMessage": None,
                }
            ],
        ),
    ),
    global_failure("BillingWriteDowns", "At least one billing line is required."),
]
BILLINGS_EXAMPLES = [
    response_example(
        "What the contact owes",
        answered(
            "Billings",
            [
                {
                    "BillingId": 512,
                    "Description": "Membership fee November",
                    "DueDate": "2026-11-01",
                    "TotalAmount": 50.00,
                    "Balance": 40.00,
                }
            ],
        ),
    )
]

PROCESSED = (
    "Processed: one result line per request line, in order. `Success` is true when every line "
    'was applied; false, with `ErrorMessage` "Some lines were not applied.", when some were '
    "refused (each refused line says why, and the others are applied). A global failure applies "
    "nothing and answers 200 too, `Success` false with the reason in `ErrorMessage` and an empty "
    "list: an unknown contact (or one of an account the key holds no role on), an unknown or "
    "inactive tender type, no lines, a BillingId twice, an account blocked from API payments."
)
DESCRIPTIONS = {
    400: "A malformed body: not JSON, a missing field, a wrong type, a date without an offset or "
    "in the future, a field over its length; or a malformed Idempotency-Key. Nothing applied.",
    403: "The key holds this endpoint's permission on no account, or holds another role on the "
    "contact's account.",
}


def processed(serializer) -> OpenApiResponse:
    return OpenApiResponse(serializer, description=PROCESSED)


class LegendSchema(IdempotentApiSchema):
    """Legend's refusals are the endpoint's own response, with `Success: false`."""

    # 403 also comes from the view's handler: a role on the contact's account (read from the body)
    # without the endpoint's privilege.
    replayable_statuses = (400, 403)
    counted_statuses = (*IdempotentApiSchema.counted_statuses, 403)

    def error_schema(self, operation: dict) -> dict:
        return operation["responses"]["200"]["content"][JSON]["schema"]

    def describe(self, status: int) -> str:
        if status == 404 and self.method == "GET":
            return (
                "An unknown contact, or one of an account the key holds no role on (answered "
                "alike); or a `format` query parameter naming a format this operation does not "
                "answer."
            )
        if status == 400 and self.method == "GET":
            return "ContactId is not a GUID, or OutstandingOnly not a boolean."
        return DESCRIPTIONS.get(status) or super().describe(status)

    def error_samples(self, status: int) -> list:
        samples = super().error_samples(status)
        lines = self.view.lines_key
        if status == 400 and self.method == "GET":
            invalid = exceptions.ValidationError({"ContactId": ["Must be a valid UUID."]})
            return [("bad_contact_id", "ContactId=42", invalid)]
        if status == 400:
            missing = exceptions.ValidationError({lines: [{"Amount": ["A number is required."]}]})
            return [*samples, ("amount_missing", "A line without its Amount", missing)]
        if status == 403 and self.method == "POST":
            denied = exceptions.PermissionDenied(OTHER_ROLE)
            return [*samples, ("other_role", "Another role on the contact's account", denied)]
        if status == 404 and self.method == "GET":
            unknown = LegendFailure(f"Contact {CONTACT_ID} was not found.", status=404)
            return [("unknown_contact", "An unknown contact", unknown), *samples]
        return samples
