"""OpenAPI for the APIs' POSTs: what `Idempotency-Key` (payments.idempotency) adds to them.

The header is a documented parameter of every POST, with the rules `_valid_key` enforces; a key
reused with another request is a 409 in the API's own shape; the answers a key stores (the
handler's own: success, and its refusals) may come back replayed, with `Idempotent-Replayed`.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter

from billing_site.api.schema import ApiSchema

from .idempotency import HEADER, MAX_KEY_LENGTH, IdempotencyKeyInvalid, IdempotencyKeyReused

# A key as `_valid_key` takes it: 1 to 255 printable ASCII characters. The server strips spaces at
# either end (a key of spaces only is refused), so a key is documented without them.
KEY_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_KEY_LENGTH,
    "pattern": "^[!-~]([ -~]*[!-~])?$",
}
EXAMPLE_KEY = "payment-2026-11-21-0001"

IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    KEY_SCHEMA,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        f"1 to {MAX_KEY_LENGTH} printable ASCII characters (anything else is a 400), one per "
        "request for this credential. The first answer (a success or a refusal, not a 5xx) is "
        "stored; a retry with the same method, path and body gets it back byte for byte with "
        "`Idempotent-Replayed: true`, and nothing runs again. The same key with another request "
        "is a 409. Keys are kept at least 24 hours (48 by default)."
    ),
    examples=[OpenApiExample("key", value=EXAMPLE_KEY)],
)
IDEMPOTENT_REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same Idempotency-Key: nothing ran again.",
        "required": False,
        "schema": {"type": "string", "enum": ["true"]},
    }
}


class IdempotentApiSchema(ApiSchema):
    """`ApiSchema`, with Idempotency-Key on POSTs."""

    # The statuses the view's handler itself answers, which a key stores and replays (the
    # success status is always one).
    replayable_statuses: tuple[int, ...] = (400,)

    def get_override_parameters(self) -> list:
        parameters = super().get_override_parameters()
        if self.method == "POST":
            parameters = [*parameters, IDEMPOTENCY_KEY]
        return parameters

    def error_statuses(self, operation: dict) -> set[int]:
        statuses = super().error_statuses(operation)
        if self.method == "POST":
            statuses.add(409)
        return statuses

    def describe(self, status: int) -> str:
        if status == 409:
            return "The Idempotency-Key was already used, by this credential, for another request."
        if status == 400 and self.method == "POST":
            return (
                "A malformed body (not JSON, a missing field, a wrong type) or Idempotency-Key; "
                "nothing was written."
            )
        return super().describe(status)

    def error_samples(self, status: int) -> list:
        samples = super().error_samples(status)
        if self.method != "POST":
            return samples
        if status == 409:
            return [("key_reused", "The key of another request", IdempotencyKeyReused(EXAMPLE_KEY))]
        if status == 400:
            key = (
                "bad_idempotency_key",
                "An Idempotency-Key of 256 characters",
                IdempotencyKeyInvalid(),
            )
            return [*samples, key]
        return samples

    def response_headers(self, status: int) -> dict:
        headers = super().response_headers(status)
        if self.method == "POST" and (status < 300 or status in self.replayable_statuses):
            headers.update(IDEMPOTENT_REPLAYED)
        return headers
