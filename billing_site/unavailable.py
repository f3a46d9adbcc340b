"""A plain 503 page with Retry-After, instead of a 500, when the database is unavailable.

The APIs answer 503 in their own shapes (billing_site/api/errors.py); this covers everything else
(the admin, the back office) and is the APIs' safety net. A view's database error is answered in
`process_exception`; one raised by a middleware below this one (a session saved on the way out)
has already become a 500 by the time it returns here, so `got_request_exception` marks the request
and the 500 is replaced.
"""

import logging
import sys

from django.conf import settings
from django.core.signals import got_request_exception
from django.dispatch import receiver
from django.http import HttpResponse

from billing_site.api.errors import DATABASE_UNAVAILABLE

logger = logging.getLogger("billing_site.unavailable")

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Service unavailable</title></head>
<body><h1>Service temporarily unavailable</h1>
<p>The billing back office cannot reach its database. Nothing was saved by this request.
Please try again in a few seconds.</p></body></html>
"""

MARK = "_billing_database_unavailable"


def unavailable_response() -> HttpResponse:
    response = HttpResponse(PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(settings.DB_UNAVAILABLE_RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


@receiver(got_request_exception, dispatch_uid="billing_site.unavailable.mark")
def _mark_database_unavailable(sender, request=None, **kwargs) -> None:
    if request is not None and isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        setattr(request, MARK, True)


class DatabaseUnavailableMiddleware:
    """Near the top of MIDDLEWARE, so that it sees what every middleware below it raised."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, MARK, False):
            return unavailable_response()
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_UNAVAILABLE):
            return answer_unavailable(request, exception)
        return None


def answer_unavailable(request, exception: Exception) -> HttpResponse:
    """The 503 page for `exception`, logged as one warning line (no traceback: not a bug). For a
    middleware that needs the database before the view runs (audit.middleware)."""
    reason = " ".join(str(exception).split()) or type(exception).__name__
    logger.warning("Database unavailable, answered 503 to %s: %s", request.path, reason)
    return unavailable_response()
