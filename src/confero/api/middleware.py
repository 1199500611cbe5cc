"""Integration API calls go straight to the pipeline.

They use none of the console's middleware (sessions, authentication, messages, CSRF, clickjacking
headers, static files): skipping it takes about a sixth off the cost of a call
(docs/performance.md). Routing stays in confero.urls, the one place that names the URLs.

Nor Django's connection health check (`CONN_HEALTH_CHECKS`, a `SELECT 1` before the first query
of each request, kept for the console): the first statement of every API call is the gate's
read, which reconnects and asks again when the database has dropped the connection
(access/gate.py). That saves a round trip to PostgreSQL per call.
"""

from functools import lru_cache

from django.core.signals import setting_changed
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from confero.api.pipeline import api_view

# Django resolves every path anew, walking its patterns; an API path resolves to the same match
# every time (a few per event and resource; bounded, the paths come from clients).
_resolve = lru_cache(maxsize=2048)(resolve)


def _forget_routes(*, setting: str, **kwargs) -> None:
    if setting == "ROOT_URLCONF":
        _resolve.cache_clear()


setting_changed.connect(_forget_routes, dispatch_uid="confero-api-routes")


class ApiFastPathMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "/api" in request.path_info:
            try:
                match = _resolve(request.path_info)
            except Resolver404:
                return self.get_response(request)
            if match.func is api_view:
                for connection in connections.all(initialized_only=True):
                    connection.health_check_done = True
                return api_view(request, *match.args, **match.kwargs)
        return self.get_response(request)
