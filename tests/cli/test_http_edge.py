"""The HTTP edge of `confero serve` (issue 16), on a real server over raw sockets (the `server`
fixture of tests/cli/conftest.py): what gunicorn refuses itself answered in the contract's XML
(confero.gunicorn_errors, confero.gunicorn_worker), chunked bodies read and refused
(confero.api.params.buffer_unsized_body), API-looking paths answered 122
(confero.api.middleware). Tokens in its logs: test_served_logs.py."""

import re

import pytest
from gunicorn.config import Config
from gunicorn.http import errors

from confero.gunicorn_errors import edge_answer
from tests.cli.served import chunked_post, post

pytestmark = pytest.mark.once  # its own server, on SQLite whatever the suite's database

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
MiB = 1024 * 1024


def xml_answer(answer: bytes) -> tuple[str, bytes]:
    """The status line of an answer in the contract's XML, and its body; fails otherwise."""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert "Content-Type: application/xml; charset=utf-8" in lines, answer
    assert f"Content-Length: {len(body)}" in lines, answer
    return lines[0], body


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


# --- What gunicorn refuses itself ----------------------------------------------------------

CONTENT_LENGTH = (
    "header Content-Length not valid: send one, a whole number, and not with Transfer-Encoding"
)
TRANSFER_ENCODING = (
    "header Transfer-Encoding not valid: chunked once and last, over HTTP/1.1, "
    "without Content-Length"
)
METHOD = "method not valid: methods are upper case (use POST)"
REQUEST_LINE = "request line not valid: send 'POST /CODE/api/NAME.do HTTP/1.1'"
BAD_HEADER = "a header is not valid (its characters or end)"
HEADERS_TOO_LARGE = "request headers too large: at most 100 fields of 8190 bytes each"


@pytest.mark.parametrize(
    ("request_bytes", "status", "code", "message"),
    [
        (post(method=b"post"), "400 Bad Request", 201, METHOD),
        (post(method=b"PoSt"), "400 Bad Request", 201, METHOD),
        (b"GARBAGE\r\n\r\n", "400 Bad Request", 201, REQUEST_LINE),
        (post(b"/demo/api/ev\x00ent.do"), "400 Bad Request", 201, REQUEST_LINE),
        (post(b"/demo/api/\xff\xfe.do"), "400 Bad Request", 201, REQUEST_LINE),
        (
            post(version=b"HTTP/2.0"),
            "400 Bad Request",
            201,
            "HTTP version not valid: send HTTP/1.1",
        ),
        (post(headers=b"Authorization: Bearer x\x00y\r\n"), "400 Bad Request", 201, BAD_HEADER),
        (post(headers=b"X-Note: a\x01b\r\n"), "400 Bad Request", 201, BAD_HEADER),
        (
            post(headers=b"Content-Length: abc\r\n", sized=False),
            "400 Bad Request",
            201,
            CONTENT_LENGTH,
        ),
        (
            post(headers=b"Content-Length: -1\r\n", sized=False),
            "400 Bad Request",
            201,
            CONTENT_LENGTH,
        ),
        (post(headers=b"Content-Length: 0\r\n"), "400 Bad Request", 201, CONTENT_LENGTH),
        (
            post(
                headers=b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                body=b"0\r\n\r\n",
                sized=False,
            ),
            "400 Bad Request",
            201,
            CONTENT_LENGTH,
        ),
        (
            post(headers=b"Transfer-Encoding: chunked, gzip\r\n", body=b"0\r\n\r\n", sized=False),
            "400 Bad Request",
            201,
            TRANSFER_ENCODING,
        ),
        (
            post(headers=b"Transfer-Encoding: br, chunked\r\n", body=b"0\r\n\r\n", sized=False),
            "400 Bad Request",
            201,
            "Transfer-Encoding not supported: send chunked, or Content-Length",
        ),
        (
            post(b"/demo/api/event.do?x=" + b"a" * 4090),
            "414 URI Too Long",
            202,
            "request line over 4094 bytes: send parameters in the body",
        ),
        (
            post(headers=b"X-Pad: " + b"a" * 8200 + b"\r\n"),
            "431 Request Header Fields Too Large",
            202,
            HEADERS_TOO_LARGE,
        ),
        (
            post(headers=b"".join(b"X-%d: a\r\n" % i for i in range(101))),
            "431 Request Header Fields Too Large",
            202,
            HEADERS_TOO_LARGE,
        ),
        (
            post(headers=b"Expect: 200-ok\r\n"),
            "417 Expectation Failed",
            201,
            "header Expect not valid: only 100-continue is",
        ),
    ],
    ids=[
        "lower-case method",
        "mixed-case method",
        "malformed request line",
        "NUL in the path",
        "not UTF-8 in the path",
        "HTTP/2.0",
        "NUL in a header",
        "control character in a header",
        "Content-Length not a number",
        "Content-Length negative",
        "Content-Length repeated",
        "Content-Length and Transfer-Encoding",
        "chunked not last",
        "unknown transfer coding",
        "URL over 4094 bytes",
        "header over 8 KB",
        "over 100 headers",
        "Expect not 100-continue",
    ],
)
def test_request_refused_by_the_http_server_is_answered_in_xml(
    server, request_bytes, status, code, message
):
    status_line, body = xml_answer(server.exchange(request_bytes))

    assert status_line == f"HTTP/1.1 {status}"
    assert body == error_xml(code, message)


def test_request_refused_by_the_http_server_leaves_the_server_serving(server):
    server.exchange(post(method=b"post"))

    status_line, body = xml_answer(server.exchange(post(body=f"apiToken={server.live}".encode())))

    assert status_line == "HTTP/1.1 200 OK"
    assert b'<response code="0">Success</response>' in body


def test_refused_head_request_is_answered_without_a_body(server):
    """Where gunicorn's refusal tells the request (a bad Content-Length does)."""
    answer = server.exchange(post(method=b"HEAD", headers=b"Content-Length: x\r\n", sized=False))

    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0] == "HTTP/1.1 400 Bad Request"
    assert re.fullmatch(r"Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT", lines[1])
    assert lines[2:] == [
        "Connection: close",
        "Content-Type: application/xml; charset=utf-8",
        "Cache-Control: no-store",
        f"Content-Length: {len(error_xml(201, CONTENT_LENGTH))}",
    ]
    assert body == b""


def test_answer_to_an_http_1_2_request_is_in_http_1_1(server):
    status_line, body = xml_answer(server.exchange(post(version=b"HTTP/1.2")))

    assert status_line == "HTTP/1.1 401 Unauthorized"
    assert body == error_xml(100, "apiToken missing")


def test_edge_error_of_the_server_s_own_is_code_1_with_an_incident():
    answer = edge_answer(RuntimeError("boom"), Config())

    assert (answer.status, answer.code) == (500, 1)
    assert answer.message == f"Internal error (incident {answer.incident})"
    assert re.fullmatch(r"[0-9A-F]{12}", answer.incident)


def test_edge_answer_to_a_header_the_application_sent_is_code_1():
    answer = edge_answer(errors.InvalidResponseHeader("X-A"), Config())

    assert (answer.status, answer.code) == (500, 1)


# --- Chunked bodies ---------------------------------------------------------------------------


def test_chunked_body_is_read_like_any_other(server):
    body = f"apiToken={server.live}&firstName=Chunk&lastName=Ed&email=chunk%40example.org"
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in _split(body.encode(), 7))

    status_line, answer = xml_answer(
        server.exchange(chunked_post(chunks + b"0\r\n\r\n", b"/demo/api/addUser.do"))
    )

    assert status_line == "HTTP/1.1 200 OK"
    assert b'<response code="0">Success</response><userKey>' in answer


def _split(data: bytes, parts: int) -> list[bytes]:
    size = -(-len(data) // parts)
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize(
    ("chunks", "message"),
    [
        (b"zz\r\nabc\r\n0\r\n\r\n", "a chunk size is not a hexadecimal number"),
        (b"-3\r\nabc\r\n0\r\n\r\n", "a chunk size is not a hexadecimal number"),
        (b"10\r\nabc", "the body ends before its last chunk"),
        (b"3\r\nabc\r\n", "the body ends before its last chunk"),
        (b"3\r\nabcXX0\r\n\r\n", "a chunk does not end with CRLF, or the body ends before its end"),
        (b"3;\x01\r\nabc\r\n0\r\n\r\n", "a chunk extension is not valid"),
        (b"3\r\nabc\r\n0\r\nBad Trailer\r\n\r\n", "a trailer field is not valid"),
    ],
    ids=[
        "size not hexadecimal",
        "size negative",
        "truncated",
        "no last chunk",
        "chunk without CRLF",
        "bad extension",
        "bad trailer",
    ],
)
def test_malformed_chunked_body_is_refused_with_201(server, chunks, message):
    status_line, body = xml_answer(server.exchange(chunked_post(chunks)))

    assert status_line == "HTTP/1.1 400 Bad Request"
    assert body == error_xml(201, f"chunked request body not valid: {message}")


def test_chunked_body_over_1_mib_is_refused_with_202(server):
    payload = b"apiToken=x&pad=" + b"a" * MiB
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in _split(payload, 20))

    status_line, body = xml_answer(server.exchange(chunked_post(chunks + b"0\r\n\r\n")))

    assert status_line == "HTTP/1.1 413 Request Entity Too Large"
    assert body == error_xml(202, "request body over 1048576 bytes")


def test_chunked_body_under_a_content_coding_is_refused_with_201(server):
    request_bytes = post(
        headers=b"Transfer-Encoding: gzip, chunked\r\n", body=b"0\r\n\r\n", sized=False
    )

    status_line, body = xml_answer(server.exchange(request_bytes))

    assert status_line == "HTTP/1.1 400 Bad Request"
    assert body == error_xml(
        201,
        "Transfer-Encoding 'gzip, chunked' not supported: send the body chunked, "
        "or with Content-Length, without a content coding",
    )


# --- API-looking paths ----------------------------------------------------------------------

UNKNOWN = (
    "unknown resource: API URLs are /CODE/api/NAME.do and /uat/CODE/api/NAME.do, in lower "
    "case, without '.' or '..' segments"
)


@pytest.mark.parametrize(
    "path",
    [
        b"/demo/API/event.do",
        b"/UAT/demo/api/event.do",
        b"/DEMO/api/event.do",
        b"/admin/../demo/api/event.do",
        b"/demo/./api/event.do",
        b"//demo/api/event.do",
    ],
)
def test_api_looking_path_is_answered_with_122(server, path):
    status_line, body = xml_answer(
        server.exchange(post(path, body=f"apiToken={server.live}".encode()))
    )

    assert status_line == "HTTP/1.1 404 Not Found"
    assert body == error_xml(122, UNKNOWN)
