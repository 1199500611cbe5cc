"""Everything the pipeline needs to admit a call, in one query.

The site of the URL with its event and API profile, the token presented (looked up by digest,
whatever site it belongs to) and this address's failed authentications in the current window.
Built as one hand-written SELECT because this runs on every call: the ORM version took two
joined queries plus a counter read, and building them cost more than running them
(docs/performance.md). The rows become ordinary model instances (built by `confero.rows`, every
column selected, so nothing is deferred), so nothing downstream knows.

It is the first statement of every call and only reads, so it is also where a connection the
database has dropped (a restart, a failover) is noticed: closed, reconnected, asked again. API
calls skip Django's per-request `SELECT 1` health check for that reason (api/middleware.py).
"""

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from confero.access import gatecache
from confero.access.models import ApiProfile, ApiToken, RateCounter
from confero.events.models import Event, Site
from confero.people.models import User
from confero.rows import Loader, columns, instance, prepared_cursor, reconnecting

_EVENT = (
    "id", "account_id", "guid", "code", "name", "time_zone", "start_date", "end_date", "created_at",
)  # fmt: skip
_PROFILE = (
    "id", "enabled", "account_level_access", "allowed_networks", "rate_limit_per_minute",
    "updated_at",
)  # fmt: skip
_TOKEN = (
    "id", "profile_id", "prefix", "token_hash", "label", "created_at", "last_used_at",
    "expires_at", "revoked_at",
)  # fmt: skip

# Table and column names come from the models, values are parameters.
_SQL = (
    "SELECT s.id, s.environment, s.fields_version, "  # noqa: S608
    + ", ".join(f"e.{c}" for c in _EVENT)
    + ", "
    + ", ".join(f"p.{c}" for c in _PROFILE)
    + ", rc.count, "
    + ", ".join(f"t.{c}" for c in _TOKEN)
    + "{user_columns}"
    + f" FROM {Event._meta.db_table} e"
    f" JOIN {Site._meta.db_table} s ON s.event_id = e.id AND s.environment = %s"
    f" JOIN {ApiProfile._meta.db_table} p ON p.site_id = s.id"
    f" LEFT JOIN {RateCounter._meta.db_table} rc ON rc.scope = %s AND rc.window_start = %s"
    f" LEFT JOIN {ApiToken._meta.db_table} t ON t.token_hash = %s"
    "{user_join}"
    " WHERE e.code = %s"
)
_USER_COLUMNS = columns(User)
# The gate alone, and — PostgreSQL only — the gate with the user a call names, read along (by
# each column that names users), with the row's version (`xmin`, the transaction that wrote it).
_GATE_SQL = _SQL.format(user_columns="", user_join="")
_GATE_WITH_USER_SQL = {
    column: _SQL.format(
        user_columns="".join(f", u.{c}" for c in _USER_COLUMNS) + ", u.xmin::text",
        user_join=f" LEFT JOIN {User._meta.db_table} u ON u.site_id = s.id AND u.{column} = %s",
    )
    for column in ("user_key", "client_id")
}
_USERS = Loader(User)
# The gate's own columns, the first of every row (those kept in memory).
_GATE_WIDTH = 3 + len(_EVENT) + len(_PROFILE) + 1 + len(_TOKEN)


@dataclass(frozen=True)
class UserLookup:
    """A user to read along with the gate: by `column` ("user_key", "client_id"), `value`."""

    column: str
    value: str


@dataclass
class ReadUser:
    """The user a `UserLookup` found (None: no such user on the gate's site), not locked, and
    the version of its row that was read."""

    lookup: UserLookup
    user: User | None
    version: str | None


@dataclass
class Gate:
    site: Site
    profile: ApiProfile
    token: ApiToken | None  # the token presented, of whatever site; None when unknown
    failures: int  # failed authentications of the address in this window
    # The user the call asked for, read along; None when it asked for none, and when the gate
    # came from memory (load_gate's `user_unread`).
    read_user: ReadUser | None = None


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite's driver gives naive datetimes (stored in UTC); PostgreSQL's are aware.
    if value is not None and timezone.is_naive(value):
        return value.replace(tzinfo=dt.UTC)
    return value


def load_gate(
    *,
    code: str,
    environment: str,
    token_hash: str | None,
    failures_scope: str,
    window: int,
    user: UserLookup | None = None,
    user_unread: bool = False,
) -> Gate | None:
    """None when no event has this code (the caller treats it as an empty allow-list). With
    `user` (PostgreSQL only), that user of the site is read in the same statement: a call that
    will act as a user saves a round trip (the writes sent at once, decision 0010).

    An admission may be answered from memory (decision 0012): always for a call that names no
    user, and for one that does when `user_unread` (the call can do without the user read: its
    writes find the user themselves). The gate's `read_user` is None then."""
    key = (code, environment, token_hash, failures_scope, window)
    ticket = gatecache.begin() if token_hash else None
    if (
        ticket is not None
        and (user is None or user_unread)
        and (row := gatecache.get(key, ticket)) is not None
    ):
        return _gate(row, None)
    if user is not None:
        row = _fetch(
            _GATE_WITH_USER_SQL[user.column],
            [environment, failures_scope, window, token_hash, user.value, code],
        )
    else:
        row = _fetch(_GATE_SQL, [environment, failures_scope, window, token_hash, code])
    if row is None:
        return None
    gate = _gate(row, user)
    if ticket is not None and _admits(gate):
        gatecache.put(key, row[:_GATE_WIDTH], ticket)
    return gate


def _admits(gate: Gate) -> bool:
    """Whether the pipeline may admit a call with this gate (but for what it checks on every
    call anyway: the token's expiry, the address against the allow-list, the rate limit)."""
    token = gate.token
    return (
        token is not None
        and token.revoked_at is None
        and token.profile_id == gate.profile.pk
        and gate.profile.enabled
        and gate.failures < settings.CONFERO_AUTH_FAILURE_LIMIT
    )


def _gate(row: tuple, user: UserLookup | None) -> Gate:
    values = iter(row)
    site_id, site_environment, fields_version = next(values), next(values), next(values)
    event_values = {c: next(values) for c in _EVENT}
    if not isinstance(event_values["guid"], uuid.UUID):
        event_values["guid"] = uuid.UUID(str(event_values["guid"]))
    event_values["created_at"] = _aware(event_values["created_at"])
    event = instance(Event, event_values)
    site = instance(
        Site,
        {"id": site_id, "event_id": event.pk, "environment": site_environment,
         "fields_version": fields_version},
        event=event,
    )  # fmt: skip
    profile_values = {c: next(values) for c in _PROFILE}
    networks = profile_values["allowed_networks"]
    # A copy: the row may be kept (gatecache) and the list must not change with the profile.
    profile_values["allowed_networks"] = (
        json.loads(networks) if isinstance(networks, str) else list(networks)
    )
    profile_values["updated_at"] = _aware(profile_values["updated_at"])
    profile = instance(ApiProfile, {**profile_values, "site_id": site_id}, site=site)
    site._state.fields_cache["api_profile"] = profile
    failures = next(values) or 0
    token_values = {c: next(values) for c in _TOKEN}
    token = None
    if token_values["id"] is not None:
        for name in ("created_at", "last_used_at", "expires_at", "revoked_at"):
            token_values[name] = _aware(token_values[name])
        related = {"profile": profile} if token_values["profile_id"] == profile.pk else {}
        token = instance(ApiToken, token_values, **related)
    gate = Gate(site=site, profile=profile, token=token, failures=failures)
    if user is not None:
        user_row = row[-len(_USER_COLUMNS) - 1 : -1]
        found = None if user_row[0] is None else _USERS.load(user_row, site=site)
        gate.read_user = ReadUser(lookup=user, user=found, version=row[-1])
    return gate


def _fetch(sql: str, params: list) -> tuple | None:
    def run():
        with prepared_cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    return reconnecting(run)


def is_usable(token: ApiToken | None, *, now: dt.datetime) -> bool:
    return (
        token is not None
        and token.revoked_at is None
        and (token.expires_at is None or token.expires_at > now)
    )
