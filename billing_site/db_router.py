"""Opt-in reads from the streaming replica.

Reads go to the `replica` alias (DATABASE_REPLICA_URL) only inside `replica_reads()`, which the
pages that may show slightly stale figures enter: the finance dashboard, the past-due list and
its exports, and `verify_ledger --replica`. Everything else reads the primary: every API request,
every money path, every read that precedes a write.

Inside the scope, nothing can reach the replica by accident:

- writes (and `select_for_update()`, which Django routes as a write) always go to `default`;
- a read made while a transaction is open on `default` (`transaction.atomic()`, so every money
  path in payments/services/) stays on `default`, inside that transaction, with its locks;
- without a `replica` alias (no DATABASE_REPLICA_URL) the scope changes nothing.

The scope is a context variable: it follows the request's thread (or task) and nothing else.
A queryset is routed when it runs, not when it is built: `pinned()` fixes the alias of one that
runs later (a streamed export runs after the view has returned).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

REPLICA = "replica"
ALIASES = frozenset({DEFAULT_DB_ALIAS, REPLICA})
ROUTER = f"{__name__}.ReplicaRouter"

_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Send the reads of this block to the replica (a context manager, or `@replica_reads()`)."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def read_alias() -> str:
    """The database a read made now goes to: `replica` or `default`."""
    if (
        _replica_reads.get()
        and REPLICA in settings.DATABASES
        and ROUTER in settings.DATABASE_ROUTERS
        and not connections[DEFAULT_DB_ALIAS].in_atomic_block
    ):
        return REPLICA
    return DEFAULT_DB_ALIAS


def pinned(queryset: QuerySet) -> QuerySet:
    """`queryset` bound to the database a read made now would use, whenever it runs."""
    return queryset.using(read_alias())


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        return read_alias()

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        if obj1._state.db in ALIASES and obj2._state.db in ALIASES:
            return True  # the same rows: the replica is a copy of the primary
        return None

    def allow_migrate(self, db: str, app_label: str, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS  # the replica replays the primary's migrations
