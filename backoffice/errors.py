"""The back office's 403 and 404 pages, in its look: why, and a link back to the dashboard.

billing_site/urls.py's `handler403` and `handler404` send /backoffice/ paths here. The reason is
the exception's message when a view gave one ("No account 123", "You do not have permission to
record payments"), else a general one.
"""

from django.http import Http404
from django.shortcuts import render

NOT_FOUND = "There is no such page in the back office."
DENIED = "You do not have permission to open this page."


def page_not_found(request, exception):
    return _error(request, "Not found", _reason(exception, NOT_FOUND), status=404)


def permission_denied(request, exception):
    return _error(request, "Permission denied", _reason(exception, DENIED), status=403)


def _reason(exception, default: str) -> str:
    message = exception.args[0] if exception is not None and exception.args else ""
    return message if isinstance(message, str) and message else default


def _error(request, title: str, reason: str, status: int):
    context = {"title": title, "reason": reason}
    return render(request, "backoffice/error.html", context, status=status)


def get_or_404(queryset, pk: int, what: str):
    """The row `pk` of `queryset`, else a 404 that names it: "No account 123"."""
    try:
        return queryset.get(pk=pk)
    except queryset.model.DoesNotExist:
        raise Http404(f"No {what} {pk}") from None
