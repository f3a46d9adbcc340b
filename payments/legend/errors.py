"""Legend's error shape: the endpoint's own response, with `Success: false` and `ErrorMessage`.

Global failures the contract names (unknown contact, tender type, no lines, a BillingId twice)
answer 200 like any processed request; a malformed body 400; credentials 401 / 403.
"""

import uuid

from django.http import JsonResponse
from rest_framework.response import Response

from billing_site.api.errors import problem_for

from ..errors import PaymentError
from ..idempotency import IdempotencyKeyInvalid, IdempotencyKeyReused

# A key with a role on the contact's account, but not one with the endpoint's privilege.
OTHER_ROLE = (
    "The API key does not have the permission this operation needs on the contact's account."
)


class LegendFailure(Exception):
    """A global failure: nothing applied, `Success: false`, HTTP 200 (or `status`)."""

    def __init__(self, message: str, status: int = 200) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def failure_body(contact_id, message: str, lines_key: str) -> dict:
    return {"ContactId": contact_id, "Success": False, "ErrorMessage": message, lines_key: []}


def _requested_contact_id(request) -> str | None:
    """The request's ContactId, echoed when it is a GUID string (a number is no GUID)."""
    try:  # the body may be what failed: then there is nothing to echo
        source = request.query_params if request.method == "GET" else request.data
        value = source.get("ContactId") if isinstance(source, dict) else None
        return str(uuid.UUID(value)) if isinstance(value, str) else None
    except Exception:
        return None


def legend_exception_handler(exc: Exception, context) -> Response:
    view, request = context["view"], context["request"]
    if isinstance(exc, (LegendFailure, PaymentError)):
        status, message = getattr(exc, "status", 200), exc.message
    elif isinstance(exc, IdempotencyKeyReused):
        status, message = 409, str(exc)
    elif isinstance(exc, IdempotencyKeyInvalid):
        status, message = 400, str(exc)
    else:
        problem = problem_for(exc)
        return Response(
            failure_body(_requested_contact_id(request), problem.message, view.lines_key),
            status=problem.status,
            headers=problem.headers,
        )
    return Response(
        failure_body(_requested_contact_id(request), message, view.lines_key), status=status
    )


def page_not_found(request, exception) -> JsonResponse:
    """Django's 404 for an unknown path under /POS/, in Legend's shape."""
    body = {"ContactId": None, "Success": False, "ErrorMessage": f"No endpoint at {request.path}."}
    return JsonResponse(body, status=404, json_dumps_params={"separators": (",", ":")})
