"""Fixed-window rate limits kept in the database, so every server process shares them.

One upsert per counted call (`INSERT … ON CONFLICT … DO UPDATE … RETURNING`), which PostgreSQL
and SQLite ≥ 3.35 both run atomically. Old windows are pruned now and then by the callers that
write. See docs/decisions/0003-rate-limits-in-the-database.md.
"""

import random
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


def hit(key: str, *, limit: int, window_seconds: int, now: float | None = None) -> Verdict:
    """Counts one call against `key` and tells whether it is within `limit`."""
    now = time.time() if now is None else now
    window = _window(window_seconds, now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_TABLE} (scope, window_start, count) VALUES (%s, %s, 1) "  # noqa: S608
            f"ON CONFLICT (scope, window_start) DO UPDATE SET count = {_TABLE}.count + 1 "
            "RETURNING count",
            [key, window],
        )
        count = cursor.fetchone()[0]
    if random.random() < 0.001:
        prune(window_seconds=window_seconds, now=now)
    return Verdict(count <= limit, count, _retry_after(window, window_seconds, now))


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
