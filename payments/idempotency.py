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
from functools import cache

from django.db import DatabaseError, connection, transaction
from rest_framework.response import Response

from audit.context import untracked_statements
from billing_site import model_sql
from billing_site.api.renderers import dumps_exact, loads_exact
from contacts.authentication import request_grantee

from .models import IdempotencyRecord
from .request_transaction import after_rollback

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
    unique index); a key seen before costs one more, the locking read of its record. Written once
    (billing_site/model_sql.py), sent without the audit context (no trigger reads it here).
    """
    values = [
        field.get_db_prep_save(field.pre_save(record, add=True), connection)
        for field in model_sql.insert_fields(IdempotencyRecord)
    ]
    with untracked_statements(), connection.cursor() as cursor:
        cursor.execute(_claim_sql(), values)
        inserted = cursor.fetchone()
    if inserted is not None:
        record.pk = inserted[0]
        record._state.adding = False
        return record
    owner = {"credential_id": record.credential_id, "user_id": record.user_id}
    return IdempotencyRecord.objects.select_for_update().get(key=record.key, **owner)


@cache
def _claim_sql() -> str:
    head, row = model_sql.insert_head(IdempotencyRecord)
    return f"{head}{row} ON CONFLICT DO NOTHING RETURNING id"


def respond_once(view, request, handle: Callable[[], Response]) -> Response:
    """Run `handle` once per idempotency key and replay its response for retries.

    In the request's one transaction (payments.request_transaction): the key is claimed, `handle`
    runs, and its answer is stored, all committed together. An exception `handle` raises becomes
    the view's error response. A refusal (a money service's, or any 4xx) rolls the request's
    transaction back, the claim with it: its answer is then stored in a transaction of its own, so
    a refused request is refused again, identically, on retry. A database error or a 5xx is
    answered without being stored: the key stays free for a retry.
    """
    if HEADER.lower() not in {name.lower() for name in request.headers}:
        return handle()
    key = _valid_key(request.headers[HEADER])
    owner = request_grantee(request)
    fingerprint = _fingerprint(request)
    with transaction.atomic(savepoint=False):  # the request's transaction (no new statement)
        record = _claim(IdempotencyRecord(key=key, fingerprint=fingerprint, **owner))
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused(key)
        if record.status_code is not None:
            return _replay(record)
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
        if response.status_code >= 400 or transaction.get_rollback():
            transaction.set_rollback(True)
            after_rollback(view, lambda answer: _store_refusal(view, request, record, answer))
            return response
        _store(record, response)
        return response


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(loads_exact(record.response_body), status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def _store(record: IdempotencyRecord, response: Response) -> None:
    record.status_code = response.status_code
    # Kept as JSON text in the same key order, with exact decimals, so that a replay renders byte
    # for byte as the first response did.
    record.response_body = dumps_exact(response.data)
    with untracked_statements(), connection.cursor() as cursor:  # as save(update_fields=...)
        cursor.execute(_store_sql(), [record.status_code, record.response_body, record.pk])


@cache
def _store_sql() -> str:
    return model_sql.sql(
        "UPDATE {r.table} r SET status_code = %s, response_body = %s WHERE {r.id} = %s",
        r=IdempotencyRecord,
    )


def _store_refusal(view, request, claimed: IdempotencyRecord, response: Response) -> Response:
    """After the refused request's transaction was rolled back: claim the key again and store
    the refusal, unless a retry with the key was answered in between (its answer is replayed)."""
    with transaction.atomic():
        record = _claim(
            IdempotencyRecord(
                key=claimed.key,
                fingerprint=claimed.fingerprint,
                credential_id=claimed.credential_id,
                user_id=claimed.user_id,
            )
        )
        if record.fingerprint != claimed.fingerprint:
            exc = IdempotencyKeyReused(claimed.key)
            return view.finalize_response(request, view.handle_exception(exc))
        if record.status_code is not None:
            return view.finalize_response(request, _replay(record))
        _store(record, response)
        return response
