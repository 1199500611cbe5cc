"""No token in any line of `confero serve`'s logs, wherever in the request it was sent
(confero.gunicorn_logging, confero.access.redaction), on a real server (tests/cli/conftest.py)."""

import pytest

from tests.cli.served import post

pytestmark = pytest.mark.once  # its own server, on SQLite whatever the suite's database


def secret(token: str) -> str:
    return token[17:]


def test_token_in_the_path_is_not_in_the_access_log(server):
    server.exchange(post(f"/demo/api/{server.live}.do".encode()))

    log = server.wait_for_log(f'"POST /demo/api/{server.live[:17]}….do" 404')

    assert secret(server.live) not in log


def test_token_in_a_refused_request_line_is_not_in_the_error_log(server):
    path = f"/demo/api/event.do?apiToken={server.live.replace('_', '%5F')}&x=\x00".encode()
    server.exchange(post(path))

    log = server.wait_for_log(f"apiToken={server.live[:17]}…&x=")

    assert secret(server.live) not in log


def test_token_as_an_upper_case_method_is_not_in_the_error_log(server):
    server.exchange(post(method=server.live.upper().encode()))

    log = server.wait_for_log(f"Invalid HTTP method: '{server.live[:17].upper()}…'")

    assert secret(server.live).upper() not in log


def test_token_in_a_refused_header_line_is_not_in_the_error_log(server):
    server.exchange(post(headers=f"Bearer {server.live}\r\n".encode()))

    log = server.wait_for_log(f"Invalid HTTP Header: 'Bearer {server.live[:17]}…'")

    assert secret(server.live) not in log
