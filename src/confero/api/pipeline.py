"""The one pipeline every integration API call goes through.

Checks, in this order (the first that fails answers the call):
 1. method is POST                                   → 121 (405)
 2. body at most 1 MiB                               → 202 (413)
 3. the resource exists                              → 122 (404)
 4. parameters parse (UTF-8, no conflicting repeats) → 201
 5. client address in the site's allow-list          → 103 (403); an unknown event code has an
    empty allow-list, so event codes cannot be probed
 6. failed authentications of this address in limit  → 120 (429)
 7. token present and valid for this site            → 100 / 101 (401)
 8. API profile enabled                              → 104 (403)
 9. token's rate limit                               → 120 (429)
10. declared parameters (type, required, repeat)     → 200 / 201; `event` → 201 / 110 / 111 / 112
11. the acting user, for resources that act          → 200 / 210 / 212 / 213 / 215
12. the resource, in one transaction when it writes  → its own codes

Every call, whatever its outcome, leaves one row in the API call log (without parameters or token).
"""

import ipaddress
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from confero.access import gatecache, ratelimit
from confero.access.gate import Gate, ReadUser, UserLookup, is_usable, load_gate
from confero.access.models import ApiCall, ApiProfile, ApiToken
from confero.access.networks import client_address, is_allowed, parse_address
from confero.access.tokens import hash_token, looks_like_token, mark_used, redact_tokens
from confero.api import calllog, codes
from confero.api.codes import ApiError
from confero.api.params import RawParams, buffer_unsized_body, guid, parse_declared, read_raw_params
from confero.api.registry import ACTING_PARAMS, REGISTRY, STANDARD_PARAMS, Resource
from confero.api.render import (
    JSON_CONTENT_TYPE,
    XML_CONTENT_TYPE,
    Document,
    Feed,
    json_document,
    json_feed,
    rendered,
    xml_document,
    xml_feed,
)
from confero.events.models import Site
from confero.people.identity import read_acting_user, resolve_acting_user, user_lookup
from confero.people.models import User, UserStatus
from confero.rows import (
    RowChanged,
    can_batch,
    execute_at_once,
    match_guard,
    prepared_cursor,
    reconnecting,
    trailing_statement,
    version_guard,
)

log = logging.getLogger("confero.api")


@dataclass
class Call:
    """What a resource handler gets: the checked, typed request."""

    request: HttpRequest
    site: Site  # the site whose URL was called
    profile: ApiProfile
    token: ApiToken
    params: dict[str, Any]  # declared parameters, typed
    custom: RawParams  # every other parameter: custom-field codes of the resource's record type
    sites: list[Site]  # the target sites: [one] or, with event=all, every site of the account
    event_all: bool
    event_param: str  # the `event` value as sent ("" when absent)
    started: float
    acting_user: Any = None
    extra_log: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> Site:
        """The one target site, for resources that do not take event=all."""
        return self.sites[0]


@dataclass
class _Outcome:
    """What the call log records, filled in as the pipeline goes."""

    site: Site | None = None
    profile: ApiProfile | None = None
    token_prefix: str = ""
    resource: str = ""
    event_param: str = ""
    client_ip: str = ""
    incident: str = ""
    method: str = ""
    path: str = ""
    url_site: tuple[str, str] | None = None  # (code, environment) until the gate has run
    logged: bool = False  # the call-log row is written (inside a writing call's transaction)


@csrf_exempt
def api_view(request: HttpRequest, code: str, name: str, environment: str) -> HttpResponse:
    started = time.perf_counter()
    outcome = _Outcome(
        resource=name[:60], method=(request.method or "")[:10], path=request.path[:200]
    )
    want_json = False
    try:
        outcome.client_ip = client_address(
            request.META.get("REMOTE_ADDR", ""),
            request.META.get("HTTP_X_FORWARDED_FOR"),
            settings.CONFERO_TRUSTED_PROXIES,
        )
        result, call, status_code = _run(request, code, name, environment, outcome, started)
        want_json = call.params.get("format") == "json"
    except ApiError as error:
        return _error_response(request, error, outcome, started, want_json=_wants_json(request))
    except Exception:
        outcome.incident = uuid.uuid4().hex[:12].upper()
        log.exception("internal error, incident %s, resource %s", outcome.incident, name)
        error = ApiError(codes.INTERNAL_ERROR, f"Internal error (incident {outcome.incident})")
        return _error_response(request, error, outcome, started, want_json=_wants_json(request))
    if isinstance(result, Feed):
        return _stream(result, outcome, started, want_json=want_json)
    body = result
    if not outcome.logged:
        _log_call(outcome, codes.SUCCESS, started)
    return _response(body, status_code, want_json)


def _run(request, code, name, environment, outcome, started) -> tuple[Any, Call, int]:
    outcome.url_site = (code, environment)
    if request.method != "POST":
        raise ApiError(
            codes.METHOD_NOT_ALLOWED,
            f"method {request.method[:10]} not allowed: use POST",
            headers={"Allow": "POST"},
        )
    buffer_unsized_body(request, max_body=settings.CONFERO_MAX_BODY_BYTES)
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > settings.CONFERO_MAX_BODY_BYTES:
        raise ApiError(
            codes.TOO_LARGE, f"request body over {settings.CONFERO_MAX_BODY_BYTES} bytes"
        )
    resource = REGISTRY.get(name)
    if resource is None:
        what = f"'{name}.do'" if name else "(the URL is not /CODE/api/NAME.do)"
        raise ApiError(codes.UNKNOWN_RESOURCE, f"unknown resource {what}")
    raw = read_raw_params(request, max_body=settings.CONFERO_MAX_BODY_BYTES)
    request.confero_raw_params = raw  # lets error responses honour format=json
    plain = _presented_token(request, raw)

    window = settings.CONFERO_RATE_WINDOW_SECONDS
    failures_scope = f"authfail:{_address_block(outcome.client_ip)}"
    lookup = user_lookup(raw) if resource.at_once and can_batch() else None
    unread = (
        lookup is not None and resource.unread_ok is not None and resource.unread_ok(raw, lookup)
    )
    gate = load_gate(
        code=code,
        environment=environment,
        token_hash=hash_token(plain) if looks_like_token(plain) else None,
        failures_scope=failures_scope,
        window=ratelimit.window_start(window),
        user=lookup,
        user_unread=unread,
    )
    outcome.url_site = None
    if gate is not None:
        outcome.site, outcome.profile = gate.site, gate.profile
    profile = gate.profile if gate else None
    if profile is None or not is_allowed(outcome.client_ip, profile.allowed_networks):
        raise ApiError(codes.IP_NOT_ALLOWED, f"client address {outcome.client_ip} is not allowed")
    token = _authenticate(plain, gate, failures_scope)
    outcome.token_prefix = token.prefix
    if not profile.enabled:
        raise ApiError(codes.API_DISABLED, "API access is disabled for this site")
    _limit_token(token, profile)

    site = gate.site
    params, custom = _declared_params(resource, raw)
    outcome.event_param = (raw.get("event") or [""])[0][:60]
    sites, event_all = _resolve_event(resource, site, profile, raw.get("event"))
    call = Call(
        request=request,
        site=site,
        profile=profile,
        token=token,
        params=params,
        custom=custom,
        sites=sites,
        event_all=event_all,
        event_param=(raw.get("event") or [""])[0],
        started=time.perf_counter(),
    )
    if resource.writes and lookup is not None and call.target is site:
        if gate.read_user is not None:
            body = _write_at_once(resource, call, gate.read_user, outcome, started)
        elif resource.unread is not None:  # the gate came from memory; the user was not read
            body = _write_unread(resource, call, lookup, outcome, started)
        else:
            body = None
        if body is not None:
            return body, call, 200
    if resource.writes:
        # Rendered inside the transaction: a response that cannot be written rolls the call back.
        # The call-log row is written in it too: the write and its log row commit together, in
        # one commit (a failed call is rolled back and logged afterwards, by api_view).
        # A resource that sends its writes in one batch takes the row along (confero.rows).
        with transaction.atomic():
            with trailing_statement(lambda: _log_statement(outcome, codes.SUCCESS, started)) as t:
                result = _render(_run_resource(resource, call), call)
            if not t.used:
                _log_call(outcome, codes.SUCCESS, started, inside=True)
        outcome.logged = True
    else:
        result = _render(_run_resource(resource, call), call)
    return result, call, 200


def _write_at_once(
    resource: Resource, call: Call, read: ReadUser, outcome: _Outcome, started: float
) -> bytes | None:
    """A writing call that acts as a user, in two round trips instead of five (PostgreSQL).

    The user was read along with the gate, unlocked. The resource plans its writes on it
    (`Resource.at_once`) and the answer is rendered. Then the writes, the call-log row and a
    guard go to the database as one transaction in one message (confero.rows.execute_at_once).
    The guard locks the user's row first and fails the whole transaction unless the row is
    still the version that was read (active, as checked): then nothing was written, and the
    call runs again on the locked path, as if it had not been tried.

    None when the call takes the locked path: the resource cannot plan this call, or the row
    changed. Refusals (210, 215, the resource's own) are those the locked path gives for the
    state that was read; a written answer is that of the state the guard confirms."""
    user = read_acting_user(call.params, read)
    if user is None:
        return None
    call.acting_user = user
    planned = resource.at_once(call)
    if planned is None:
        call.acting_user = None
        return None
    document, statements = planned
    body = _render(document, call)
    guard = version_guard(User._meta.db_table, user.pk, read.version)
    try:
        execute_at_once([guard, _log_statement(outcome, codes.SUCCESS, started), *statements])
    except RowChanged:
        call.acting_user = None
        return None
    outcome.logged = True
    return body


# What an `unread` plan puts in its answer for the userRef, known only once its writes ran (16
# characters, none that XML or JSON escape). Replaced in the rendered answer: the first
# occurrence, which is the userRef's (the user's own values come after it).
PENDING_USER_REF = "@@confero-uref@@"


def _write_unread(
    resource: Resource, call: Call, lookup: UserLookup, outcome: _Outcome, started: float
) -> bytes | None:
    """A writing call that acts as a user, in one round trip (PostgreSQL): the gate was
    answered from memory, and the user is not read before the writes.

    The resource plans its writes on the lookup alone (`Resource.unread`): they find the user
    by it. The answer is rendered first, the userRef left open. A guard (confero.rows.
    match_guard) locks the user's row first and fails the whole transaction unless the lookup
    names exactly one *active* user of the site: then nothing was written, and the call runs
    again on the locked path, which gives 210 or 215 (or writes, if the user came meanwhile).
    The guard's row brings the userRef.

    A refusal of the parameters (201, 300…) is not answered here: the locked path checks the
    user first (210, 215) and then refuses them again, so the codes come in the same order on
    every path."""
    try:
        planned = resource.unread(call, lookup)
        if planned is None:
            return None
        document, statements = planned
        body = _render(document, call)
    except ApiError:
        return None
    guard = match_guard(
        User._meta.db_table,
        {"site_id": call.target.pk, lookup.column: lookup.value, "status": UserStatus.ACTIVE},
        returning="user_ref",
    )
    try:
        row = execute_at_once(
            [guard, _log_statement(outcome, codes.SUCCESS, started), *statements], returning=0
        )
    except RowChanged:
        return None
    outcome.logged = True
    user_ref = row[1] if row else None
    if not user_ref:  # not seen: the guard's aggregate always has its row; committed anyway
        user_ref = (
            User.objects.filter(site=call.target, **{lookup.column: lookup.value})
            .values_list("user_ref", flat=True)
            .first()
        ) or ""
    return body.replace(PENDING_USER_REF.encode(), user_ref.encode(), 1)


def _render(result: Any, call: Call) -> Any:
    """A Document becomes its body now; a Feed is rendered while it streams."""
    if isinstance(result, Feed):
        return result
    render = json_document if call.params.get("format") == "json" else xml_document
    return rendered(render, result, codes.SUCCESS, "Success")


def _run_resource(resource: Resource, call: Call) -> Any:
    if resource.acts_as_user and call.acting_user is None:
        call.acting_user = resolve_acting_user(call.target, call.params)
    return resource.handler(call)


def _presented_token(request: HttpRequest, raw: RawParams) -> str:
    """The token from `apiToken` or `Authorization: Bearer` ("" when none); both must agree."""
    values = raw.get("apiToken") or []
    if len(values) > 1:
        raise ApiError(codes.PARAM_INVALID, "parameter 'apiToken' is repeated; send it once")
    plain = values[0] if values else ""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            bearer = credentials.strip()
            if plain and plain != bearer:
                raise ApiError(codes.PARAM_INVALID, "apiToken and the Authorization header differ")
            plain = bearer
    return plain


def _authenticate(plain: str, gate: Gate, failures_scope: str) -> ApiToken:
    """Checked before the token: an address over its failure limit learns nothing more, not
    even whether a guess was right."""
    if not plain:
        raise ApiError(codes.TOKEN_MISSING, "apiToken missing")
    limit = settings.CONFERO_AUTH_FAILURE_LIMIT
    window = settings.CONFERO_RATE_WINDOW_SECONDS
    if gate.failures >= limit:
        raise ApiError(
            codes.RATE_LIMITED,
            "too many failed authentications from this address",
            headers={"Retry-After": str(ratelimit.retry_after(window))},
        )
    token = gate.token
    if not is_usable(token, now=timezone.now()) or token.profile_id != gate.profile.pk:
        if not ratelimit.hit(failures_scope, limit=limit, window_seconds=window).count < limit:
            # The address is refused from now on: no process may still admit it from memory.
            gatecache.notify_changed()
        raise ApiError(codes.TOKEN_INVALID, "apiToken not valid for this site")
    return token


def _address_block(address: str) -> str:
    """Failed authentications count per IPv4 address and per IPv6 /64: one IPv6 client usually
    holds a whole /64 and could otherwise rotate through it."""
    parsed = parse_address(address)
    if parsed is not None and parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return address


def _limit_token(token: ApiToken, profile: ApiProfile) -> None:
    limit = profile.rate_limit_per_minute or settings.CONFERO_RATE_LIMIT_PER_TOKEN
    window = settings.CONFERO_RATE_WINDOW_SECONDS
    verdict = ratelimit.take(f"token:{token.pk}", limit=limit, window_seconds=window)
    if not verdict.allowed:
        raise ApiError(
            codes.RATE_LIMITED,
            f"rate limit of {limit} calls per {window} s exceeded",
            headers={"Retry-After": str(verdict.retry_after)},
        )
    mark_used(token, now=timezone.now())


def _declared_params(resource: Resource, raw: RawParams) -> tuple[dict[str, Any], RawParams]:
    params: dict[str, Any] = {}
    for name in ("event", "format"):
        values = raw.get(name) or []
        if len(values) > 1:
            raise ApiError(codes.PARAM_INVALID, f"parameter '{name}' is repeated; send it once")
    fmt = (raw.get("format") or [""])[0]
    if fmt not in ("", "xml", "json"):
        raise ApiError(codes.PARAM_INVALID, "parameter 'format' must be xml or json")
    params["format"] = fmt or "xml"
    for param in resource.params:
        params[param.name] = parse_declared(param, raw.get(param.name))
    custom: RawParams = {}
    for name, values in raw.items():
        if name in resource.param_index or name in STANDARD_PARAMS:
            continue
        if resource.acts_as_user and name in ACTING_PARAMS:
            continue
        if resource.custom_fields is None:
            raise ApiError(
                codes.PARAM_INVALID, f"parameter '{name[:60]}' is not known to {resource.name}.do"
            )
        custom[name] = values
    if resource.acts_as_user:
        for name in ACTING_PARAMS:
            values = raw.get(name) or []
            if len(values) > 1:
                raise ApiError(codes.PARAM_INVALID, f"parameter '{name}' is repeated; send it once")
            params[name] = values[0] if values and values[0] else None
    return params, custom


def _resolve_event(
    resource: Resource, site: Site, profile: ApiProfile, values: list[str] | None
) -> tuple[list[Site], bool]:
    value = (values or [""])[0]
    if not value:
        return [site], False
    is_all = value.lower() == "all"
    if not is_all:
        try:
            event_guid = guid(value)
        except ValueError as exc:
            raise ApiError(
                codes.PARAM_INVALID, "parameter 'event' must be an event GUID or 'all'"
            ) from exc
    if not profile.account_level_access:
        if is_all or event_guid != site.event.guid:
            raise ApiError(
                codes.ACCOUNT_LEVEL_OFF,
                "Account Level Access is off: 'event' may only name this event",
            )
        return [site], False
    same_env = Site.objects.select_related("event__account").filter(
        event__account_id=site.event.account_id, environment=site.environment
    )
    if is_all:
        if not resource.accepts_all:
            raise ApiError(
                codes.EVENT_ALL_UNSUPPORTED, f"{resource.name}.do does not take event=all"
            )
        return list(same_env.order_by("event__code")), True
    target = same_env.filter(event__guid=event_guid).first()
    if target is None:
        raise ApiError(
            codes.UNKNOWN_EVENT, f"no event with GUID {str(event_guid).upper()} in this account"
        )
    return [target], False


# --- Responses and the call log ----------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    raw = getattr(request, "confero_raw_params", None)
    return bool(raw) and raw.get("format") == ["json"]


def _response(body: bytes, status: int, want_json: bool) -> HttpResponse:
    response = HttpResponse(
        body, status=status, content_type=JSON_CONTENT_TYPE if want_json else XML_CONTENT_TYPE
    )
    response["Cache-Control"] = "no-store"
    # Sized, not chunked: fewer bytes, and one write to the socket instead of three.
    response["Content-Length"] = str(len(body))
    return response


def error_body(code: int, message: str, *, want_json: bool = False) -> bytes:
    render = json_document if want_json else xml_document
    return render(Document(), code, message)


def _error_response(
    request, error: ApiError, outcome: _Outcome, started: float, *, want_json: bool
):
    status = codes.http_status(error.code)
    message = redact_tokens(error.message)  # messages may name what the client sent
    response = _response(error_body(error.code, message, want_json=want_json), status, want_json)
    for header, value in error.headers.items():
        response[header] = value
    _log_call(outcome, error.code, started)
    return response


def _stream(
    feed: Feed, outcome: _Outcome, started: float, *, want_json: bool
) -> StreamingHttpResponse:
    chunks = (json_feed if want_json else xml_feed)(feed)

    def logged():
        code = codes.INTERNAL_ERROR
        try:
            yield from chunks
            code = codes.SUCCESS
        except Exception:
            outcome.incident = uuid.uuid4().hex[:12].upper()
            log.exception("feed broke off while streaming, incident %s", outcome.incident)
        finally:
            _log_call(outcome, code, started)

    response = StreamingHttpResponse(
        logged(), content_type=JSON_CONTENT_TYPE if want_json else XML_CONTENT_TYPE
    )
    response["Cache-Control"] = "no-store"
    return response


_LOG_COLUMNS = (
    "time", "site_id", "profile_id", "token_prefix", "method", "path", "resource",
    "event_param", "client_ip", "code", "http_status", "duration_ms", "incident",
)  # fmt: skip
# Names from the model, values are parameters.
_LOG_SQL = (
    f"INSERT INTO {ApiCall._meta.db_table} ({', '.join(_LOG_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join(['%s'] * len(_LOG_COLUMNS))})"
)


# The same INSERT, committing without waiting for the disk (PostgreSQL, outside a transaction):
# set_config(…, true) sets synchronous_commit for the statement's own implicit transaction,
# which is what its commit reads; the session keeps its setting. One statement, so it can be
# prepared, and a failure leaves no transaction open.
_ASYNC_LOG_SQL = f"{_LOG_SQL} RETURNING set_config('synchronous_commit', 'off', true)"


def _log_statement(outcome: _Outcome, code: int, started: float) -> tuple[str, list]:
    """The INSERT of the call's log row, and its values."""
    if outcome.site is None and outcome.url_site is not None:
        # Refused before the gate ran (405, 413, 122, 201): still name the site if it exists.
        # This is the call's first statement then, so it is the one that reconnects.
        code_, environment = outcome.url_site
        outcome.site = reconnecting(
            lambda: Site.objects.filter(event__code=code_, environment=environment).first()
        )
    values = [
        connections[DEFAULT_DB_ALIAS].ops.adapt_datetimefield_value(timezone.now()),
        outcome.site.pk if outcome.site else None,
        outcome.profile.pk if outcome.profile else None,
        outcome.token_prefix,
        outcome.method,
        redact_tokens(outcome.path),
        redact_tokens(outcome.resource),
        redact_tokens(outcome.event_param),
        outcome.client_ip[:45],
        code,
        codes.http_status(code),
        round((time.perf_counter() - started) * 1000, 3),
        outcome.incident,
    ]
    return _LOG_SQL, values


def _log_call(outcome: _Outcome, code: int, started: float, *, inside: bool = False) -> None:
    """One row per call, written by hand-written SQL: it runs on every call (see access/gate).

    `inside` a writing call's transaction, a failure propagates and rolls the call back: no
    write without its log row. Otherwise the call changed nothing and the row is handed to the
    process's batches (confero.api.calllog), or, with batching off, written on its own; a
    failure is only logged, so the answer does not depend on the log. On PostgreSQL such a row
    written on its own commits with `synchronous_commit` off: it need not wait for the disk
    (docs/decisions/0008-per-call-database-work.md)."""
    on_its_own = not inside and not connection.in_atomic_block
    try:
        sql, values = _log_statement(outcome, code, started)
        if on_its_own and calllog.enabled():
            calllog.add(sql, values)
            return
        if on_its_own and connection.vendor == "postgresql":
            sql = _ASYNC_LOG_SQL
        with prepared_cursor() as cursor:
            cursor.execute(sql, values)
    except Exception:
        if inside:
            raise
        # The call's answer must not depend on the log; the failure itself is logged.
        log.exception("could not write the API call log")
