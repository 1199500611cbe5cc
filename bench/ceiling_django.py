"""The Django ceiling: Confero's settings and middleware, no pipeline, no database.

Used as DJANGO_SETTINGS_MODULE (with bench/ on PYTHONPATH) under the very same
`confero.wsgi:application` and `confero serve` command line. Only the URL configuration changes:
`/CODE/api/NAME.do` goes to a view that reads the POST body and answers the bytes a real event.do
call answered (BENCH_CEILING_BODY). API calls reach it as they reach the pipeline: Confero's
first middleware (confero.api.middleware) hands a call to the pipeline's view, here this one,
past the rest. The gap between this ceiling and the bare WSGI one is Django's request/response
cost; the gap between this one and event.do is the pipeline's.
"""

import os
from pathlib import Path

from django.http import HttpResponse
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

from confero.settings import *  # noqa: F403 - every setting and middleware
from confero.settings import MIDDLEWARE

ROOT_URLCONF = __name__
_BODY = Path(os.environ["BENCH_CEILING_BODY"]).read_bytes()


@csrf_exempt
def fixed_event_do(request, code: str, name: str):
    request.body  # noqa: B018 - read the body as the pipeline does
    response = HttpResponse(_BODY, content_type="application/xml; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def fast_path(get_response):
    """Confero's first middleware, handing API calls to fixed_event_do instead of the pipeline
    (imported here: the settings module is read before Django is set up)."""
    from confero.api import middleware

    middleware.api_view = fixed_event_do
    return middleware.ApiFastPathMiddleware(get_response)


assert MIDDLEWARE[0] == "confero.api.middleware.ApiFastPathMiddleware"
MIDDLEWARE = [f"{__name__}.fast_path", *MIDDLEWARE[1:]]

urlpatterns = [
    re_path(
        r"^(?P<code>[A-Za-z0-9_.-]{1,60})/api/(?P<name>[A-Za-z][A-Za-z0-9_]{0,59})\.do$",
        fixed_event_do,
    ),
]
