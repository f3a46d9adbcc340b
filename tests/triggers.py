"""What only a table's owner can do: switch a table's triggers off, inside the test's transaction.

Money rows are immutable (a trigger refuses UPDATE and DELETE) and no session setting lifts that
(audit.lockdown). A test that must change such a row anyway, to show that a CHECK constraint still
holds underneath or that verify_ledger finds drift, disables the table's own triggers with DDL,
as only the owner can; the test's transaction rolls the DDL back with everything else.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def owner_disables_triggers(model) -> Iterator[None]:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        # Foreign keys are checked at commit; ALTER TABLE wants no such check pending on the table.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
