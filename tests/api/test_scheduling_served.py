"""Capacity is never exceeded (contract §8.3), for real: `confero serve` processes (gunicorn)
answering concurrent scheduleSession.do calls over HTTP, as integrators' clients send them.

PostgreSQL: two application servers (two `confero serve`, two workers each) on one database;
520 users at once at a 50-seat time with a waitlist. Exactly 50 seated, the other 470 waitlisted
1..470 without gaps or duplicates, the counters equal to the rows; then 10 of the seated leave
at once and exactly the first 10 waiting move up, in order. SQLite: the same with one server
(two workers) on a database file and the same client threads.
"""

import datetime as dt
import http.client
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from urllib.parse import urlencode

import pytest
from django.db import connection
from lxml import etree

from confero.people.models import User
from confero.programme.models import Seat, SessionTime
from tests.factories import EventFactory, SessionFactory, SessionTimeFactory, open_site

pytestmark = pytest.mark.django_db(transaction=True)
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the SQLite pass of make test runs this one"
)

USERS = 520
SEATS = 50
LEAVING = 10
CLIENTS = 32


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(database_url: str, data_dir, *, workers: int = 2):
    """A `confero serve` on a port of its own, on the given database; its port."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "CONFERO_DATA_DIR": str(data_dir),
           "CONFERO_LOG_LEVEL": "WARNING"}  # fmt: skip
    argv = [sys.executable, "-m", "confero", "serve", "--port", str(port),
            "--workers", str(workers)]  # fmt: skip
    log_path = data_dir / f"server-{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(log_path.read_text()) from None
                    time.sleep(0.1)
            yield port
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def post(port: int, path: str, params: dict) -> tuple[int, etree._Element]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", path, urlencode(params),
                     {"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        answer = conn.getresponse()
        return answer.status, etree.fromstring(answer.read())
    finally:
        conn.close()


def at_once(calls) -> list:
    start = threading.Barrier(min(CLIENTS, len(calls)))

    def first(call):
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [pool.submit(first, c) for c in calls[:CLIENTS]]
        futures += [pool.submit(c) for c in calls[CLIENTS:]]
        return [future.result() for future in futures]


def arrange() -> tuple[str, str, int, list[tuple[int, str]]]:
    """The event, its token, a 50-seat time with a waitlist, 520 users (id, userKey)."""
    event = EventFactory()
    site, token = open_site(event)
    time_ = SessionTimeFactory(session=SessionFactory(site=site), capacity=SEATS, waitlist=True)
    now = dt.datetime.now(dt.UTC)
    User.objects.bulk_create(
        User(site=site, first_name="U", last_name=str(n), email=f"u{n}@example.org",
             created_at=now, modified_at=now)
        for n in range(USERS)
    )  # fmt: skip
    users = list(User.objects.filter(site=site).order_by("pk").values_list("pk", "user_key"))
    return event.code, token, time_.pk, users


def run_scenario(ports: list[int], code: str, token: str, time_id: int, users) -> None:
    path = f"/{code}/api/%s.do"

    def call(resource, index, key):
        return post(ports[index % len(ports)], path % resource,
                    {"apiToken": token, "userKey": key, "sessionTimeID": time_id})  # fmt: skip

    answers = at_once(
        [lambda n=n, key=key: call("scheduleSession", n, key) for n, (_, key) in enumerate(users)]
    )

    assert {(status, xml.find("response").get("code")) for status, xml in answers} == {(200, "0")}
    outcomes = {pk: xml for (pk, _), (_, xml) in zip(users, answers, strict=True)}
    seated = {pk for pk, xml in outcomes.items() if xml.findtext("status") == "scheduled"}
    places = {pk: int(xml.findtext("position")) for pk, xml in outcomes.items()
              if xml.findtext("status") == "waitlisted"}  # fmt: skip
    assert len(seated) == SEATS
    assert sorted(places.values()) == list(range(1, USERS - SEATS + 1))
    assert set(seated) | set(places) == {pk for pk, _ in users}
    check_rows(time_id, seated, places)

    line = sorted(places, key=places.get)
    leaving = sorted(seated)[:LEAVING]
    keys = dict(users)
    left = at_once(
        [lambda n=n, pk=pk: call("unscheduleSession", n, keys[pk]) for n, pk in enumerate(leaving)]
    )

    assert {(status, xml.find("response").get("code")) for status, xml in left} == {(200, "0")}
    now_seated = (seated - set(leaving)) | set(line[:LEAVING])
    now_waiting = {pk: place for place, pk in enumerate(line[LEAVING:], start=1)}
    check_rows(time_id, now_seated, now_waiting)


def check_rows(time_id: int, seated: set[int], places: dict[int, int]) -> None:
    rows = Seat.objects.filter(session_time_id=time_id).exclude(status="freed")
    assert set(rows.filter(status="scheduled").values_list("user_id", flat=True)) == seated
    assert dict(rows.filter(status="waitlisted").values_list("user_id", "position")) == places
    stored = SessionTime.objects.get(pk=time_id)
    assert (stored.registered, stored.waitlisted) == (len(seated), len(places))


@pytest.mark.postgres_only
def test_two_servers_on_postgresql_never_overbook_and_keep_the_waitlist(tmp_path):
    code, token, time_id, users = arrange()
    settings = connection.settings_dict
    url = (f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/"
           f"{settings['NAME']}")  # fmt: skip

    with ExitStack() as servers:
        ports = [servers.enter_context(served(url, tmp_path / name)) for name in ("a", "b")
                 if (tmp_path / name).mkdir() is None]  # fmt: skip
        run_scenario(ports, code, token, time_id, users)


@sqlite_only
def test_one_server_on_sqlite_never_overbooks_and_keeps_the_waitlist(tmp_path):
    code, token, time_id, users = arrange()
    # The server needs a database file: the suite's test database is in memory.
    connection.ensure_connection()
    path = tmp_path / "confero.sqlite3"
    copy = sqlite3.connect(path)
    connection.connection.backup(copy)
    copy.close()
    in_memory = connection.settings_dict["NAME"]
    # Connections opened from now on (other threads') use the file; this thread's stays on
    # the in-memory database, so the scenario (its checks read the rows) runs on a thread.
    connection.settings_dict["NAME"] = str(path)
    failures = []

    def scenario(port):
        try:
            run_scenario([port], code, token, time_id, users)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    try:
        with served(f"sqlite:///{path}", tmp_path) as port:
            thread = threading.Thread(target=scenario, args=(port,))
            thread.start()
            thread.join()
    finally:
        connection.settings_dict["NAME"] = in_memory
    if failures:
        raise failures[0]
