"""Writing records as XML (lxml elements) and JSON (dicts), from the rows of reading.py.

This is the hot path of the biggest feeds, so a record is a copy of a per-site template — one
element per column, per custom field of the site, per constraint and per wrapper, all empty —
whose texts are filled in; elements are added only for what varies: further values of a
constraint or of a multichoice field, the children of nested lists, optional columns. One
renderer serves a feed and a single record (getUser.do), so both always show the same record.
"""

import datetime as dt
import itertools
import logging
import operator
from collections import defaultdict
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from lxml import etree

from confero.api.records.declaration import (
    BOOL,
    CONSTRAINT_NAMES,
    CONSTRAINTS,
    CUSTOM_FIELDS,
    EVENT_GUID,
    TEXT,
    Column,
    Empty,
    Nested,
    RecordType,
)
from confero.api.records.reading import Chunk
from confero.customfields.models import FieldType
from confero.customfields.services import fields_for
from confero.events.models import Site
from confero.xmltext import writable

log = logging.getLogger("confero.api")

_RANK = {name: rank for rank, name in enumerate(CONSTRAINT_NAMES)}
_RECORD_ID = operator.itemgetter(0)


def _rank(pair: tuple[str, int]) -> int:
    return _RANK[pair[0]]


def timestamp(value: Any) -> str | None:
    """ISO 8601 UTC to the second, from the text the database gives ('YYYY-MM-DD HH:MM:SS…';
    Django sets the session's time zone to UTC) or a datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        return f"{value[:10]}T{value[11:19]}Z"
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(dt.UTC)
    return value.isoformat(timespec="seconds")[:19] + "Z"


def _money_text(value: Any) -> str:
    """Two decimal places. PostgreSQL's text of a numeric(10, 2) already has them; SQLite's is
    its number's shortest form ("350", "19.5", "124.0"), completed here. Anything else (a
    Decimal, a float, an exponent) goes through Decimal."""
    if isinstance(value, str):
        whole, point, fraction = value.partition(".")
        if whole.lstrip("-").isdigit() and (fraction.isdigit() or not point):
            if len(fraction) == 2:
                return value
            if len(fraction) == 1:
                return value + "0"
            if not point:
                return value + ".00"
    return f"{Decimal(str(value)):.2f}"


# How each kind of value is written as text (its JSON value is the same, but for booleans and
# whole numbers); None is an empty element.
TEXT_OF = {
    BOOL: lambda v: "true" if v else "false",
    "time": timestamp,
    "date": lambda v: str(v)[:10],
    "hhmm": lambda v: str(v)[:5],
    "int": str,
    "money": _money_text,
}
JSON_OF = {**TEXT_OF, BOOL: bool, "int": int}


class Record:
    """One record, rendered on demand (the record protocol of confero.api.render: tag, many,
    xml(), json())."""

    __slots__ = ("answers", "extra", "nested", "renderer", "row")
    many = True

    def __init__(self, renderer: "Renderer", row: tuple, answers: list, nested: list, extra=None):
        self.renderer, self.row, self.answers, self.nested = renderer, row, answers, nested
        self.extra = extra  # values of optional columns, by element

    @property
    def tag(self) -> str:
        return self.renderer.record_type.tag

    def xml(self) -> etree._Element:
        return self.renderer.xml(self)

    def json(self) -> dict[str, Any]:
        return self.renderer.json(self)


class _Template:
    """A site's empty record, and where each value goes."""

    def __init__(self, renderer: "Renderer", site_id: int):
        record_type = renderer.record_type
        self.element = etree.Element(record_type.tag)
        self.text_slots: list[tuple[int, int]] = []  # (child position, row index)
        self.kind_slots: list[tuple[int, int, Any]] = []  # (…, …, how to write it)
        self.guid_slot: int | None = None
        self.fields: dict[int, tuple[int, str]] = {}  # field id → (child position, element)
        # constraint name → position of its element: always there, empty when none is held
        self.constraints: dict[str, int] = {}
        self.wrappers: list[int | None] = []  # per Nested: its wrapper's position, or None
        # Where what varies goes: (part, the position of the template child it comes before or
        # None: at the end, the index of a Nested), in the order of the declaration.
        self.groups: list[tuple[Any, int | None, int | None]] = []
        index = 2  # row: (id, site id, *read columns)
        waiting: list[Any] = []
        for part in record_type.parts:
            if isinstance(part, Column) and not part.optional:
                position = self._add(part.element, waiting)
                if part.kind == TEXT:
                    self.text_slots.append((position, index))
                else:
                    self.kind_slots.append((position, index, TEXT_OF[part.kind]))
                index += 1
            elif part is EVENT_GUID:
                self.guid_slot = self._add("eventGUID", waiting)
            elif isinstance(part, Empty):
                self._add(part.element, waiting)
            elif part is CONSTRAINTS:
                for name in CONSTRAINT_NAMES:
                    self.constraints[name] = self._add(name, waiting)
            elif part is CUSTOM_FIELDS:
                for field_id, name, _ in renderer.site_fields.get(site_id, ()):
                    self.fields[field_id] = (self._add(name, waiting), name)
            elif isinstance(part, Nested) and part.wrapper:
                self.wrappers.append(self._add(part.wrapper, waiting))
            else:  # optional columns, nested lists without a wrapper
                nested_index = None
                if isinstance(part, Nested):
                    nested_index = len(self.wrappers)
                    self.wrappers.append(None)
                waiting.append((part, nested_index))
        self.groups += [(part, None, n) for part, n in waiting]

    def _add(self, name: str, waiting: list) -> int:
        position = len(self.element)
        self.groups += [(part, position, n) for part, n in waiting]
        waiting.clear()
        etree.SubElement(self.element, name)
        return position


class Renderer:
    """What the records of some sites share: event GUIDs, each site's custom fields, templates."""

    def __init__(self, record_type: RecordType, sites: Sequence[Site]):
        self.record_type = record_type
        self.guids = {site.pk: site.event.guid_text for site in sites}
        # site id → [(field id, element name, is multichoice)] in configuration order
        self.site_fields: dict[int, list[tuple[int, str, bool]]] = defaultdict(list)
        self.values: dict[int, tuple[str, str, bool]] = {}  # value id → (code, constraint, other)
        if record_type.custom_fields:
            for f in fields_for(sites, record_type.custom_fields):
                many = f.field_type == FieldType.MULTICHOICE
                self.site_fields[f.site_id].append((f.pk, f.element_name, many))
                for v in f.values.all():
                    self.values[v.pk] = (v.code, v.constraint, v.is_other)
        self.templates = {site.pk: _Template(self, site.pk) for site in sites}
        self.children = [_ChildTemplate(nested) for nested in record_type.nested]
        self.label = 2  # the row index that names a record in the log: its first column

    def records(self, chunks: Iterator[Chunk]) -> Iterator[Record]:
        """The records of the chunks, each with its custom values and nested rows: those come
        sorted by record, so each record's are the next run of rows."""
        for chunk in chunks:
            descending = self.record_type.newest_first
            answers = _runs(chunk.answers, descending=descending)
            nested = [_runs(rows, descending=descending) for rows in chunk.nested]
            for row in chunk.rows:
                record_id = row[0]
                yield Record(
                    self,
                    row,
                    answers.take(record_id),
                    [runs.take(record_id) for runs in nested],
                )

    # --- XML ----------------------------------------------------------------------------

    def xml(self, record: Record) -> etree._Element:
        try:
            return self._xml(record.row, record.answers, record.nested, record.extra)
        except ValueError:  # lxml refuses a character XML cannot carry
            pass
        # Stored by another way than the API, which refuses such characters: one record must not
        # break the feed of every record after it. Sent as U+FFFD, and logged.
        log.warning(
            "%s %s holds a character XML cannot carry; sent as U+FFFD",
            self.record_type.tag,
            record.row[self.label],
        )
        row = tuple(writable(value) for value in record.row)
        answers = [(*answer[:3], writable(answer[3])) for answer in record.answers]
        nested = [[tuple(map(writable, r)) for r in rows] for rows in record.nested]
        return self._xml(row, answers, nested, record.extra)

    def _xml(self, row: tuple, answers: list, nested: list, extra) -> etree._Element:
        template = self.templates[row[1]]
        element = template.element.__copy__()  # lxml's copy is deep
        children = element.getchildren()
        if template.guid_slot is not None:
            children[template.guid_slot].text = self.guids[row[1]]
        for position, index in template.text_slots:  # template children start empty
            if value := row[index]:
                children[position].text = value
        for position, index, text_of in template.kind_slots:
            if (value := row[index]) is not None:
                children[position].text = text_of(value)
        self._fill_constraints(template, children, self._fill_fields(template, children, answers))
        for child, position, rows in zip(self.children, template.wrappers, nested, strict=True):
            if position is not None:
                wrapper = children[position]
                for row in rows:
                    wrapper.append(child.xml(row))
        for part, before, index in template.groups:
            if isinstance(part, Nested):
                added = [self.children[index].xml(row) for row in nested[index]]
            else:
                added = self._optional(part, extra)
            for child in added:
                if before is None:
                    element.append(child)
                else:
                    children[before].addprevious(child)
        return element

    def _fill_fields(self, template: _Template, children: list, answers: list) -> list:
        """Writes the custom values; the (constraint, value id) pairs held, in §7's order."""
        values = self.values
        last: dict[int, etree._Element] = {}  # the field's element written last
        constraints = []
        for _, field_id, value_id, text in answers:
            slot = template.fields.get(field_id)
            if value_id is not None and value_id not in values:
                # A value added to the field after this feed read the definitions, set since:
                # the record's last-modified moved after the feed's time, the next feed has it.
                continue
            if value_id is not None and values[value_id][1]:
                constraints.append((values[value_id][1], value_id))
            if slot is None:
                continue
            previous = last.get(field_id)
            if previous is None:
                target = children[slot[0]]
            else:  # a further multichoice value: one more element right after the previous one
                target = etree.Element(slot[1])
                previous.addnext(target)
            last[field_id] = target
            if value_id is None:
                target.text = text or None
                continue
            code, _, is_other = values[value_id]
            target.text = code
            if is_other and text:
                target.set("other", text)
        constraints.sort(key=_rank)
        return constraints

    @staticmethod
    def _fill_constraints(template: _Template, children: list, constraints: list) -> None:
        """The constraint elements: each is always there (contract §8.2, "empty when the user
        holds none"), repeated per value held, in §7's order."""
        last: dict[str, etree._Element] = {}
        for name, value_id in constraints:
            previous = last.get(name)
            if previous is None:
                target = children[template.constraints[name]]
            else:
                target = etree.Element(name)
                previous.addnext(target)
            target.text = str(value_id)
            last[name] = target

    def _optional(self, part, extra: dict | None) -> list:
        """The element of an optional column, when the caller gave its value."""
        if isinstance(part, Column):
            value = (extra or {}).get(part.element)
            if value is None:
                return []
            element = etree.Element(part.element)
            element.text = value if part.kind == TEXT else TEXT_OF[part.kind](value)
            return [element]
        raise AssertionError(f"not a varying part: {part}")

    # --- JSON ---------------------------------------------------------------------------

    def json(self, record: Record) -> dict[str, Any]:
        row, extra = record.row, record.extra or {}
        out: dict[str, Any] = {}
        index = 2
        lists = iter(record.nested)
        for part in self.record_type.parts:  # in the declaration's order, as the XML
            if isinstance(part, Column):
                if part.optional:
                    if extra.get(part.element) is not None:
                        out[part.element] = extra[part.element]
                    continue
                value = row[index]
                index += 1
                out[part.element] = (
                    value if part.kind == TEXT or value is None else JSON_OF[part.kind](value)
                )
            elif part is EVENT_GUID:
                out["eventGUID"] = self.guids[row[1]]
            elif isinstance(part, Empty):
                out[part.element] = None  # an empty element (§6; docs/api.md, format=json)
            elif part is CONSTRAINTS:
                for name in CONSTRAINT_NAMES:
                    out[name] = []
                for name, value_id in self._json_constraints(record.answers):
                    out[name].append(value_id)
            elif part is CUSTOM_FIELDS:
                self._json_fields(out, row[1], record.answers)
            elif isinstance(part, Nested):
                children = [_json_child(part, r) for r in next(lists)]
                out[part.wrapper or part.child] = (
                    ({part.child: children} if children else {}) if part.wrapper else children
                )
        return out

    def _json_constraints(self, answers: list) -> list[tuple[str, int]]:
        values = self.values
        held = [
            (values[value_id][1], value_id)
            for _, _, value_id, _ in answers
            if value_id in values and values[value_id][1]
        ]
        return sorted(held, key=_rank)

    def _json_fields(self, out: dict, site_id: int, answers: list) -> None:
        values = self.values
        by_field: dict[int, list] = {}
        for _, field_id, value_id, text in answers:
            if value_id is None or value_id in values:
                by_field.setdefault(field_id, []).append((value_id, text))
        for field_id, name, many in self.site_fields.get(site_id, ()):
            held = [
                _json_value(values, value_id, text) for value_id, text in by_field.get(field_id, ())
            ]
            if many:
                out[name] = held
            else:
                out[name] = held[0] if held else None


def _json_value(values, value_id, text):
    if value_id is None:
        return text
    code, _, is_other = values[value_id]
    return {"other": text, "value": code} if is_other and text else code


class _ChildTemplate:
    """A nested list's empty child (`<orderItem>` with one empty element per column), copied and
    filled per row, as records are from their template: the hot path of a feed whose records
    carry lists (an order's items)."""

    def __init__(self, nested: Nested):
        self.element = etree.Element(nested.child)
        self.columns = nested.columns
        self.single = len(self.columns) == 1 and self.columns[0].element is None
        if not self.single:
            for column in self.columns:
                etree.SubElement(self.element, column.element)
        # How each column is written: None for text as stored.
        self.writers = [None if c.kind == TEXT else TEXT_OF[c.kind] for c in self.columns]

    def xml(self, row: tuple) -> etree._Element:
        child = self.element.__copy__()  # lxml's copy is deep
        if self.single:
            child.text = _text(self.columns[0], row[1])
            return child
        for element, value, write in zip(child, row[1:], self.writers, strict=True):
            if value is None or value == "":
                continue  # template children start empty
            element.text = value if write is None else write(value)
        return child


def _text(column: Column, value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if column.kind == TEXT else TEXT_OF[column.kind](value)


def _json_child(nested: Nested, row: tuple) -> Any:
    columns = nested.columns
    if len(columns) == 1 and columns[0].element is None:
        value = row[1]
        return (
            value if columns[0].kind == TEXT or value is None else JSON_OF[columns[0].kind](value)
        )
    return {
        c.element: (v if c.kind == TEXT or v is None else JSON_OF[c.kind](v))
        for c, v in zip(columns, row[1:], strict=True)
    }


class _runs:
    """Rows sorted by record id, handed out a record at a time: `take(id)` gives the rows of
    record `id` (records come in the feed's order, ascending or `descending`; rows of records not
    asked for are skipped)."""

    def __init__(self, rows: list[tuple], *, descending: bool = False):
        self.groups = itertools.groupby(rows, _RECORD_ID)
        self.current = next(self.groups, None)
        self.comes_before = operator.gt if descending else operator.lt

    def take(self, record_id: int) -> list[tuple]:
        while self.current is not None and self.comes_before(self.current[0], record_id):
            self.current = next(self.groups, None)
        if self.current is not None and self.current[0] == record_id:
            rows = list(self.current[1])
            self.current = next(self.groups, None)
            return rows
        return []
