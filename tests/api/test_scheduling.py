"""scheduleSession.do, unscheduleSession.do, userSchedule.do and userSessions.do through HTTP
(contract §8.3, §9): every code 220–227 with its whole answer, the constraint matrix, and a
user's schedule in userData.do and getUser.do."""

import datetime as dt
from xml.sax.saxutils import escape

import pytest

from confero.people.models import User
from confero.programme.models import Seat, SessionTime

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def api_xml(inner: str) -> bytes:
    return DECLARATION + f'<api><response code="0">Success</response>{inner}</api>'.encode()


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{escape(message)}</response></api>'.encode()


def outcome_xml(time_id: int, status: str, seats: str, position: int | None = None) -> bytes:
    place = f"<position>{position}</position>" if position else ""
    seats_element = f"<seatsRemaining>{seats}</seatsRemaining>" if seats else "<seatsRemaining/>"
    return api_xml(
        f"<sessionTimeID>{time_id}</sessionTimeID><status>{status}</status>{place}{seats_element}"
    )


@pytest.fixture
def users(live):
    return [live.add_user(firstName=f"U{n}", email=f"u{n}@example.org") for n in range(4)]


# --- Scheduling and the codes ----------------------------------------------------------------


def test_schedule_session_seats_then_waitlists_in_order(live, programme, users):
    time = programme.time(programme.session(), capacity="2", waitlist="true")

    answers = [programme.schedule(user, time) for user in users]

    assert [a.body for a in answers] == [
        outcome_xml(time, "scheduled", "1"),
        outcome_xml(time, "scheduled", "0"),
        outcome_xml(time, "waitlisted", "0", position=1),
        outcome_xml(time, "waitlisted", "0", position=2),
    ]
    stored = SessionTime.objects.get(pk=time)
    assert (stored.registered, stored.waitlisted) == (2, 2)


def test_schedule_session_again_answers_as_it_stands_and_writes_nothing(live, programme, users):
    time = programme.time(programme.session(), capacity="1", waitlist="true")
    programme.schedule(users[0], time)
    programme.schedule(users[1], time)
    seats = list(Seat.objects.values_list("pk", "status", "position", "modified_at"))

    again = [programme.schedule(users[0], time), programme.schedule(users[1], time)]

    assert [a.body for a in again] == [
        outcome_xml(time, "scheduled", "0"),
        outcome_xml(time, "waitlisted", "0", position=1),
    ]
    assert list(Seat.objects.values_list("pk", "status", "position", "modified_at")) == seats


def test_schedule_session_unlimited_has_empty_seats_remaining(live, programme, users):
    time = programme.time(programme.session())

    assert programme.schedule(users[0], time).body == outcome_xml(time, "scheduled", "")


def test_schedule_session_by_abbreviation_of_a_session_with_one_time(live, programme, users):
    time = programme.time(programme.session(abbreviation="KEY"))

    result = live.call("scheduleSession", {"userKey": users[0].user_key, "abbreviation": "KEY"})

    assert result.body == outcome_xml(time, "scheduled", "")


def test_schedule_session_by_a_session_with_two_times_is_refused_with_201(live, programme, users):
    session = programme.session(abbreviation="KEY")
    programme.time(session)
    programme.time(session, time="14:00")

    result = live.call("scheduleSession", {"userKey": users[0].user_key, "sessionID": session})

    assert (result.status, result.body) == (
        400,
        error_xml(201, f"session {session} is offered 2 times: send 'sessionTimeID'"),
    )


def test_schedule_session_of_an_unknown_session_is_220(live, users):
    result = live.call("scheduleSession", {"userKey": users[0].user_key, "abbreviation": "NOPE"})

    assert (result.status, result.body) == (
        404,
        error_xml(220, "no session with abbreviation 'NOPE'"),
    )


def test_schedule_session_of_an_unknown_time_is_221(live, users):
    result = live.call("scheduleSession", {"userKey": users[0].user_key, "sessionTimeID": "999"})

    assert (result.status, result.body) == (
        404,
        error_xml(221, "session time 999 not found"),
    )


def test_schedule_session_of_a_time_of_another_site_is_221(live, programme, users, uat_site, api):
    time = programme.time(programme.session())
    other = api.call(uat_site.url("addUser"), {"apiToken": uat_site.token, "firstName": "A",
                                                "lastName": "B", "email": "a@b.org"})  # fmt: skip

    result = api.call(
        uat_site.url("scheduleSession"),
        {
            "apiToken": uat_site.token,
            "userKey": other.xml.findtext("userKey"),
            "sessionTimeID": time,
        },
    )

    assert (result.status, result.code) == (404, 221)


def test_schedule_session_full_without_waitlist_is_222(live, programme, users):
    time = programme.time(programme.session(), capacity="1")
    programme.schedule(users[0], time)

    result = programme.schedule(users[1], time)

    assert (result.status, result.body) == (
        409,
        error_xml(222, f"session time {time} is full (1 seats, no waitlist)"),
    )
    assert Seat.objects.filter(user=users[1]).count() == 0


def test_schedule_session_overlapping_is_223_naming_the_other_time(live, programme, users):
    morning = programme.time(programme.session(abbreviation="KEY"), time="10:00", length="60")
    overlapping = programme.time(programme.session(abbreviation="WS"), time="10:30")
    programme.schedule(users[0], morning)

    result = programme.schedule(users[0], overlapping)

    assert (result.status, result.body) == (
        409,
        error_xml(
            223,
            f"session time {overlapping} overlaps session time {morning} of session 'KEY' on "
            f"2026-06-01 at 10:00–11:00, which user {users[0].user_ref} has scheduled",
        ),
    )


def test_schedule_session_ending_as_another_starts_does_not_overlap(live, programme, users):
    morning = programme.time(programme.session(), time="10:00", length="60")
    next_one = programme.time(programme.session(), time="11:00")
    programme.schedule(users[0], morning)

    assert programme.schedule(users[0], next_one).code == 0


def test_schedule_session_not_allowed_by_constraints_is_224(live, programme, users, access_field):
    time = programme.time(programme.session(abbreviation="VIP", access="pp"))

    result = programme.schedule(users[0], time)

    assert (result.status, result.body) == (
        403,
        error_xml(224, f"user {users[0].user_ref} may not schedule session 'VIP'"),
    )


def test_unschedule_session_not_scheduled_is_225(live, programme, users):
    time = programme.time(programme.session())

    result = live.call("unscheduleSession", {"userKey": users[0].user_key, "sessionTimeID": time})

    assert (result.status, result.body) == (
        409,
        error_xml(225, f"user {users[0].user_ref} has not scheduled session time {time}"),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": "cancelled"}, "session 'KEY' is cancelled"),
        ({"published": "false"}, "session 'KEY' is not published"),
    ],
)
def test_schedule_session_cancelled_or_unpublished_session_is_226(
    live, programme, users, change, message
):
    session = programme.session(abbreviation="KEY")
    time = programme.time(session)
    assert live.call("updateSession", {"sessionID": session, **change}).code == 0

    result = programme.schedule(users[0], time)

    assert (result.status, result.body) == (409, error_xml(226, message))


def test_schedule_session_cancelled_time_is_226(live, programme, users):
    time = programme.time(programme.session())
    assert live.call("cancelSessionTime", {"sessionTimeID": time}).code == 0

    result = programme.schedule(users[0], time)

    assert (result.status, result.body) == (
        409,
        error_xml(226, f"session time {time} is cancelled"),
    )


def test_schedule_session_as_user_ref_is_212_and_as_cancelled_user_215(live, programme, users):
    time = programme.time(programme.session())
    by_ref = live.call("scheduleSession", {"userRef": users[0].user_ref, "sessionTimeID": time})
    live.call("cancelUser", {"userKey": users[1].user_key})
    cancelled = programme.schedule(users[1], time)

    assert (by_ref.status, by_ref.code, cancelled.status, cancelled.code) == (400, 212, 409, 215)


def test_unschedule_session_promotes_the_first_waiting(live, programme, users):
    time = programme.time(programme.session(), capacity="1", waitlist="true")
    for user in users[:3]:
        programme.schedule(user, time)

    result = live.call("unscheduleSession", {"userKey": users[0].user_key, "sessionTimeID": time})

    assert result.body == api_xml(
        f"<sessionTimeID>{time}</sessionTimeID><status>unscheduled</status>"
        "<seatsRemaining>0</seatsRemaining>"
    )
    assert list(
        Seat.objects.exclude(status="freed")
        .order_by("pk")
        .values_list("user_id", "status", "position")
    ) == [(users[1].pk, "scheduled", None), (users[2].pk, "waitlisted", 1)]


# --- The constraint matrix (§8.3): type × held or not × see and schedule -----------------------

MATRIX = [
    # (session's value, user holds it, sees it in userSessions.do, canSchedule, scheduling code)
    ("pv", True, True, True, 0),
    ("pv", False, True, False, 224),
    ("pp", True, True, True, 0),
    ("pp", False, False, False, 224),
    ("cn", True, False, False, 224),
    ("cn", False, True, True, 0),
]


@pytest.mark.parametrize(("value", "holds", "sees", "can", "code"), MATRIX)
def test_constraint_matrix_decides_seeing_and_scheduling(
    live, programme, access_field, value, holds, sees, can, code
):
    user = live.add_user(email="m@example.org", access="plain" if not holds else ["plain", value])
    session = programme.session(abbreviation="C", title="Constrained", access=value)
    time = programme.time(session)
    public = programme.session(abbreviation="P", title="Public")

    seen = live.call("userSessions", {"userKey": user.user_key})
    scheduled = programme.schedule(user, time)

    entry = (
        f"<session><sessionID>{session}</sessionID><abbreviation>C</abbreviation>"
        f"<title>Constrained</title><type/><track/><canSchedule>{str(can).lower()}</canSchedule>"
        "</session>"
    )
    assert seen.body == api_xml(
        f"<userRef>{user.user_ref}</userRef><userSessions>{entry if sees else ''}"
        f"<session><sessionID>{public}</sessionID><abbreviation>P</abbreviation><title>Public"
        "</title><type/><track/><canSchedule>true</canSchedule></session></userSessions>"
    )
    assert scheduled.code == code
    assert Seat.objects.filter(user=user).count() == (1 if code == 0 else 0)


def test_user_sessions_leaves_out_cancelled_and_unpublished_sessions(live, programme, users):
    programme.session(abbreviation="A")
    programme.session(abbreviation="B", published="false")
    gone = programme.session(abbreviation="C")
    live.call("updateSession", {"sessionID": gone, "status": "cancelled"})

    result = live.call("userSessions", {"userKey": users[0].user_key})

    assert [e.findtext("abbreviation") for e in result.xml.iter("session")] == ["A"]


# --- userSchedule.do and the user's record ---------------------------------------------------


def test_user_schedule_lists_scheduled_and_waitlisted_times_in_time_order(live, programme, users):
    late_session = programme.session(abbreviation="L", title="Late")
    late = programme.time(late_session, time="15:00", room="Hall A")
    early_session = programme.session(abbreviation="E", title="Early")
    early = programme.time(early_session, time="09:00", capacity="1", waitlist="true")
    programme.schedule(users[1], early)
    programme.schedule(users[0], late)
    programme.schedule(users[0], early)

    result = live.call("userSchedule", {"userKey": users[0].user_key})

    assert result.body == api_xml(
        f"<userRef>{users[0].user_ref}</userRef><userSchedule>"
        f"<sessionTime><sessionTimeID>{early}</sessionTimeID>"
        f"<sessionID>{early_session}</sessionID>"
        "<abbreviation>E</abbreviation><title>Early</title><room/><date>2026-06-01</date>"
        "<time>09:00</time><length>60</length><status>waitlisted</status><position>1</position>"
        f"</sessionTime><sessionTime><sessionTimeID>{late}</sessionTimeID>"
        f"<sessionID>{late_session}</sessionID>"
        "<abbreviation>L</abbreviation><title>Late</title><room>Hall A</room>"
        "<date>2026-06-01</date><time>15:00</time><length>60</length><status>scheduled</status>"
        "<position/></sessionTime></userSchedule>"
    )


def test_user_schedule_of_a_user_without_entries_is_an_empty_list(live, users):
    result = live.call("userSchedule", {"clientID": "", "userKey": users[0].user_key})

    assert result.body == api_xml(f"<userRef>{users[0].user_ref}</userRef><userSchedule/>")


def test_user_record_schedule_lists_scheduled_times_and_moves_last_modified(live, programme, users):
    first = programme.time(programme.session(), time="09:00")
    second = programme.time(programme.session(), time="11:00", capacity="1", waitlist="true")
    programme.schedule(users[1], second)
    User.objects.filter(pk=users[0].pk).update(modified_at=LONG_AGO)

    programme.schedule(users[0], second)  # waitlisted: not in <schedule>
    programme.schedule(users[0], first)

    user = live.call("getUser", {"userRef": users[0].user_ref}).xml.find("user")
    assert [e.text for e in user.find("schedule")] == [str(first)]
    assert user.findtext("last-modified-date") != "2020-01-01T00:00:00Z"
    feed = live.call("userData", {"since": "1577836800001"})
    assert users[0].user_ref in [u.findtext("userRef") for u in feed.xml.iter("user")]
