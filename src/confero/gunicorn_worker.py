"""gunicorn's sync worker, closing a connection as soon as its answer is out, when it can.

gunicorn (since 25) ends every connection "gracefully" (`gunicorn.util.close_graceful`): it
shuts its side, then waits — up to 2 s — for the client to close its own, reading whatever the
client still sends. That keeps a reset from cutting an answer short when the client sent more
than the server read. But a sync worker serves no one while it waits: a round trip to the client
on every call, and 2 s for a client that keeps its connection open, which anyone can do to
every worker at once.

It also sends an answer's headers together with the start of its body, in one write.

This worker closes at once when nothing of the client's is left unread — the request's whole
declared body read, nothing more on the socket, or the client gone already — and the client has
acknowledged the whole answer (the socket's send queue is empty, `SIOCOUTQ`): then closing
cannot reset the connection under the answer. Otherwise (a body refused before it was read,
code 202; a chunked body; anything sent after the request; an answer not yet acknowledged) it
leaves the connection to gunicorn's graceful close. A request whose body is not read still holds
the worker up to 2 s, as with gunicorn's own worker: put a buffering proxy in front of servers
on the open internet (docs/operations.md).

And it answers what gunicorn refuses before the application sees a request (a malformed request
line or header, a method in lower case, a URL or headers too large…) with the contract's XML
instead of gunicorn's HTML page (confero.gunicorn_errors, decision 0017).

`confero serve` runs it (docs/performance.md).
"""

import fcntl
import socket
import struct
import termios
from datetime import datetime

from gunicorn import util
from gunicorn.http.body import LengthReader
from gunicorn.http.message import Message
from gunicorn.http.wsgi import Response, default_environ
from gunicorn.workers.sync import SyncWorker as GunicornSyncWorker

from confero.gunicorn_errors import edge_answer


class SyncWorker(GunicornSyncWorker):
    def handle_request(self, listener, req, client, addr):
        # gunicorn answers in the request's version, HTTP/1.2 to an HTTP/1.2 request; HTTP/1.1 is
        # the highest it speaks, and what it must answer in (RFC 9110, section 6.2).
        req.version = min(req.version, (1, 1))
        held = HeldHeaders(client)
        try:
            super().handle_request(listener, req, held, addr)
        finally:
            held.release()
        if nothing_unread(req, client):
            # gunicorn's graceful close that follows finds the socket closed and does nothing.
            client.close()

    def handle_error(self, req, client, addr, exc) -> None:
        """gunicorn's own, but answering XML (and logging through the redacting logger)."""
        started = datetime.now()
        addr = addr or ("", -1)  # a unix socket
        ip, port = addr[0], addr[1]
        answer = edge_answer(exc, self.cfg)
        if answer.incident:
            self.log.exception("Error handling request, incident %s", answer.incident)
        else:
            self.log.warning("Invalid request from ip=%s: %s", ip, exc)
        body = answer.body()
        if req is None and isinstance(getattr(exc, "req", None), Message):
            req = exc.req  # a header refused: the request line was read (InvalidHeader)
        if req is not None:
            environ = default_environ(req, client, self.cfg)
            environ.update(
                REMOTE_ADDR=ip, REMOTE_PORT=str(port), PATH_INFO=util.unquote_to_wsgi_str(req.path)
            )
            response = Response(req, client, self.cfg)
            response.status = f"{answer.status} {answer.phrase}"
            response.sent = len(body)
            self.log.access(response, req, environ, datetime.now() - started)
        if req is not None and req.method == "HEAD":
            data = answer.head(len(body))  # no body, its length all the same
        else:
            data = answer.head(len(body)) + body
        try:
            util.write_nonblock(client, data)
        except Exception:
            self.log.debug("Failed to send error message.")


class HeldHeaders:
    """The client's socket, as gunicorn's response writes to it, but the first write (the
    status line and headers, written on their own) held back and sent with the second (the
    first part of the body): one packet for a small answer instead of two. Whatever else the
    response uses of the socket (sendfile, for static files) gets what was held first."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._held: bytes | None = None
        self._writes = 0

    def sendall(self, data: bytes) -> None:
        self._writes += 1
        if self._writes == 1:
            self._held = bytes(data)
            return
        held, self._held = self._held, None
        self._sock.sendall(held + data if held else data)

    def release(self) -> None:
        """Sends what is held (an answer without a body); at the end of every request."""
        held, self._held = self._held, None
        if held:
            self._sock.sendall(held)

    def __getattr__(self, name: str):
        self.release()
        return getattr(self._sock, name)


def nothing_unread(req, client) -> bool:
    """Closing now cannot reset the connection under the answer: the client sent nothing the
    server did not read, and has acknowledged every byte of the answer."""
    body = getattr(req, "body", None)
    reader = getattr(body, "reader", None)
    if not isinstance(reader, LengthReader) or reader.length:
        return False
    try:
        queued = fcntl.ioctl(client.fileno(), termios.TIOCOUTQ, b"\0" * 4)  # SIOCOUTQ
        if struct.unpack("i", queued)[0]:
            return False  # not all of the answer acknowledged yet
        waiting = client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return True  # nothing more sent
    except (OSError, ValueError):  # ValueError: a TLS socket, which cannot peek
        return False
    return waiting == b""  # the client closed its side: nothing more will come
