"""Everything the pipeline needs to admit a call, in one query.

The site of the URL with its event and API profile, the token presented (looked up by digest,
whatever site it belongs to) and this address's failed authentications in the current window.
Built as one hand-written SELECT because this runs on every call: the ORM version took two
joined queries plus a counter read, and building them cost more than running them
(docs/performance.md). The rows become ordinary model instances, so nothing downstream knows.
"""

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from confero.access.models import ApiProfile, ApiToken, RateCounter
from confero.events.models import Event, Site

_EVENT = ("id", "account_id", "guid", "code", "name", "time_zone", "start_date", "end_date")
_PROFILE = ("id", "enabled", "account_level_access", "allowed_networks", "rate_limit_per_minute")
_TOKEN = ("id", "profile_id", "prefix", "label", "last_used_at", "expires_at", "revoked_at")

# Table and column names come from the models, values are parameters.
_SQL = (
    "SELECT s.id, s.environment, s.fields_version, "  # noqa: S608
    + ", ".join(f"e.{c}" for c in _EVENT)
    + ", "
    + ", ".join(f"p.{c}" for c in _PROFILE)
    + ", rc.count, "
    + ", ".join(f"t.{c}" for c in _TOKEN)
    + f" FROM {Event._meta.db_table} e"
    f" JOIN {Site._meta.db_table} s ON s.event_id = e.id AND s.environment = %s"
    f" JOIN {ApiProfile._meta.db_table} p ON p.site_id = s.id"
    f" LEFT JOIN {RateCounter._meta.db_table} rc ON rc.scope = %s AND rc.window_start = %s"
    f" LEFT JOIN {ApiToken._meta.db_table} t ON t.token_hash = %s"
    " WHERE e.code = %s"
)


@dataclass
class Gate:
    site: Site
    profile: ApiProfile
    token: ApiToken | None  # the token presented, of whatever site; None when unknown
    failures: int  # failed authentications of the address in this window


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite's driver gives naive datetimes (stored in UTC); PostgreSQL's are aware.
    if value is not None and timezone.is_naive(value):
        return value.replace(tzinfo=dt.UTC)
    return value


def load_gate(
    *, code: str, environment: str, token_hash: str | None, failures_scope: str, window: int
) -> Gate | None:
    """None when no event has this code (the caller treats it as an empty allow-list)."""
    with connection.cursor() as cursor:
        cursor.execute(_SQL, [environment, failures_scope, window, token_hash, code])
        row = cursor.fetchone()
    if row is None:
        return None
    values = iter(row)
    site_id, site_environment, fields_version = next(values), next(values), next(values)
    event = Event(**{c: next(values) for c in _EVENT})
    if not isinstance(event.guid, uuid.UUID):
        event.guid = uuid.UUID(str(event.guid))
    site = Site(
        id=site_id, event=event, environment=site_environment, fields_version=fields_version
    )
    profile = ApiProfile(site=site, **{c: next(values) for c in _PROFILE})
    if isinstance(profile.allowed_networks, str):
        profile.allowed_networks = json.loads(profile.allowed_networks)
    site.api_profile = profile
    failures = next(values) or 0
    token_values = {c: next(values) for c in _TOKEN}
    token = None
    if token_values["id"] is not None:
        token = ApiToken(**token_values)
        for name in ("last_used_at", "expires_at", "revoked_at"):
            setattr(token, name, _aware(getattr(token, name)))
        if token.profile_id == profile.pk:
            token.profile = profile
    return Gate(site=site, profile=profile, token=token, failures=failures)


def is_usable(token: ApiToken | None, *, now: dt.datetime) -> bool:
    return (
        token is not None
        and token.revoked_at is None
        and (token.expires_at is None or token.expires_at > now)
    )
