"""The API call log (contract §10): one row per call, whatever its outcome, without parameter
values or tokens; the names of the parameters a reading resource ignored (contract §2).

A writing call's row is written inside the call's transaction: a write never stands without its
row, and a call whose row cannot be written is rolled back. The rows of calls that changed
nothing — reads, refusals, failures — are written in batches by each server process (decision
0009): writing such a row on its own was a third of the cost of an `event.do` call (a round trip
and a commit on PostgreSQL; on SQLite a write transaction the other server processes queue
behind). Each process keeps them in memory and writes them in one transaction per batch:
 - after a response has gone out (Django's `request_finished`), once the oldest waiting row is
   `CONFERO_CALL_LOG_FLUSH_MS` old or `BATCH_ROWS` wait, in the thread that served the call;
 - when no call comes to do it (an idle process), by a thread of the process's own, after twice
   that delay;
 - when the process exits, whatever still waits.
The price: a row reaches the table up to about that long after its answer, and a process killed
outright loses the rows it had not written. 0 turns batching off (the test suite does).
"""

import atexit
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.signals import request_finished
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from confero.access.gate import reconnecting
from confero.access.models import ApiCall, ApiProfile
from confero.access.tokens import redact_tokens
from confero.api import codes
from confero.events.models import Site

log = logging.getLogger("confero.api")

BATCH_ROWS = 500  # a batch is due once this many rows wait; one transaction per … rows
MAX_WAITING = 50_000  # rows kept while the database refuses them; beyond, the oldest are dropped

_COLUMNS = (
    "time", "site_id", "profile_id", "token_prefix", "method", "path", "resource",
    "event_param", "client_ip", "code", "http_status", "duration_ms", "incident",
    "ignored_params",
)  # fmt: skip
IGNORED_LIMIT = ApiCall._meta.get_field("ignored_params").max_length
# Names from the model, values are parameters. Hand-written: it runs on every call (0007).
_SQL = (
    f"INSERT INTO {ApiCall._meta.db_table} ({', '.join(_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
)
# The same INSERT committing without waiting for the disk (PostgreSQL, a row written on its own
# outside a transaction: batching off): set_config(…, true) sets synchronous_commit for the
# statement's own implicit transaction, which is what its commit reads; the session keeps its
# setting. Such rows are of calls that changed nothing (decision 0008).
_ASYNC_SQL = f"{_SQL} RETURNING set_config('synchronous_commit', 'off', true)"


@dataclass
class Outcome:
    """What the call log records, filled in as the pipeline goes."""

    started: float
    site: Site | None = None
    profile: ApiProfile | None = None
    token_prefix: str = ""
    resource: str = ""
    event_param: str = ""
    client_ip: str = ""
    incident: str = ""
    method: str = ""
    path: str = ""
    url_site: tuple[str, str] | None = None  # (code, environment) until the gate has run
    ignored_params: list[str] = field(default_factory=list)  # names only, never values
    logged: bool = False  # the row is written (inside a writing call's transaction)


def _values(outcome: Outcome, code: int) -> list[Any]:
    if outcome.site is None and outcome.url_site is not None:
        # Refused before the gate ran (405, 413, 122, 201): still name the site if it exists.
        # This is the call's first statement then, so it is the one that reconnects.
        event_code, environment = outcome.url_site
        outcome.site = reconnecting(
            lambda: Site.objects.filter(event__code=event_code, environment=environment).first()
        )
    return [
        connection.ops.adapt_datetimefield_value(timezone.now()),
        outcome.site.pk if outcome.site else None,
        outcome.profile.pk if outcome.profile else None,
        outcome.token_prefix,
        outcome.method,
        redact_tokens(outcome.path),
        redact_tokens(outcome.resource),
        redact_tokens(outcome.event_param),
        outcome.client_ip[:45],
        code,
        codes.http_status(code),
        round((time.perf_counter() - outcome.started) * 1000, 3),
        outcome.incident,
        ignored_names(outcome.ignored_params),
    ]


def ignored_names(names: list[str]) -> str:
    """The names as the call log keeps them: in the order sent, separated by ", ", each cut to
    60 characters, the whole to the column's size (ending "…" when cut). A name can be a token
    sent without a name (`curl -d "$TOKEN"`): it is cut to its public prefix, as everywhere."""
    text = ", ".join(redact_tokens(name)[:60] for name in names)
    if len(text) > IGNORED_LIMIT:
        text = text[: IGNORED_LIMIT - 1] + "…"
    return text


def log_call(outcome: Outcome, code: int, *, inside: bool = False) -> None:
    """Writes the call's row. `inside` a writing call's transaction, a failure propagates and
    rolls the call back (the caller marks the outcome logged once it committed). Otherwise the
    row goes to the process's batches (or, with batching off, is written now), and a failure is
    only logged: the answer does not depend on the log."""
    if outcome.logged:
        return
    try:
        values = _values(outcome, code)
        on_its_own = not inside and not connection.in_atomic_block
        if on_its_own and settings.CONFERO_CALL_LOG_FLUSH_MS > 0:
            _batches.add(values)
        else:
            sql = _ASYNC_SQL if on_its_own and connection.vendor == "postgresql" else _SQL
            with connection.cursor() as cursor:
                cursor.execute(sql, values)
        outcome.logged = not inside
    except Exception:
        if inside:
            raise
        log.exception("could not write the API call log")


class _Batches:
    """The rows waiting in this process, and the thread that writes them when calls do not."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.pid = os.getpid()
        self.rows: list[list[Any]] = []
        self.lock = threading.Lock()  # guards `rows`
        self.writing = threading.Lock()  # held while a batch is written
        self.oldest = 0.0  # time.monotonic() when the oldest waiting row came
        self.thread: threading.Thread | None = None

    def add(self, values: list[Any]) -> None:
        if self.pid != os.getpid():
            # A forked child (a gunicorn worker): the parent's rows are the parent's to write.
            self._reset()
        with self.lock:
            if not self.rows:
                self.oldest = time.monotonic()
            self.rows.append(values)
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._idle, name="confero-call-log", daemon=True
                )
                self.thread.start()
                atexit.register(self.flush)

    def due(self, delay: float) -> bool:
        """Whether rows wait, the oldest for `delay` seconds or more, or a full batch."""
        rows = self.rows
        return bool(rows) and (len(rows) >= BATCH_ROWS or time.monotonic() - self.oldest >= delay)

    def _idle(self) -> None:
        while True:
            delay = max(settings.CONFERO_CALL_LOG_FLUSH_MS, 10) / 1000
            time.sleep(min(delay, 1.0))
            if self.due(2 * delay):  # no call came to write them
                self.flush()
                # This thread writes only while calls do not come: it keeps no connection open.
                _discard_connection()

    def flush(self) -> int:
        """Writes every waiting row; the number written. Safe from any thread."""
        with self.writing:
            with self.lock:
                rows, self.rows = self.rows, []
            written = 0  # rows dealt with
            try:
                for start in range(0, len(rows), BATCH_ROWS):
                    written += _write(rows[start : start + BATCH_ROWS])
            except Exception:
                log.exception("could not write %d API call-log rows; retrying", len(rows) - written)
                self._keep(rows[written:])
                _discard_connection()
            return written

    def _keep(self, rows: list) -> None:
        with self.lock:
            self.rows[:0] = rows
            self.oldest = time.monotonic()  # the next attempt after the delay, not at once
            dropped = len(self.rows) - MAX_WAITING
            if dropped > 0:
                del self.rows[:dropped]
                log.error("dropped %d API call-log rows: the database refused them", dropped)


def _write(rows: list) -> int:
    """One transaction for the batch; on PostgreSQL committed without waiting for the disk (these
    are rows of calls that changed nothing: decision 0008). A batch the database refuses is tried
    again row by row, so that one bad row cannot hold the others back: it is logged and dropped.
    When the database is away or refuses every row, this raises and the rows wait."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL synchronous_commit TO off")
            cursor.executemany(_SQL, rows)
        return len(rows)
    except Exception:
        if not connection.is_usable() or len(rows) == 1:
            raise
    refused = []
    for row in rows:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(_SQL, row)
        except Exception:
            if not connection.is_usable():
                raise
            refused.append(row)
    if len(refused) == len(rows):
        raise DatabaseError(f"the database refused each of {len(rows)} call-log rows")
    for row in refused:
        log.error("dropped an API call-log row the database refused: %r", tuple(row[4:8]))
    return len(rows)


def _discard_connection() -> None:
    """Closes this thread's database connection: the next statement reconnects."""
    try:
        connection.close()
    except Exception:
        log.exception("could not close the call log's database connection")


_batches = _Batches()


def add(values: list[Any]) -> None:
    """Queues one row (the call log's columns, in order) for this process's next batch."""
    _batches.add(values)


def flush() -> int:
    """Writes the rows waiting in this process now (tests, shutdown); the number written."""
    return _batches.flush()


def after_response(**kwargs) -> None:
    """`request_finished`: the response has gone out; write the batch if it is due."""
    if _batches.pid == os.getpid() and _batches.due(settings.CONFERO_CALL_LOG_FLUSH_MS / 1000):
        _batches.flush()


request_finished.connect(after_response, dispatch_uid="confero.api.calllog")
