"""A prototype, for measurement only: event.do with the proposed changes to the pipeline.

Used like bench/ceiling_django.py (DJANGO_SETTINGS_MODULE, bench/ on PYTHONPATH): every setting
and middleware of `confero.settings` (with the BENCH_* switches of tuned_settings.py), and
`/CODE/api/event.do` routed to `lean_event_do` below. It answers the same bytes as event.do
and makes the same checks for a Production call without `event`: IP allow-list, token (hash,
site, revoked, expired), profile enabled, the token's rate limit, one call-log row per call. What
it does differently is what docs/performance.md proposes for src/:

 1. one raw SELECT finds the site, its event, its API profile and the token together (today: two
    ORM queries, `_find_site` and `find_usable_token`, whose Python side costs far more than the
    database work);
 2. the failed-authentication counter is read only when the token is wrong (today: on every call);
 3. the rate-limit upsert and the call-log row are written in one transaction with raw SQL
    (today: two commits, the second through the ORM).

It is not a replacement for the pipeline: no `event` parameter, no other resource, no JSON, plain
error answers. It exists so the gain of those three changes is measured end to end, under the same
gunicorn command line and wrk run as event.do, before anyone changes src/.
"""

import datetime as dt
import time
import uuid

from django.conf import settings as django_settings
from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import re_path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from tuned_settings import *  # noqa: F403 - every setting, plus the BENCH_* switches

ROOT_URLCONF = __name__

_SQL: dict[str, str] = {}


def _sql() -> dict[str, str]:
    if not _SQL:
        from confero.access.models import ApiCall, ApiProfile, ApiToken
        from confero.events.models import Event, Site

        st, ev, pr, tk = (m._meta.db_table for m in (Site, Event, ApiProfile, ApiToken))
        _SQL["lookup"] = (
            "SELECT s.id, e.id, e.guid, e.code, e.name, e.time_zone, e.start_date, e.end_date, "
            "p.id, p.enabled, p.allowed_networks, p.rate_limit_per_minute, "
            "t.id, t.prefix, t.last_used_at, t.expires_at, t.revoked_at "
            f"FROM {st} s JOIN {ev} e ON e.id = s.event_id JOIN {pr} p ON p.site_id = s.id "
            f"LEFT JOIN {tk} t ON t.profile_id = p.id AND t.token_hash = %s "
            "WHERE e.code = %s AND s.environment = %s"
        )
        columns = (
            "time, site_id, profile_id, token_prefix, method, path, resource, event_param, "
            "client_ip, code, http_status, duration_ms, incident"
        )
        _SQL["log"] = (
            f"INSERT INTO {ApiCall._meta.db_table} ({columns}) VALUES ({', '.join(['%s'] * 13)})"
        )
        _SQL["used"] = f"UPDATE {tk} SET last_used_at = %s WHERE id = %s"
    return _SQL


def _datetime(value):
    """A timestamp column as an aware datetime (SQLite hands back naive UTC, or text)."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _date(value):
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def _json_list(value):
    if isinstance(value, str):
        import json

        return json.loads(value)
    return value


@csrf_exempt
def lean_event_do(request, code: str, name: str):
    from confero.access import ratelimit
    from confero.access.networks import client_address, is_allowed
    from confero.access.tokens import hash_token
    from confero.api import codes
    from confero.api.params import read_raw_params
    from confero.api.pipeline import error_body
    from confero.api.render import XML_CONTENT_TYPE, Document, xml_document
    from confero.api.resources.events import _event_node
    from confero.events.models import Event

    started = time.perf_counter()
    sql = _sql()
    client_ip = client_address(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR"),
        django_settings.CONFERO_TRUSTED_PROXIES,
    )
    log = {"site": None, "profile": None, "prefix": ""}

    def answer(number: int, body: bytes | None = None) -> HttpResponse:
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        duration = round((time.perf_counter() - started) * 1000, 3)
        values = [
            now,
            log["site"],
            log["profile"],
            log["prefix"],
            request.method or "",
            request.path[:200],
            name[:60],
            "",
            client_ip,
            number,
            codes.http_status(number),
            duration,
            "",
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql["log"], values)
        body = body if body is not None else error_body(number, "refused")
        response = HttpResponse(
            body, status=codes.http_status(number), content_type=XML_CONTENT_TYPE
        )
        response["Cache-Control"] = "no-store"
        return response

    if request.method != "POST" or name != "event":
        return answer(
            codes.METHOD_NOT_ALLOWED if request.method != "POST" else codes.UNKNOWN_RESOURCE
        )
    raw = read_raw_params(request, max_body=django_settings.CONFERO_MAX_BODY_BYTES)
    plain = (raw.get("apiToken") or [""])[0]
    with connection.cursor() as cursor:
        cursor.execute(sql["lookup"], [hash_token(plain), code, "production"])
        row = cursor.fetchone()
    if row is None:
        return answer(codes.IP_NOT_ALLOWED)
    (
        site_id,
        event_id,
        guid,
        event_code,
        event_name,
        tz,
        start,
        end,
        profile_id,
        enabled,
        networks,
        limit,
        token_id,
        prefix,
        last_used,
        expires,
        revoked,
    ) = row
    log["site"], log["profile"] = site_id, profile_id
    if not is_allowed(client_ip, _json_list(networks)):
        return answer(codes.IP_NOT_ALLOWED)
    now = timezone.now()
    expires = _datetime(expires)
    if token_id is None or revoked is not None or (expires is not None and expires <= now):
        window = django_settings.CONFERO_RATE_WINDOW_SECONDS
        key = f"authfail:{client_ip}"
        verdict = ratelimit.peek(
            key, limit=django_settings.CONFERO_AUTH_FAILURE_LIMIT, window_seconds=window
        )
        if not verdict.allowed:
            return answer(codes.RATE_LIMITED)
        ratelimit.hit(key, limit=django_settings.CONFERO_AUTH_FAILURE_LIMIT, window_seconds=window)
        return answer(codes.TOKEN_MISSING if not plain else codes.TOKEN_INVALID)
    log["prefix"] = prefix
    if not enabled:
        return answer(codes.API_DISABLED)
    event = Event(
        id=event_id,
        guid=uuid.UUID(str(guid)),
        code=event_code,
        name=event_name,
        time_zone=tz,
        start_date=_date(start),
        end_date=_date(end),
    )
    body = xml_document(Document(children=[_event_node(event, "production")]), 0, "Success")
    with transaction.atomic():
        verdict = ratelimit.hit(
            f"token:{token_id}",
            limit=limit or django_settings.CONFERO_RATE_LIMIT_PER_TOKEN,
            window_seconds=django_settings.CONFERO_RATE_WINDOW_SECONDS,
        )
        if not verdict.allowed:
            return answer(codes.RATE_LIMITED)
        last_used = _datetime(last_used)
        if last_used is None or now - last_used >= dt.timedelta(minutes=1):
            with connection.cursor() as cursor:
                cursor.execute(
                    sql["used"], [connection.ops.adapt_datetimefield_value(now), token_id]
                )
        return answer(codes.SUCCESS, body)


urlpatterns = [
    re_path(
        r"^(?P<code>[A-Za-z0-9_.-]{1,60})/api/(?P<name>[A-Za-z][A-Za-z0-9_]{0,59})\.do$",
        lean_event_do,
    ),
]
