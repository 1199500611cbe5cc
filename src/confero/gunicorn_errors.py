"""What gunicorn answers itself, before the application sees a request, as the contract's XML.

gunicorn refuses a request it cannot parse — a malformed request line, a method in lower case,
a URL or headers too large, a malformed, repeated or conflicting Content-Length or
Transfer-Encoding, a coding it does not know — with a small HTML page (`gunicorn.util.
write_error`). The contract (§6) wants XML there too: `<api><response code="N">…</response>
</api>`, code 202 for sizes and 201 otherwise, with the HTTP status gunicorn chose (400, 414,
431, 417), but 400 where gunicorn would answer 501 (a transfer coding it does not know): bad
input never gets a 5xx (contract §10). `confero.gunicorn_worker.SyncWorker.handle_error` writes
what `edge_answer` decides (docs/decisions/0017).

The messages are fixed texts: what gunicorn's exception holds (the request line, a header's
value) may hold a token or bytes XML cannot carry, and is only logged, redacted
(confero.gunicorn_logging).
"""

import ssl
import uuid
from dataclasses import dataclass
from email.utils import formatdate

from gunicorn.http import errors

from confero.api import codes
from confero.api.render import XML_CONTENT_TYPE, Document, xml_document


@dataclass(frozen=True)
class EdgeAnswer:
    status: int
    code: int
    message: str
    incident: str = ""  # for code 1: the ID the server log carries too

    @property
    def phrase(self) -> str:
        return _PHRASES[self.status]

    def body(self) -> bytes:
        return xml_document(Document(), self.code, self.message)

    def head(self, length: int) -> bytes:
        """Status line and headers; the connection is closed after the answer."""
        return (
            f"HTTP/1.1 {self.status} {self.phrase}\r\n"
            f"Date: {formatdate(usegmt=True)}\r\n"
            "Connection: close\r\n"
            f"Content-Type: {XML_CONTENT_TYPE}\r\n"
            "Cache-Control: no-store\r\n"
            f"Content-Length: {length}\r\n\r\n"
        ).encode("ascii")


# gunicorn's reason phrases (RFC 9110's): Python 3.11's HTTPStatus says "Request-URI Too Long".
_PHRASES = {
    400: "Bad Request",
    403: "Forbidden",
    414: "URI Too Long",
    417: "Expectation Failed",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}
_CHUNKED_BODY = "chunked request body not valid (chunk size, chunk end, or extension)"
_HEADER_MESSAGES: dict[object, str] = {
    "CONTENT-LENGTH": "header Content-Length not valid: send one, a whole number, "
    "and not with Transfer-Encoding",
    "TRANSFER-ENCODING": "header Transfer-Encoding not valid: chunked once and last, "
    "over HTTP/1.1, without Content-Length",
    "HOST": "header Host not valid: send it once",
    "CONTENT-TYPE": "header Content-Type not valid: send it once",
}


# Errors of gunicorn's own kind that are the server's fault: answered 500, as gunicorn does.
_SERVER_FAULTS = (
    errors.InvalidResponseHeader,
    errors.InvalidResponseHeaderName,
    errors.ConfigurationProblem,
)


def edge_answer(exc: BaseException, cfg) -> EdgeAnswer:
    """The answer to a request gunicorn refused with `exc` (`cfg`: its limits, for messages).

    What gunicorn answers 5xx — an application sending a header HTTP cannot carry, a
    configuration problem, an error nobody foresaw — is code 1 with an incident ID."""
    invalid = codes.PARAM_INVALID
    if not isinstance(exc, errors.ParseException | ssl.SSLError) or isinstance(exc, _SERVER_FAULTS):
        incident = uuid.uuid4().hex[:12].upper()
        message = f"Internal error (incident {incident})"
        return EdgeAnswer(500, codes.INTERNAL_ERROR, message, incident)
    if isinstance(exc, errors.LimitRequestLine):
        limit = cfg.limit_request_line
        message = f"request line over {limit} bytes: send parameters in the body"
        return EdgeAnswer(414, codes.TOO_LARGE, message)
    if isinstance(exc, errors.LimitRequestHeaders):
        fields, size = cfg.limit_request_fields, cfg.limit_request_field_size
        message = f"request headers too large: at most {fields} fields of {size} bytes each"
        return EdgeAnswer(431, codes.TOO_LARGE, message)
    if isinstance(exc, errors.InvalidRequestMethod):
        return EdgeAnswer(400, invalid, "method not valid: methods are upper case (use POST)")
    if isinstance(exc, errors.InvalidRequestLine):
        message = "request line not valid: send 'POST /CODE/api/NAME.do HTTP/1.1'"
        return EdgeAnswer(400, invalid, message)
    if isinstance(exc, errors.InvalidHTTPVersion):
        return EdgeAnswer(400, invalid, "HTTP version not valid: send HTTP/1.1")
    if isinstance(exc, errors.UnsupportedTransferCoding):
        # gunicorn answers 501, as RFC 9112 suggests (SHOULD); the contract wants no 5xx for
        # bad input (§10), so 400 like every other framing it cannot read (decision 0017).
        message = "Transfer-Encoding not supported: send chunked, or Content-Length"
        return EdgeAnswer(400, invalid, message)
    if isinstance(exc, errors.InvalidHeader):
        # Its `hdr` is a header's name, or a whole header line: only known names are echoed.
        message = _HEADER_MESSAGES.get(exc.hdr, "a header is not valid (its characters or end)")
        return EdgeAnswer(400, invalid, message)
    if isinstance(exc, errors.InvalidHeaderName):
        return EdgeAnswer(400, invalid, "a header name is not valid")
    if isinstance(exc, errors.ObsoleteFolding):
        return EdgeAnswer(400, invalid, "a header is folded over two lines: send it on one")
    if isinstance(exc, errors.ExpectationFailed):
        return EdgeAnswer(417, invalid, "header Expect not valid: only 100-continue is")
    if isinstance(
        exc, errors.InvalidChunkSize | errors.ChunkMissingTerminator | errors.InvalidChunkExtension
    ):
        return EdgeAnswer(400, invalid, _CHUNKED_BODY)
    if isinstance(exc, errors.ForbiddenProxyRequest | ssl.SSLError):
        return EdgeAnswer(403, invalid, "request refused by the server")
    return EdgeAnswer(400, invalid, "request not valid")
