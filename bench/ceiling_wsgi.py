"""The ceiling: a bare WSGI app answering every request with a fixed event.do body.

No Django, no middleware, no database, no XML rendering: only gunicorn (same command line as
`confero serve`), the HTTP parse, reading the request body, and writing the bytes out. It answers
with the exact bytes a real event.do call returned (the benchmark fetches them first and passes the
file in BENCH_CEILING_BODY), with the same Content-Type and Cache-Control, so wrk's check of
`<response code="0">` applies unchanged.
"""

import os
from pathlib import Path

BODY = Path(os.environ["BENCH_CEILING_BODY"]).read_bytes()
HEADERS = [
    ("Content-Type", "application/xml; charset=utf-8"),
    ("Content-Length", str(len(BODY))),
    ("Cache-Control", "no-store"),
]


def application(environ, start_response):
    # Read the request body as any real handler must, so the ceiling does the same I/O.
    length = environ.get("CONTENT_LENGTH") or "0"
    if length.isdigit() and int(length):
        environ["wsgi.input"].read(int(length))
    start_response("200 OK", HEADERS)
    return [BODY]
