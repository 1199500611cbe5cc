"""What makes `since` safe: the root's `time` is a watermark such that every change not yet
visible to this feed's reads carries a last-modified at or after it (contract §8).

Last-modified comes from the database clock (`Now()`), so several application servers with
skewed clocks still agree. The watermark is taken *before* the first read:
- PostgreSQL: the earliest start of any transaction still open in this database (a change it
  makes is stamped with its statement time, which is later), or the clock if none is open.
- SQLite: one writer at a time; taking the write lock for an instant proves no write is under
  way, so the clock read while holding it is the watermark.
Clients get some records twice near the boundary, never none. On PostgreSQL this needs every
stamp to come from a statement after its transaction's BEGIN (a transaction's first statement
takes its time a moment before the transaction shows in pg_stat_activity): the API's batches,
Django's atomic blocks and the console's change views all begin first. Feeds page through records by
primary key in chunks, so memory stays flat whatever the number of records.
"""

import datetime as dt

from django.db import connection, transaction
from django.db.models import QuerySet

CHUNK = 1000
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

_PG_WATERMARK = """
SELECT LEAST(clock_timestamp(), MIN(xact_start))
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND state <> 'idle' AND xact_start IS NOT NULL
"""


def watermark() -> dt.datetime:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_PG_WATERMARK)
            return cursor.fetchone()[0]
    with transaction.atomic(), connection.cursor() as cursor:
        # BEGIN IMMEDIATE (settings: transaction_mode) waits for any writer to finish.
        cursor.execute("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")
        text = cursor.fetchone()[0]
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def epoch_millis(moment: dt.datetime) -> int:
    """Rounded down: with `since` inclusive, a later call repeats rather than misses."""
    return (moment - EPOCH) // dt.timedelta(milliseconds=1)


def changed_since(
    queryset: QuerySet, since: dt.datetime, *, column: str = "modified_at"
) -> QuerySet:
    """Records whose `column` is at or after `since` (the `since` parameter: inclusive).

    Written as "after since minus one microsecond", which is the same on PostgreSQL (microsecond
    timestamps) and right on SQLite, where timestamps are text compared character by character:
    the database clock stores '…:43.954' and a parameter reads '…:43.954000', so `>=` would
    leave out exactly the record stamped at `since`."""
    return queryset.filter(**{f"{column}__gt": since - dt.timedelta(microseconds=1)})
