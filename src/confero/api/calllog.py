"""The call-log rows of calls that changed nothing — reads, refusals, failures — written in
batches (docs/decisions/0009-call-log-batches.md).

Writing a read's row on its own was a third of the cost of an `event.do` call: a round trip and a
commit on PostgreSQL, and on SQLite a write transaction that the other server processes had to
queue behind (SQLite's busy handler sleeps whole milliseconds: the answers' p99). Instead, each
server process keeps such rows in memory and writes them in one transaction per batch:
 - after a response has gone out (Django's `request_finished`, sent when the server closes the
   response), once the oldest waiting row is `CONFERO_CALL_LOG_FLUSH_MS` old or `BATCH_ROWS`
   wait — in the thread that served the call, so no other thread competes with the next call for
   the interpreter;
 - when no call comes to do it (an idle process), by a thread of the process's own, after twice
   that delay;
 - when the process exits, whatever still waits.

The price: a row reaches the table up to about that long after its answer, and a process killed
outright (SIGKILL, the OOM killer) loses the rows it had not written yet. A writing call's row is
never batched: it commits with the call's own transaction (confero.api.pipeline). 0 turns
batching off: every row is written by its call, as the test suite does.
"""

import atexit
import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.signals import request_finished
from django.db import DatabaseError, connection, transaction

from confero.rows import can_batch, execute_at_once

log = logging.getLogger("confero.api")

BATCH_ROWS = 500  # a batch is due once this many rows wait; one transaction per … rows
MAX_WAITING = 50_000  # rows kept while the database refuses them; beyond, the oldest are dropped


def enabled() -> bool:
    return settings.CONFERO_CALL_LOG_FLUSH_MS > 0


class _Batches:
    """The rows waiting in this process, and the thread that writes them when calls do not."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.pid = os.getpid()
        self.rows: list[Sequence[Any]] = []
        self.lock = threading.Lock()  # guards `rows`
        self.writing = threading.Lock()  # held while a batch is written
        self.oldest = 0.0  # time.monotonic() when the oldest waiting row came
        self.thread: threading.Thread | None = None

    def add(self, sql: str, values: Sequence[Any]) -> None:
        if self.pid != os.getpid():
            # A forked child (a gunicorn worker): the parent's rows are the parent's to write.
            self._reset()
        with self.lock:
            if not self.rows:
                self.oldest = time.monotonic()
            self.sql = sql  # the call log's INSERT (always the same)
            self.rows.append(values)
            if self.thread is None:
                self._start()

    def due(self, delay: float) -> bool:
        """Whether rows wait, the oldest for `delay` seconds or more, or a full batch."""
        rows = self.rows
        return bool(rows) and (len(rows) >= BATCH_ROWS or time.monotonic() - self.oldest >= delay)

    def _start(self) -> None:
        self.thread = threading.Thread(target=self._idle, name="confero-call-log", daemon=True)
        self.thread.start()
        atexit.register(self.flush)

    def _idle(self) -> None:
        while True:
            delay = max(settings.CONFERO_CALL_LOG_FLUSH_MS, 10) / 1000
            time.sleep(min(delay, 1.0))
            if self.due(2 * delay):  # no call came to write them
                self.flush()
                # This thread writes only while calls do not come: it does not keep a
                # database connection open between such moments.
                _discard_connection()

    def flush(self) -> int:
        """Writes every waiting row; the number written. Safe from any thread."""
        with self.writing:
            with self.lock:
                rows, self.rows = self.rows, []
            if not rows:
                return 0
            written = 0  # rows dealt with
            try:
                for start in range(0, len(rows), BATCH_ROWS):
                    written += _write(self.sql, rows[start : start + BATCH_ROWS])
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


def _write(sql: str, rows: list) -> int:
    """One transaction for the batch. A batch the database refuses is tried again row by row, so
    that one bad row cannot hold the others back: it is logged and dropped. When the database
    is away or refuses every row (a lost table, a full disk), this raises and the rows wait for
    the next attempt. The rows dealt with: all of them, when it returns."""
    try:
        if can_batch():
            _insert_at_once(sql, rows)
        else:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, rows)
        return len(rows)
    except Exception:
        if not connection.is_usable() or len(rows) == 1:
            raise
    refused = []
    for row in rows:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, row)
        except Exception:
            if not connection.is_usable():
                raise
            refused.append(row)
    if len(refused) == len(rows):
        raise DatabaseError(f"the database refused each of {len(rows)} call-log rows")
    for row in refused:
        log.error("dropped an API call-log row the database refused: %r", tuple(row[4:8]))
    return len(rows)


def _insert_at_once(sql: str, rows: list) -> None:
    """PostgreSQL: the batch as one multi-row INSERT, in one round trip, committed without
    waiting for the disk — these rows are of calls that changed nothing, as in
    docs/decisions/0008. Each row is merged with its values by the driver (it caches how it
    parses the row's template)."""
    head, template = sql.split(" VALUES ", 1)
    with connection.cursor() as cursor:
        mogrify = cursor.cursor.mogrify
        values = ", ".join([mogrify(template, row) for row in rows])
    execute_at_once(
        [("SET LOCAL synchronous_commit TO off", None), (f"{head} VALUES {values}", None)]
    )


def _discard_connection() -> None:
    """Closes this thread's database connection: the next statement reconnects."""
    try:
        connection.close()
    except Exception:
        log.exception("could not close the call log's database connection")


_batches = _Batches()


def add(sql: str, values: Sequence[Any]) -> None:
    """Queues one row of `sql` (the call log's INSERT) with these values."""
    _batches.add(sql, values)


def flush() -> int:
    """Writes the rows waiting in this process now (tests, shutdown); the number written."""
    return _batches.flush()


def after_response(**kwargs) -> None:
    """`request_finished`: the response has gone out; write the batch if it is due."""
    if _batches.pid == os.getpid() and _batches.due(settings.CONFERO_CALL_LOG_FLUSH_MS / 1000):
        _batches.flush()


request_finished.connect(after_response, dispatch_uid="confero.api.calllog")
