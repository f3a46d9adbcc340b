"""No session can opt out of the database's triggers.

Every pgtrigger trigger (the immutability of money rows, the audit trail's recording and its own
append-only rule) first asks `_pgtrigger_should_ignore(TG_NAME)`, which honours a session setting,
`pgtrigger.ignore`: any SQL client that knows a trigger's name could lift it for its own
transaction without owning the table. This project never uses that escape hatch, so after every
`migrate` the function is replaced by one that ignores nothing. What remains is DDL (`ALTER TABLE
... DISABLE TRIGGER`, `DROP TRIGGER`), which only the tables' owner can run.

pgtrigger writes its version of the function again whenever a migration installs a trigger; this
runs after the last migration of every `migrate`, so the database is always left locked down.
"""

from django.db import connections

NEVER_IGNORE = """
CREATE OR REPLACE FUNCTION {schema}._pgtrigger_should_ignore(trigger_name NAME)
RETURNS BOOLEAN AS $$
BEGIN
    RETURN FALSE;  -- audit.lockdown: no session may lift a trigger (pgtrigger.ignore is off)
END;
$$ LANGUAGE plpgsql;
"""


def lock_down_trigger_bypass(*, using: str = "default", **kwargs) -> None:
    """post_migrate receiver: no session setting lifts a trigger in this database."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return  # no triggers of ours elsewhere (and the settings refuse other databases)
    from pgtrigger import features

    with connection.cursor() as cursor:
        cursor.execute(NEVER_IGNORE.format(schema=connection.ops.quote_name(features.schema())))
