"""Reading parameters: from the query string and the body, whatever the declared content type
(contract §2), and turning them into typed values as each resource declares them."""

import codecs
import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

from django.core.exceptions import SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from django.utils.http import parse_header_parameters

from confero.api.codes import PARAM_INVALID, PARAM_MISSING, TOO_LARGE, ApiError

RawParams = dict[str, list[str]]
MAX_FIELDS = 10_000
# Characters XML 1.0 cannot carry (C0 controls but tab, LF and CR; U+FFFE, U+FFFF): a value
# holding one could be stored but never answered, and a name holding one not even named.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# Multipart bodies are decoded by Django's parser, which replaces bytes that are not UTF-8 by
# U+FFFD and so would store a value the client never sent. It decodes with the request's
# encoding: this one keeps such bytes as lone surrogates (U+DC80–U+DCFF, which UTF-8 text cannot
# hold), which _check_multipart then refuses, naming the parameter.
_ESCAPED_UTF8 = "confero_utf_8_escaped"
_ESCAPED = re.compile("[\udc80-\udcff]")


def _find_escaped_utf8(name: str) -> codecs.CodecInfo | None:
    if name != _ESCAPED_UTF8:
        return None
    return codecs.CodecInfo(
        name=_ESCAPED_UTF8,
        encode=lambda text, errors="strict": codecs.utf_8_encode(text, "surrogateescape"),
        decode=lambda data, errors="strict": codecs.utf_8_decode(data, "surrogateescape", True),
    )


codecs.register(_find_escaped_utf8)


def _check_multipart(text: str, what: str) -> str:
    if bad := _ESCAPED.search(text):
        byte = len(text[: bad.start()].encode("utf-8", "surrogateescape"))
        raise ApiError(PARAM_INVALID, f"{what} is not valid UTF-8 (byte {byte})")
    return _check_xml_chars(text, what)


_ENCODED_PARAMETER = re.compile(r";\s*[^\s=;]+\*\s*=")


def _check_part_headers(request: HttpRequest, content_type: str) -> None:
    """Django's parser skips a header line that is not UTF-8, and with it the part's name: the
    parameter would be dropped without a word. Refused here instead."""
    boundary = parse_header_parameters(content_type)[1].get("boundary", "")
    if not boundary:
        return  # Django's parser refuses the body
    delimiter = b"--" + boundary.encode("latin-1", "replace")
    for part in request.body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            return
        headers = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")[0]
        try:
            text = headers.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ApiError(
                PARAM_INVALID,
                f"a part's headers in the multipart body are not valid UTF-8 (byte {exc.start})",
            ) from exc
        if _ENCODED_PARAMETER.search(text):
            # RFC 2231 (name*=charset''%XX…): Django decodes it replacing what is not valid in
            # the charset, and takes any charset Python knows. Clients send names as UTF-8.
            raise ApiError(
                PARAM_INVALID,
                "a part's headers in the multipart body use an encoded parameter (name*=…): "
                "send the name as UTF-8",
            )


def _decode(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(PARAM_INVALID, f"{what} is not valid UTF-8 (byte {exc.start})") from exc


def _pairs(data: bytes) -> list[tuple[bytes, bytes]]:
    """application/x-www-form-urlencoded, byte for byte (urllib's parse_qsl decodes on the way)."""
    pairs = []
    for part in data.split(b"&"):
        if not part:
            continue
        raw_name, _, raw_value = part.partition(b"=")
        pairs.append(
            (
                unquote_to_bytes(raw_name.replace(b"+", b" ")),
                unquote_to_bytes(raw_value.replace(b"+", b" ")),
            )
        )
    if len(pairs) > MAX_FIELDS:
        raise ApiError(PARAM_INVALID, f"more than {MAX_FIELDS} parameters")
    return pairs


def _check_xml_chars(text: str, what: str) -> str:
    if bad := NOT_XML.search(text):
        raise ApiError(
            PARAM_INVALID,
            f"{what} contains the character U+{ord(bad.group()):04X}, which XML cannot carry",
        )
    return text


def _parse_urlencoded(data: bytes, where: str) -> RawParams:
    params: RawParams = {}
    for raw_name, raw_value in _pairs(data):
        name = _check_xml_chars(
            _decode(raw_name, f"a parameter name in the {where}"),
            f"a parameter name in the {where}",
        )
        value = _check_xml_chars(_decode(raw_value, f"parameter '{name}'"), f"parameter '{name}'")
        params.setdefault(name, []).append(value.strip())
    return params


# What the WSGI server raises, reading a chunked body that is not valid (gunicorn's names; this
# layer does not import the server): said to the client in words of its own.
_CHUNKED_FAULTS = {
    "InvalidChunkSize": "a chunk size is not a hexadecimal number",
    "InvalidChunkExtension": "a chunk extension is not valid",
    "ChunkMissingTerminator": "a chunk does not end with CRLF, or the body ends before its end",
    "NoMoreData": "the body ends before its last chunk",
    "InvalidHeader": "a trailer field is not valid",
    "InvalidHeaderName": "a trailer field is not valid",
}


def buffer_unsized_body(request: HttpRequest, *, max_body: int) -> None:
    """Reads a body sent without Content-Length (Transfer-Encoding: chunked), which Django
    would otherwise drop unread, so that its parameters count and its size is limited too.

    Only where the WSGI server marks its input as terminated (gunicorn does: it de-chunks the body
    and ends the stream with it), else reading could wait for bytes that never come. At most one
    byte over the limit is read; the body is then handed on as if it had been sent with its length.
    A chunked body that cannot be read (a bad chunk size, a body cut short…) → 201; one under a
    content coding (`Transfer-Encoding: gzip, chunked`, which gunicorn passes on still coded) →
    201 too: its bytes are not the form that was meant.
    """
    if request.META.get("CONTENT_LENGTH") or not request.META.get("wsgi.input_terminated"):
        return
    codings = request.META.get("HTTP_TRANSFER_ENCODING", "")
    if {c.strip(" \t").lower() for c in codings.split(",")} - {"chunked", "identity", ""}:
        raise ApiError(
            PARAM_INVALID,
            f"Transfer-Encoding '{codings[:60]}' not supported: send the body chunked, "
            "or with Content-Length, without a content coding",
        )
    try:
        body = request.META["wsgi.input"].read(max_body + 1)
    except Exception as exc:  # whatever the server raises: the body was not readable as sent
        name = type(exc).__name__
        if name == "LimitRequestHeaders":
            raise ApiError(TOO_LARGE, "chunked request body: trailer fields too large") from exc
        fault = _CHUNKED_FAULTS.get(name, "it cannot be read")
        raise ApiError(PARAM_INVALID, f"chunked request body not valid: {fault}") from exc
    if len(body) > max_body:
        raise ApiError(TOO_LARGE, f"request body over {max_body} bytes")
    request._body = body
    request.META["CONTENT_LENGTH"] = str(len(body))


def read_raw_params(request: HttpRequest, *, max_body: int) -> RawParams:
    """Every parameter of the call, each name with all its values in the order sent.

    The same name in the query string and the body must carry the same values there (else 201).
    """
    # WSGI hands the query string over as latin-1 text: encoding it back gives the bytes sent.
    raw_query = request.META.get("QUERY_STRING", "")
    try:
        query_bytes = raw_query.encode("latin-1")
    except UnicodeEncodeError:
        query_bytes = raw_query.encode("utf-8")
    query = _parse_urlencoded(query_bytes, "query string")
    body = _read_body_params(request, max_body=max_body)
    for name, values in body.items():
        if name in query and query[name] != values:
            raise ApiError(
                PARAM_INVALID,
                f"parameter '{name}' is sent in the query and the body with different values",
            )
        query.setdefault(name, values)
    return query


def _read_body_params(request: HttpRequest, *, max_body: int) -> RawParams:
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.lower().startswith("multipart/form-data"):
        _check_part_headers(request, content_type)
        request.encoding = _ESCAPED_UTF8
        try:
            post, files = request.POST, request.FILES
        except TooManyFieldsSent as exc:
            raise ApiError(PARAM_INVALID, f"more than {MAX_FIELDS} parameters") from exc
        except TooManyFilesSent as exc:
            raise ApiError(PARAM_INVALID, "file uploads are not accepted") from exc
        except (MultiPartParserError, SuspiciousOperation) as exc:
            raise ApiError(PARAM_INVALID, f"multipart body not valid: {exc}") from exc
        if files:
            name = _check_multipart(next(iter(files)), "a parameter name in the body")
            raise ApiError(PARAM_INVALID, f"file uploads are not accepted ('{name}')")
        return {
            _check_multipart(name, "a parameter name in the body"): [
                _check_multipart(v, f"parameter '{name}'").strip() for v in post.getlist(name)
            ]
            for name in post
        }
    body = request.body
    if len(body) > max_body:
        raise ApiError(TOO_LARGE, f"request body over {max_body} bytes")
    return _parse_urlencoded(body, "body")


# --- Declared parameters -------------------------------------------------------------------


class Invalid(ValueError):
    """A value that breaks a parameter's rule; the message states the rule."""


def text(max_length: int = 4000) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) > max_length:
            raise Invalid(f"at most {max_length} characters")
        return value

    parse.rule = f"text, at most {max_length} characters"
    parse.is_text = True
    return parse


def integer(minimum: int = 0, maximum: int = 2**53) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not re.fullmatch(r"[+-]?[0-9]{1,16}", value):
            raise Invalid("a whole number")
        number = int(value)
        if not minimum <= number <= maximum:
            raise Invalid(f"a whole number from {minimum} to {maximum}")
        return number

    parse.rule = f"whole number, {minimum}–{maximum}"
    return parse


def boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise Invalid("true or false")


boolean.rule = "true or false"


def guid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise Invalid("a GUID") from exc


guid.rule = "GUID"


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# The last millisecond a datetime holds (9999-12-31T23:59:59.999Z); later ones overflow.
_LAST_MILLIS = (dt.datetime.max.replace(tzinfo=dt.UTC) - _EPOCH) // dt.timedelta(milliseconds=1)


def epoch_millis(value: str) -> dt.datetime:
    if not re.fullmatch(r"[0-9]{1,15}", value):
        raise Invalid("epoch milliseconds (a whole number)")
    if int(value) > _LAST_MILLIS:
        raise Invalid(f"epoch milliseconds no later than {_LAST_MILLIS} (the end of the year 9999)")
    return _EPOCH + dt.timedelta(milliseconds=int(value))


epoch_millis.rule = "epoch milliseconds"


def one_of(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in choices:
            raise Invalid("one of " + ", ".join(choices))
        return value

    parse.rule = "one of " + ", ".join(choices)
    return parse


EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def email(value: str) -> str:
    if len(value) > 254 or not EMAIL_RE.match(value):
        raise Invalid("an email address")
    return value


email.rule = "email address"


@dataclass(frozen=True)
class Param:
    name: str
    parse: Callable[[str], Any] = field(default_factory=text)
    required: bool = False
    repeatable: bool = False
    doc: str = ""

    @property
    def rule(self) -> str:
        return getattr(self.parse, "rule", "")


def parse_declared(param: Param, values: list[str] | None) -> Any:
    """The typed value of one declared parameter (a list when repeatable); None when absent.

    An empty value is kept as "" for text parameters (it clears a field on updates) and counts
    as absent for every other type; for a required parameter it counts as missing.
    """
    if not values:
        if param.required:
            raise ApiError(PARAM_MISSING, f"parameter '{param.name}' is required")
        return [] if param.repeatable else None
    if len(values) > 1 and not param.repeatable:
        raise ApiError(PARAM_INVALID, f"parameter '{param.name}' is repeated; send it once")
    if values == [""]:
        if param.required:
            raise ApiError(PARAM_MISSING, f"parameter '{param.name}' is required (it is empty)")
        if not getattr(param.parse, "is_text", False):
            return [] if param.repeatable else None
    try:
        parsed = [param.parse(value) for value in values]
    except Invalid as exc:
        raise ApiError(PARAM_INVALID, f"parameter '{param.name}' must be {exc}") from exc
    return parsed if param.repeatable else parsed[0]
