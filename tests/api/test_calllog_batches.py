"""The call-log rows of calls that changed nothing are written in batches by each server process
(confero.api.calllog, CONFERO_CALL_LOG_FLUSH_MS > 0, the default outside the test suite):
after a response has gone out once the oldest row is due, by the process's own thread when no
call comes, and at exit. A writing call's row still commits with its own transaction.

The tests commit for real (`transaction=True`): the thread writes on its own connection."""

import logging
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from confero.access.models import ApiCall
from confero.access.tokens import public_prefix
from confero.api import calllog
from tests.conftest import ApiClient

pytestmark = [pytest.mark.machinery, pytest.mark.django_db(transaction=True)]

ADA = {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.org"}


@pytest.fixture
def batches(settings):
    """Batching on, with a delay no test waits for unless it means to; nothing left over."""
    settings.CONFERO_CALL_LOG_FLUSH_MS = 60_000
    calllog.flush()
    ApiClient.waits_for_the_log = False
    yield settings
    ApiClient.waits_for_the_log = True
    settings.CONFERO_CALL_LOG_FLUSH_MS = 60_000  # the leftovers go now, not after the test
    calllog.flush()


def logged_calls() -> list[tuple]:
    return list(
        ApiCall.objects.order_by("id").values_list(
            "resource", "code", "http_status", "token_prefix", "client_ip"
        )
    )


def event_do(api, site, **kwargs):
    return api.call(site.url("event"), {"apiToken": site.token}, **kwargs)


def test_a_reads_row_waits_for_its_batch_then_holds_what_a_row_written_at_once_holds(
    api, live_site, batches
):
    result = event_do(api, live_site)
    before_the_batch = logged_calls()
    written = calllog.flush()

    assert (result.status, result.code) == (200, 0)
    assert before_the_batch == []
    assert written == 1
    row = ApiCall.objects.get()
    assert (row.site_id, row.profile_id, row.method, row.path, row.resource) == (
        live_site.site.pk,
        live_site.site.api_profile.pk,
        "POST",
        live_site.url("event"),
        "event",
    )
    assert (row.code, row.http_status, row.token_prefix, row.client_ip, row.incident) == (
        0,
        200,
        public_prefix(live_site.token),
        "127.0.0.1",
        "",
    )
    assert row.duration_ms > 0


def test_refusals_are_batched_too(api, live_site, batches):
    api.call(live_site.url("event"), {"apiToken": "cfo_live_" + "x" * 40})
    api.call(live_site.url("nope"), {"apiToken": live_site.token})

    assert logged_calls() == []
    assert calllog.flush() == 2
    assert logged_calls() == [
        ("event", 101, 401, "", "127.0.0.1"),
        ("nope", 122, 404, "", "127.0.0.1"),
    ]


def test_a_writing_calls_row_commits_with_the_call_not_with_a_batch(api, live_site, batches):
    result = api.call(live_site.url("addUser"), {"apiToken": live_site.token, **ADA})

    assert (result.status, result.code) == (200, 0)
    prefix = public_prefix(live_site.token)
    assert logged_calls() == [("addUser", 0, 200, prefix, "127.0.0.1")]
    assert calllog.flush() == 0


def test_once_the_oldest_row_is_due_the_next_response_writes_the_batch(api, live_site, batches):
    batches.CONFERO_CALL_LOG_FLUSH_MS = 50
    event_do(api, live_site)
    time.sleep(0.06)  # the first row is due; the idle thread would wait twice as long

    event_do(api, live_site)  # its response closes: Django's request_finished

    prefix = public_prefix(live_site.token)
    assert logged_calls() == [("event", 0, 200, prefix, "127.0.0.1")] * 2


def test_when_no_call_comes_the_process_s_thread_writes_the_rows(api, live_site, batches):
    batches.CONFERO_CALL_LOG_FLUSH_MS = 20
    event_do(api, live_site)

    deadline = time.monotonic() + 5
    while not logged_calls() and time.monotonic() < deadline:
        time.sleep(0.01)

    assert logged_calls() == [("event", 0, 200, public_prefix(live_site.token), "127.0.0.1")]


def test_a_batch_the_database_refuses_is_kept_and_written_later(
    api, live_site, batches, monkeypatch, caplog
):
    broken = calllog._SQL.replace(ApiCall._meta.db_table, "confero_no_such_table", 1)
    monkeypatch.setattr(calllog, "_SQL", broken)
    event_do(api, live_site)

    with caplog.at_level(logging.ERROR, logger="confero.api"):
        assert calllog.flush() == 0
    monkeypatch.undo()
    event_do(api, live_site)  # the next row brings the call log's INSERT back
    written = calllog.flush()

    assert [r.getMessage() for r in caplog.records if r.name == "confero.api"] == [
        "could not write 1 API call-log rows; retrying"
    ]
    assert written == 2
    assert logged_calls() == [("event", 0, 200, public_prefix(live_site.token), "127.0.0.1")] * 2


@pytest.mark.parametrize(
    ("column", "value"),
    [
        (1, 987_654_321),  # no such site: the foreign key refuses the row when it commits
        (4, None),  # method may not be NULL: refused by the INSERT itself
    ],
    ids=["refused-at-commit", "refused-by-the-insert"],
)
def test_one_row_the_database_refuses_does_not_hold_back_the_others(
    api, live_site, batches, caplog, column, value
):
    event_do(api, live_site)
    good = calllog._batches.rows[0]
    bad = list(good)
    bad[column] = value
    calllog.add(bad)
    event_do(api, live_site)

    with caplog.at_level(logging.ERROR, logger="confero.api"):
        written = calllog.flush()

    assert written == 3  # dealt with: two written, one dropped
    assert logged_calls() == [("event", 0, 200, public_prefix(live_site.token), "127.0.0.1")] * 2
    assert [r.getMessage() for r in caplog.records if r.name == "confero.api"] == [
        f"dropped an API call-log row the database refused: {tuple(bad[4:8])!r}"
    ]


def test_when_the_process_exits_the_waiting_rows_are_written(tmp_path):
    """A whole process, as a server worker is: it answers a call, nothing writes the row for a
    minute, and the process exits (as gunicorn's workers do, through sys.exit). It has a SQLite
    database of its own, whichever database the suite runs on."""
    script = textwrap.dedent(
        """
        import contextlib, io, os, re, sys
        import django
        django.setup()
        from django.core.management import call_command
        from django.test import Client
        from confero.cli import main as confero
        call_command("migrate", verbosity=0)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            confero(["event", "create", "--code", "exit", "--name", "Exit"])
            confero(["profile", "--event", "exit", "--site", "production",
                     "--allow-add", "127.0.0.1"])
            confero(["token", "create", "--event", "exit", "--site", "production"])
        token = re.search(r"^(cfo_live_\\w+)$", out.getvalue(), re.M).group(1)
        answer = Client().post("/exit/api/event.do", {"apiToken": token})
        from confero.access.models import ApiCall
        print(answer.status_code, ApiCall.objects.count(), flush=True)
        sys.exit(0)
        """
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "confero.settings",
        "CONFERO_DATA_DIR": str(tmp_path),
        "CONFERO_CALL_LOG_FLUSH_MS": "60000",
        "CONFERO_LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    count = subprocess.run(
        [sys.executable, "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("
         "'SELECT count(*), min(code) FROM access_apicall').fetchone())",
         str(tmp_path / "confero.sqlite3")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip

    assert (done.returncode, done.stdout, done.stderr) == (0, "200 0\n", "")
    assert count.stdout == "(1, 0)\n"


def test_a_server_stopped_with_sigterm_writes_its_waiting_rows_first(tmp_path):
    """`confero serve` (gunicorn, two workers) answers three calls whose rows wait for a minute;
    SIGTERM — what systemd, Docker and Ctrl-C's process manager send — stops it, and the rows
    are in the table when it has stopped."""
    import os
    import re
    import signal
    import socket
    import urllib.request

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "CONFERO_DATA_DIR": str(tmp_path),
        "CONFERO_CALL_LOG_FLUSH_MS": "60000",
        "CONFERO_LOG_LEVEL": "WARNING",
    }
    confero = [str(Path(sys.executable).parent / "confero")]  # the console script
    subprocess.run([*confero, "manage", "migrate", "-v", "0"], env=env, check=True, timeout=120)
    subprocess.run(
        [*confero, "event", "create", "--code", "stop", "--name", "Stop"], env=env, check=True
    )
    subprocess.run(
        [*confero, "profile", "--event", "stop", "--site", "production", "--allow-add",
         "127.0.0.1"], env=env, check=True, capture_output=True,
    )  # fmt: skip
    created = subprocess.run(
        [*confero, "token", "create", "--event", "stop", "--site", "production"],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    token = re.search(r"^(cfo_live_\w+)$", created.stdout, re.M).group(1)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [*confero, "serve", "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/stop/api/event.do"
        body = f"apiToken={token}".encode()
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, body, timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        answers = [urllib.request.urlopen(url, body, timeout=5).status for _ in range(2)]
        waiting = _count_rows(tmp_path)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)

    assert answers == [200, 200]
    assert waiting == "(0, None)\n"  # all three rows still wait in the workers
    assert server.returncode == 0
    assert _count_rows(tmp_path) == "(3, 0)\n"


def _count_rows(data_dir) -> str:
    return subprocess.run(
        [sys.executable, "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("
         "'SELECT count(*), max(code) FROM access_apicall').fetchone())",
         str(data_dir / "confero.sqlite3")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
