"""SQL for the API's hot paths, written once per process from the models' own metadata.

The ORM compiles a queryset into SQL on every call: about 0.3 ms of CPU for a one-row lookup by
key, several times what the database spends answering it (bench/cpu.py). The few statements that
every payment request sends are written instead with the table and column names the models
declare (so a renamed column cannot drift), and their rows turned into model instances with
`Model.from_db`, as the ORM itself does. Everything else uses the ORM.
"""

from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection, models

BIGINT_MAX = 2**63 - 1


def bigints(values) -> list[int]:
    """The distinct values that a `bigint` key column could hold, sorted (for `= ANY(%s::bigint[])`:
    an id out of range names no row, and must not make the cast fail)."""
    return sorted({value for value in values if -BIGINT_MAX - 1 <= value <= BIGINT_MAX})


def quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model: type[models.Model]) -> str:
    return quoted(model._meta.db_table)


def column(model: type[models.Model], field_name: str) -> str:
    return quoted(model._meta.get_field(field_name).column)


class Names:
    """A model's quoted SQL names for `str.format`: `{t.table}`, `{t.field_name}` (its column)."""

    def __init__(self, model: type[models.Model]) -> None:
        self.table = table(model)
        self._model = model

    def __getattr__(self, field_name: str) -> str:
        return column(self._model, field_name)


def sql(template: str, **models_: type[models.Model]) -> str:
    """`template` with `{name.table}` replaced by the table of `models_[name]`, `{name.field}` by
    its field's column qualified by the alias `name` (`name."column"`), and `{name.all}` by all its
    columns so qualified (the select list `instance` reads)."""
    return template.format(**{alias: _Aliased(model, alias) for alias, model in models_.items()})


class _Aliased(Names):
    def __init__(self, model: type[models.Model], alias: str) -> None:
        super().__init__(model)
        self.all = select_list(model, alias)
        self._alias = alias

    def __getattr__(self, field_name: str) -> str:
        return f"{self._alias}.{column(self._model, field_name)}"


@cache
def _fields(model: type[models.Model]) -> tuple:
    return tuple(model._meta.concrete_fields)


@cache
def select_list(model: type[models.Model], alias: str) -> str:
    """Every concrete column of `model`, qualified by `alias`, in field order (see `instance`)."""
    return ", ".join(f"{alias}.{quoted(field.column)}" for field in _fields(model))


def width(model: type[models.Model]) -> int:
    """How many columns `select_list` gives."""
    return len(_fields(model))


@cache
def _loader(model: type[models.Model]) -> tuple[tuple[str, ...], tuple]:
    fields = _fields(model)
    converters = tuple(
        (index, field.from_db_value)
        for index, field in enumerate(fields)
        if hasattr(field, "from_db_value")
    )
    return tuple(field.attname for field in fields), converters


def instance(model: type[models.Model], row, start: int = 0) -> models.Model:
    """The instance in `row[start:start + width(model)]`, as the ORM would have built it."""
    names, converters = _loader(model)
    values = row[start : start + len(names)]
    if converters:
        values = list(values)
        for index, convert in converters:
            values[index] = convert(values[index], None, connection)
    return model.from_db(DEFAULT_DB_ALIAS, names, values)


@cache
def insert_fields(model: type[models.Model]) -> tuple:
    return tuple(field for field in _fields(model) if not field.primary_key)


@cache
def insert_head(model: type[models.Model]) -> tuple[str, str]:
    fields = insert_fields(model)
    columns = ", ".join(quoted(field.column) for field in fields)
    head = f"INSERT INTO {table(model)} ({columns}) VALUES "  # noqa: S608 - names from the model
    return head, f"({', '.join(['%s'] * len(fields))})"


def insert(objects: list[models.Model]) -> None:
    """Insert new instances of one model in one statement and give them their ids, as
    `bulk_create` does (each field's `pre_save`, then its database value), without compiling a
    query: for the rows every payment writes. Sends no signals (no receiver listens to these)."""
    if not objects:
        return
    model = type(objects[0])
    fields = insert_fields(model)
    head, row = insert_head(model)
    values = [
        field.get_db_prep_save(field.pre_save(obj, add=True), connection)
        for obj in objects
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"{head}{', '.join([row] * len(objects))} RETURNING id", values)
        ids = [pk for (pk,) in cursor.fetchall()]
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = DEFAULT_DB_ALIAS


@cache
def balance_update_sql(model: type[models.Model], extra: tuple[str, ...] = ()) -> str:
    """`UPDATE` of the `balance` (and of each text field in `extra`) of rows given as arrays:
    ids, balances, then one array per field in `extra`."""
    sets = ", ".join(
        [f"{column(model, 'balance')} = v.balance"]
        + [f"{column(model, name)} = v.{quoted(name)}" for name in extra]
    )
    arrays = ", ".join(
        ["unnest(%s::bigint[]) AS id", "unnest(%s::numeric[]) AS balance"]
        + [f"unnest(%s::text[]) AS {quoted(name)}" for name in extra]
    )
    return (
        f"UPDATE {table(model)} t SET {sets} FROM (SELECT {arrays}) v "  # noqa: S608 - names from the model
        f"WHERE t.{column(model, 'id')} = v.id"
    )


def update_balances(model: type[models.Model], balances: dict, **texts: dict) -> None:
    """Set the `balance` (and each text field in `texts`: field name -> {pk: value}) of the rows
    with the ids in `balances` to their values, in one statement, whatever the number of rows."""
    ids = list(balances)
    values = [ids, [balances[pk] for pk in ids]] + [
        [column_[pk] for pk in ids] for column_ in texts.values()
    ]
    with connection.cursor() as cursor:
        cursor.execute(balance_update_sql(model, tuple(texts)), values)
