"""Admitting gate rows kept in memory for a moment, on PostgreSQL (docs/decisions/0012).

The gate (confero.access.gate) is the one statement `event.do` and the other calls that act as no
user cost the database; under load its round trip is most of such a call. This module lets a
server process answer the same admission again from memory:

- Only rows that admit are kept: the token was found, belongs to the URL's site and is not
  revoked, and the address is under its failure limit. Refusals always read the database.
  Keys hold the URL's event code and environment, the token's digest, the address block and the
  rate window: another address, or the next window, reads the database again.
- Every change to what the gate reads — events, sites (custom-field changes move the site's
  `fields_version`), API profiles, tokens — notifies a channel (`LISTEN confero_gate`; the
  triggers are in access/migrations/0002). So does an address reaching its failure limit
  (`notify_changed`). Each process listens on a connection of its own and reads what arrived,
  without waiting, before it answers from memory; anything that arrived empties the cache.
- A row is kept only when nothing arrived between the start of its read and the end: a change
  whose notification arrives in that time is never cached over, and one whose notification
  arrives later empties the cache then, as any other does.
- A row is used for at most `CONFERO_GATE_CACHE_SECONDS` (default 2) after its read began, the
  bound should a notification be lost without the listening connection noticing (a network
  partition: TCP keepalives end such a connection within about 25 s). When the listening
  connection fails, the cache is emptied and not used until it listens again.
- A thread of the process's own reads what arrived every second, so that an idle process's
  connection never holds up the server's notification queue.
- Never inside a transaction (Django's atomic, or autocommit off): changes made in it are not
  yet notified.

The price: a change reaches a process when its notification does — normally within a
millisecond of the commit, and never later than the bound. 0 turns the cache off.
"""

import logging
import os
import threading
import time
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections

log = logging.getLogger("confero.access")

CHANNEL = "confero_gate"
RETRY_SECONDS = 1.0  # how long a process waits before it tries to listen again after a failure
DRAIN_SECONDS = 1.0  # how often the process's thread reads what arrived
# libpq's TCP keepalives on the listening connection: a peer gone silent ends it in ~25 s.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
              "keepalives_count": 3}  # fmt: skip


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: dict[tuple, tuple[tuple, float]] = {}
        self.generation = 0  # moves whenever the cache is emptied
        self.listener: Any = None  # Django connection wrapper of the listening connection
        self.pid = 0  # the process that opened it (gunicorn forks)
        self.retry_at = 0.0
        self.told_off = ""  # a notice the listening connection received (see _listening)
        self.thread_pid = 0  # the process whose thread drains the listening connection


_cache = _Cache()


def enabled() -> bool:
    db = connections[DEFAULT_DB_ALIAS]  # not the proxy: one lookup for the three reads
    return (
        settings.CONFERO_GATE_CACHE_SECONDS > 0
        and db.vendor == "postgresql"
        and not db.in_atomic_block
        and db.get_autocommit()
    )


def begin() -> tuple[int, float] | None:
    """What arrived is read first; a ticket for `get` and `put` (the generation, and when the read
    begins), None when the cache cannot be used now (off, inside a transaction, not listening)."""
    if not enabled():
        return None
    with _cache.lock:
        if not _listening():
            return None
        return _cache.generation, time.monotonic()


def get(key: tuple, ticket: tuple[int, float]) -> tuple | None:
    with _cache.lock:
        if ticket[0] != _cache.generation:
            return None
        entry = _cache.rows.get(key)
        if entry is None:
            return None
        row, read_at = entry
        if time.monotonic() - read_at > settings.CONFERO_GATE_CACHE_SECONDS:
            del _cache.rows[key]
            return None
        return row


def put(key: tuple, row: tuple, ticket: tuple[int, float]) -> None:
    """Keeps `row`, read after `begin` gave `ticket`, unless something arrived since."""
    with _cache.lock:
        if not _listening() or ticket[0] != _cache.generation:
            return
        if len(_cache.rows) >= 10_000:  # keys come from callers: keep memory bounded
            _cache.rows.clear()
        _cache.rows[key] = (row, ticket[1])


def notify_changed() -> None:
    """Tells every process to empty its cache (at the commit of the current transaction). A
    failure is logged, not raised: the call it belongs to is answered as it would be, and the
    other processes stop admitting at their bound at the latest."""
    if connection.vendor != "postgresql":
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])
    except DatabaseError:
        log.warning("gate cache: could not notify a change", exc_info=True)


def reset() -> None:
    """Empties the cache and closes the listening connection (tests; a process's own use)."""
    with _cache.lock:
        _empty()
        _close_listener()
        _cache.retry_at = 0.0


def _empty() -> None:
    _cache.rows.clear()
    _cache.generation += 1


def _listening() -> bool:
    """Reads what arrived on the listening connection (opening it when needed); False when the
    process is not listening. Called with the lock held."""
    if _cache.listener is not None and _cache.pid != os.getpid():
        _cache.listener = None  # a forked copy: the parent's connection is not ours to use
        _empty()
    if _cache.listener is None:
        if time.monotonic() < _cache.retry_at:
            return False
        _open_listener()
        return _cache.listener is not None
    try:
        pgconn = _cache.listener.connection.pgconn
        pgconn.consume_input()  # never blocks: libpq's socket does not
        arrived = False
        while pgconn.notifies() is not None:
            arrived = True
        if _cache.told_off:
            # The server's last word before it closes the connection (a restart, an
            # administrator's pg_terminate_backend) arrives as a notice: nothing else does here.
            raise ConnectionError(f"the server ended the connection: {_cache.told_off}")
    except Exception:
        log.warning("gate cache: the listening connection failed; not caching", exc_info=True)
        _empty()
        _close_listener()
        _cache.retry_at = time.monotonic() + RETRY_SECONDS
        return False
    if arrived:
        _empty()
    return True


def _open_listener() -> None:
    own = connections.create_connection(connection.alias)
    # A dict of its own: the wrapper shares Django's settings dictionary otherwise.
    own.settings_dict = {
        **own.settings_dict,
        "OPTIONS": {**own.settings_dict.get("OPTIONS", {}), **KEEPALIVES},
    }
    try:
        own.ensure_connection()
        own.connection.autocommit = True
        own.connection.execute(f"LISTEN {CHANNEL}")
        own.connection.add_notice_handler(_told_off)
    except Exception:
        log.warning("gate cache: cannot listen for changes; not caching", exc_info=True)
        own.close()
        _cache.retry_at = time.monotonic() + RETRY_SECONDS
        return
    _empty()  # rows kept before this connection listened may have missed a change
    _cache.listener, _cache.pid, _cache.told_off = own, os.getpid(), ""
    if _cache.thread_pid != os.getpid():  # threads do not survive a fork
        _cache.thread_pid = os.getpid()
        threading.Thread(target=_drain_forever, name="confero-gate-cache", daemon=True).start()


def _drain_forever() -> None:
    """Reads what arrived on this process's listening connection every second: a process that
    answers no call for a while must still read, or its connection would hold up the
    server's notification queue. It never opens a connection; calls do."""
    pid = os.getpid()
    while _cache.thread_pid == pid:
        time.sleep(DRAIN_SECONDS)
        with _cache.lock:
            if _cache.listener is not None and _cache.pid == pid:
                _listening()


def _told_off(diagnostic) -> None:
    _cache.told_off = diagnostic.message_primary or "(no message)"


def _close_listener() -> None:
    own, _cache.listener = _cache.listener, None
    if own is not None and _cache.pid == os.getpid() and own.connection is not None:
        try:
            # The driver's connection itself: Django's wrapper may only be closed by the thread
            # that opened it, and the process's draining thread may be the one closing.
            own.connection.close()
        except Exception:
            log.debug("gate cache: closing the listening connection failed", exc_info=True)
