"""Reading records in chunks: memory stays flat whatever the number of records (contract §8).

A chunk is CHUNK records by primary key (keyset pagination; descending for a record type
declared `newest_first`), their custom values and each of their nested lists: one query each,
whatever the chunk's size. Rows come as the database driver returns them, without Django's
converters: the renderer writes each kind of value from that
(timestamps, dates and times of day are read as text, which spares parsing them into Python
objects only to format them again).

On PostgreSQL, a feed of more than one chunk reads each next chunk on a connection of its own,
in pipeline mode, while the current one is written (decision 0011): the chunk's queries, the
custom values' and the nested lists' by a subquery on its records, in one read-only REPEATABLE
READ transaction, so that the subqueries find the very records the first query returned.
"""

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, connections
from django.db.models import CharField, QuerySet
from django.db.models.functions import Cast

from confero.api.records.declaration import Column, RecordType
from confero.customfields.models import Answer

log = logging.getLogger("confero.api")

CHUNK = 1000
_AS_TEXT = {"time", "date", "hhmm", "money"}  # kinds read as text (see the module's docstring)


@dataclass
class Chunk:
    rows: list[tuple]  # (id, site_id, *the read columns), by id
    answers: list[tuple]  # (record id, field id, value id, text), by record then as set
    nested: list[list[tuple]]  # per Nested of the declaration: (record id, *its columns)


def selected(queryset: QuerySet, columns: Sequence[Column], *first: str) -> QuerySet:
    """`values_list` of `first` and the columns, those read as text cast to text."""
    casts = {
        f"{c.column}_as_text": Cast(c.column, CharField()) for c in columns if c.kind in _AS_TEXT
    }
    names = [f"{c.column}_as_text" if c.kind in _AS_TEXT else c.column for c in columns]
    return queryset.annotate(**casts).values_list(*first, *names)


def raw_rows(queryset: QuerySet) -> list[tuple]:
    """The rows of a `values_list` queryset as the driver returns them (no converters)."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _of_records(column: str, ids) -> dict:
    """The filter on `column` for rows of these records (a list of ids in the feed's order, or a
    queryset of them). Dense ids are read as one index range (two parameters instead of a
    thousand); the range may bring rows of records not asked for, which the renderer skips."""
    if isinstance(ids, list) and ids:
        low, high = min(ids[0], ids[-1]), max(ids[0], ids[-1])
        if high - low < 2 * len(ids):
            return {f"{column}__gte": low, f"{column}__lte": high}
    return {f"{column}__in": ids}


class Reader:
    """The queries of one record type's feed or record."""

    def __init__(self, record_type: RecordType, queryset: QuerySet):
        self.record_type = record_type
        self.descending = record_type.newest_first
        self.records = selected(
            queryset.order_by("-pk" if self.descending else "pk"),
            record_type.read_columns,
            "pk",
            record_type.site_column,
        )

    def after(self, last: int) -> QuerySet:
        """The records that follow the record `last` in the feed's order."""
        return self.records.filter(**{"pk__lt" if self.descending else "pk__gt": last})

    def _by_record(self, column: str) -> str:
        """Rows of the records' parts come in the records' order (the renderer relies on it)."""
        return f"-{column}" if self.descending else column

    def answers(self, ids) -> QuerySet:
        """The custom values of these records (see `_of_records`)."""
        values = Answer.objects.filter(record_type=self.record_type.custom_fields)
        return (
            values.filter(**_of_records("record_id", ids))
            .order_by(self._by_record("record_id"), "id")
            .values_list("record_id", "field_id", "value_id", "text")
        )

    def nested(self, ids) -> list[QuerySet]:
        """Each nested list's rows of these records (a list of ids, or a queryset of them)."""
        return [
            selected(
                nested.rows()
                .filter(**_of_records(nested.record, ids))
                .order_by(self._by_record(nested.record), *nested.order),
                nested.columns,
                nested.record,
            )
            for nested in self.record_type.nested
        ]

    def chunk(self, rows: list[tuple]) -> Chunk:
        ids = [row[0] for row in rows]
        answers = raw_rows(self.answers(ids)) if self.record_type.custom_fields else []
        return Chunk(rows, answers, [raw_rows(query) for query in self.nested(ids)])

    def chunks(self) -> Iterator[Chunk]:
        rows = raw_rows(self.records[:CHUNK])
        if not rows:
            return
        first = self.chunk(rows)
        ahead = None
        if (
            len(rows) == CHUNK
            and connection.vendor == "postgresql"
            and settings.CONFERO_FEED_READ_AHEAD
            and not connection.in_atomic_block
        ):
            ahead = _ReadAhead.start(self, rows[-1][0])
        if ahead is not None:
            with contextlib.closing(ahead):
                yield first
                yield from ahead.chunks()
            return
        yield first
        while len(rows) == CHUNK:
            rows = raw_rows(self.after(rows[-1][0])[:CHUNK])
            if not rows:
                return
            yield self.chunk(rows)


class _ReadAhead:
    """The chunks after the first, on a connection of the feed's own (see the module's
    docstring); closed at the end, also when the client goes away mid-feed."""

    def __init__(self, reader: Reader, own) -> None:
        self.reader, self.own = reader, own
        self.closing = contextlib.ExitStack()
        self.closing.callback(own.close)
        self.pending: tuple | None = None

    @classmethod
    def start(cls, reader: Reader, last: int) -> "_ReadAhead | None":
        """Opens the connection and sends the second chunk; None (the feed then reads chunk by
        chunk on the call's connection) when that fails: no connection left, no pipeline mode
        in the client library."""
        ahead = cls(reader, connections.create_connection(connection.alias))
        try:
            ahead.own.ensure_connection()
            ahead.closing.enter_context(ahead.own.connection.pipeline())
            ahead.pending = ahead._send(last)
        except Exception:
            log.warning("feed read-ahead unavailable; reading chunk by chunk", exc_info=True)
            with contextlib.suppress(Exception):  # the connection may be half open
                ahead.close()
            return None
        return ahead

    def _send(self, after: int) -> tuple:
        import psycopg

        driver = self.own.connection
        records = self.reader.after(after)[:CHUNK]
        ids = records.values("pk")
        queries = [records]
        if self.reader.record_type.custom_fields:
            queries.append(self.reader.answers(ids))
        queries += self.reader.nested(ids)
        psycopg.Cursor(driver).execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursors = []
        for query in queries:
            cursor = psycopg.Cursor(driver)
            cursor.execute(*query.query.get_compiler(using=query.db).as_sql())
            cursors.append(cursor)
        psycopg.Cursor(driver).execute("COMMIT")
        return tuple(cursors)

    def chunks(self) -> Iterator[Chunk]:
        with_answers = bool(self.reader.record_type.custom_fields)
        while self.pending is not None:
            records, *others = self.pending
            rows = records.fetchall()
            self.pending = self._send(rows[-1][0]) if len(rows) == CHUNK else None
            answers = others.pop(0).fetchall() if with_answers else []
            nested = [cursor.fetchall() for cursor in others]
            if rows:
                yield Chunk(rows, answers, nested)

    def close(self) -> None:
        self.closing.close()
