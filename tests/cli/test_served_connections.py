"""How `confero serve`'s gunicorn ends connections (confero.gunicorn_worker), on a real server:
one sync worker, on SQLite in a directory of the test's own, spoken to over raw sockets.

- An answered client that keeps its connection open does not hold the worker: the next client
  is answered while the first is still connected (gunicorn's own graceful close waits up to 2 s
  for the client to close first, serving no one meanwhile).
- Answers are sized (Content-Length), not chunked.
- A body refused before it was read (over 1 MiB, code 202) is answered whole, in XML, on a real
  server (the worker leaves that connection to gunicorn's graceful close; that no reset can cut
  such an answer is not something a test on loopback can show)."""

import os
import socket
import subprocess
import sys
import time

import pytest

MiB = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("served")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{data / 'confero.sqlite3'}",
        "CONFERO_DATA_DIR": str(data),
        "CONFERO_LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    argv = [sys.executable, "-m", "confero", "serve", "--port", str(port), "--workers", "1"]
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError((data / "server.log").read_text()) from None
            time.sleep(0.1)
    yield port
    proc.terminate()
    proc.wait(timeout=15)
    log.close()


def request(body: bytes, length: int | None = None) -> bytes:
    length = len(body) if length is None else length
    return (
        b"POST /demo/api/event.do HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        + f"Content-Length: {length}\r\n\r\n".encode()
        + body
    )


def read_to_end(sock: socket.socket) -> bytes:
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    return answer


def sized_xml_answer(answer: bytes, status: str, code: int, message: str) -> list[str]:
    """Checks an HTTP answer: this status, this XML error document as its body, sized with
    Content-Length (not chunked). Its status and header lines."""
    head_bytes, _, body = answer.partition(b"\r\n\r\n")
    head = head_bytes.decode("latin-1").split("\r\n")
    assert head[0] == f"HTTP/1.1 {status}"
    assert body == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        + f'<api><response code="{code}">{message}</response></api>'.encode()
    )
    assert f"Content-Length: {len(body)}" in head
    assert not [line for line in head if line.startswith("Transfer-Encoding")]
    return head


def test_an_answered_client_that_stays_connected_does_not_hold_the_worker(server):
    first = socket.create_connection(("127.0.0.1", server), timeout=5)
    first.sendall(request(b"format=xml"))
    first_answer = read_to_end(first)  # the server closed: the answer is complete

    # `first` stays open. The one worker must be free for the next client at once: a graceful
    # close would still be waiting for `first` to close, up to 2 s.
    second = socket.create_connection(("127.0.0.1", server), timeout=1)
    second.sendall(request(b"format=xml"))
    second_answer = read_to_end(second)  # socket.timeout (after 1 s) if the worker waited
    first.close()
    second.close()

    # No event "demo" in this database: no address is allowed.
    assert first_answer == second_answer
    head = sized_xml_answer(
        first_answer, "403 Forbidden", 103, "client address 127.0.0.1 is not allowed"
    )
    assert "Connection: close" in head


def test_a_body_refused_before_it_was_read_still_gets_its_whole_answer(server):
    body = b"apiToken=x&pad=" + b"a" * (2 * MiB)
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        sock.sendall(request(body))
        answer = read_to_end(sock)

    sized_xml_answer(answer, "413 Request Entity Too Large", 202, "request body over 1048576 bytes")
