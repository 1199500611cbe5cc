"""A record type, declared once: its elements in order, where each comes from, its custom
fields and its feed root (docs/architecture.md, "Records").

    USER = RecordType(
        tag="user", root="user-data", model=User, custom_fields=RecordType.USER,
        parts=(EVENT_GUID, Column("userRef", "user_ref"), …, CONSTRAINTS, CUSTOM_FIELDS,
               Nested("schedule", child="session-time", rows=…)),
    )

Everything else comes from the declaration: the chunked reading of a feed (records, their
custom values and nested lists, a few queries per 1,000 records), the per-site element template,
the constraint elements, the JSON shape, and the element names custom fields may not take.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model, QuerySet

from confero.customfields.services import reserve

# How a column's value is written (the value as the database driver gives it, unconverted).
TEXT = "text"  # as stored; empty → an empty element
BOOL = "bool"  # true / false
TIME = "time"  # a timestamp, UTC: 2026-11-24T10:21:00Z (read as text, see reading.py)
DATE = "date"  # YYYY-MM-DD
HHMM = "hhmm"  # a time of day: HH:MM
INT = "int"
MONEY = "money"  # a decimal with two places: 0.00

CONSTRAINT_NAMES = ("publicViewPrivateSchedule", "privateViewPrivateSchedule",
                    "cannotViewOrSchedule")  # fmt: skip


@dataclass(frozen=True)
class Column:
    """One element with the value of one column (or annotation) of the record's query.
    `optional`: not read by the feed; present only when the caller gives its value (getUser's
    userKey), at this place among the elements."""

    element: str | None  # None: the text of a Nested child with this one column
    column: str
    kind: str = TEXT
    optional: bool = False


@dataclass(frozen=True)
class Marker:
    name: str


@dataclass(frozen=True)
class Empty:
    """An element that is always there and empty (what a record has no data for yet)."""

    element: str


EVENT_GUID = Marker("eventGUID")  # the site's event GUID (contract §6: every record has it)
# The three constraint elements (§8.2, §8.3): each always there, empty when the record holds no
# value of it, repeated per value held.
CONSTRAINTS = Marker("constraints")
CUSTOM_FIELDS = Marker("custom fields")  # one element per custom field of the site (§7 rule 5)


@dataclass(frozen=True)
class Nested:
    """A list that hangs off each record, read by one query per chunk of records: the rows of
    `rows()` whose `record` column names one of the chunk's records, in the order `order`, each
    written by `columns` as the children of a `<child>` element. A child with one column whose
    element is None holds that value as its text (`<session-time>42</session-time>`).

    `wrapper`: the list sits in one element that is always there, empty or not (`<schedule>`);
    without it, the children follow one another among the record's elements."""

    child: str
    rows: Callable[[], QuerySet]
    record: str  # the column of `rows()` that holds the record's id
    columns: tuple[Column, ...]
    order: tuple[str, ...] = ("pk",)
    wrapper: str | None = None

    @property
    def element_names(self) -> list[str]:
        names = [self.child, *(c.element for c in self.columns if c.element)]
        return [self.wrapper, *names] if self.wrapper else names


Part = Column | Marker | Nested | Empty


@dataclass(frozen=True)
class RecordType:
    tag: str  # the record's element: <user>
    model: type[Model]
    parts: tuple[Part, ...]
    custom_fields: str | None = None  # customfields.RecordType of its custom fields
    root: str | None = None  # the feed's root: <user-data time="…">
    site_column: str = "site_id"
    modified_column: str = "modified_at"  # what `since` compares (a column or an annotation)
    # Columns computed from others (a session's timesOffered, capacity): name → expression,
    # annotated on the record's queryset (feed and one record alike) before `since` applies,
    # so that `modified_column` and the Columns may name them.
    annotations: Callable[[], dict[str, Any]] | None = None
    # The record type whose custom fields may not take this record's element names: its own
    # custom fields' type, or that of the records it goes with (a session's speakers).
    reserves_for: str | None = None
    # Records by primary key, descending (a user's messages, newest first); else ascending.
    newest_first: bool = False
    read_columns: tuple[Column, ...] = field(init=False, default=())
    nested: tuple[Nested, ...] = field(init=False, default=())  # the parts that are lists

    def __post_init__(self) -> None:
        columns = tuple(p for p in self.parts if isinstance(p, Column) and not p.optional)
        object.__setattr__(self, "read_columns", columns)
        object.__setattr__(self, "nested", tuple(p for p in self.parts if isinstance(p, Nested)))
        if reserved_for := self.reserves_for or self.custom_fields:
            # A custom field's element may not take the name of a standard one (§7).
            reserve(reserved_for, codes=(), elements=self.element_names())

    def annotated(self, queryset: QuerySet) -> QuerySet:
        return queryset.annotate(**self.annotations()) if self.annotations else queryset

    def element_names(self) -> list[str]:
        names = [self.tag, *([self.root] if self.root else [])]
        for part in self.parts:
            if isinstance(part, Column) and part.element:
                names.append(part.element)
            elif isinstance(part, Nested):
                names += part.element_names
            elif isinstance(part, Empty):
                names.append(part.element)
            elif part is EVENT_GUID:
                names.append("eventGUID")
            elif part is CONSTRAINTS:
                names += CONSTRAINT_NAMES
        return names
