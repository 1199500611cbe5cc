"""addSessionTime.do, updateSessionTime.do, cancelSessionTime.do and the sessionCapacity.do
feed through HTTP (contract §8.3): exact answers, 221 and 226, the waitlist moving up when the
capacity is raised, `since` and pinned query counts."""

import datetime as dt
from xml.sax.saxutils import escape

import pytest
from django.db import connection

from confero.programme.models import Seat, SessionTime

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def api_xml(inner: str) -> bytes:
    return DECLARATION + f'<api><response code="0">Success</response>{inner}</api>'.encode()


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{escape(message)}</response></api>'.encode()


def time_xml(time_id, session_id, *, room="", date="2026-06-01", time="10:00", length=60,
             capacity=0, waitlist="false", registered=0, waitlisted=0, seats="",
             status="active") -> bytes:  # fmt: skip
    room_element = f"<room>{room}</room>" if room else "<room/>"
    seats_element = (
        f"<seatsRemaining>{seats}</seatsRemaining>" if seats != "" else "<seatsRemaining/>"
    )
    return api_xml(
        f"<sessionTime><sessionTimeID>{time_id}</sessionTimeID><sessionID>{session_id}</sessionID>"
        f"{room_element}<date>{date}</date><time>{time}</time><length>{length}</length>"
        f"<capacity>{capacity}</capacity><waitlist>{waitlist}</waitlist>"
        f"<registered>{registered}</registered><waitlisted>{waitlisted}</waitlisted>"
        f"{seats_element}<status>{status}</status></sessionTime>"
    )


def test_add_session_time_answers_the_time_as_stored(live, programme):
    session = programme.session(abbreviation="KEY")

    result = live.call(
        "addSessionTime",
        {"abbreviation": "KEY", "date": "2026-06-02", "time": "09:05", "length": "45",
         "room": "Hall A", "capacity": "30", "waitlist": "yes"},
    )  # fmt: skip

    time = SessionTime.objects.get()
    assert result.body == time_xml(time.pk, session, room="Hall A", date="2026-06-02",
                                   time="09:05", length=45, capacity=30, waitlist="true",
                                   seats=30)  # fmt: skip


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        ({"date": "2026-6-1"}, 201, "parameter 'date' must be a date, YYYY-MM-DD"),
        ({"date": "2026-02-30"}, 201, "parameter 'date' must be a date, YYYY-MM-DD"),
        ({"time": "24:00"}, 201, "parameter 'time' must be a time of day, HH:MM (00:00–23:59)"),
        ({"time": "9:00"}, 201, "parameter 'time' must be a time of day, HH:MM (00:00–23:59)"),
        ({"length": "0"}, 201, "parameter 'length' must be a whole number from 1 to 10080"),
        ({"capacity": "-1"}, 201,
         "parameter 'capacity' must be a whole number from 0 to 1000000"),
        ({"length": ""}, 200, "parameter 'length' is required (it is empty)"),
    ],
)  # fmt: skip
def test_add_session_time_with_bad_values_writes_nothing(live, programme, params, code, message):
    session = programme.session()

    result = live.call(
        "addSessionTime",
        {"sessionID": session, "date": "2026-06-01", "time": "10:00", "length": "60", **params},
    )

    assert (result.status, result.body) == (400, error_xml(code, message))
    assert SessionTime.objects.count() == 0


def test_add_session_time_to_an_unknown_session_is_220(live):
    result = live.call(
        "addSessionTime", {"sessionID": "7", "date": "2026-06-01", "time": "10:00", "length": "5"}
    )

    assert (result.status, result.body) == (404, error_xml(220, "no session with sessionID 7"))


def test_update_session_time_raising_the_capacity_seats_the_waitlist(live, programme, users4):
    session = programme.session()
    time = programme.time(session, capacity="1", waitlist="true")
    for user in users4:
        programme.schedule(user, time)

    result = live.call("updateSessionTime", {"sessionTimeID": time, "capacity": "3"})

    assert result.body == time_xml(time, session, capacity=3, waitlist="true", registered=3,
                                   waitlisted=1, seats=0)  # fmt: skip
    assert list(Seat.objects.filter(status="waitlisted").values_list("user_id", "position")) == [
        (users4[3].pk, 1)
    ]


def test_update_session_time_of_an_unknown_time_is_221(live):
    result = live.call("updateSessionTime", {"sessionTimeID": "5", "room": "x"})

    assert (result.status, result.body) == (
        404,
        error_xml(221, "no session time with sessionTimeID 5"),
    )


def test_cancel_session_time_frees_every_seat_and_twice_is_226(live, programme, users4):
    session = programme.session()
    time = programme.time(session, capacity="2", waitlist="true")
    for user in users4[:3]:
        programme.schedule(user, time)

    first = live.call("cancelSessionTime", {"sessionTimeID": time})
    second = live.call("cancelSessionTime", {"sessionTimeID": time})

    assert first.body == time_xml(time, session, capacity=2, waitlist="true", seats=2,
                                  status="cancelled")  # fmt: skip
    assert (second.status, second.body) == (
        409,
        error_xml(226, f"session time {time} is cancelled already"),
    )
    assert set(Seat.objects.values_list("status", "freed_because")) == {
        ("freed", "sessionTimeCancelled")
    }


# --- sessionCapacity.do ------------------------------------------------------------------------


def test_session_capacity_lists_every_time_with_its_seats(live, programme, users4):
    session = programme.session(abbreviation="KEY")
    limited = programme.time(session, capacity="2", waitlist="true")
    open_time = programme.time(programme.session(), time="14:00")
    for user in users4[:3]:
        programme.schedule(user, limited)

    result = live.call("sessionCapacity")

    guid = live.site.event.guid_text
    assert (
        result.body
        == DECLARATION
        + (
            f'<sessionCapacities time="{result.xml.get("time")}">'
            '<response code="0">Success</response>'
            f"<sessionTime><sessionID>{session}</sessionID><abbreviation>KEY</abbreviation>"
            f"<sessionTimeID>{limited}</sessionTimeID><capacity>2</capacity>"
            "<registered>2</registered>"
            "<waitlisted>1</waitlisted><seatsRemaining>0</seatsRemaining><status>active</status>"
            f"<eventGUID>{guid}</eventGUID></sessionTime>"
            f"<sessionTime><sessionID>{session + 1}</sessionID><abbreviation/>"
            f"<sessionTimeID>{open_time}</sessionTimeID><capacity>0</capacity>"
            "<registered>0</registered>"
            "<waitlisted>0</waitlisted><seatsRemaining/><status>active</status>"
            f"<eventGUID>{guid}</eventGUID></sessionTime></sessionCapacities>"
        ).encode()
    )


def test_session_capacity_since_brings_the_times_whose_seats_moved(live, programme, users4):
    programme.time(programme.session())  # unchanged: never in the second feed
    second = programme.time(programme.session(), time="14:00")
    cancelled = programme.time(programme.session(), time="16:00")
    SessionTime.objects.update(modified_at=LONG_AGO)
    since = live.call("sessionCapacity", {"since": "1577836800001"})

    programme.schedule(users4[0], second)
    live.call("cancelSessionTime", {"sessionTimeID": cancelled})
    after = live.call("sessionCapacity", {"since": since.xml.get("time")})

    assert since.xml.findall("sessionTime") == []
    assert [(t.findtext("sessionTimeID"), t.findtext("registered"), t.findtext("status"))
            for t in after.xml.iter("sessionTime")] == [
        (str(second), "1", "active"), (str(cancelled), "0", "cancelled")
    ]  # fmt: skip


# The gate, the token's counter, the watermark (3 on SQLite), one chunk of times, the call log.
SESSION_CAPACITY_QUERIES = 7


@pytest.mark.parametrize("count", [1, 3])
def test_session_capacity_query_count_does_not_grow_with_times(
    live, programme, assert_api_queries, count
):
    for n in range(count):
        programme.time(programme.session(abbreviation=f"S{n}"), capacity="10")

    queries = SESSION_CAPACITY_QUERIES
    with assert_api_queries(queries if connection.vendor == "sqlite" else queries - 2):
        result = live.call("sessionCapacity")

    assert len(result.xml.findall("sessionTime")) == count


@pytest.fixture
def users4(live):
    return [live.add_user(email=f"t{n}@example.org") for n in range(4)]
