"""The `<user>` record of userData.do and getUser.do (contract §8.2).

This is the hot path of the biggest feed, so records are built straight into lxml elements (a
copy of a prepared template whose texts are filled in) and into dicts for JSON, from raw rows:
no model instances, no per-element intermediate objects. One renderer serves the feed and
getUser, so both always show the same record.
"""

import copy
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection
from lxml import etree

from confero.api.feeds import CHUNK
from confero.customfields.models import Answer, CustomField, FieldType, RecordType
from confero.customfields.services import fields_for
from confero.events.models import Site
from confero.people.models import CONTACT_FIELDS, User

# Raw columns, in this order, for every user row.
COLUMNS = (
    "id",
    "site_id",
    "user_key",
    "user_ref",
    *CONTACT_FIELDS.values(),
    "client_id",
    "public_bio",
    "registered",
    "paid",
    "status",
    "created_at",
    "modified_at",
    "badge_id",
)
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
    ("create-date", _I["created_at"], "time"),
    ("last-modified-date", _I["modified_at"], "time"),
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
_TEMPLATE = etree.Element("user")
etree.SubElement(_TEMPLATE, "eventGUID")
for _name, _, _ in _FIXED:
    etree.SubElement(_TEMPLATE, _name)


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


Answers = list[tuple[int, int | None, str]]  # (field_id, value_id, text)


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

    def _custom(
        self, site_id: int, answers: Answers
    ) -> Iterator[tuple[str, Any, dict | None, bool]]:
        """(element, text, attributes, repeats): the constraint elements first, then every custom
        field of the site in configuration order. A field without a value is one empty element
        (absent values are empty elements, contract §6); text None marks it."""
        values = self.values
        by_field: dict[int, list[tuple[int | None, str]]] = {}
        for field_id, value_id, text in answers:
            by_field.setdefault(field_id, []).append((value_id, text))
            if value_id is not None and values[value_id][1]:
                yield values[value_id][1], value_id, None, True
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
        row = record.row
        element = copy.deepcopy(_TEMPLATE)
        children = element.getchildren()
        children[0].text = self.guids[row[1]]
        for position, index in _TEXT_SLOTS:  # template children start empty
            if value := row[index]:
                children[position].text = value
        for position, index in _BOOL_SLOTS:
            children[position].text = "true" if row[index] else "false"
        for position, index in _TIME_SLOTS:
            children[position].text = _timestamp(row[index])
        if record.user_key:
            key = etree.Element("userKey")
            key.text = record.user_key
            element.insert(1, key)
        sub = etree.SubElement
        for name, text, attrs, _ in self._custom(row[1], record.answers):
            sub(element, name, attrs).text = None if text is None else str(text)
        sub(element, "schedule")
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


def answers_by_user(user_ids: Sequence[int]) -> dict[int, Answers]:
    out: dict[int, Answers] = defaultdict(list)
    if user_ids:
        queryset = Answer.objects.filter(record_type=RecordType.USER, record_id__in=user_ids)
        rows = _raw_rows(
            queryset.order_by("id").values_list("record_id", "field_id", "value_id", "text")
        )
        for record_id, field_id, value_id, text in rows:
            out[record_id].append((field_id, value_id, text))
    return out


def user_records(queryset, sites: Sequence[Site]) -> Iterator[UserRecord]:
    """Keyset pagination by primary key, CHUNK users and their custom values per step: two
    queries a chunk, memory flat whatever the number of users (see confero.api.feeds)."""
    renderer = UserRenderer(sites)
    queryset = queryset.values_list(*COLUMNS).order_by("pk")
    last = 0
    while True:
        rows = _raw_rows(queryset.filter(pk__gt=last)[:CHUNK])
        if not rows:
            return
        answers = answers_by_user([row[0] for row in rows])
        for row in rows:
            yield UserRecord(renderer, row, answers.get(row[0], []))
        if len(rows) < CHUNK:
            return
        last = rows[-1][0]


def one_user(user: User, *, with_user_key: bool) -> UserRecord:
    site = user.site
    row = _raw_rows(User.objects.filter(pk=user.pk).values_list(*COLUMNS))[0]
    return UserRecord(
        UserRenderer([site]),
        row,
        answers_by_user([user.pk]).get(user.pk, []),
        user_key=user.user_key if with_user_key else None,
    )
