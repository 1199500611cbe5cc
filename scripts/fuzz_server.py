"""The `confero serve` scripts/fuzz_http.py fuzzes: started on SQLite in a directory of its own,
with the demo event, on a free port, the rate limits lifted (so that the counts of a run do not
depend on the clock); and what the fuzzer reads of it (resources, code table, log, database)."""

# ruff: noqa: S603  (starts our own server; no shell)

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(data: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{data / 'confero.sqlite3'}",
        "CONFERO_DATA_DIR": str(data),
        "CONFERO_LOG_LEVEL": "INFO",
        "CONFERO_RATE_LIMIT_PER_TOKEN": "1000000000",
        "CONFERO_AUTH_FAILURE_LIMIT": "1000000000",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def start_server(data: Path, port: int, workers: int) -> subprocess.Popen:
    env = server_env(data)
    argv = [sys.executable, "-m", "confero", "serve", "--port", str(port)]
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(
        [*argv, "--workers", str(workers)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("the server did not start:\n" + server_log(data)) from None
            time.sleep(0.1)  # polling the port: nothing to wait on instead


def server_log(data: Path) -> str:
    return (data / "server.log").read_bytes().decode("utf-8", "replace")


def demo(data: Path, port: int) -> tuple[str, str]:
    """Migrates, creates the demo event; its Production and UAT tokens."""
    out = subprocess.run(
        [sys.executable, "-m", "confero", "demo", "--url", f"http://127.0.0.1:{port}"],
        env=server_env(data),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    live = re.search(r"cfo_live_[0-9A-Za-z]+", out)
    test = re.search(r"cfo_test_[0-9A-Za-z]+", out)
    if not live or not test:
        raise SystemExit(f"no demo tokens in:\n{out}")
    return live.group(), test.group()


def registry(data: Path) -> tuple[dict[str, list[str]], list[str], dict[int, int]]:
    """The server's resources and their parameters, the demo's custom-field codes and the code
    table (code → HTTP status), read in this process with the server's settings."""
    os.environ.update(server_env(data))
    os.environ["DJANGO_SETTINGS_MODULE"] = "confero.settings"
    import django

    django.setup()
    from confero.api.codes import CODES
    from confero.api.registry import REGISTRY
    from confero.customfields.models import CustomField

    resources = {name: [p.name for p in r.params] for name, r in sorted(REGISTRY.items())}
    codes = sorted(set(CustomField.objects.values_list("code", flat=True)))
    return resources, codes, {c.number: c.http_status for c in CODES.values()}


def database_text(data: Path) -> str:
    """Every row of every table of the server's SQLite database, as text."""
    with sqlite3.connect(data / "confero.sqlite3") as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(
            repr(row)
            for table in tables
            for row in db.execute(f'SELECT * FROM "{table}"')  # noqa: S608
        )


def event_guid() -> str:
    from confero.events.models import Event

    return Event.objects.get(code="demo").guid_text
