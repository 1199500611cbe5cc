"""The `<user>` record of userData.do and getUser.do (contract §8.2).

This is the hot path of the biggest feed, so records are built straight into lxml elements (a
copy of a prepared template whose texts are filled in) and into dicts for JSON, from raw rows:
no model instances, no per-element intermediate objects. One renderer serves the feed and
getUser, so both always show the same record.
"""

import contextlib
import copy
import datetime as dt
import itertools
import logging
import operator
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.models import CharField
from django.db.models.functions import Cast
from lxml import etree

from confero.api.feeds import CHUNK
from confero.customfields.models import Answer, CustomField, FieldType, RecordType
from confero.customfields.services import fields_for
from confero.events.models import Site
from confero.people.models import CONTACT_FIELDS, User
from confero.xmltext import writable

log = logging.getLogger("confero.api")

# Raw columns, in this order, for every user row.
COLUMNS = (
    "id",
    "site_id",
    "user_ref",
    *CONTACT_FIELDS.values(),
    "client_id",
    "public_bio",
    "registered",
    "paid",
    "status",
    "created_text",  # created_at and modified_at as UTC text, see _user_rows
    "modified_text",
    "badge_id",
)
_RECORD_ID = operator.itemgetter(0)  # of an answer row
_I = {name: index for index, name in enumerate(COLUMNS)}
# The fixed elements after eventGUID: (element, column index, kind).
_FIXED = (
    ("userRef", _I["user_ref"], "text"),
    *((name, _I[column], "text") for name, column in CONTACT_FIELDS.items()),
    ("externalRef", _I["client_id"], "text"),
    ("publicBio", _I["public_bio"], "text"),
    ("registered", _I["registered"], "bool"),
    ("paid", _I["paid"], "bool"),
    ("status", _I["status"], "text"),
    ("create-date", _I["created_text"], "time"),
    ("last-modified-date", _I["modified_text"], "time"),
    ("badgeID", _I["badge_id"], "text"),
)
# (position among the template's children, row index), per kind of value.
_TEXT_SLOTS = tuple(
    (pos + 1, index) for pos, (_, index, kind) in enumerate(_FIXED) if kind == "text"
)
_BOOL_SLOTS = tuple(
    (pos + 1, index) for pos, (_, index, kind) in enumerate(_FIXED) if kind == "bool"
)
_TIME_SLOTS = tuple(
    (pos + 1, index) for pos, (_, index, kind) in enumerate(_FIXED) if kind == "time"
)
_BADGE_POSITION = len(_FIXED)  # <badgeID>, the last fixed element (after <eventGUID>)
_TEMPLATE = etree.Element("user")
etree.SubElement(_TEMPLATE, "eventGUID")
for _name, _, _ in _FIXED:
    etree.SubElement(_TEMPLATE, _name)

# The constraint elements after <badgeID>: grouped in the order of contract §7, each group in the
# order its values were set. Key of a (constraint, value id) pair; sorting is stable.
_CONSTRAINT_ORDER = {
    name: rank
    for rank, name in enumerate(
        ("publicViewPrivateSchedule", "privateViewPrivateSchedule", "cannotViewOrSchedule")
    )
}


def _constraint_rank(pair: tuple[str, int]) -> int:
    return _CONSTRAINT_ORDER[pair[0]]


def _timestamp(value: Any) -> str | None:
    """ISO 8601 UTC to the second. Drivers return datetimes (aware on PostgreSQL, naive UTC from
    Django's SQLite converter); isoformat() is several times faster than strftime()."""
    if value is None:
        return None
    if isinstance(value, str):  # a driver without converters: 'YYYY-MM-DD HH:MM:SS[.ffffff]'
        return f"{value[:10]}T{value[11:19]}Z"
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(dt.UTC)
    return value.isoformat(timespec="seconds")[:19] + "Z"


Answers = list[tuple[int, int, int | None, str]]  # (user id, field_id, value_id, text)


class UserRecord:
    """One user, rendered on demand as XML or JSON (the record protocol of confero.api.render)."""

    __slots__ = ("answers", "renderer", "row", "user_key")
    tag = "user"
    many = True

    def __init__(self, renderer: "UserRenderer", row: tuple, answers: Answers, *, user_key=None):
        self.renderer, self.row, self.answers, self.user_key = renderer, row, answers, user_key

    def xml(self) -> etree._Element:
        return self.renderer.xml(self)

    def json(self) -> dict[str, Any]:
        return self.renderer.json(self)


class UserRenderer:
    """What the records of some sites share: event GUIDs and each site's custom fields."""

    def __init__(self, sites: Sequence[Site]):
        self.guids = {site.pk: site.event.guid_text for site in sites}
        fields: list[CustomField] = fields_for(sites, RecordType.USER)
        # site_id → [(field_id, element name, is multichoice)] in configuration order
        self.site_fields: dict[int, list[tuple[int, str, bool]]] = defaultdict(list)
        for f in fields:
            self.site_fields[f.site_id].append(
                (f.pk, f.element_name, f.field_type == FieldType.MULTICHOICE)
            )
        # value_id → (code, constraint, is other)
        self.values = {
            v.pk: (v.code, v.constraint, v.is_other) for f in fields for v in f.values.all()
        }
        # Per site, a template with one (empty) element per custom field and <schedule>; a
        # record copies it and fills texts in, adding elements only for extra multichoice values.
        self.templates: dict[int, tuple[etree._Element, dict[int, tuple[int, str]]]] = {}
        for site in sites:
            template = copy.deepcopy(_TEMPLATE)
            positions = {}
            for field_id, name, _ in self.site_fields.get(site.pk, ()):
                positions[field_id] = (len(template), name)
                etree.SubElement(template, name)
            etree.SubElement(template, "schedule")
            self.templates[site.pk] = (template, positions)

    def _custom(
        self, site_id: int, answers: Answers
    ) -> Iterator[tuple[str, Any, dict | None, bool]]:
        """(element, text, attributes, repeats): the constraint elements first, then every custom
        field of the site in configuration order. A field without a value is one empty element
        (absent values are empty elements, contract §6); text None marks it."""
        values = self.values
        by_field: dict[int, list[tuple[int | None, str]]] = {}
        constraints = []
        for _, field_id, value_id, text in answers:
            if value_id is not None and value_id not in values:
                continue  # defined after this feed began (see xml())
            by_field.setdefault(field_id, []).append((value_id, text))
            if value_id is not None and values[value_id][1]:
                constraints.append((values[value_id][1], value_id))
        for constraint, value_id in sorted(constraints, key=_constraint_rank):
            yield constraint, value_id, None, True
        for field_id, name, many in self.site_fields.get(site_id, ()):
            held = by_field.get(field_id)
            if not held:
                yield name, None, None, many
                continue
            for value_id, text in held:
                if value_id is None:
                    yield name, text, None, many
                else:
                    code, _, is_other = values[value_id]
                    yield name, code, ({"other": text} if is_other and text else None), many

    def xml(self, record: UserRecord) -> etree._Element:
        try:
            return self._xml(record.row, record.answers, record.user_key)
        except ValueError:  # lxml refuses a character XML cannot carry
            pass
        # Stored by another way than the API, which refuses such characters: one record must not
        # break the feed of every record after it. Sent as U+FFFD, and logged.
        log.warning(
            "user %s holds a character XML cannot carry; sent as U+FFFD", record.row[_I["user_ref"]]
        )
        row = tuple(writable(value) for value in record.row)
        answers = [(*answer[:3], writable(answer[3])) for answer in record.answers]
        return self._xml(row, answers, record.user_key)

    def _xml(self, row: tuple, answers: Answers, user_key: str | None) -> etree._Element:
        template, positions = self.templates[row[1]]
        element = template.__copy__()  # lxml's copy is deep; copy.deepcopy() adds only its memo
        children = element.getchildren()
        children[0].text = self.guids[row[1]]
        for position, index in _TEXT_SLOTS:  # template children start empty
            if value := row[index]:
                children[position].text = value
        for position, index in _BOOL_SLOTS:
            children[position].text = "true" if row[index] else "false"
        for position, index in _TIME_SLOTS:
            children[position].text = _timestamp(row[index])
        values = self.values
        last: dict[int, etree._Element] = {}  # the field's element written last
        constraints = []
        for _, field_id, value_id, text in answers:
            slot = positions.get(field_id)
            if slot is None:
                continue
            if value_id is not None and value_id not in values:
                # A value added to the field after this feed read the definitions, set since:
                # the user's last-modified moved after the feed's time, the next feed has it.
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
            code, constraint, is_other = values[value_id]
            target.text = code
            if is_other and text:
                target.set("other", text)
            if constraint:
                constraints.append((constraint, value_id))
        anchor = children[_BADGE_POSITION]
        constraints.sort(key=_constraint_rank)
        for constraint, value_id in reversed(constraints):  # right after <badgeID>, in order
            held = etree.Element(constraint)
            held.text = str(value_id)
            anchor.addnext(held)
        if user_key:
            key = etree.Element("userKey")
            key.text = user_key
            element.insert(1, key)
        return element

    def json(self, record: UserRecord) -> dict[str, Any]:
        row = record.row
        out: dict[str, Any] = {"eventGUID": self.guids[row[1]]}
        if record.user_key:
            out["userKey"] = record.user_key
        for name, index, kind in _FIXED:
            value = row[index]
            if kind == "bool":
                out[name] = bool(value)
            elif kind == "time":
                out[name] = _timestamp(value)
            else:
                out[name] = value
        for name, text, attrs, many in self._custom(row[1], record.answers):
            if not many:
                out[name] = {**attrs, "value": text} if attrs else text
            elif text is None:
                out.setdefault(name, [])  # a multichoice field without values: []
            else:
                out.setdefault(name, []).append({**attrs, "value": text} if attrs else text)
        out["schedule"] = {}
        return out


def _raw_rows(queryset) -> list[tuple]:
    """The rows of a values_list queryset as the driver returns them (no Django converters)."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _user_rows(queryset):
    """Timestamps come as UTC text ('YYYY-MM-DD HH:MM:SS…', both databases: Django sets the
    session time zone to UTC), which skips parsing them into datetimes only to format them."""
    return queryset.annotate(
        created_text=Cast("created_at", CharField()), modified_text=Cast("modified_at", CharField())
    ).values_list(*COLUMNS)


def _answer_rows(user_ids: Sequence[int]) -> list[tuple]:
    """(user id, field_id, value_id, text) of these users (ascending ids), sorted by user, in the
    order set. Dense ids are read as one index range (two parameters instead of a thousand);
    the range may bring values of users not asked for, which the caller skips."""
    if not user_ids:
        return []
    queryset = Answer.objects.filter(record_type=RecordType.USER)
    first, last = user_ids[0], user_ids[-1]
    if last - first < 2 * len(user_ids):
        queryset = queryset.filter(record_id__gte=first, record_id__lte=last)
    else:
        queryset = queryset.filter(record_id__in=user_ids)
    columns = ("record_id", "field_id", "value_id", "text")
    return _raw_rows(queryset.order_by("record_id", "id").values_list(*columns))


def _chunks(queryset) -> Iterator[tuple[list[tuple], list[tuple]]]:
    """Keyset pagination by primary key: CHUNK users and their custom values per step."""
    queryset = _user_rows(queryset).order_by("pk")
    rows = _raw_rows(queryset[:CHUNK])
    if not rows:
        return
    first = rows, _answer_rows([row[0] for row in rows])
    ahead = None
    if (
        len(rows) == CHUNK
        and connection.vendor == "postgresql"
        and settings.CONFERO_FEED_READ_AHEAD
        and not connection.in_atomic_block
    ):
        ahead = _ReadAhead.start(queryset, rows[-1][0])
    if ahead is not None:
        with contextlib.closing(ahead):
            yield first
            yield from ahead.chunks()
        return
    yield first
    while len(rows) == CHUNK:
        rows = _raw_rows(queryset.filter(pk__gt=rows[-1][0])[:CHUNK])
        if not rows:
            return
        yield rows, _answer_rows([row[0] for row in rows])


class _ReadAhead:
    """The chunks after the first on PostgreSQL: each chunk is sent as soon as the previous
    chunk's users are known, so the database reads it while the worker renders the previous one
    (before, each waited for the other: decision 0011).

    On a connection of the feed's own, in pipeline mode, closed at the end: the queries stay in
    flight while the records stream, and nothing else may use a connection meanwhile (a caller
    could run other queries in this thread). A chunk is its own read-only REPEATABLE READ
    transaction: its custom values are read by a subquery on its users (the ids are not known
    when it is sent), which must find the very users the first query returned. Each chunk is
    read after the feed's watermark, as before (decision 0005)."""

    def __init__(self, queryset, own) -> None:
        self.queryset, self.own = queryset, own
        self.closing = contextlib.ExitStack()
        self.closing.callback(own.close)
        self.pending: tuple | None = None

    @classmethod
    def start(cls, queryset, last: int) -> "_ReadAhead | None":
        """Opens the connection and sends the second chunk; None (the feed then reads chunk by
        chunk on the call's connection) when that fails: no connection left, no pipeline
        mode in the client library."""
        ahead = cls(queryset, connections.create_connection(connection.alias))
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
        users = self.queryset.filter(pk__gt=after)[:CHUNK]
        values = (
            Answer.objects.filter(record_type=RecordType.USER, record_id__in=users.values("pk"))
            .order_by("record_id", "id")
            .values_list("record_id", "field_id", "value_id", "text")
        )
        psycopg.Cursor(driver).execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursors = (psycopg.Cursor(driver), psycopg.Cursor(driver))
        for cursor, query in zip(cursors, (users, values), strict=True):
            cursor.execute(*query.query.get_compiler(using=query.db).as_sql())
        psycopg.Cursor(driver).execute("COMMIT")
        return cursors

    def chunks(self) -> Iterator[tuple[list[tuple], list[tuple]]]:
        while self.pending is not None:
            users, values = self.pending
            rows = users.fetchall()
            self.pending = self._send(rows[-1][0]) if len(rows) == CHUNK else None
            answers = values.fetchall()
            if rows:
                yield rows, answers

    def close(self) -> None:
        self.closing.close()


def user_records(queryset, sites: Sequence[Site]) -> Iterator[UserRecord]:
    """The users in chunks: memory flat whatever the number of users. Users and their values
    come sorted by user, so each user's values are the next run of rows."""
    renderer = UserRenderer(sites)
    with contextlib.closing(_chunks(queryset)) as chunks:
        for rows, answers in chunks:
            runs = itertools.groupby(answers, _RECORD_ID)  # one step per user, not per value
            run = next(runs, None)
            for row in rows:
                while run is not None and run[0] < row[0]:
                    run = next(runs, None)  # values of a user in the id range not in this feed
                if run is not None and run[0] == row[0]:
                    yield UserRecord(renderer, row, list(run[1]))
                    run = next(runs, None)
                else:
                    yield UserRecord(renderer, row, [])


def one_user(user: User, *, with_user_key: bool) -> UserRecord:
    site = user.site
    row = _raw_rows(_user_rows(User.objects.filter(pk=user.pk)))[0]
    return UserRecord(
        UserRenderer([site]),
        row,
        _answer_rows([user.pk]),
        user_key=user.user_key if with_user_key else None,
    )
