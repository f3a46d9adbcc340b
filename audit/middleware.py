"""Opens the audit context of each request: channel (by path), path, method and staff user.

Placed after AuthenticationMiddleware, which sets `request.user` from the session.
"""

from .context import request_context


class AuditContextMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        with request_context(request):
            return self.get_response(request)
