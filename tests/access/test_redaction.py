"""What may be shown of a token (access/redaction.py): in messages, its public prefix; in log
lines also when a client sent it percent-escaped in part or a server printed it upper-cased."""

import logging

import pytest

from confero.access.redaction import RedactingFormatter, redact_log_text, redact_tokens

TOKEN = "cfo_live_AbCdEfGh" + "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3"
SHOWN = "cfo_live_AbCdEfGh…"


def test_redact_tokens_keeps_the_public_prefix_only():
    assert redact_tokens(f"unknown resource '{TOKEN}.do'") == f"unknown resource '{SHOWN}.do'"


def test_redact_tokens_leaves_text_without_tokens_alone():
    text = "POST /demo/api/event.do cfo_ CFO cfo_other_x"

    assert redact_tokens(text) is text


@pytest.mark.parametrize(
    ("line", "logged"),
    [
        (f"GET /demo/api/{TOKEN}.do", f"GET /demo/api/{SHOWN}.do"),
        ("?apiToken=" + TOKEN.replace("_", "%5F"), f"?apiToken={SHOWN}"),
        ("?apiToken=%63fo_live_%41bCdEfGh" + TOKEN[17:], f"?apiToken={SHOWN}"),
        ("?apiToken=" + TOKEN.replace("_", "%5f"), f"?apiToken={SHOWN}"),
        (f"Invalid HTTP method: '{TOKEN.upper()}'", f"Invalid HTTP method: '{SHOWN.upper()}'"),
        (f"b'{TOKEN}\\x00'", f"b'{SHOWN}\\x00'"),
        ("a%20b%2Fc %zz 100%", "a%20b%2Fc %zz 100%"),  # other escapes stay as they are
    ],
    ids=[
        "path",
        "escaped _",
        "escaped letters",
        "lower-case escapes",
        "upper case",
        "repr",
        "no token",
    ],
)
def test_redact_log_text_finds_tokens_however_a_client_sent_them(line, logged):
    assert redact_log_text(line) == logged


def record(message: str, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("confero.api", logging.ERROR, __file__, 1, message, args, exc_info)


def test_redacting_formatter_redacts_message_arguments_and_traceback():
    try:
        raise RuntimeError(f"handler broke while holding {TOKEN}")
    except RuntimeError as exc:
        exc_info = (type(exc), exc, exc.__traceback__)

    text = RedactingFormatter("%(levelname)s %(message)s").format(
        record("internal error, resource %s", TOKEN, exc_info=exc_info)
    )

    assert text.startswith(f"ERROR internal error, resource {SHOWN}\nTraceback")
    assert f"RuntimeError: handler broke while holding {SHOWN}" in text
    assert TOKEN[17:] not in text


def test_redacting_formatter_wraps_another_formatter():
    inner = logging.Formatter("[%(name)s] %(message)s")

    text = RedactingFormatter(inner=inner).format(record("path %s", f"/demo/api/{TOKEN}.do"))

    assert text == f"[confero.api] path /demo/api/{SHOWN}.do"


def test_django_log_lines_are_redacted():
    """settings.LOGGING: the root logger's handler (stderr) formats through RedactingFormatter."""
    (stderr,) = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]

    text = stderr.format(record("Internal Server Error: /demo/api/%s.do", TOKEN))

    assert text.endswith(f"ERROR confero.api Internal Server Error: /demo/api/{SHOWN}.do")
