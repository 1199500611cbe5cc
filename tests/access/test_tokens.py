"""Tokens are stored only as a hash and never appear in logs, the call log, error messages or
responses (contract §3, §10). The proof: make calls of every kind with a token, then look for
its plain text in every table of the database, every log record, every query sent to the
database and every response."""

import dataclasses
import io
import json
import logging
import re
import string

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from confero.access.models import ApiCall, ApiToken
from confero.access.tokens import hash_token, issue_token, public_prefix
from confero.api.registry import REGISTRY
from confero.cli import main
from confero.demo import ensure_demo
from tests.factories import site_of

TOKEN_FORMAT = re.compile(r"cfo_(test|live)_[0-9A-Za-z]{32,}")


def secret_part(plain: str) -> str:
    """What must never be seen: everything after the public prefix."""
    return plain[len(public_prefix(plain)) :]


def database_text() -> str:
    """Every row of every model (dumpdata) and every row of every table, as text."""
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            rows.extend(repr(row) for row in cursor.fetchall())
    return dump.getvalue() + "\n".join(rows)


@pytest.fixture
def capture_everything(caplog):
    """Every log record, down to DEBUG, including the SQL Django logs with its parameters."""
    caplog.set_level(logging.DEBUG)
    for name in ("django", "django.request", "django.db.backends", "confero"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def make_every_kind_of_call(api, site, other_site, monkeypatch) -> list[bytes]:
    """Successes and failures, with the token in each place a client may put it."""
    url, token = site.url("event"), site.token
    results = [
        api.call(url, query={"apiToken": token}),  # query string of a POST
        api.call(url, {"apiToken": token}),  # form body
        api.call(url, {}, headers={"Authorization": f"Bearer {token}"}),
        api.call(url, {"apiToken": token, "format": "json"}),
        api.call(url, {"apiToken": token, token: "red"}),  # ignored, its name in the call log
        api.call(url, {"apiToken": token, "event": "all"}),  # 110
        api.call(url, {"apiToken": token}, headers={"Authorization": "Bearer cfo_live_x"}),  # 201
        api.call(url, query={"apiToken": token}, method="get"),  # 121
        api.call(url, {"apiToken": token}, remote_addr="203.0.113.9"),  # 103
        api.call(other_site.url("event"), {"apiToken": token}),  # 101: the other site
        api.call(url, {"apiToken": token + "x"}),  # 101: one character more
        api.call(url, body=f"apiToken={token}&event=%FF".encode()),  # 201: invalid UTF-8
    ]

    def broken(call):
        raise RuntimeError(f"handler broke while holding {call.params}")

    monkeypatch.setitem(REGISTRY, "event", dataclasses.replace(REGISTRY["event"], handler=broken))
    results.append(api.call(url, query={"apiToken": token}))  # 1: internal error
    results.append(api.call(url, {"apiToken": token}))
    monkeypatch.undo()
    codes = [
        json.loads(r.body)["api"]["response"]["code"] if r.body.startswith(b"{") else r.code
        for r in results
    ]
    assert codes == [0, 0, 0, 0, 0, 110, 201, 121, 103, 101, 101, 201, 1, 1]
    return [r.body for r in results]


def test_token_plain_text_is_nowhere_in_the_database(api, live_site, uat_site, monkeypatch):
    make_every_kind_of_call(api, live_site, uat_site, monkeypatch)

    text = database_text()

    assert ApiCall.objects.count() == 14
    assert hash_token(live_site.token) in text  # the dump holds the tokens, as hashes
    assert public_prefix(live_site.token) in text
    assert live_site.token not in text
    assert secret_part(live_site.token) not in text
    assert secret_part(live_site.token)[-16:] not in text


def test_token_plain_text_is_never_sent_to_the_database(api, live_site, uat_site, monkeypatch):
    sent = []

    def record(execute, sql, params, many, context):
        sent.append(f"{sql} {params!r}")  # the statement and its parameters, as sent
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        make_every_kind_of_call(api, live_site, uat_site, monkeypatch)

    sql = "\n".join(sent)

    assert hash_token(live_site.token) in sql
    assert secret_part(live_site.token) not in sql


def test_token_plain_text_is_in_no_log_record(
    api, live_site, uat_site, monkeypatch, capture_everything, capfd
):
    with CaptureQueriesContext(connection):  # SQL is logged, with its parameters
        make_every_kind_of_call(api, live_site, uat_site, monkeypatch)

    records = capture_everything.records
    logged = "\n".join(
        capture_everything.handler.format(record) for record in records
    )  # messages with their arguments and tracebacks
    streams = capfd.readouterr()

    assert any(r.name == "django.db.backends" for r in records)  # SQL was logged
    assert any(r.name == "confero.api" and r.exc_info for r in records)  # so was a traceback
    assert secret_part(live_site.token) not in logged
    assert secret_part(live_site.token) not in streams.out + streams.err


def test_token_plain_text_is_in_no_response(api, live_site, uat_site, monkeypatch):
    bodies = make_every_kind_of_call(api, live_site, uat_site, monkeypatch)

    for body in bodies:
        assert secret_part(live_site.token).encode() not in body


def test_token_plain_text_is_in_no_call_log_row(api, live_site, uat_site, monkeypatch):
    make_every_kind_of_call(api, live_site, uat_site, monkeypatch)

    prefixes = set(ApiCall.objects.values_list("token_prefix", flat=True))
    for row in ApiCall.objects.values():
        assert secret_part(live_site.token) not in repr(row)

    assert prefixes == {"", public_prefix(live_site.token)}


def test_token_sent_as_a_parameter_name_is_not_echoed(api, live_site):
    """`curl -d "$TOKEN"` sends the token as a parameter name; the message naming the unknown
    parameter must not hand it back."""
    result = api.call(
        live_site.url("addUser"),
        body=f"firstName=A&lastName=B&email=a%40example.org&{live_site.token}".encode(),
        headers={"Authorization": f"Bearer {live_site.token}"},
    )

    assert (result.status, result.code) == (400, 300)
    assert public_prefix(live_site.token) + "…" in result.message
    assert secret_part(live_site.token) not in result.message


def test_token_sent_as_an_ignored_parameter_name_is_logged_by_its_prefix(api, live_site):
    """A resource that writes nothing ignores the parameter, and the call log names it: by the
    token's public prefix only."""
    result = api.call(
        live_site.url("event"),
        body=live_site.token.encode(),
        headers={"Authorization": f"Bearer {live_site.token}"},
    )

    assert (result.status, result.code) == (200, 0)
    assert ApiCall.objects.get().ignored_params == public_prefix(live_site.token) + "…"


def test_token_sent_in_the_event_parameter_is_not_logged(api, live_site, capture_everything):
    result = api.call(
        live_site.url("event"), {"apiToken": live_site.token, "event": live_site.token}
    )

    assert result.code == 201
    row = ApiCall.objects.get()
    assert secret_part(live_site.token) not in repr(ApiCall.objects.values().get())
    assert row.event_param == public_prefix(live_site.token) + "…"
    assert secret_part(live_site.token) not in capture_everything.text


def test_token_plain_text_is_not_stored_when_issued(db, live_site):
    issued = issue_token(live_site.site.api_profile, label="fresh")

    row = ApiToken.objects.filter(pk=issued.token.pk).values().get()

    assert issued.plain not in repr(row)
    assert secret_part(issued.plain) not in repr(row)
    assert row["token_hash"] == hash_token(issued.plain)
    assert row["prefix"] == public_prefix(issued.plain) == issued.plain[:17]


# --- The format ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "kind"), [("uat", "cfo_test_"), ("production", "cfo_live_")]
)
def test_token_has_the_documented_format(live_site, environment, kind):
    profile = site_of(live_site.event, environment).api_profile

    plains = [issue_token(profile).plain for _ in range(100)]

    for plain in plains:
        assert plain.startswith(kind)
        assert TOKEN_FORMAT.fullmatch(plain), plain
        assert len(plain) - len(kind) >= 32
    assert len(set(plains)) == 100
    used = set("".join(p[len(kind) :] for p in plains))
    assert used == set(string.ascii_letters + string.digits)  # base62, all of it


def test_token_printed_by_the_cli_has_the_documented_format(live_site, capsys):
    main(["token", "create", "--event", live_site.event.code, "--site", "uat"])

    plain = capsys.readouterr().out.splitlines()[-1]

    assert TOKEN_FORMAT.fullmatch(plain)
    assert plain.startswith("cfo_test_")


def test_token_made_by_the_demo_has_the_documented_format(db):
    tokens = ensure_demo().tokens

    assert tokens["uat"].startswith("cfo_test_")
    assert tokens["production"].startswith("cfo_live_")
    assert all(TOKEN_FORMAT.fullmatch(plain) for plain in tokens.values())
    assert not ApiToken.objects.filter(token_hash__in=list(tokens.values())).exists()
