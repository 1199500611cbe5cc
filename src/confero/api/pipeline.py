"""The one pipeline every integration API call goes through.

Checks, in this order (the first that fails answers the call):
 1. method is POST                                   → 121 (405)
 2. body at most 1 MiB                               → 202 (413)
 3. the resource exists                              → 122 (404)
 4. parameters parse (UTF-8, no conflicting repeats) → 201
 5. client address in the site's allow-list          → 103 (403); an unknown event code has an
    empty allow-list, so event codes cannot be probed
 6. token present and valid for this site            → 100 / 101 (401); an address whose failed
    authentications are over their limit gets 120 (429) for a failure instead — failures are
    held back, never a valid token (contract §3)
 7. API profile enabled                              → 104 (403)
 8. token's rate limit                               → 120 (429)
 9. declared parameters (type, required, repeat)     → 200 / 201; undeclared ones on a writing
    resource without custom fields → 300; `event` → 201 / 110 / 111 / 112
10. the acting user, for resources that act          → 200 / 210 / 212 / 213 / 215
11. the resource, in one transaction when it writes  → its own codes; a domain error becomes its
    code by one table (confero.api.codes.DOMAIN_CODES)

Parameters a resource does not declare: ignored by a resource that writes nothing (its call-log
row names them), custom field codes on one that writes (300 when it takes none).

Every call, whatever its outcome, leaves one row in the API call log (without parameter values
or token): a writing call's row commits with its writes (confero.api.calllog).
"""

import ipaddress
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from confero.access import ratelimit
from confero.access.gate import Gate, is_usable, load_gate
from confero.access.models import ApiProfile, ApiToken
from confero.access.networks import client_address, is_allowed, parse_address
from confero.access.tokens import hash_token, looks_like_token, mark_used
from confero.api import codes, responses
from confero.api.acting import acting_user
from confero.api.call import Call
from confero.api.calllog import Outcome, log_call
from confero.api.codes import ApiError
from confero.api.params import RawParams, buffer_unsized_body, guid, parse_declared, read_raw_params
from confero.api.registry import ACTING_PARAMS, REGISTRY, STANDARD_PARAMS, Resource
from confero.api.render import Feed, json_document, rendered, xml_document
from confero.errors import DomainError
from confero.events.models import Site


@csrf_exempt
def api_view(request: HttpRequest, code: str, name: str, environment: str) -> HttpResponse:
    outcome = Outcome(
        started=time.perf_counter(),
        resource=name[:60],
        method=(request.method or "")[:10],
        path=request.path[:200],
        url_site=(code, environment),
    )
    try:
        outcome.client_ip = client_address(
            request.META.get("REMOTE_ADDR", ""),
            request.META.get("HTTP_X_FORWARDED_FOR"),
            settings.CONFERO_TRUSTED_PROXIES,
        )
        call, result = _run(request, code, name, environment, outcome)
    except ApiError as error:
        return responses.refusal(error, outcome, json=responses.wants_json(request))
    except Exception:
        return responses.internal_error(outcome, json=responses.wants_json(request), resource=name)
    if isinstance(result, Feed):
        return responses.stream(result, outcome, json=call.wants_json)
    log_call(outcome, codes.SUCCESS)
    return responses.response(result, 200, json=call.wants_json)


def _run(request, code, name, environment, outcome: Outcome) -> tuple[Call, Any]:
    if request.method != "POST":
        raise ApiError(
            codes.METHOD_NOT_ALLOWED,
            f"method {request.method[:10]} not allowed: use POST",
            headers={"Allow": "POST"},
        )
    max_body = settings.CONFERO_MAX_BODY_BYTES
    buffer_unsized_body(request, max_body=max_body)
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > max_body:
        raise ApiError(codes.TOO_LARGE, f"request body over {max_body} bytes")
    resource = REGISTRY.get(name)
    if resource is None:
        what = f"'{name}.do'" if name else "(the URL is not /CODE/api/NAME.do)"
        raise ApiError(codes.UNKNOWN_RESOURCE, f"unknown resource {what}")
    raw = read_raw_params(request, max_body=max_body)
    request.confero_raw_params = raw  # lets refusals honour format=json
    plain = _presented_token(request, raw)

    gate = load_gate(
        code=code,
        environment=environment,
        token_hash=hash_token(plain) if looks_like_token(plain) else None,
    )
    outcome.url_site = None
    if gate is not None:
        outcome.site, outcome.profile = gate.site, gate.profile
    profile = gate.profile if gate else None
    if profile is None or not is_allowed(outcome.client_ip, profile.allowed_networks):
        raise ApiError(codes.IP_NOT_ALLOWED, f"client address {outcome.client_ip} is not allowed")
    token = _authenticate(plain, gate, outcome.client_ip)
    outcome.token_prefix = token.prefix
    if not profile.enabled:
        raise ApiError(codes.API_DISABLED, "API access is disabled for this site")
    _limit_token(token, profile)

    params, custom, ignored = _declared_params(resource, raw)
    outcome.ignored_params = ignored
    event_param = (raw.get("event") or [""])[0]
    outcome.event_param = event_param[:60]
    sites, event_all = _resolve_event(resource, gate.site, profile, event_param)
    call = Call(
        request=request,
        site=gate.site,
        profile=profile,
        token=token,
        params=params,
        custom=custom,
        sites=sites,
        event_all=event_all,
        event_param=event_param,
    )
    if not resource.writes:
        return call, _render(_run_resource(resource, call), call)
    # Rendered inside the transaction: an answer that cannot be made rolls the call back. The
    # call-log row is written in it too, so the write and its row commit together (a refused
    # or failed call is rolled back and logged afterwards, by api_view).
    with transaction.atomic():
        result = _render(_run_resource(resource, call), call)
        log_call(outcome, codes.SUCCESS, inside=True)
    outcome.logged = True
    return call, result


def _run_resource(resource: Resource, call: Call) -> Any:
    try:
        if resource.acts_as_user:
            call.acting_user = acting_user(
                call.target, call.params, lock=resource.writes and resource.lock_acting_user
            )
        return resource.handler(call)
    except DomainError as error:
        raise codes.from_domain(error) from error


def _render(result: Any, call: Call) -> Any:
    """A Document becomes its body now; a Feed is rendered while it streams."""
    if isinstance(result, Feed):
        return result
    render = json_document if call.wants_json else xml_document
    return rendered(render, result, codes.SUCCESS, "Success")


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


def _authenticate(plain: str, gate: Gate, client_ip: str) -> ApiToken:
    """A valid token is admitted whatever else its address sent: one broken client behind a
    shared address must not lock out the others (contract §3). Failures are counted per address
    block; past the limit, a failure is answered 120 instead of 101."""
    if not plain:
        raise ApiError(codes.TOKEN_MISSING, "apiToken missing")
    token = gate.token
    if is_usable(token, now=timezone.now()) and token.profile_id == gate.profile.pk:
        return token
    limit = settings.CONFERO_AUTH_FAILURE_LIMIT
    window = settings.CONFERO_RATE_WINDOW_SECONDS
    failures = ratelimit.hit(f"authfail:{_address_block(client_ip)}", limit=limit,
                             window_seconds=window)  # fmt: skip
    if not failures.allowed:
        raise ApiError(
            codes.RATE_LIMITED,
            "too many failed authentications from this address",
            headers={"Retry-After": str(failures.retry_after)},
        )
    raise ApiError(codes.TOKEN_INVALID, "apiToken not valid for this site")


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


def _declared_params(
    resource: Resource, raw: RawParams
) -> tuple[dict[str, Any], RawParams, list[str]]:
    """The declared parameters (typed), the custom-field parameters of a writing resource, and
    the names of the parameters a reading resource ignores."""
    params: dict[str, Any] = {}
    for name in ("event", "format"):
        if len(raw.get(name) or []) > 1:
            raise ApiError(codes.PARAM_INVALID, f"parameter '{name}' is repeated; send it once")
    fmt = (raw.get("format") or [""])[0]
    if fmt not in ("", "xml", "json"):
        raise ApiError(codes.PARAM_INVALID, "parameter 'format' must be xml or json")
    params["format"] = fmt or "xml"
    for param in resource.params:
        params[param.name] = parse_declared(param, raw.get(param.name))
    custom: RawParams = {}
    ignored: list[str] = []
    for name, values in raw.items():
        if name in resource.param_index or name in STANDARD_PARAMS:
            continue
        if resource.acts_as_user and name in ACTING_PARAMS:
            continue
        if not resource.writes:
            # Real clients send parameters of their own on every call (contract §2): a resource
            # that writes nothing ignores them, and the call log names them.
            ignored.append(name)
        elif resource.custom_fields is None:
            # On a writing resource an undeclared parameter is a custom field code (§2, §7);
            # this record type has none, so no code can be known.
            raise ApiError(
                codes.UNKNOWN_FIELD,
                f"parameter '{name[:60]}' is not known to {resource.name}.do "
                "(it takes no custom fields)",
            )
        else:
            custom[name] = values
    if resource.acts_as_user:
        for name in ACTING_PARAMS:
            values = raw.get(name) or []
            if len(values) > 1:
                raise ApiError(codes.PARAM_INVALID, f"parameter '{name}' is repeated; send it once")
            params[name] = values[0] if values and values[0] else None
    return params, custom, ignored


def _resolve_event(
    resource: Resource, site: Site, profile: ApiProfile, value: str
) -> tuple[list[Site], bool]:
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
