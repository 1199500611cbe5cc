"""What may be shown of a token: its public prefix (`cfo_live_` + 8 characters), never the rest.

For messages and the call log (`redact_tokens`: what the application echoes of what a client
sent) and for every log line (`redact_log_text`, `RedactingFormatter`: gunicorn's access and
error logs and Django's, whatever part of a request they print).

Free of Django on purpose: gunicorn's logger uses it in the master process, before (and
without) Django being set up.
"""

import logging
import re

PREFIX_LENGTH = 8  # characters of the secret that stay visible as the public prefix
TOKEN_LIKE = re.compile(r"cfo_(?:test|live)_[0-9A-Za-z]+")
# In logs, in any letter case: gunicorn and Django print header names and a refused method in
# upper case, and an upper-cased secret still gives most of it away.
_TOKEN_ANY_CASE = re.compile(r"(?i:cfo_(?:test|live)_)[0-9A-Za-z]+")

# A percent-escape of a character a token is made of (letters, digits, `_`): a token sent in a
# URL may be escaped in part (`cfo%5Flive_…`, `%63fo_live_…`) and a log line printing the raw
# request line or URI would keep it so, out of reach of TOKEN_LIKE.
_ESCAPED_TOKEN_CHAR = re.compile(r"%(?:3[0-9]|4[1-9A-Fa-f]|5[0-9Aa]|5[Ff]|6[1-9A-Fa-f]|7[0-9Aa])")


def public_prefix(plain: str) -> str:
    """The part of a token that may be shown and logged: kind prefix + 8 characters."""
    kind = plain[:9]
    return kind + plain[9 : 9 + PREFIX_LENGTH]


def redact_tokens(text: str) -> str:
    """`text` with anything shaped like a token cut down to its public prefix. For what a client
    sent that is echoed in a message or written to the call log: a token sent by mistake as a
    parameter name or value must not come back or stay behind."""
    if "cfo_" not in text:  # nearly always: skip the regular expression
        return text
    return TOKEN_LIKE.sub(lambda match: public_prefix(match.group()) + "…", text)


def redact_log_text(text: str) -> str:
    """A log line with every token cut down to its public prefix, also one in another letter
    case or percent-escaped in part: such escapes (of letters, digits and `_` only, which
    RFC 3986 makes equivalent to the characters themselves) are decoded first."""
    if "%" in text:
        text = _ESCAPED_TOKEN_CHAR.sub(lambda match: chr(int(match.group()[1:], 16)), text)
    if "cfo_" not in text.lower():  # nearly always
        return text
    return _TOKEN_ANY_CASE.sub(lambda match: public_prefix(match.group()) + "…", text)


class RedactingFormatter(logging.Formatter):
    """Formats a record as `logging.Formatter` would (or as `inner`, a formatter it wraps), then
    redacts the whole text: message, arguments and traceback alike.

    Django's LOGGING uses it directly (`"()"` with `fmt`); confero.gunicorn_logging wraps
    gunicorn's own formatters with it."""

    def __init__(self, *args, inner: logging.Formatter | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record) if self.inner else super().format(record)
        return redact_log_text(text)
