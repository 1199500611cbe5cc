"""Fixed-window rate limits kept in the database, so every server process shares them.

One upsert (`INSERT … ON CONFLICT … DO UPDATE … RETURNING`), which PostgreSQL and SQLite ≥ 3.35
both run atomically, counts `n` units against a key. `hit` counts one call. `take` (the per-token
limit, on every call) leases units in blocks: a process adds a block of up to `LEASE_MAX` units to
the shared counter and hands them out from memory until they run out or the window turns, so
most calls write nothing. The shared count can then run ahead of the calls made, never behind:
a limit is never exceeded, whatever the number of processes; a client may be refused up to
processes × (block − 1) calls early, and the block is at most 1/`LEASE_DIVISOR` of the limit.
Old windows are pruned now and then by the callers that write.
See docs/decisions/0003-rate-limits-in-the-database.md and 0008.
"""

import random
import threading
import time
from dataclasses import dataclass

from django.db import connection

from confero.access.models import RateCounter

_TABLE = RateCounter._meta.db_table


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    retry_after: int


def _window(window_seconds: int, now: float) -> int:
    return int(now // window_seconds) * window_seconds


LEASE_MAX = 50  # units a process takes at once, at most
LEASE_DIVISOR = 200  # … and at most this fraction of the limit (1 unit below 400 per window)

_SQL = (
    f"INSERT INTO {_TABLE} (scope, window_start, count) VALUES (%s, %s, %s) "  # noqa: S608
    f"ON CONFLICT (scope, window_start) DO UPDATE SET count = {_TABLE}.count + EXCLUDED.count "
    "RETURNING count"
)


def _add(key: str, window: int, units: int, window_seconds: int, now: float) -> int:
    """Adds `units` to the key's count in this window; the count after."""
    with connection.cursor() as cursor:
        cursor.execute(_SQL, [key, window, units])
        count = cursor.fetchone()[0]
    if random.random() < 0.001:
        prune(window_seconds=window_seconds, now=now)
    return count


def hit(key: str, *, limit: int, window_seconds: int, now: float | None = None) -> Verdict:
    """Counts one call against `key` and tells whether it is within `limit`."""
    now = time.time() if now is None else now
    window = _window(window_seconds, now)
    count = _add(key, window, 1, window_seconds, now)
    return Verdict(count <= limit, count, _retry_after(window, window_seconds, now))


@dataclass
class _Lease:
    window: int
    limit: int
    left: int  # units this process may still hand out in `window`


_leases: dict[str, _Lease] = {}
_leases_lock = threading.Lock()


def lease_size(limit: int) -> int:
    return max(1, min(LEASE_MAX, limit // LEASE_DIVISOR))


def take(key: str, *, limit: int, window_seconds: int, now: float | None = None) -> Verdict:
    """Counts one call against `key` like `hit`, from this process's lease when it has units
    left (no database write), else by leasing a new block. `Verdict.count` is the shared count
    when the database was asked, else 0."""
    now = time.time() if now is None else now
    window = _window(window_seconds, now)
    with _leases_lock:
        lease = _leases.get(key)
        if lease is not None and lease.window == window and lease.limit == limit and lease.left:
            lease.left -= 1
            return Verdict(True, 0, 0)
    block = lease_size(limit)
    count = _add(key, window, block, window_seconds, now)
    granted = min(block, limit - (count - block))  # units of this block within the limit
    if granted <= 0:
        return Verdict(False, count, _retry_after(window, window_seconds, now))
    with _leases_lock:
        lease = _leases.get(key)
        if lease is not None and lease.window == window and lease.limit == limit:
            lease.left += granted - 1  # another thread leased meanwhile: keep both blocks
        else:
            _leases[key] = _Lease(window=window, limit=limit, left=granted - 1)
    return Verdict(True, count, _retry_after(window, window_seconds, now))


def forget_leases() -> None:
    """Drops this process's leases (tests; their units are lost, as when a process ends)."""
    with _leases_lock:
        _leases.clear()


def peek(key: str, *, limit: int, window_seconds: int, now: float | None = None) -> Verdict:
    """Tells whether `key` is already over `limit` in this window, without counting."""
    now = time.time() if now is None else now
    window = _window(window_seconds, now)
    row = RateCounter.objects.filter(scope=key, window_start=window).values_list("count", flat=True)
    count = next(iter(row), 0)
    return Verdict(count < limit, count, _retry_after(window, window_seconds, now))


def window_start(window_seconds: int, now: float | None = None) -> int:
    """The start of the current window (epoch seconds)."""
    return _window(window_seconds, time.time() if now is None else now)


def retry_after(window_seconds: int, now: float | None = None) -> int:
    """Seconds until the current window ends (for Retry-After)."""
    now = time.time() if now is None else now
    return _retry_after(_window(window_seconds, now), window_seconds, now)


def prune(*, window_seconds: int, now: float | None = None) -> int:
    now = time.time() if now is None else now
    deleted, _ = RateCounter.objects.filter(window_start__lt=_window(window_seconds, now)).delete()
    return deleted


def _retry_after(window: int, window_seconds: int, now: float) -> int:
    return max(1, int(window + window_seconds - now + 0.999))
