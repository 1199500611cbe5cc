"""programme/services/scheduling.py under concurrency, for real: many threads, each call on a
database connection of its own (as calls on several server processes are), committing.

A 50-seat time with a waitlist, 240 users scheduling at once: exactly 50 seated, the others
waitlisted 1..190 in the order their calls got the time's lock, the counters equal to the rows;
then 10 of the seated unscheduling at once promote exactly the first 10 waiting, in order.

PostgreSQL (row locks) and SQLite (one writer at a time): the same test on each database. The
throw-away cluster allows 100 connections, so 40 threads share the calls; a connection is
opened for each call and closed after it. On SQLite the test runs on a database file, as
deployed: the suite's in-memory test database shares one cache between connections, whose
table locks fail at once ("database table is locked") where a file's wait their turn.
"""

import datetime as dt
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from confero.errors import Refused
from confero.people.models import User
from confero.people.services import add_user, cancel_user
from confero.programme.models import Seat, SessionTime
from confero.programme.services import Outcome, schedule_session, unschedule_session
from tests.factories import EventFactory, SessionFactory, SessionTimeFactory, site_of

pytestmark = pytest.mark.django_db(transaction=True)
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the SQLite pass of make test runs this one"
)

USERS = 240
SEATS = 50
THREADS = 40


def at_once(calls: list[Callable[[], object]]) -> list[object]:
    """Runs the calls on THREADS threads released together; each call on a fresh connection.
    Returns each call's result, or the exception it raised, in the order given."""
    start = threading.Barrier(min(THREADS, len(calls)))

    def run(call):
        try:
            return call()
        except Exception as exc:
            return exc
        finally:
            connection.close()

    def first(call):
        start.wait()
        return run(call)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        heads = [pool.submit(first, call) for call in calls[:THREADS]]
        rest = [pool.submit(run, call) for call in calls[THREADS:]]
        return [future.result() for future in heads + rest]


def waitlist(time: SessionTime) -> list[tuple[int, int]]:
    """(position, user id) of the waitlist, in place order."""
    return list(
        Seat.objects.filter(session_time=time, status="waitlisted")
        .order_by("position")
        .values_list("position", "user_id")
    )


def seated(time: SessionTime) -> set[int]:
    return set(
        Seat.objects.filter(session_time=time, status="scheduled").values_list("user_id", flat=True)
    )


def scenario() -> None:
    site = site_of(EventFactory())
    time = SessionTimeFactory(session=SessionFactory(site=site), capacity=SEATS, waitlist=True)
    users = [
        add_user(site, fields={"first_name": "U", "last_name": str(n), "email": f"u{n}@x.org"})
        for n in range(USERS)
    ]

    outcomes = at_once([lambda user=user: schedule_session(user, time) for user in users])

    failures = [o for o in outcomes if not isinstance(o, Outcome)]
    assert failures == []
    by_user = dict(zip((u.pk for u in users), outcomes, strict=True))
    scheduled = [o for o in outcomes if o.status == "scheduled"]
    waiting = [o for o in outcomes if o.status == "waitlisted"]
    assert len(scheduled) == SEATS
    # Each seat was taken once: the seats remaining after each call run down 49..0.
    assert sorted(o.seats_remaining for o in scheduled) == list(range(SEATS))
    assert sorted(o.position for o in waiting) == list(range(1, USERS - SEATS + 1))
    time.refresh_from_db()
    assert (time.registered, time.waitlisted) == (SEATS, USERS - SEATS)
    line = waitlist(time)
    assert [position for position, _ in line] == list(range(1, USERS - SEATS + 1))
    assert all(by_user[user_id].position == position for position, user_id in line)
    assert seated(time) == {pk for pk, o in by_user.items() if o.status == "scheduled"}
    # First come, first placed: places follow the order the entries were written.
    joined = dict(
        Seat.objects.filter(session_time=time, status="waitlisted").values_list(
            "user_id", "created_at"
        )
    )
    stamps = [joined[user_id] for _, user_id in line]
    assert stamps == sorted(stamps)

    leaving = sorted(seated(time))[:10]
    results = at_once(
        [lambda pk=pk: unschedule_session(User.objects.get(pk=pk), time) for pk in leaving]
    )

    assert results == [None] * 10
    time.refresh_from_db()
    assert (time.registered, time.waitlisted) == (SEATS, USERS - SEATS - 10)
    promoted = [user_id for _, user_id in line[:10]]
    assert seated(time) == (set(by_user) - set(u for _, u in line) - set(leaving)) | set(promoted)
    assert waitlist(time) == [
        (place, user_id) for place, (_, user_id) in enumerate(line[10:], start=1)
    ]
    assert Seat.objects.filter(session_time=time).count() == USERS  # the 10 freed kept


def overlapping_twins() -> None:
    """Each of 30 users schedules two overlapping times at once: one call of each pair gets a
    seat, the other the overlap (the user's lock orders them)."""
    site = site_of(EventFactory())
    morning = SessionTimeFactory(session=SessionFactory(site=site), time=dt.time(10, 0))
    overlapping = SessionTimeFactory(session=SessionFactory(site=site), time=dt.time(10, 30))
    users = [
        add_user(site, fields={"first_name": "U", "last_name": str(n), "email": f"u{n}@x.org"})
        for n in range(30)
    ]

    results = at_once(
        [
            lambda user=user, time=time: schedule_session(user, time)
            for user in users
            for time in (morning, overlapping)
        ]
    )

    for user, pair in zip(users, zip(results[::2], results[1::2], strict=True), strict=True):
        outcomes = [r for r in pair if isinstance(r, Outcome)]
        refusals = [r.what for r in pair if isinstance(r, Refused)]
        assert (outcomes, refusals) == ([Outcome("scheduled", None, None)], ["overlap"])
        assert Seat.objects.filter(user=user).count() == 1
    morning.refresh_from_db()
    overlapping.refresh_from_db()
    assert morning.registered + overlapping.registered == 30


def crossing_calls() -> None:
    """At a 10-seat time with 30 waiting, at once: the 10 seated leave, 20 of those waiting
    schedule again (which changes nothing), the last 10 waiting are cancelled. Every call
    succeeds (no deadlock: all take the time's lock first), and the end is the only one
    possible: the first 10 waiting seated, the next 10 waiting in order."""
    site = site_of(EventFactory())
    time = SessionTimeFactory(session=SessionFactory(site=site), capacity=10, waitlist=True)
    users = [
        add_user(site, fields={"first_name": "U", "last_name": str(n), "email": f"u{n}@x.org"})
        for n in range(40)
    ]
    for user in users:
        schedule_session(user, time)
    ids = [user.pk for user in users]

    results = at_once(
        [lambda user=user: unschedule_session(user, time) for user in users[:10]]
        + [lambda user=user: schedule_session(user, time) for user in users[10:30]]
        + [lambda user=user: cancel_user(user) for user in users[30:]]
    )

    assert [r for r in results if isinstance(r, Exception)] == []
    assert seated(time) == set(ids[10:20])
    assert waitlist(time) == list(enumerate(ids[20:30], start=1))
    time.refresh_from_db()
    assert (time.registered, time.waitlisted) == (10, 10)


@pytest.mark.postgres_only
def test_concurrent_scheduling_of_overlapping_times_by_one_user_on_postgresql_gives_one():
    overlapping_twins()


@pytest.mark.postgres_only
def test_concurrent_leaving_rescheduling_and_cancelling_on_postgresql_ends_as_it_must():
    crossing_calls()


@pytest.mark.postgres_only
def test_concurrent_scheduling_on_postgresql_never_overbooks_and_keeps_the_waitlist_order():
    scenario()


@pytest.fixture
def database_file(tmp_path):
    """The test database copied to a file, which connections opened from now on use (WAL, by
    the settings' init_command). This thread's connection stays on the in-memory database."""
    connection.ensure_connection()
    copy = sqlite3.connect(tmp_path / "confero.sqlite3")
    connection.connection.backup(copy)
    copy.close()
    in_memory = connection.settings_dict["NAME"]
    connection.settings_dict["NAME"] = str(tmp_path / "confero.sqlite3")
    yield
    connection.settings_dict["NAME"] = in_memory


def in_a_thread(work: Callable[[], None]) -> None:
    """Runs `work` on a thread of its own (so on a connection of its own); re-raises what it
    raised."""
    failure = []

    def run():
        try:
            work()
        except BaseException as exc:
            failure.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


@sqlite_only
@pytest.mark.usefixtures("database_file")
def test_concurrent_scheduling_on_sqlite_never_overbooks_and_keeps_the_waitlist_order():
    in_a_thread(scenario)


@sqlite_only
@pytest.mark.usefixtures("database_file")
def test_concurrent_scheduling_of_overlapping_times_by_one_user_on_sqlite_gives_one():
    in_a_thread(overlapping_twins)


@sqlite_only
@pytest.mark.usefixtures("database_file")
def test_concurrent_leaving_rescheduling_and_cancelling_on_sqlite_ends_as_it_must():
    in_a_thread(crossing_calls)
