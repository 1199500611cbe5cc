"""Integration API calls go straight to the pipeline.

They use none of the console's middleware (sessions, authentication, messages, CSRF, clickjacking
headers, static files): skipping it takes about a sixth off the cost of a call
(docs/performance.md). Routing stays in confero.urls, the one place that names the URLs.

Nor Django's connection health check (`CONN_HEALTH_CHECKS`, a `SELECT 1` before the first query
of each request, kept for the console): the first statement of every API call is the gate's
read, which reconnects and asks again when the database has dropped the connection
(access/gate.py). That saves a round trip to PostgreSQL per call.

A path that is an API URL only once letter case, `.` and `..` segments and repeated slashes are
set aside (`/demo/API/event.do`, `/UAT/demo/api/…`, `/DEMO/api/…`, `/admin/../demo/api/event.do`)
is answered here too, with code 122 in XML (contract §6): left to Django it would reach the
console's pages (the CSRF failure page, in HTML), or the pipeline an event that cannot exist.
No call-log row: it names no site (as any unknown URL).
"""

import re
from functools import lru_cache

from django.core.signals import setting_changed
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from confero.api import codes
from confero.api.pipeline import api_view
from confero.api.render import XML_CONTENT_TYPE
from confero.api.responses import error_body
from confero.events.models import RESERVED_CODES

# Django resolves every path anew, walking its patterns; an API path resolves to the same match
# every time (a few per event and resource; bounded, the paths come from clients).
_resolve = lru_cache(maxsize=2048)(resolve)


def _forget_routes(*, setting: str, **kwargs) -> None:
    if setting == "ROOT_URLCONF":
        _resolve.cache_clear()


setting_changed.connect(_forget_routes, dispatch_uid="confero-api-routes")


# An API URL's prefix, in lower case: /CODE/api or /uat/CODE/api (CODE as confero.urls reads it).
_API_PREFIX = re.compile(r"/(?:uat/)?(?P<code>[a-z0-9_.-]{1,60})/api(?:/|$)")


def looks_like_api(path: str) -> bool:
    """Whether `path` is under an API URL's prefix, letter case, `.` and `..` segments and
    repeated slashes set aside."""
    lowered = path.lower()
    if "/api" not in lowered:
        return False
    segments: list[str] = []
    for segment in lowered.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    match = _API_PREFIX.match("/" + "/".join(segments))
    return match is not None and match["code"] not in RESERVED_CODES


def unknown_resource() -> HttpResponse:
    message = (
        "unknown resource: API URLs are /CODE/api/NAME.do and /uat/CODE/api/NAME.do, "
        "in lower case, without '.' or '..' segments"
    )
    body = error_body(codes.UNKNOWN_RESOURCE, message)
    status = codes.http_status(codes.UNKNOWN_RESOURCE)
    response = HttpResponse(body, status=status, content_type=XML_CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    response["Content-Length"] = str(len(body))  # sized, as the pipeline's answers
    return response


class ApiFastPathMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if "/api" in path:
            try:
                match = _resolve(path)
            except Resolver404:
                match = None
            if match is not None and match.func is api_view:
                code = match.kwargs["code"]
                if code != code.lower():
                    return unknown_resource()  # event codes are lower case (contract §1)
                for connection in connections.all(initialized_only=True):
                    connection.health_check_done = True
                return api_view(request, *match.args, **match.kwargs)
        if looks_like_api(path):
            return unknown_resource()
        return self.get_response(request)
