"""Property-based tests (hypothesis) of the programme's resources (contract §8.3, §9, §10):
whatever sequence of calls arrives, with whatever parameters (unicode, empty, repeated, out of
range, unknown names), no answer is a 5xx, each code is one of the table with that code's
HTTP status, every XML answer validates against its schema (the `api` fixture checks), and
afterwards the feeds and exports still answer, no time holds more seats than it has, and the
counters equal the rows with waitlists 1..n.

Each example runs in a savepoint rolled back at its end (as tests/api/test_user_properties.py).
"""

import json
from contextlib import contextmanager

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from confero.api.codes import CODES
from confero.programme.models import Seat, SessionTime

TEXT = st.characters(exclude_categories=("Cs",))
RESOURCES = ["addSession", "updateSession", "addSessionTime", "updateSessionTime",
             "cancelSessionTime", "scheduleSession", "unscheduleSession", "userSchedule",
             "userSessions", "userAgenda"]  # fmt: skip
NAMES = ["sessionID", "abbreviation", "newAbbreviation", "title", "abstract", "type", "track",
         "status", "published", "speaker", "speakerRole", "file", "sessionTimeID", "room",
         "date", "time", "length", "capacity", "waitlist", "format", "access",
         "nonsense"]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(["1", "2", "3", "0", "-1", "A", "B", "true", "false", "active", "cancelled",
                     "2026-06-01", "2026-06-02", "2026-13-40", "09:00", "10:30", "24:00", "30",
                     "60", "1440", "99999999999999999999", "", "json", "pv", "pp", "cn",
                     "Slides|application/pdf|12|https://x.org/a.pdf", "a|b|c", "a|b|1|ftp://x"]),
    st.text(TEXT, max_size=20),
)  # fmt: skip
CALLS = st.lists(
    st.tuples(
        st.sampled_from(RESOURCES),
        st.dictionaries(st.sampled_from(NAMES), st.lists(VALUES, min_size=1, max_size=2),
                        max_size=6),
        st.integers(0, 2),
    ),
    min_size=1,
    max_size=8,
)  # fmt: skip


@contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def code_of(result) -> int:
    if result.headers["Content-Type"].startswith("application/json"):
        return int(json.loads(result.body)["api"]["response"]["code"])
    return result.code


def assert_seats_are_consistent() -> None:
    for time in SessionTime.objects.all():
        entries = Seat.objects.filter(session_time=time)
        seated = entries.filter(status="scheduled").count()
        places = sorted(entries.filter(status="waitlisted").values_list("position", flat=True))
        assert (time.registered, time.waitlisted) == (seated, len(places))
        assert places == list(range(1, len(places) + 1))
        if places:  # nobody waits while a seat is free (an unlimited time has no waitlist)
            assert time.capacity
            assert seated >= time.capacity


@pytest.fixture
def seeded(live, programme, access_field):
    """Two sessions (one constrained), three times (a 1-seat one with a waitlist), three users
    (one holding the constraint's value), made once per test and kept by every example."""
    users = [live.add_user(email=f"p{n}@example.org") for n in range(3)]
    live.call("updateUser", {"userKey": users[0].user_key, "access": "pv"})
    first = programme.session(abbreviation="A", speaker=users[2].user_ref)
    second = programme.session(abbreviation="B", access="pv")
    programme.time(first, capacity="1", waitlist="true")
    programme.time(first, time="14:00")
    programme.time(second, time="10:30", capacity="2")
    return users


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(calls=CALLS)
def test_any_programme_calls_answer_from_the_table_and_keep_the_seats(live, seeded, calls):
    with rolled_back():
        for resource, params, who in calls:
            flat = {
                name: values if len(values) > 1 else values[0] for name, values in params.items()
            }
            if resource in ("scheduleSession", "unscheduleSession", "userSchedule",
                            "userSessions", "userAgenda"):  # fmt: skip
                flat["userKey"] = seeded[who].user_key

            result = live.call(resource, flat)

            assert result.status < 500, result.body[:400]
            code = code_of(result)
            assert code in CODES
            assert result.status == CODES[code].http_status
        assert_seats_are_consistent()
        for feed in ("sessionData", "sessionCapacity", "speakerData", "scheduleXml", "userData"):
            answer = live.call(feed)
            assert (answer.status, answer.code) == (200, 0), answer.body[:400]
