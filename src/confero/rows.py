"""Model instances from hand-written SQL, for the few queries that run on every API call.

`Model(**values)` costs ~25 µs on this project's machines (signals, defaults, descriptors for
each field); an API call used to build four or five of them. `instance()` builds the same object
the ORM would load — not `adding`, bound to the connection's alias, related objects cached — by
filling its `__dict__`. Callers pass every concrete column (`columns()`): a column left out would
be deferred and load itself with one query on first access, like `.only()`.
"""

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model
from django.db.models.base import ModelState
from django.utils import timezone

M = TypeVar("M", bound=Model)


def columns(model: type[Model]) -> tuple[str, ...]:
    """The attribute names of the model's concrete columns (`site_id`, not `site`), in order."""
    return tuple(field.attname for field in model._meta.concrete_fields)


def instance(model: type[M], values: dict[str, Any], **related: Model) -> M:
    """A loaded instance of `model` with `values` (attribute names); `related` caches the
    objects of foreign keys and one-to-one relations (`site=…`), so they cost no query."""
    obj = model.__new__(model)
    obj.__dict__.update(values)
    state = obj._state = ModelState()
    state.adding = False
    state.db = connection.alias
    if related:
        state.fields_cache.update(related)
    return obj


def _converter(field) -> Any:
    """What the ORM's from-database converters do for this field type, for raw rows."""
    kind = field.get_internal_type()
    if kind == "BooleanField":
        return lambda v: v if v is None else bool(v)
    if kind == "DateTimeField":
        return _aware_datetime
    if kind == "UUIDField":
        return lambda v: v if v is None or isinstance(v, uuid.UUID) else uuid.UUID(str(v))
    if kind == "JSONField":
        return lambda v: json.loads(v) if isinstance(v, str) else v
    return None


def _aware_datetime(value: Any) -> Any:
    # SQLite's driver gives naive datetimes (stored in UTC), or text for computed columns.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value is not None and timezone.is_naive(value):
        return value.replace(tzinfo=dt.UTC)
    return value


class Loader:
    """Turns rows of `SELECT <all columns of model> …` into instances."""

    def __init__(self, model: type[M]):
        self.model = model
        self.columns = columns(model)
        self.converters = [
            (field.attname, convert)
            for field in model._meta.concrete_fields
            if (convert := _converter(field)) is not None
        ]

    def select_list(self, alias: str = "") -> str:
        prefix = f"{alias}." if alias else ""
        return ", ".join(prefix + connection.ops.quote_name(c) for c in self.columns)

    def load(self, row: Sequence[Any], **related: Model) -> M:
        values = dict(zip(self.columns, row, strict=True))
        for name, convert in self.converters:
            values[name] = convert(values[name])
        return instance(self.model, values, **related)


def can_batch() -> bool:
    """Whether several statements may go to the database in one round trip: PostgreSQL with
    psycopg's client-side binding (Django's default), which sends them as one simple query."""
    return connection.vendor == "postgresql" and not connection.settings_dict["OPTIONS"].get(
        "server_side_binding"
    )


def execute_batch(cursor, statements: Sequence[tuple[str, Sequence[Any]]]) -> Any:
    """Runs the statements in order, in one round trip where the database allows (inside the
    caller's transaction: a failing statement fails the whole call). The first row of the last
    statement's result, if it returns any."""
    if can_batch() and len(statements) > 1:
        cursor.execute(
            "; ".join(sql for sql, _ in statements), [p for _, ps in statements for p in ps]
        )
        while cursor.nextset():
            pass
    else:
        for sql, params in statements:
            cursor.execute(sql, params)
    return cursor.fetchone() if cursor.description else None


def now_sql() -> str:
    """The SQL of Django's `Now()` (the database clock) on this connection, ready for
    `cursor.execute` with parameters; last-modified columns are set with it."""
    vendor = connection.vendor
    if vendor not in _NOW_SQL:
        from django.db.models.functions import Now

        from confero.people.models import User  # any model: only the connection matters

        compiler = User.objects.all().query.get_compiler(connection=connection)
        sql, params = compiler.compile(Now())
        assert not params
        _NOW_SQL[vendor] = sql
    return _NOW_SQL[vendor]


_NOW_SQL: dict[str, str] = {}
