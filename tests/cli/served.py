"""Speaking to a real `confero serve` over raw sockets: requests written byte by byte (no HTTP
client sends what these tests send), and the server's log."""

import socket
import time
from pathlib import Path


class Served:
    def __init__(self, port: int, log: Path, live: str) -> None:
        self.port, self.log, self.live = port, log, live

    def exchange(self, data: bytes) -> bytes:
        """Sends a whole request, closes the sending side, reads the answer to its end."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            return answer

    def log_text(self) -> str:
        return self.log.read_bytes().decode("utf-8", "replace")

    def wait_for_log(self, needle: str) -> str:
        """The server's log once it holds `needle` (a line is written after its answer)."""
        deadline = time.monotonic() + 10
        while needle not in (text := self.log_text()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} not in the server's log:\n{text[-3000:]}")
            time.sleep(0.02)
        return text


def post(
    path: bytes = b"/demo/api/event.do",
    *,
    method: bytes = b"POST",
    version: bytes = b"HTTP/1.1",
    headers: bytes = b"",
    body: bytes = b"",
    sized: bool = True,
) -> bytes:
    length = f"Content-Length: {len(body)}\r\n".encode() if sized else b""
    head = method + b" " + path + b" " + version + b"\r\nHost: 127.0.0.1\r\n" + headers + length
    return head + b"\r\n" + body


def chunked_post(chunks: bytes, path: bytes = b"/demo/api/event.do") -> bytes:
    headers = b"Transfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    return post(path, headers=headers, body=chunks, sized=False)
