"""programme/services/times.py: adding, changing and cancelling session times; capacity raised
promotes, lowered keeps everyone; cancelling frees every seat and shows in the feeds."""

import datetime as dt

import pytest

from confero.errors import Cancelled, Refused, ValidationFailed
from confero.programme.models import Seat, SessionTime
from confero.programme.services import (
    Outcome,
    add_session_time,
    cancel_session_time,
    schedule_session,
    unschedule_session,
    update_session_time,
)
from tests.programme.conftest import LONG_AGO, aged, counters, entries, modified

MORNING = {"date": dt.date(2026, 6, 1), "time": dt.time(9, 30), "length": 45}


def filled(time: SessionTime, users) -> None:
    for user in users:
        schedule_session(user, time)


# --- Adding ----------------------------------------------------------------------------------


def test_add_session_time_stores_it_and_moves_the_session(session):
    aged(session)

    time = add_session_time(
        session,
        fields={**MORNING, "time": dt.time(9, 30, 15), "room": "Hall A", "capacity": 40,
                "waitlist": True},
    )  # fmt: skip

    stored = SessionTime.objects.filter(pk=time.pk).values().get()
    assert {k: v for k, v in stored.items() if k not in ("id", "created_at", "modified_at")} == {
        "session_id": session.pk,
        "site_id": session.site_id,
        "room": "Hall A",
        "date": dt.date(2026, 6, 1),
        "time": dt.time(9, 30),
        "length": 45,
        "capacity": 40,
        "waitlist": True,
        "status": "active",
        "registered": 0,
        "waitlisted": 0,
    }
    assert stored["created_at"] == stored["modified_at"] == time.modified_at
    assert modified(session) > LONG_AGO


def test_add_session_time_defaults_to_unlimited_without_waitlist(session):
    time = add_session_time(session, fields=MORNING)

    assert (time.capacity, time.waitlist, time.room, time.seats_remaining) == (0, False, "", None)


@pytest.mark.parametrize(
    ("fields", "what", "message"),
    [
        ({"date": None}, "date", "required"),
        ({"length": None}, "length", "required"),
        ({"length": 0}, "length", "whole minutes from 1 to 10080"),
        ({"length": True}, "length", "whole minutes from 1 to 10080"),
        ({"capacity": -1}, "capacity", "a whole number of seats from 0 (unlimited) to 1000000"),
        ({"capacity": "10"}, "capacity", "a whole number of seats from 0 (unlimited) to 1000000"),
        ({"date": dt.datetime(2026, 6, 1, 9)}, "date", "a date (YYYY-MM-DD)"),
        ({"time": "09:30"}, "time", "a time of day (HH:MM)"),
        ({"waitlist": "yes"}, "waitlist", "true or false"),
        ({"room": "A" * 201}, "room", "at most 200 characters"),
        ({"room": "Hall\x00"}, "room", "contains the character U+0000, which XML cannot carry"),
        ({"status": "cancelled"}, "status", "a session time is added active"),
    ],
)
def test_add_session_time_refuses_bad_values(session, fields, what, message):
    with pytest.raises(ValidationFailed) as failed:
        add_session_time(session, fields={**MORNING, **fields})

    assert (failed.value.what, failed.value.message) == (what, message)
    assert SessionTime.objects.count() == 0


# --- Changing --------------------------------------------------------------------------------


def test_update_session_time_changes_only_what_is_given(keynote):
    aged(keynote, keynote.session)

    time = update_session_time(keynote, fields={"room": "Hall B", "length": 90})

    assert (time.room, time.length, time.date, time.time) == (
        "Hall B",
        90,
        dt.date(2026, 6, 1),
        dt.time(10, 0),
    )
    assert time.modified_at > LONG_AGO
    assert modified(keynote.session) > LONG_AGO


def test_update_session_time_with_the_same_values_writes_nothing(keynote):
    aged(keynote, keynote.session)

    update_session_time(keynote, fields={"room": "", "length": 60, "capacity": 0})

    assert (modified(keynote), modified(keynote.session)) == (LONG_AGO, LONG_AGO)


def test_update_session_time_capacity_raised_promotes_in_order(small, attendees):
    users = attendees(6)
    filled(small, users)
    aged(*users)

    update_session_time(small, fields={"capacity": 4})

    assert entries(small) == [
        *((user.pk, "scheduled", None) for user in users[:4]),
        (users[4].pk, "waitlisted", 1),
        (users[5].pk, "waitlisted", 2),
    ]
    assert counters(small) == (4, 2)
    assert [modified(user) > LONG_AGO for user in users] == [False, False, True, True, False, False]


def test_update_session_time_capacity_unlimited_promotes_everyone(small, attendees):
    users = attendees(5)
    filled(small, users)

    update_session_time(small, fields={"capacity": 0})

    assert entries(small) == [(user.pk, "scheduled", None) for user in users]
    assert counters(small) == (5, 0)


def test_update_session_time_capacity_lowered_keeps_everyone_and_admits_nobody(small, attendees):
    update_session_time(small, fields={"capacity": 4})
    users = attendees(6)
    filled(small, users)  # 4 seated, 2 waiting

    update_session_time(small, fields={"capacity": 2})

    assert counters(small) == (4, 2)
    assert small.seats_remaining == 0
    unschedule_session(users[0], small)
    unschedule_session(users[1], small)
    assert counters(small) == (2, 2)  # 2 of 2 seats taken: still nobody admitted
    unschedule_session(users[2], small)
    assert entries(small) == [
        (users[3].pk, "scheduled", None),
        (users[4].pk, "scheduled", None),
        (users[5].pk, "waitlisted", 1),
    ]


def test_update_session_time_waitlist_off_keeps_those_waiting_and_takes_nobody_new(
    small, attendees
):
    users = attendees(4)
    filled(small, users)

    update_session_time(small, fields={"waitlist": False})

    with pytest.raises(Refused) as refused:
        schedule_session(attendees(1)[0], small)
    assert refused.value.what == "full"
    unschedule_session(users[0], small)
    assert entries(small) == [
        (users[1].pk, "scheduled", None),
        (users[2].pk, "scheduled", None),
        (users[3].pk, "waitlisted", 1),
    ]


def test_update_session_time_moved_keeps_seats_that_now_overlap(site, keynote, small, ada):
    schedule_session(ada, keynote)  # 10:00–11:00
    schedule_session(ada, small)  # 14:00–15:00

    update_session_time(small, fields={"time": dt.time(10, 30)})

    assert [seat.status for seat in Seat.objects.filter(user=ada)] == ["scheduled", "scheduled"]


# --- Cancelling ------------------------------------------------------------------------------


def test_cancel_session_time_frees_seats_and_waitlist_and_moves_everyone(small, attendees):
    users = attendees(4)
    filled(small, users)
    bystander = attendees(1)[0]
    aged(*users, bystander, small, small.session)

    time = cancel_session_time(small)

    assert time.status == "cancelled"
    assert counters(small) == (0, 0)
    assert entries(small) == []
    assert (
        list(
            Seat.objects.filter(session_time=small).values_list(
                "status", "position", "freed_because"
            )
        )
        == [("freed", None, "sessionTimeCancelled")] * 4
    )
    assert [modified(user) > LONG_AGO for user in (*users, bystander)] == [True] * 4 + [False]
    assert modified(small) > LONG_AGO
    assert modified(small.session) > LONG_AGO


def test_cancel_session_time_twice_is_refused(keynote):
    cancel_session_time(keynote)

    with pytest.raises(Cancelled) as cancelled:
        cancel_session_time(keynote)

    assert (cancelled.value.what, cancelled.value.message) == (
        "sessionTime",
        f"session time {keynote.pk} is cancelled already",
    )


def test_update_session_time_status_cancelled_frees_seats_as_cancelling_does(small, attendees):
    filled(small, attendees(3))

    update_session_time(small, fields={"status": "cancelled", "room": "Nowhere"})

    small.refresh_from_db()
    assert (small.status, small.room, small.registered, small.waitlisted) == (
        "cancelled",
        "Nowhere",
        0,
        0,
    )
    assert set(Seat.objects.values_list("freed_because", flat=True)) == {"sessionTimeCancelled"}


def test_update_session_time_status_active_brings_a_cancelled_time_back_empty(small, attendees):
    users = attendees(3)
    filled(small, users)
    cancel_session_time(small)

    time = update_session_time(small, fields={"status": "active"})

    assert (time.status, time.registered, time.waitlisted) == ("active", 0, 0)
    assert schedule_session(users[2], small) == Outcome("scheduled", None, 1)
