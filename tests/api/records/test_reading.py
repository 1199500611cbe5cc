"""PostgreSQL only: userData.do reads its next chunk while the current one streams
(confero.api.records.reading): on a connection of the feed's own, in pipeline
mode, from the second chunk on, outside a transaction.

Shown here: the feed is the same, record for record, as the one read chunk by chunk on the
call's own connection (as inside a transaction, or on SQLite); the feed's own connection is
opened once and closed, whether the feed is read to its end or the client goes away. The
chunk size is cut to 2 users so that a few users make several chunks."""

import logging
import re
import socket
import time
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.db.backends.signals import connection_created

from confero.access.models import ApiCall
from confero.api import render
from confero.api.records import reading
from confero.people.models import User
from tests.api.test_user_data_feed import open_feed

pytestmark = [
    pytest.mark.machinery,
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
]

TIME = re.compile(rb' time="\d+"')


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(reading, "CHUNK", 2)


@pytest.fixture
def users(live, uat_site, fields) -> list[User]:
    """7 users with custom values (4 chunks), a UAT user between them (an id in the range that
    is not in the feed), one cancelled."""
    made = []
    for n in range(7):
        made.append(
            live.add_user(
                firstName=f"User{n}",
                tshirt=["s", "m", "l"][n % 3],
                dietary=["veg", "gf"][: n % 3],
                notes=f"note {n}" if n % 2 else "",
            )
        )
        if n == 3:
            uat = live.api.call(
                uat_site.url("addUser"),
                {
                    "apiToken": uat_site.token,
                    "firstName": "Other",
                    "lastName": "Site",
                    "email": "other@example.org",
                },
            )
            assert uat.code == 0
    assert live.call("cancelUser", {"userKey": made[4].user_key}).code == 0
    return made


def connections_open() -> int:
    """The other connections to the test database (the tests compare with a count taken at
    their start: a connection another test's thread left open is not this feed's)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def connections_settle_at(expected: int, *, seconds: float = 5.0) -> int:
    """connections_open(), read again until it is `expected` or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while (count := connections_open()) != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return count


def feed(live, **params):
    result = live.call("userData", params)
    assert (result.status, result.code) == (200, 0)
    return result


def test_the_feed_read_ahead_is_the_feed_read_chunk_by_chunk(live, users):
    opened = []
    others = connections_open()

    def count(sender, connection, **kwargs):
        opened.append(connection.alias)

    connection_created.connect(count)
    try:
        ahead = feed(live)
    finally:
        connection_created.disconnect(count)
    with transaction.atomic():  # inside a transaction: on the call's own connection
        plain = feed(live)

    assert opened == ["default"]  # the feed's own connection, once
    assert TIME.sub(b"", ahead.body) == TIME.sub(b"", plain.body)
    assert [u.findtext("firstName") for u in ahead.xml.findall("user")] == [
        f"User{n}" for n in range(7)
    ]
    assert [u.findtext("status") for u in ahead.xml.findall("user")][4] == "cancelled"
    assert b">veg<" in ahead.body
    # Closed again (the idle call-log thread writes nothing).
    assert connections_settle_at(others) == others


def test_the_feed_read_ahead_with_since_is_the_feed_read_chunk_by_chunk(live, users):
    """`since` leaves out users in the middle of the id range: the chunks' custom values are
    read by the chunk's users, not by a range of ids."""
    since = feed(live).xml.get("time")
    for user in (users[1], users[3], users[6]):
        assert live.call("updateUser", {"userKey": user.user_key, "city": "Later"}).code == 0

    ahead = feed(live, since=since)
    with transaction.atomic():
        plain = feed(live, since=since)

    assert [u.findtext("firstName") for u in ahead.xml.findall("user")] == [
        "User1",
        "User3",
        "User6",
    ]
    assert TIME.sub(b"", ahead.body) == TIME.sub(b"", plain.body)


def test_a_client_that_goes_away_leaves_no_connection_open(
    client, live, live_site, users, monkeypatch
):
    monkeypatch.setattr(render, "FLUSH_BYTES", 0)  # one piece per record
    others = connections_open()
    response = open_feed(client, live_site)
    stream = iter(response.streaming_content)
    head = b"".join(next(stream) for _ in range(3))  # users 0–2: the read-ahead has started
    assert b"User2" in head
    assert b"User3" not in head
    assert connections_open() == others + 1  # the feed's own connection

    response.close()  # what the server does when the client has gone (WSGI's close())

    # The feed closed its connection; PostgreSQL's backend leaves pg_stat_activity a moment
    # after its client hung up (it exits on its own), so the count is polled, not read once.
    assert connections_settle_at(others) == others
    assert ApiCall.objects.filter(resource="userData").count() == 1


@pytest.fixture
def no_connection_left(monkeypatch):
    """A feed's own connection cannot be opened (here: its port refuses, as a full
    max_connections or a pooler's limit would)."""
    from django.db import connections as django_connections

    def create_connection(alias):
        wrapper = django_connections.create_connection(alias)
        wrapper.settings_dict = {**wrapper.settings_dict, "PORT": free_port()}
        return wrapper

    monkeypatch.setattr(
        reading, "connections", SimpleNamespace(create_connection=create_connection)
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_without_a_connection_of_its_own_the_feed_reads_chunk_by_chunk(
    live, users, no_connection_left, caplog
):
    caplog.set_level(logging.WARNING, logger="confero.api")

    result = feed(live)

    assert [u.findtext("firstName") for u in result.xml.findall("user")] == [
        f"User{n}" for n in range(7)
    ]
    assert [r.getMessage() for r in caplog.records if r.name == "confero.api"] == [
        "feed read-ahead unavailable; reading chunk by chunk"
    ]
    assert ApiCall.objects.filter(resource="userData", code=0).count() == 1
