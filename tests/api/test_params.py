"""api/params.py: a body sent without Content-Length (chunked), as the WSGI server hands it on
(`wsgi.input_terminated`), is read whole and limited like any other; one the server cannot
read, or one under a content coding, is refused with 201. Through gunicorn:
tests/cli/test_http_edge.py."""

import io

import pytest

from confero.api.render import DECLARATION


class InvalidChunkSize(Exception):
    """Named as gunicorn's: params.py knows the server's errors by their names only."""


class Unreadable(io.RawIOBase):
    def __init__(self, error: Exception) -> None:
        self.error = error

    def read(self, size: int = -1) -> bytes:
        raise self.error


def chunked_call(client, url: str, body, *, coding: str = "chunked"):
    stream = body if isinstance(body, io.RawIOBase) else io.BytesIO(body)
    return client.generic(
        "POST",
        url,
        b"",
        REMOTE_ADDR="127.0.0.1",
        HTTP_TRANSFER_ENCODING=coding,
        CONTENT_TYPE="application/x-www-form-urlencoded",
        **{"wsgi.input": stream, "wsgi.input_terminated": True},
    )


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


def test_unsized_body_is_read(client, live_site):
    response = chunked_call(client, live_site.url("event"), f"apiToken={live_site.token}".encode())

    assert response.status_code == 200
    assert b'<response code="0">Success</response>' in response.content


def test_unsized_body_over_the_limit_is_refused_with_202(client, live_site, settings):
    settings.CONFERO_MAX_BODY_BYTES = 100
    body = f"apiToken={live_site.token}&pad=".encode() + b"a" * 100

    response = chunked_call(client, live_site.url("event"), body)

    assert (response.status_code, response.content) == (
        413,
        error_xml(202, "request body over 100 bytes"),
    )


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (InvalidChunkSize(b"zz"), "a chunk size is not a hexadecimal number"),
        (ValueError("anything else"), "it cannot be read"),
    ],
)
def test_unreadable_unsized_body_is_refused_with_201(client, live_site, error, message):
    response = chunked_call(client, live_site.url("event"), Unreadable(error))

    assert (response.status_code, response.content) == (
        400,
        error_xml(201, f"chunked request body not valid: {message}"),
    )


@pytest.mark.parametrize("coding", ["gzip, chunked", "deflate,chunked", "x-gzip, chunked"])
def test_unsized_body_under_a_content_coding_is_refused_with_201(client, live_site, coding):
    response = chunked_call(client, live_site.url("event"), b"\x1f\x8b", coding=coding)

    assert (response.status_code, response.content) == (
        400,
        error_xml(
            201,
            f"Transfer-Encoding '{coding}' not supported: send the body chunked, "
            "or with Content-Length, without a content coding",
        ),
    )
