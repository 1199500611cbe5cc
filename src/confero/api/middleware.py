"""Integration API calls go straight to the pipeline.

They use none of the console's middleware (sessions, authentication, messages, CSRF, clickjacking
headers, static files): skipping it takes about a sixth off the cost of a call
(docs/performance.md). Routing stays in confero.urls, the one place that names the URLs.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from confero.api.pipeline import api_view


class ApiFastPathMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "/api" in request.path_info:
            try:
                match = resolve(request.path_info)
            except Resolver404:
                return self.get_response(request)
            if match.func is api_view:
                return api_view(request, *match.args, **match.kwargs)
        return self.get_response(request)
