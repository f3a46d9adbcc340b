"""Every exception an API view can meet, reduced to one `Problem`; each API renders its own shape.

Views raise `ApiError` for refusals with an API-specific code; DRF's own exceptions (bad
credentials, malformed JSON, wrong method...) are classified here by kind.
"""

import logging
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions

logger = logging.getLogger("billing_site.api")


class ApiError(Exception):
    """A refusal with its HTTP status and the API's own error code."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


class PayloadTooLarge(exceptions.APIException):
    """A body over `settings.API_MAX_BODY_BYTES` (Django's DATA_UPLOAD_MAX_MEMORY_SIZE): Django
    refuses it when the body is first read, before reading more than the limit."""

    status_code = 413
    default_code = "payload_too_large"

    def __init__(self) -> None:
        super().__init__(
            f"The request body is larger than {settings.API_MAX_BODY_BYTES} bytes, the limit."
        )


class LengthRequired(exceptions.APIException):
    """A body without Content-Length (chunked): refused unread (see billing_site.api.limits)."""

    status_code = 411
    default_code = "length_required"
    default_detail = "A request body must be sent with Content-Length, not chunked."


UNAVAILABLE_MESSAGE = (
    "The service is temporarily unavailable. Retry the same request, with the same "
    "Idempotency-Key, after the Retry-After delay."
)


class ServiceUnavailable(exceptions.APIException):
    """The 503 that `database_unavailable` answers, as an exception (the schema's examples render
    it with each API's handler; a real outage is an OperationalError, logged)."""

    status_code = 503
    default_code = "service_unavailable"
    default_detail = UNAVAILABLE_MESSAGE


@dataclass(frozen=True)
class Problem:
    status: int
    kind: str
    message: str
    details: dict = field(default_factory=dict)
    code: str | None = None  # set when the view chose the API code itself (ApiError)
    headers: dict = field(default_factory=dict)


KINDS = {
    exceptions.NotAuthenticated: "authentication",
    exceptions.AuthenticationFailed: "authentication",
    exceptions.PermissionDenied: "permission",
    exceptions.NotFound: "not_found",
    exceptions.ValidationError: "validation",
    exceptions.ParseError: "validation",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    PayloadTooLarge: "payload_too_large",
    LengthRequired: "length_required",
    ServiceUnavailable: "unavailable",
}

# The database refused or lost the connection (down, restarting, too many connections, a backend
# terminated, a deadlock or timeout rolled back). The request gets no 2xx, even when a COMMIT may
# have gone through: the same request with the same Idempotency-Key is then replayed, not repeated.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def database_unavailable(exc: Exception) -> Problem:
    """A 503 with Retry-After, logged as one warning line (no traceback: it is not a bug)."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    logger.warning("Database unavailable, answered 503: %s", reason)
    return Problem(
        503,
        "unavailable",
        UNAVAILABLE_MESSAGE,
        headers={"Retry-After": str(settings.DB_UNAVAILABLE_RETRY_AFTER)},
    )


def _first_message(detail, path: str = "") -> str:
    """The first error in DRF's nested error detail, prefixed with where it is:
    `paymentAmount: ...`, `BillingPayments[1].Amount: ...`."""
    if isinstance(detail, dict):
        for name, value in detail.items():
            if value:
                inner = path if name in {"non_field_errors", "__all__"} else _join(path, name)
                return _first_message(value, inner)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)) and value:
                return _first_message(value, f"{path}[{index}]")
            if value and not isinstance(value, (dict, list)):
                return _first_message(value, path)
    return f"{path}: {detail}" if path else str(detail)


def _join(path: str, name) -> str:
    if isinstance(name, int):  # a list serializer's errors are keyed by index
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name


def problem_for(exc: Exception) -> Problem:
    """Classify `exc`. Anything unknown is logged and becomes a 500 without internals."""
    if isinstance(exc, ApiError):
        return Problem(exc.status, "api", exc.message, exc.details, code=exc.code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    for exception_class, kind in KINDS.items():
        if isinstance(exc, exception_class):
            details = exc.detail if isinstance(exc.detail, dict) else {}
            headers = {}
            if getattr(exc, "auth_header", None):
                headers["WWW-Authenticate"] = exc.auth_header
            if getattr(exc, "wait", None) is not None:  # whole seconds, at least 1
                headers["Retry-After"] = str(max(1, math.ceil(exc.wait)))
            return Problem(
                exc.status_code,
                kind,
                _first_message(exc.detail),
                details,
                code=getattr(exc, "error_code", None),  # a rate limit's own code (throttles.py)
                headers=headers,
            )
    if isinstance(exc, exceptions.APIException):
        return Problem(exc.status_code, "other", _first_message(exc.detail))
    if isinstance(exc, DATABASE_UNAVAILABLE):
        return database_unavailable(exc)
    logger.exception("Unhandled error in an API view", exc_info=exc)
    return Problem(500, "server", "An internal error occurred. It has been logged.")
