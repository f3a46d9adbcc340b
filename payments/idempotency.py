"""`Idempotency-Key` for the APIs' POSTs (contract section 3), one mechanism for both APIs.

The first response to a key is stored and replayed for any retry with the same method, path and
body; the same key with another request is refused; two concurrent requests with one key never
both run, because the record is inserted and locked in the transaction that runs the request.
Server errors (5xx) are not stored: the key stays free for a retry.

Records are kept until `manage.py purge_idempotency_records` removes them (after 48 hours by
default; the contract asks for at least 24).
"""

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal

from django.db import DatabaseError, connection, transaction
from rest_framework.response import Response

from billing_site.api.renderers import dumps_exact, loads_exact
from contacts.authentication import request_grantee

from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class IdempotencyKeyInvalid(Exception):
    """The header is empty, too long, or not printable ASCII."""

    def __init__(self) -> None:
        super().__init__(
            f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} printable ASCII characters."
        )


class IdempotencyKeyReused(Exception):
    """The key was already used for a different request."""

    def __init__(self, key: str) -> None:
        super().__init__(f"The {HEADER} {key!r} was already used for a different request.")


def _exact(value):
    """JSON numbers were parsed as Decimal: keep them exact, and distinct from strings."""
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    raise TypeError(f"{type(value).__name__} is not JSON")


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=_exact)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _valid_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise IdempotencyKeyInvalid()
    return key


def _claim(record: IdempotencyRecord) -> IdempotencyRecord:
    """`record` inserted, or, when its key was used before, the earlier record, locked.

    `INSERT ... ON CONFLICT DO NOTHING RETURNING id`: a new key costs one statement (the new row
    is this transaction's until it commits, so a concurrent request with the key waits on the
    unique index); a key seen before costs one more, the locking read of its record.
    """
    fields = [field for field in record._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    values = [
        field.get_db_prep_save(getattr(record, field.attname), connection) for field in fields
    ]
    table = connection.ops.quote_name(record._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))}) "  # noqa: S608 - names from the model
            "ON CONFLICT DO NOTHING RETURNING id",
            values,
        )
        inserted = cursor.fetchone()
    if inserted is not None:
        record.pk = inserted[0]
        record._state.adding = False
        return record
    owner = {"credential_id": record.credential_id, "user_id": record.user_id}
    return IdempotencyRecord.objects.select_for_update().get(key=record.key, **owner)


def respond_once(view, request, handle: Callable[[], Response]) -> Response:
    """Run `handle` once per idempotency key and replay its response for retries.

    An exception `handle` raises becomes the view's error response (and is stored like any
    other), so a refused request is refused again, identically, on retry. `handle` needs no
    savepoint of its own: it writes only through the money services, each atomic on its own (a
    savepoint here), so a refusal leaves nothing of it behind; a database error leaves the
    transaction unusable, and is answered without being stored (the key stays free), like a 5xx.
    """
    if HEADER.lower() not in {name.lower() for name in request.headers}:
        return handle()
    key = _valid_key(request.headers[HEADER])
    owner = request_grantee(request)
    fingerprint = _fingerprint(request)
    with transaction.atomic():
        record = _claim(IdempotencyRecord(key=key, fingerprint=fingerprint, **owner))
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused(key)
        if record.status_code is not None:
            response = Response(loads_exact(record.response_body), status=record.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            response = handle()
        except Exception as exc:  # rendered by the view's own exception handler
            response = view.handle_exception(exc)
            if isinstance(exc, DatabaseError):
                transaction.set_rollback(True)
                return response
        if response.status_code >= 500:
            transaction.set_rollback(True)
            return response
        record.status_code = response.status_code
        # Kept as JSON text in the same key order, with exact decimals, so that a replay renders
        # byte for byte as the first response did.
        record.response_body = dumps_exact(response.data)
        record.save(update_fields=["status_code", "response_body"])
        return response
