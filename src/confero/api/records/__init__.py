"""Records: a record type declared once (declaration.py), read in chunks (reading.py) and
written as XML or JSON (rendering.py). Resources use the three functions here."""

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import QuerySet

from confero.api.call import Call
from confero.api.feeds import changed_since, epoch_millis, watermark
from confero.api.records.declaration import (
    BOOL,
    CONSTRAINTS,
    CUSTOM_FIELDS,
    DATE,
    EVENT_GUID,
    HHMM,
    INT,
    MONEY,
    TEXT,
    TIME,
    Column,
    Empty,
    Nested,
    RecordType,
)
from confero.api.records.reading import Reader, raw_rows
from confero.api.records.rendering import Record, Renderer
from confero.api.render import Feed
from confero.events.models import Site


def records(record_type: RecordType, queryset: QuerySet, sites: Sequence[Site]) -> Iterator[Record]:
    """The records of the queryset, read in chunks (memory flat whatever their number)."""
    renderer = Renderer(record_type, sites)
    with contextlib.closing(Reader(record_type, queryset).chunks()) as chunks:
        yield from renderer.records(chunks)


def feed(record_type: RecordType, call: Call, queryset: QuerySet) -> Feed:
    """The feed of the queryset's records (of the call's sites), `since` applied: records
    created or changed at or after it, cancelled ones included. Its root's `time` is the
    watermark a client sends back as `since` (confero.api.feeds)."""
    moment = watermark()
    queryset = record_type.annotated(queryset)
    since = call.params.get("since")
    if since is not None:
        queryset = changed_since(queryset, since, column=record_type.modified_column)
    return Feed(
        root=record_type.root,
        record_tag=record_type.tag,
        attrs={"time": epoch_millis(moment)},
        records=records(record_type, queryset, call.sites),
    )


def one(record_type: RecordType, queryset: QuerySet, site: Site, **extra: Any) -> Record:
    """The one record of the queryset (of `site`), as a feed shows it; `extra` gives the values
    of optional columns (getUser.do's userKey)."""
    reader = Reader(record_type, record_type.annotated(queryset))
    chunk = reader.chunk(raw_rows(reader.records[:1]))
    [record] = Renderer(record_type, [site]).records(iter([chunk]))
    record.extra = extra or None
    return record


__all__ = [
    "BOOL", "CONSTRAINTS", "CUSTOM_FIELDS", "DATE", "EVENT_GUID", "HHMM", "INT", "MONEY", "TEXT",
    "TIME", "Column", "Empty", "Nested", "RecordType", "feed", "one", "records",
]  # fmt: skip
