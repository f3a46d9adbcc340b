"""Migration operations for the account-scoped keys of the money tables (PostgreSQL only).

A CHECK constraint sees one row, so "an allocation's account is its payment's account" is kept by a
composite foreign key instead: the parent has a unique key on (account_id, id) and the child's
(parent_id, account_id) references it. Django 5.2 has no composite foreign key, so these are DDL
in the migrations, invisible to the model state (the parents' unique keys are model constraints).

They are immediate (not deferrable, unlike Django's own foreign keys): a mismatching row is
refused by the INSERT itself. They are PostgreSQL's (the app runs on nothing else).
"""

from django.db.migrations.operations.base import Operation


class AddAccountForeignKey(Operation):
    """`FOREIGN KEY (<column>, account_id) REFERENCES <parent_table> (id, account_id)`."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, table: str, column: str, parent_table: str, name: str):
        self.table, self.column, self.parent_table, self.name = table, column, parent_table, name

    def deconstruct(self):
        kwargs = {
            "table": self.table,
            "column": self.column,
            "parent_table": self.parent_table,
            "name": self.name,
        }
        return self.__class__.__qualname__, [], kwargs

    def state_forwards(self, app_label, state):
        pass  # the database's business only: the model state has no composite foreign key

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        schema_editor.execute(
            f"ALTER TABLE {quote(self.table)} ADD CONSTRAINT {quote(self.name)} "
            f"FOREIGN KEY ({quote(self.column)}, account_id) "
            f"REFERENCES {quote(self.parent_table)} (id, account_id)"
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        schema_editor.execute(f"ALTER TABLE {quote(self.table)} DROP CONSTRAINT {quote(self.name)}")

    def describe(self):
        return (
            f"Foreign key ({self.column}, account_id) of {self.table} to "
            f"{self.parent_table} (id, account_id)"
        )

    @property
    def migration_name_fragment(self):
        return self.name
