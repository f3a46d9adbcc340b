"""OpenAPI: everything an API operation answers besides its success, each API in its own shape.

`ApiSchema` is the AutoSchema both APIs build on. Once drf-spectacular has described an operation
(`get_operation`, a public hook), it adds:

- every status in `error_statuses()`, as JSON in the API's error shape (`error_schema()`), with
  examples rendered by the view's own exception handler from representative exceptions
  (`error_samples()`), so that an example is what the wire carries (the DocuSign mounts' strings,
  Legend's numbers), and the description the operation's `extend_schema` gave, else `describe()`;
- `Retry-After` on 429 and 503 and `X-RateLimit-*` where the rate limits counted the request, and
  whatever else `response_headers()` adds.

payments.schema adds what idempotency brings to POSTs (the `Idempotency-Key` parameter, 409,
`Idempotent-Replayed`); each API's subclass says what is specific to it, and `finish_operation()`
lets it change the result (the seed mount's envelope).
"""

import json

from django.conf import settings
from drf_spectacular.openapi import AutoSchema
from rest_framework import exceptions
from rest_framework.utils.encoders import JSONEncoder

from .errors import LengthRequired, PayloadTooLarge, ServiceUnavailable
from .throttles import (
    AUTH_FAILURES_CODE,
    BURST_CODE,
    HOURLY_CODE,
    RateLimited,
    auth_failures_message,
    rate_limit_message,
)

JSON = "application/json"

# Every operation of both APIs can answer these, whatever its handler does: before it runs
# (credentials, permission, content negotiation, body limits, rate limits) or for want of a
# database.
EVERY_OPERATION = (401, 403, 404, 406, 411, 413, 429, 503)
# An operation that reads a body (POST) can also answer these.
WITH_A_BODY = (400, 415)

DESCRIPTIONS = {
    400: "A malformed query parameter.",
    401: "No, wrong, revoked or expired credentials.",
    403: "The credentials do not hold the permission this operation needs here.",
    404: "Not found. On every operation: a `format` query parameter naming a format this "
    "operation does not answer.",
    406: "The Accept header names no media type this operation answers.",
    411: "A body without Content-Length (chunked) is refused unread.",
    413: "The body is over the limit (API_MAX_BODY_BYTES, 1 MiB by default); refused unread.",
    415: "The body is not JSON (Content-Type).",
    429: "Too many requests (a rate limit, or too many failed keys from this address): retry "
    "after Retry-After seconds.",
    503: "The service is unavailable (e.g. its database): retry the same request, with the same "
    "Idempotency-Key, after Retry-After seconds.",
}

RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}
RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {
        "description": "Requests allowed in the window (the hourly limit; the burst limit on a "
        "request the burst limit refused). Sent on every request the rate limits counted.",
        "required": False,
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in the window.",
        "required": False,
        "schema": {"type": "integer", "minimum": 0},
    },
    "X-RateLimit-Reset": {
        "description": "When the window ends, in Unix time (seconds).",
        "required": False,
        "schema": {"type": "integer", "minimum": 0},
    },
}
# The refusals that may come after the rate limits counted the request (they run after the
# credentials, the permission and content negotiation): these may carry X-RateLimit-*.
COUNTED = (400, 404, 409, 415, 429, 503)


def plain_json(data):
    """`data` as plain JSON types (DRF's ErrorDetail and lazy strings become str)."""
    return json.loads(json.dumps(data, cls=JSONEncoder))


class ApiSchema(AutoSchema):
    """The AutoSchema of an API's views: see the module's docstring."""

    counted_statuses: tuple[int, ...] = COUNTED

    # --- what each API says -----------------------------------------------------------------

    def error_schema(self, operation: dict) -> dict:
        """The schema of this API's error body."""
        raise NotImplementedError

    def error_samples(self, status: int) -> list[tuple[str, str, Exception]]:
        """`(name, summary, exception)`: what answers `status` here, rendered as examples."""
        samples = {
            401: [
                ("no_credentials", "No Authorization header", exceptions.NotAuthenticated()),
                (
                    "invalid_key",
                    "A wrong, revoked or expired key",
                    exceptions.AuthenticationFailed(
                        "The API key is not valid or has been revoked."
                    ),
                ),
            ],
            403: [("forbidden", "No permission", exceptions.PermissionDenied(self.denied()))],
            404: [("format", "An unknown ?format=", exceptions.NotFound())],
            406: [("not_acceptable", "Accept: text/html", exceptions.NotAcceptable())],
            411: [("chunked", "Transfer-Encoding: chunked", LengthRequired())],
            413: [("too_large", "A body over the limit", PayloadTooLarge())],
            415: [
                (
                    "not_json",
                    "Content-Type: text/plain",
                    exceptions.UnsupportedMediaType("text/plain"),
                )
            ],
            429: [
                (
                    "burst",
                    "The burst limit per credential",
                    RateLimited(
                        error_code=BURST_CODE,
                        message=rate_limit_message(
                            settings.API_BURST_LIMIT, settings.API_BURST_WINDOW
                        ),
                        wait=12,
                        limit=settings.API_BURST_LIMIT,
                    ),
                ),
                (
                    "hourly",
                    "The hourly limit",
                    RateLimited(
                        error_code=HOURLY_CODE,
                        message=rate_limit_message(settings.API_HOURLY_LIMIT, 3600),
                        wait=1800,
                        limit=settings.API_HOURLY_LIMIT,
                    ),
                ),
                (
                    "failed_keys",
                    "Too many failed keys from this address",
                    RateLimited(
                        error_code=AUTH_FAILURES_CODE,
                        message=auth_failures_message(),
                        wait=240,
                        limit=settings.API_AUTH_FAILURE_LIMIT,
                    ),
                ),
            ],
            503: [
                (
                    "database_unavailable",
                    "The database is unavailable",
                    ServiceUnavailable(),
                )
            ],
        }
        if status == 400 and self.method == "POST":
            return [
                (
                    "malformed_json",
                    "The body is not JSON",
                    exceptions.ParseError(
                        "The request body is not valid JSON: Expecting value: line 1 column 1 "
                        "(char 0)"
                    ),
                ),
            ]
        return samples.get(status, [])

    def denied(self) -> str:
        """The message of the permission this operation checks."""
        return self.view.get_permissions()[0].message

    # --- which statuses ------------------------------------------------------------------------

    def error_statuses(self, operation: dict) -> set[int]:
        statuses = set(EVERY_OPERATION)
        if self.method == "POST":
            statuses.update(WITH_A_BODY)
        # A malformed query parameter is a 400 (a `format` the operation does not answer: 404).
        parameters = operation.get("parameters", [])
        if any(p["in"] == "query" and p["name"] != "format" for p in parameters):
            statuses.add(400)
        return statuses

    # --- drf-spectacular's public hooks --------------------------------------------------------

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        error_schema = self.error_schema(operation)
        for status in sorted(self.error_statuses(operation)):
            code = str(status)
            declared = responses.get(code, {})
            responses[code] = {
                **declared,
                "description": declared.get("description") or self.describe(status),
                # An error is always JSON, even where a success may be a PDF.
                "content": {
                    JSON: {"schema": error_schema, "examples": self.error_examples(status)}
                },
            }
        for code, response in responses.items():
            headers = self.response_headers(int(code))
            if headers:
                response["headers"] = {**response.get("headers", {}), **headers}
        operation["responses"] = dict(sorted(responses.items()))
        return self.finish_operation(operation)

    def describe(self, status: int) -> str:
        """What an error status means here, unless the operation's extend_schema said."""
        if status == 400 and self.method == "POST":
            return (
                "A malformed body (not JSON, a missing field, a wrong type); nothing was written."
            )
        return DESCRIPTIONS[status]

    def response_headers(self, status: int) -> dict:
        """The headers an answer with `status` may carry."""
        headers = {}
        if status in (429, 503):
            headers.update(RETRY_AFTER)
        if status < 300 or status in self.counted_statuses:
            headers.update(RATE_LIMIT_HEADERS)
        return headers

    def finish_operation(self, operation: dict) -> dict:
        return operation

    # --- examples ------------------------------------------------------------------------------

    def error_examples(self, status: int) -> dict:
        """Each sample of `status`, rendered by the view's own exception handler."""
        handler = self.view.get_exception_handler()
        examples = {}
        for name, summary, exception in self.error_samples(status):
            response = handler(exception, {"view": self.view, "request": self.view.request})
            if response.status_code != status:
                raise ValueError(
                    f"The sample {name!r} answers {response.status_code}, not {status}."
                )
            key = "".join(word.capitalize() for word in name.split("_"))  # as drf-spectacular's
            examples[key] = {"summary": summary, "value": plain_json(response.data)}
        return examples
