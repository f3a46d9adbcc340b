"""DocuSign's error vocabulary (contract 1.8), rendered for each mount.

/restapi mount: {"errorCode": "...", "message": "..."}
seed mount:     {"success": false, "error": {"code": "VALIDATION_ERROR", "message": "...",
                 "details": {"errorCode": "<the specific code>", ...}}}
"""

from django.http import JsonResponse
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from billing_site.api.errors import ApiError, problem_for
from billing_site.money import format_amount

from ..errors import (
    AmountMismatch,
    AmountOverBalance,
    InvalidPaymentAmount,
    InvoiceNotPayable,
    NothingToPay,
    PaymentError,
    PaymentNotAllowed,
)
from ..idempotency import IdempotencyKeyInvalid, IdempotencyKeyReused

INVALID_REQUEST_PARAMETER = "INVALID_REQUEST_PARAMETER"
PAYMENT_NOT_ALLOWED = "PAYMENT_NOT_ALLOWED"
INVALID_PAYMENT_AMOUNT = "INVALID_PAYMENT_AMOUNT"

CODES_BY_KIND = {
    "authentication": "AUTHORIZATION_INVALID_TOKEN",
    "permission": "USER_LACKS_PERMISSIONS",
    "not_found": "RESOURCE_NOT_FOUND",
    "validation": INVALID_REQUEST_PARAMETER,
    "method_not_allowed": "METHOD_NOT_ALLOWED",
    "not_acceptable": "NOT_ACCEPTABLE",
    "unsupported_media_type": "UNSUPPORTED_MEDIA_TYPE",
    "throttled": "TOO_MANY_REQUESTS",
    "unavailable": "SERVICE_UNAVAILABLE",
    "payload_too_large": "REQUEST_ENTITY_TOO_LARGE",
    "length_required": "LENGTH_REQUIRED",
    "server": "INTERNAL_SERVER_ERROR",
}

PAYMENT_ERROR_CODES = {
    PaymentNotAllowed: PAYMENT_NOT_ALLOWED,
    NothingToPay: PAYMENT_NOT_ALLOWED,
    InvoiceNotPayable: PAYMENT_NOT_ALLOWED,
    AmountMismatch: INVALID_PAYMENT_AMOUNT,
    AmountOverBalance: INVALID_PAYMENT_AMOUNT,
    InvalidPaymentAmount: INVALID_PAYMENT_AMOUNT,
}

SEED_CODES_BY_STATUS = {
    400: "VALIDATION_ERROR",
    401: "AUTHENTICATION_FAILED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    411: "LENGTH_REQUIRED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "TOO_MANY_REQUESTS",
    503: "SERVICE_UNAVAILABLE",
}


def as_api_error(exc: Exception) -> Exception:
    """Domain and idempotency refusals as `ApiError`s with DocuSign's codes; others unchanged."""
    if isinstance(exc, PaymentError):
        code = PAYMENT_ERROR_CODES.get(type(exc), INVALID_REQUEST_PARAMETER)
        details = {"reason": exc.code}
        if isinstance(exc, AmountMismatch):
            details["pastDueBalance"] = format_amount(exc.expected)
        return ApiError(400, code, exc.message, details)
    if isinstance(exc, IdempotencyKeyReused):
        return ApiError(409, "IDEMPOTENCY_KEY_REUSED", str(exc))
    if isinstance(exc, IdempotencyKeyInvalid):
        return ApiError(400, INVALID_REQUEST_PARAMETER, str(exc))
    return exc


def _problem(exc: Exception):
    problem = problem_for(as_api_error(exc))
    return problem, problem.code or CODES_BY_KIND.get(problem.kind, INVALID_REQUEST_PARAMETER)


def restapi_exception_handler(exc: Exception, context) -> Response:
    problem, code = _problem(exc)
    return Response(
        {"errorCode": code, "message": problem.message},
        status=problem.status,
        headers=problem.headers,
    )


def seed_exception_handler(exc: Exception, context) -> Response:
    problem, code = _problem(exc)
    error = {
        "code": SEED_CODES_BY_STATUS.get(problem.status, "INTERNAL_ERROR"),
        "message": problem.message,
        "details": {"errorCode": code, **problem.details},
    }
    return Response(
        {"success": False, "error": error}, status=problem.status, headers=problem.headers
    )


def page_not_found(request, exception) -> JsonResponse:
    """Django's 404 for a path under a DocuSign mount that matches no endpoint, in its shape."""
    handler = (
        seed_exception_handler if request.path.startswith("/v2.1/") else restapi_exception_handler
    )
    response = handler(NotFound(f"No endpoint at {request.path}."), {})
    return JsonResponse(response.data, status=404, json_dumps_params={"separators": (",", ":")})
