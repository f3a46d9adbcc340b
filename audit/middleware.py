"""Opens the audit context of each request: channel (by path), path, method and staff user.

Placed after AuthenticationMiddleware, which sets `request.user` from the session.
"""

from billing_site.api.errors import DATABASE_UNAVAILABLE
from billing_site.unavailable import answer_unavailable

from .context import request_context


class AuditContextMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        try:
            context = request_context(request)  # a staff page looks its session's user up here
        except DATABASE_UNAVAILABLE as error:
            return answer_unavailable(request, error)
        with context:
            return self.get_response(request)
