"""One transaction per API write request, which the money service joins without a savepoint.

An API POST (a payment, a write-down) runs from its authentication to its answer in one database
transaction: the key's lookup, the row locks, the writes and the idempotency record commit
together, or not at all. The money services (`money_transaction`) open no savepoint of their own
inside it: a service that refuses marks the whole request's transaction for rollback, and a request
answered with an error (4xx, 5xx) writes nothing. Work that must outlast such a rollback (storing a
refused keyed request's answer, payments.idempotency) is queued with `after_rollback` and runs in a
transaction of its own once the request's is rolled back: the refusal path pays for it, the
payment path does not.

Called anywhere else (the back office, the admin, commands, tests), a money service is atomic on
its own, in a savepoint when nested, as before.
"""

import functools
from collections.abc import Callable
from contextvars import ContextVar

from django.db import DatabaseError, transaction
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

_joined: ContextVar[bool] = ContextVar("money_service_joins_the_request_transaction", default=False)


def money_transaction(service):
    """Decorator of the money services: their own transaction, or the request's (no savepoint)."""

    @functools.wraps(service)
    def run(*args, **kwargs):
        with transaction.atomic(savepoint=not _joined.get()):
            return service(*args, **kwargs)

    return run


def after_rollback(view, action: Callable[[Response], Response]) -> None:
    """Run `action(response)` once the request's transaction has been rolled back; what it
    returns is the answer. Only in a request run by `OneTransactionPerWrite`."""
    view.after_rollback.append(action)


class OneTransactionPerWrite:
    """View mixin: every request but GET, HEAD and OPTIONS runs in one transaction (above)."""

    def dispatch(self, request, *args, **kwargs):
        if request.method in SAFE_METHODS:
            return super().dispatch(request, *args, **kwargs)
        self.after_rollback: list[Callable[[Response], Response]] = []
        token = _joined.set(True)
        try:
            with transaction.atomic():
                response = super().dispatch(request, *args, **kwargs)
                if response.status_code >= 400:
                    transaction.set_rollback(True)
                rolled_back = transaction.get_rollback()
        except DatabaseError as error:
            # The COMMIT itself failed (its outcome may be unknown) or the connection was lost:
            # answered in the API's own shape (a 503 the client may retry with its key), as an
            # error inside the view is; what the API's handler does not answer is raised on.
            if not hasattr(self, "headers"):  # before DRF's dispatch began: while connecting
                self.args, self.kwargs = args, kwargs
                self.request = self.initialize_request(request, *args, **kwargs)
                self.headers = self.default_response_headers
            response = self.handle_exception(error)
            return self.finalize_response(self.request, response, *args, **kwargs)
        finally:
            _joined.reset(token)
        if rolled_back:
            for action in self.after_rollback:
                response = action(response)
        return response
