"""The call-log rows of calls that changed nothing — reads, refusals, failures — written in
batches (docs/decisions/0009-call-log-batches.md).

Writing a read's row on its own was a third of the cost of an `event.do` call: a round trip and a
commit on PostgreSQL, and on SQLite a write transaction that the other server processes had to
queue behind (SQLite's busy handler sleeps whole milliseconds: the answers' p99). Instead, each
server process keeps such rows in memory and a thread of its own writes them, in one transaction
per batch, every `CONFERO_CALL_LOG_FLUSH_MS` milliseconds (and sooner once `BATCH_ROWS` are
waiting); what is still waiting when the process exits is written then.

The price: a row reaches the table up to that long after its answer, and a process killed
outright (SIGKILL, the OOM killer) loses the rows it had not written yet. A writing call's row is
never buffered: it commits with the call's own transaction (confero.api.pipeline). 0 turns
batching off: every row is written by its call, as the test suite does.
"""

import atexit
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection, transaction

log = logging.getLogger("confero.api")

BATCH_ROWS = 500  # a flush starts early once this many rows wait; one INSERT per … rows
MAX_WAITING = 50_000  # rows kept while the database refuses them; beyond, the oldest are dropped


def enabled() -> bool:
    return settings.CONFERO_CALL_LOG_FLUSH_MS > 0


class _Batches:
    """The rows waiting in this process, and the thread that writes them."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.pid = os.getpid()
        self.rows: list[Sequence[Any]] = []
        self.lock = threading.Lock()  # guards `rows`
        self.writing = threading.Lock()  # held while a batch is written
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None

    def add(self, sql: str, values: Sequence[Any]) -> None:
        if self.pid != os.getpid():
            # A forked child (a gunicorn worker): the parent's rows are the parent's to write.
            self._reset()
        with self.lock:
            self.sql = sql
            self.rows.append(values)
            waiting = len(self.rows)
            if self.thread is None:
                self._start()
        if waiting >= BATCH_ROWS:
            self.wake.set()

    def _start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="confero-call-log", daemon=True)
        self.thread.start()
        atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            self.wake.wait(settings.CONFERO_CALL_LOG_FLUSH_MS / 1000)
            self.wake.clear()
            self.flush()

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
            dropped = len(self.rows) - MAX_WAITING
            if dropped > 0:
                del self.rows[:dropped]
                log.error("dropped %d API call-log rows: the database refused them", dropped)


def _write(sql: str, rows: list) -> int:
    """One transaction for the batch; a batch the database refuses as a whole is retried row by
    row, so that one bad row cannot hold the others back (it is logged and dropped). The rows
    dealt with: all of them, unless the database is away (then it raises)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        return len(rows)
    except Exception:
        if not connection.is_usable():
            raise  # the database is away: keep every row for the next attempt
    written = 0
    for row in rows:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, row)
            written += 1
        except Exception:
            if not connection.is_usable():
                raise
            log.exception("dropped an API call-log row the database refused: %r", row[4:8])
    return len(rows)


def _discard_connection() -> None:
    try:
        connection.close()  # the next attempt reconnects
    except Exception:
        log.exception("could not close the call log's database connection")


_batches = _Batches()


def add(sql: str, values: Sequence[Any]) -> None:
    """Queues one row of `sql` (the call log's INSERT) with these values."""
    _batches.add(sql, values)


def flush() -> int:
    """Writes the rows waiting in this process now (tests, shutdown); the number written."""
    return _batches.flush()
