"""Everything the pipeline needs to admit a call, in one query: the site of the URL with its event
and API profile, and the token presented (looked up by digest, whatever site it belongs to).

One hand-written SELECT, because it runs on every call that the admissions kept in memory
(confero.access.gatecache) do not answer: the ORM's version took two joined queries, and
building them cost more than running them (decision 0007). Its row becomes ordinary model
instances through `Model.from_db`, as the ORM's own rows do.

It is the first statement of a call and only reads, so it is also where a connection the
database dropped (a restart, a failover) is noticed: `reconnecting` closes it and asks again. API
calls skip Django's per-request `SELECT 1` health check for that reason (api/middleware.py).
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.db import DatabaseError, InterfaceError, OperationalError, connection

from confero.access import gatecache
from confero.access.models import ApiProfile, ApiToken
from confero.events.models import Event, Site

T = TypeVar("T")


_MODELS = (Event, Site, ApiProfile, ApiToken)


def _columns(model) -> list[str]:
    return [field.column for field in model._meta.concrete_fields]


_EVENT, _SITE, _PROFILE, _TOKEN = (_columns(model) for model in _MODELS)
# Table and column names come from the models, values are parameters.
_SQL = (
    "SELECT "  # noqa: S608
    + ", ".join(
        [f"e.{c}" for c in _EVENT]
        + [f"s.{c}" for c in _SITE]
        + [f"p.{c}" for c in _PROFILE]
        + [f"t.{c}" for c in _TOKEN]
    )
    + f" FROM {Event._meta.db_table} e"
    f" JOIN {Site._meta.db_table} s ON s.event_id = e.id AND s.environment = %s"
    f" JOIN {ApiProfile._meta.db_table} p ON p.site_id = s.id"
    f" LEFT JOIN {ApiToken._meta.db_table} t ON t.token_hash = %s"
    " WHERE e.code = %s"
)


@dataclass
class Gate:
    site: Site
    profile: ApiProfile
    token: ApiToken | None  # the token presented, of whatever site; None when unknown


def load_gate(*, code: str, environment: str, token_hash: str | None) -> Gate | None:
    """None when no event has this code (the caller treats it as an empty allow-list). An
    admission is answered from memory when this process made it a moment ago (decision 0012)."""
    key = (code, environment, token_hash)
    ticket = gatecache.begin() if token_hash else None
    if ticket is not None and (row := gatecache.get(key, ticket)) is not None:
        return _gate(row)
    row = reconnecting(lambda: _fetch(environment, token_hash, code))
    if row is None:
        return None
    gate = _gate(row)
    if ticket is not None and admits(gate):
        gatecache.put(key, row, ticket)
    return gate


def _fetch(environment: str, token_hash: str | None, code: str) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(_SQL, [environment, token_hash, code])
        return cursor.fetchone()


def _converters() -> list[tuple[int, list, object]]:
    """What the ORM does to a column's raw value on this database (a UUID from SQLite's text,
    an aware datetime, JSON parsed): (position in the row, converters, column), for the
    columns that need it. The database's own converters first, then the field's."""
    vendor = connection.vendor
    if vendor not in _CONVERTERS:
        found, position = [], 0
        for model in _MODELS:
            for field in model._meta.concrete_fields:
                column = field.get_col(model._meta.db_table)
                convert = [
                    *connection.ops.get_db_converters(column),
                    *column.get_db_converters(connection),
                ]
                if convert:
                    found.append((position, convert, column))
                position += 1
        _CONVERTERS[vendor] = found
    return _CONVERTERS[vendor]


_CONVERTERS: dict[str, list] = {}


def _gate(row: tuple) -> Gate:
    """Instances from the row, related objects cached (no query when one reaches another)."""
    db = connection.alias
    row = list(row)
    for position, convert, column in _converters():
        if row[position] is not None:
            for converter in convert:
                row[position] = converter(row[position], column, connection)
    values = iter(row)
    event = Event.from_db(db, _EVENT, [next(values) for _ in _EVENT])
    site = Site.from_db(db, _SITE, [next(values) for _ in _SITE])
    profile = ApiProfile.from_db(db, _PROFILE, [next(values) for _ in _PROFILE])
    token_values = [next(values) for _ in _TOKEN]
    site.event = event
    profile.site = site  # also caches site.api_profile
    token = None
    if token_values[0] is not None:
        token = ApiToken.from_db(db, _TOKEN, token_values)
        if token.profile_id == profile.pk:
            token.profile = profile
    return Gate(site=site, profile=profile, token=token)


def admits(gate: Gate) -> bool:
    """Whether the token may call the gate's site (but for its expiry, which the pipeline checks
    on every call with the allow-list and the rate limit)."""
    token = gate.token
    return (
        token is not None
        and token.revoked_at is None
        and token.profile_id == gate.profile.pk
        and gate.profile.enabled
    )


def is_usable(token: ApiToken | None, *, now: dt.datetime) -> bool:
    return (
        token is not None
        and token.revoked_at is None
        and (token.expires_at is None or token.expires_at > now)
    )


def reconnecting(read: Callable[[], T]) -> T:
    """Runs `read` (statements that only read, outside any transaction); when it fails because
    the database dropped the connection (a restart, a failover), reconnects and runs it once
    more. The first statement of every API call comes through here."""
    for attempt in (1, 2):
        try:
            return read()
        except (OperationalError, InterfaceError):
            if attempt == 2 or connection.in_atomic_block or _is_usable():
                raise
            connection.close()  # the next cursor reconnects
    raise AssertionError("not reached")


def _is_usable() -> bool:
    try:
        return connection.is_usable()
    except DatabaseError:
        return False
