"""Hand-written SQL for the few statements every API call runs (docs/decisions/0007, 0008).

- `instance()` and `Loader`: model instances from raw rows. `Model(**values)` costs ~25 µs on
  this project's machines (signals, defaults, descriptors for each field); an API call used to
  build four or five of them. `instance()` builds the same object the ORM would load — not
  `adding`, bound to the connection's alias, related objects cached — by filling its `__dict__`.
  Callers pass every concrete column (`columns()`): a column left out would be deferred and load
  itself with one query on first access, like `.only()`.
- `execute_batch()`: several statements in one round trip on PostgreSQL; `trailing_statement()`
  lets the pipeline add a writing call's log row to the first batch.
- `prepared_cursor()`, `prefer_generic_plans()`: prepared statements with generic plans on
  PostgreSQL.
- `reconnecting()`: the first read of a call reconnects when the database dropped the
  connection (API calls skip Django's health check).
- `now_sql()`: the database clock, as Django's `Now()` writes it.
"""

import datetime as dt
import functools
import json
import logging
import select
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
)
from django.db.models import Model
from django.db.models.base import ModelState
from django.utils import timezone

M = TypeVar("M", bound=Model)
T = TypeVar("T")


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
    state.db = DEFAULT_DB_ALIAS  # what `connection.alias` gives, without the proxy's lookup
    if related:
        state.fields_cache.update(related)
    return obj


def _converter(field) -> Any:
    """What the ORM's from-database converters do for this field type, for raw rows."""
    kind = field.get_internal_type()
    if kind == "BooleanField":
        return lambda v: v if v is None else bool(v)
    if kind == "DateTimeField":
        return aware_datetime
    if kind == "UUIDField":
        return lambda v: v if v is None or isinstance(v, uuid.UUID) else uuid.UUID(str(v))
    if kind == "JSONField":
        return lambda v: json.loads(v) if isinstance(v, str) else v
    return None


def aware_datetime(value: Any) -> Any:
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
        self._select_lists: dict[str, str] = {}
        self.converters = [
            (field.attname, convert)
            for field in model._meta.concrete_fields
            if (convert := _converter(field)) is not None
        ]

    def select_list(self) -> str:
        """The columns, quoted for this connection (computed once per database vendor)."""
        vendor = connection.vendor
        if vendor not in self._select_lists:
            quote = connection.ops.quote_name
            self._select_lists[vendor] = ", ".join(quote(c) for c in self.columns)
        return self._select_lists[vendor]

    def load(self, row: Sequence[Any], **related: Model) -> M:
        values = dict(zip(self.columns, row, strict=True))
        for name, convert in self.converters:
            values[name] = convert(values[name])
        return instance(self.model, values, **related)


def can_batch(db=None) -> bool:
    """Whether several statements may go to the database in one round trip: PostgreSQL with
    psycopg's client-side binding (Django's default), which sends them as one simple query."""
    db = db or connections[DEFAULT_DB_ALIAS]
    return db.vendor == "postgresql" and not db.settings_dict["OPTIONS"].get("server_side_binding")


class _Trailing(threading.local):
    make: Callable[[], tuple[str, Sequence[Any]]] | None = None
    used: bool = False


_trailing = _Trailing()


@contextmanager
def trailing_statement(make: Callable[[], tuple[str, Sequence[Any]]]) -> Iterator[_Trailing]:
    """While the block runs, the first `execute_batch` also runs the statement `make()` returns
    (built then), ahead of its own: the API pipeline hands a writing call's log row over this
    way, saving a round trip. `.used` tells afterwards whether a batch took it."""
    _trailing.make, _trailing.used = make, False
    try:
        yield _trailing
    finally:
        _trailing.make = None


def execute_batch(cursor, statements: Sequence[tuple[str, Sequence[Any]]]) -> Any:
    """Runs the statements in order, in one round trip where the database allows (inside the
    caller's transaction: a failing statement fails the whole call). The first row of the last
    statement's result, if it returns any. A `trailing_statement` goes first."""
    if _trailing.make is not None and not _trailing.used:
        statements = [_trailing.make(), *statements]
        _trailing.used = True
    if can_batch() and len(statements) > 1:
        # Each statement merged with its values by the driver (as it would for execute), one
        # by one: psycopg caches how it parses a statement of up to 50 parameters, never one
        # of more, and the batch has more (docs/performance.md).
        mogrify = cursor.cursor.mogrify
        cursor.execute("; ".join([mogrify(sql, params) for sql, params in statements]))
        while cursor.nextset():
            pass
    else:
        for sql, params in statements:
            cursor.execute(sql, params)
    return cursor.fetchone() if cursor.description else None


class RowChanged(Exception):
    """A `version_guard` found its row changed (or gone) since it was read: nothing of the
    statements run with it stayed."""


# The guard's message, also how a failure is told to be the guard's.
_CHANGED = "confero: the row changed since it was read"


def version_guard(table: str, pk: int, version: str) -> tuple[str, list]:
    """A statement for `execute_at_once`: locks row `pk` of `table` and fails the whole batch
    unless the row is still the version that was read (`xmin`, the transaction that wrote it,
    read as text: any change to the row moves it). Made to fail by casting its message to an
    integer: the planner cannot fold the CASE, as count(*) is only known when it runs.
    PostgreSQL only. A concurrent update makes the lock wait, after which the row is read again
    (its new version), so the guard fails."""
    return (
        f"SELECT CAST(CASE count(*) WHEN 1 THEN '1' ELSE %s END AS integer) "  # noqa: S608
        f"FROM (SELECT 1 FROM {table} WHERE id = %s AND xmin = %s::xid FOR UPDATE) AS r",
        [_CHANGED, pk, version],
    )


def match_guard(table: str, where: dict[str, Any], returning: str) -> tuple[str, list]:
    """A statement for `execute_at_once`: locks the one row of `table` whose columns have the
    values of `where` and fails the whole batch (as `version_guard` does) unless exactly one row
    matches. Its row: 1, and the row's `returning` column. Later statements of the batch find
    the row the same way, and it cannot change under them: it is locked."""
    conditions = " AND ".join(f"{column} = %s" for column in where)
    return (
        f"SELECT CAST(CASE count(*) WHEN 1 THEN '1' ELSE %s END AS integer), max(r.{returning}) "  # noqa: S608
        f"FROM (SELECT {returning} FROM {table} WHERE {conditions} FOR UPDATE) AS r",
        [_CHANGED, *where.values()],
    )


def execute_at_once(
    statements: Sequence[tuple[str, Sequence[Any] | None]], *, returning: int | None = None
) -> tuple[str | None, ...] | None:
    """Runs the statements as one transaction in one round trip (PostgreSQL, see can_batch):
    "BEGIN; …; COMMIT", or, inside a transaction (Django's atomic, or autocommit turned off), a
    savepoint released at the end. When one fails nothing of them stays: the transaction (or
    the savepoint) is rolled back before the error propagates, and the connection is ready for
    the next statement. A failing `version_guard` raises RowChanged. A statement given None for
    its values is sent as it is (no placeholders are looked for in it: it may hold values merged
    already).

    With prepared statements (`CONFERO_DB_PREPARED_STATEMENTS`, the default), the batch goes in
    pipeline mode and each statement is prepared once per connection (`_pipelined`); a
    transaction of its own with statements to prepare (not those given None for their values)
    then starts with `SET LOCAL enable_seqscan = off`, so that the plans
    made once and kept are index lookups even when a table was nearly empty then (they are all
    writes by key; in a savepoint the caller's transaction is left as it is). Otherwise it is one
    simple query, the values merged by the driver.

    With `returning`, the first row of that statement's result (its index in `statements`), as
    text: the values as PostgreSQL writes them (None for NULL, and when it returned no row)."""
    # The connection itself, not Django's proxy: each attribute read through the proxy looks
    # the connection up again (~2-4 µs), and the calls here read a dozen.
    db = connections[DEFAULT_DB_ALIAS]
    prepares = _prepares(db)
    if db.in_atomic_block or not db.get_autocommit():
        begin, end, undo = (
            "SAVEPOINT confero_at_once",
            "RELEASE SAVEPOINT confero_at_once",
            "ROLLBACK TO SAVEPOINT confero_at_once",
        )
    else:
        begin, end, undo = "BEGIN", "COMMIT", "ROLLBACK"
        if prepares and any(params is not None for _, params in statements):
            statements = [("SET LOCAL enable_seqscan = off", None), *statements]
            returning = None if returning is None else returning + 1
    # The statement's position among the batch's results: BEGIN (or SAVEPOINT) is the first.
    wanted = None if returning is None else returning + 1
    for attempt in (1, 2):
        try:
            if prepares:
                run = functools.partial(_pipelined, db, begin, statements, end, wanted)
                return _instrumented(db, begin, statements, end, run)
            with db.cursor() as cursor:
                cursor.execute(_as_one_text(begin, statements, end))
                return _nth_result_row(cursor, wanted)
        except DatabaseError as exc:
            _roll_back_failed_batch(undo)
            if attempt == 1 and _prepared_statement_gone(exc):
                continue  # nothing of the batch stayed: send it again, preparing anew
            if _CHANGED in str(exc):
                raise RowChanged from exc
            raise


def _prepared_statement_gone(exc: DatabaseError) -> bool:
    """psycopg deallocates every prepared statement of a connection after a ROLLBACK (it
    cannot tell whether what they refer to changed): the batches' ones are then prepared again."""
    from psycopg.errors import InvalidSqlStatementName

    if not isinstance(exc.__cause__, InvalidSqlStatementName):
        return False
    state = getattr(connection.connection, "_confero_batches", None)
    if state is not None:
        state.names.clear()
    return True


def _nth_result_row(cursor, wanted: int | None) -> tuple[str | None, ...] | None:
    """The first row of the `wanted`th result of a simple query of several statements, as text."""
    if wanted is None:
        return None
    for _ in range(wanted):
        if not cursor.nextset():
            return None
    row = cursor.fetchone() if cursor.description else None
    return None if row is None else tuple(None if v is None else str(v) for v in row)


def _as_one_text(begin: str, statements, end: str) -> str:
    """The statements with their values merged by the driver, as one simple query."""
    import psycopg

    connection.ensure_connection()
    with psycopg.ClientCursor(connection.connection) as cursor:
        merged = [
            sql if params is None else cursor.mogrify(sql, params) for sql, params in statements
        ]
    return "; ".join([begin, *merged, end])


def _instrumented(db, begin: str, statements, end: str, run: Callable[[], T]) -> T:
    """Runs `run` as Django runs a cursor's statement while something watches the SQL (its
    query log; `execute_wrapper`s): the batch shown as the one text `_as_one_text` makes."""
    if not (db.queries_logged or db.execute_wrappers):
        return run()
    sql = _as_one_text(begin, statements, end)
    result: list = []

    def executor(sql, params, many, context):
        with db.wrap_database_errors:
            result.append(run())

    for wrapper in reversed(db.execute_wrappers):
        executor = functools.partial(wrapper, executor)
    started = time.monotonic()
    try:
        executor(sql, None, False, {"connection": db, "cursor": None})
    finally:
        if db.queries_logged:
            took = time.monotonic() - started
            db.queries_log.append({"sql": sql, "time": f"{took:.3f}"})
    return result[0]


# Prepared statements of the batches, per driver connection: (SQL, parameter types) → name.
# Names are never reused on a connection; past this many, statements go unprepared.
_MAX_PREPARED = 200


def _pipelined(
    db, begin: str, statements, end: str, wanted: int | None = None
) -> tuple[str | None, ...] | None:
    """The batch in psycopg's pipeline mode (libpq's), sent with one write: each statement
    prepared on the connection the first time it is seen and executed from then on without
    being parsed, analysed or planned again (docs/decisions/0010). The framing statements go
    as they are. Waits for the end of the batch; raises the first statement's error. The first
    row of the `wanted`th statement's result (BEGIN is the 0th), as text."""
    from psycopg import pq
    from psycopg.errors import error_from_result

    db.ensure_connection()
    with db.wrap_database_errors:
        driver = db.connection
        pgconn = driver.pgconn
        state = getattr(driver, "_confero_batches", None)
        if state is None:
            state = driver._confero_batches = _PreparedBatches()
        expected = state.send(pgconn, driver, begin, statements, end)
        error = None
        runs = 0
        row = None
        for result in _pipeline_results(pgconn):
            kind, key, name = expected.pop(0)
            status = result.status
            if kind == "prepare" and status == pq.ExecStatus.COMMAND_OK:
                state.names[key] = name
            elif status == pq.ExecStatus.FATAL_ERROR and error is None:
                error = error_from_result(result, encoding=pgconn._encoding)
            if kind == "run":
                if runs == wanted and status == pq.ExecStatus.TUPLES_OK and result.ntuples:
                    row = tuple(
                        None if (v := result.get_value(0, c)) is None else v.decode()
                        for c in range(result.nfields)
                    )
                runs += 1
        if error is not None:
            raise error
        return row


class _PreparedBatches:
    def __init__(self) -> None:
        self.names: dict[tuple, bytes] = {}
        self.counter = 0

    def send(self, pgconn, driver, begin: str, statements, end: str) -> list[tuple]:
        """Queues the batch and a sync, then sends it; what each result will be. Everything
        that can fail on the client's side (the statements' placeholders, their values) is
        done before the connection enters pipeline mode: once in, only a sent sync gets it
        out."""
        from psycopg.adapt import PyFormat, Transformer

        transformer = Transformer(driver)
        planned: list[tuple] = [(begin.encode(), None, None, None)]
        for sql, params in statements:
            if params is None:
                planned.append((sql.encode(), None, None, None))
                continue
            values = transformer.dump_sequence(params, [PyFormat.AUTO] * len(params))
            planned.append((_numbered(sql), values, transformer.types, transformer.formats))
        planned.append((end.encode(), None, None, None))
        expected: list[tuple] = []
        pgconn.enter_pipeline_mode()
        try:
            for query, values, types, formats in planned:
                if values is None:
                    pgconn.send_query_params(query, None)
                    expected.append(("run", None, None))
                    continue
                key = (query, types)
                name = self.names.get(key)
                if name is None and len(self.names) < _MAX_PREPARED:
                    self.counter += 1
                    name = f"confero_batch_{self.counter}".encode()
                    pgconn.send_prepare(name, query, param_types=types)
                    expected.append(("prepare", key, name))
                if name is None:
                    pgconn.send_query_params(
                        query, values, param_types=types, param_formats=formats
                    )
                else:
                    pgconn.send_query_prepared(name, values, param_formats=formats)
                expected.append(("run", None, None))
            pgconn.pipeline_sync()
            _flush(pgconn)
        except BaseException:
            _abandon(pgconn, driver)
            raise
        return expected


def _abandon(pgconn, driver) -> None:
    """After a failure while sending (the connection broke): the batch ended with a sync and
    its results read, or else the connection closed, so that nothing waits on it forever."""
    try:
        pgconn.pipeline_sync()
        _flush(pgconn)
        for _ in _pipeline_results(pgconn):
            pass
    except Exception:
        logging.getLogger("confero.db").exception("a batch could not be ended; closing")
        driver.close()


@functools.lru_cache(maxsize=1024)  # the batches' statements: a few dozen texts
def _numbered(sql: str) -> bytes:
    """`%s` placeholders as PostgreSQL's `$1`, `$2`…; the statements here have no other `%`."""
    parts = sql.split("%s")
    if any("%" in part for part in parts):
        raise ValueError(f"unexpected % in a batch statement: {sql[:80]}")
    numbered = [parts[0]]
    for number, part in enumerate(parts[1:], start=1):
        numbered += [f"${number}", part]
    return "".join(numbered).encode()


def _flush(pgconn) -> None:
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLOUT)
    while pgconn.flush():
        poller.poll()


def _pipeline_results(pgconn):
    """The results of the batch, in order, until its sync; leaves pipeline mode."""
    from psycopg import pq

    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN)
    try:
        while True:
            pgconn.consume_input()
            while not pgconn.is_busy():
                result = pgconn.get_result()
                if result is None:
                    continue  # the end of one statement's results
                if result.status == pq.ExecStatus.PIPELINE_SYNC:
                    return
                yield result
            poller.poll()
    finally:
        _leave_pipeline(pgconn)


def _leave_pipeline(pgconn) -> None:
    from psycopg import pq

    try:
        if pgconn.pipeline_status != pq.PipelineStatus.OFF:
            pgconn.exit_pipeline_mode()
    except Exception:
        # Results left unread (the connection broke): Django discards the connection.
        logging.getLogger("confero.db").exception("could not leave pipeline mode")


def _roll_back_failed_batch(statement: str) -> None:
    """Rolls back what a failed batch of statements (sent as one message) left open: a failed
    transaction, or — with BEGIN and COMMIT of its own (`statement` "ROLLBACK") — one the
    failure interrupted. Nothing when the failure came before its BEGIN or the connection is
    gone."""
    from psycopg.pq import TransactionStatus

    driver = connection.connection
    open_states = [TransactionStatus.INERROR]
    if statement == "ROLLBACK":  # no transaction of the caller's around the batch
        open_states.append(TransactionStatus.INTRANS)
    if driver is None or driver.info.transaction_status not in open_states:
        return
    try:
        driver.execute(statement)
    except Exception:
        # The connection is broken; Django notices and replaces it.
        logging.getLogger("confero.db").exception("could not roll back a failed batch")


def now_sql() -> str:
    """The SQL of Django's `Now()` (the database clock) on this connection, ready for
    `cursor.execute` with parameters; last-modified columns are set with it."""
    vendor = connections[DEFAULT_DB_ALIAS].vendor
    if vendor not in _NOW_SQL:
        from django.db.models.functions import Now

        from confero.people.models import User  # any model: only the connection matters

        compiler = User.objects.all().query.get_compiler(connection=connection)
        sql, params = compiler.compile(Now())
        assert not params
        _NOW_SQL[vendor] = sql
    return _NOW_SQL[vendor]


_NOW_SQL: dict[str, str] = {}


def prepared_cursor():
    """A cursor for the few statements every call runs. On PostgreSQL it prepares each statement
    on first use and runs it from then on without parsing or planning it again (a generic plan:
    these are lookups by unique keys and single-row inserts). Django turns psycopg's prepared
    statements off (for transaction-mode poolers): `CONFERO_DB_PREPARED_STATEMENTS=0` does here
    too, and so does `server_side_binding`. Elsewhere it is Django's own cursor.

    While something watches the SQL (Django's query log: DEBUG, the test suite's query counts;
    an `execute_wrapper`), the cursor comes wrapped by Django as usual. Otherwise it is one
    driver cursor kept per connection, with Django's error translation but without the
    wrapper's per-statement bookkeeping, which cost about as much as the driver's own work on
    these statements (docs/decisions/0008)."""
    db = connections[DEFAULT_DB_ALIAS]
    if not _prepares(db):
        return db.cursor()
    db.ensure_connection()
    if db.queries_logged or db.execute_wrappers:
        with db.wrap_database_errors:
            # What Django's create_cursor() makes, but binding on the server and preparing (its
            # default cursor class, ClientCursor, binds in the client and never prepares).
            return db._prepare_cursor(_preparing_cursor_class()(db.connection))
    kept = getattr(db, "_confero_kept_cursor", None)
    if kept is None or kept.driver_connection is not db.connection:
        kept = _KeptCursor(db)
        db._confero_kept_cursor = kept
    return kept


class _KeptCursor:
    """A preparing driver cursor that lives as long as its connection (see prepared_cursor):
    the same calls as Django's cursor for what the statements here need, the same exceptions
    (django.db's, so `reconnecting` and the pipeline see what they expect)."""

    def __init__(self, db) -> None:
        self.db = db
        self.driver_connection = db.connection
        with db.wrap_database_errors:
            self.cursor = _preparing_cursor_class()(db.connection)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.db.validate_no_broken_transaction()
        with self.db.wrap_database_errors:
            self.cursor.execute(sql, params)

    def fetchone(self) -> tuple | None:
        with self.db.wrap_database_errors:
            return self.cursor.fetchone()

    def __enter__(self) -> "_KeptCursor":
        return self

    def __exit__(self, *exc_info) -> None:
        pass  # kept for the next statement on this connection


def _prepares(db) -> bool:
    return can_batch(db) and settings.CONFERO_DB_PREPARED_STATEMENTS


_PREPARING_CURSOR = None


def _preparing_cursor_class():
    global _PREPARING_CURSOR
    if _PREPARING_CURSOR is None:
        import psycopg

        class PreparingCursor(psycopg.Cursor):
            def execute(self, query, params=None, *, prepare=None, binary=None):
                return super().execute(query, params, prepare=prepare is not False, binary=binary)

            def _send_query_prepared(self, name, pgq, *, binary=None):
                # psycopg keeps the query it ran only when it did not prepare it; Django's query
                # log (and the SQL it prints) reads it.
                self._query = pgq
                return super()._send_query_prepared(name, pgq, binary=binary)

        _PREPARING_CURSOR = PreparingCursor
    return _PREPARING_CURSOR


def prefer_generic_plans(sender, connection, **kwargs) -> None:
    """On each new PostgreSQL connection (with client-side binding, Django's default): plan the
    statements of `prepared_cursor` once. Only they are prepared on such a connection, so the
    setting touches nothing else; they look rows up by unique keys, where a generic plan is as
    good as a custom one, and PostgreSQL's own choice kept re-planning the gate's five-table join
    on every call (0.37 ms of the server's time, docs/performance.md)."""
    if _prepares(connection):
        # Django sets prepare_threshold to None, which turns preparing off altogether; a
        # threshold no statement reaches prepares only what asks to be (prepare=True).
        connection.connection.prepare_threshold = 2**31 - 1
        with connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_generic_plan")


def reconnecting(read: Callable[[], T]) -> T:
    """Runs `read` (statements that only read, outside any transaction); when it fails because
    the database dropped the connection (a restart, a failover), reconnects and runs it once
    more. API calls skip Django's per-request health check (api/middleware.py): the first
    statement of every call comes through here instead."""
    for attempt in (1, 2):
        try:
            return read()
        except (OperationalError, InterfaceError):
            if attempt == 2 or connection.in_atomic_block or _is_usable():
                raise
            connection.close()  # the next cursor reconnects
    raise AssertionError("not reached")


def _is_usable() -> bool:
    try:
        return connection.is_usable()
    except DatabaseError:
        return False
