"""HTTP responses of the API: answers, refusals and streamed feeds, each logged once."""

import logging
import uuid

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from confero.access.tokens import redact_tokens
from confero.api import codes
from confero.api.calllog import Outcome, log_call
from confero.api.codes import ApiError
from confero.api.render import (
    JSON_CONTENT_TYPE,
    XML_CONTENT_TYPE,
    Document,
    Feed,
    json_document,
    json_feed,
    xml_document,
    xml_feed,
)

log = logging.getLogger("confero.api")


def wants_json(request: HttpRequest) -> bool:
    """`format=json`, as far as the parameters were read (refusals before that answer XML)."""
    raw = getattr(request, "confero_raw_params", None)
    return bool(raw) and raw.get("format") == ["json"]


def response(body: bytes, status: int, *, json: bool) -> HttpResponse:
    answer = HttpResponse(
        body, status=status, content_type=JSON_CONTENT_TYPE if json else XML_CONTENT_TYPE
    )
    answer["Cache-Control"] = "no-store"
    # Sized, not chunked: fewer bytes, and one write to the socket instead of three.
    answer["Content-Length"] = str(len(body))
    return answer


def error_body(code: int, message: str, *, json: bool = False) -> bytes:
    render = json_document if json else xml_document
    return render(Document(), code, message)


def refusal(error: ApiError, outcome: Outcome, *, json: bool) -> HttpResponse:
    message = redact_tokens(error.message)  # messages may name what the client sent
    answer = response(error_body(error.code, message, json=json), codes.http_status(error.code),
                      json=json)  # fmt: skip
    for header, value in error.headers.items():
        answer[header] = value
    log_call(outcome, error.code)
    return answer


def internal_error(outcome: Outcome, *, json: bool, resource: str) -> HttpResponse:
    outcome.incident = uuid.uuid4().hex[:12].upper()
    log.exception("internal error, incident %s, resource %s", outcome.incident, resource)
    error = ApiError(codes.INTERNAL_ERROR, f"Internal error (incident {outcome.incident})")
    return refusal(error, outcome, json=json)


def stream(feed: Feed, outcome: Outcome, *, json: bool) -> StreamingHttpResponse:
    chunks = (json_feed if json else xml_feed)(feed)

    def logged():
        code = codes.INTERNAL_ERROR
        try:
            yield from chunks
            code = codes.SUCCESS
        except Exception:
            outcome.incident = uuid.uuid4().hex[:12].upper()
            log.exception("feed broke off while streaming, incident %s", outcome.incident)
        finally:
            log_call(outcome, code)

    answer = StreamingHttpResponse(
        logged(), content_type=JSON_CONTENT_TYPE if json else XML_CONTENT_TYPE
    )
    answer["Cache-Control"] = "no-store"
    return answer
