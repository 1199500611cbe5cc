"""programme/services/scheduling.py: scheduling and unscheduling, seats, waitlists, overlaps, and
what a user's schedule and sessions are (contract §8.3). Service level: the API resources come
in phase 2 of issue 14."""

import datetime as dt

import pytest

from confero.errors import Cancelled, NotFound, Refused
from confero.people.models import User
from confero.people.services import cancel_user
from confero.programme.models import Seat, Session, SessionTime
from confero.programme.services import (
    Outcome,
    schedule_session,
    unschedule_session,
    update_session,
    update_session_time,
    user_schedule,
    user_sessions,
)
from tests.factories import (
    EventFactory,
    SessionFactory,
    SessionTimeFactory,
    UserFactory,
    site_of,
)
from tests.programme.conftest import LONG_AGO, aged, counters, entries, modified

# --- Seats and the waitlist ------------------------------------------------------------------


def test_schedule_session_with_a_free_seat_schedules_and_counts_it(small, ada):
    outcome = schedule_session(ada, small)

    assert outcome == Outcome("scheduled", None, 1)
    assert entries(small) == [(ada.pk, "scheduled", None)]
    assert counters(small) == (1, 0)
    seat = Seat.objects.get()
    assert (seat.freed_because, seat.created_at) == ("", seat.modified_at)


def test_schedule_session_unlimited_has_no_seats_remaining(keynote, attendees):
    outcomes = [schedule_session(user, keynote) for user in attendees(3)]

    assert outcomes == [Outcome("scheduled", None, None)] * 3
    assert counters(keynote) == (3, 0)


def test_schedule_session_full_with_waitlist_waitlists_first_come(small, attendees):
    users = attendees(5)

    outcomes = [schedule_session(user, small) for user in users]

    assert outcomes == [
        Outcome("scheduled", None, 1),
        Outcome("scheduled", None, 0),
        Outcome("waitlisted", 1, 0),
        Outcome("waitlisted", 2, 0),
        Outcome("waitlisted", 3, 0),
    ]
    assert entries(small) == [
        (users[0].pk, "scheduled", None),
        (users[1].pk, "scheduled", None),
        (users[2].pk, "waitlisted", 1),
        (users[3].pk, "waitlisted", 2),
        (users[4].pk, "waitlisted", 3),
    ]
    assert counters(small) == (2, 3)


def test_schedule_session_full_without_waitlist_is_refused(small, attendees):
    update_session_time(small, fields={"waitlist": False})
    first, second, third = attendees(3)
    schedule_session(first, small)
    schedule_session(second, small)
    aged(third, small)

    with pytest.raises(Refused) as refused:
        schedule_session(third, small)

    assert (refused.value.what, refused.value.message) == (
        "full",
        f"session time {small.pk} is full (2 seats, no waitlist)",
    )
    assert counters(small) == (2, 0)
    assert Seat.objects.filter(user=third).count() == 0
    assert (modified(third), modified(small)) == (LONG_AGO, LONG_AGO)


def test_schedule_session_again_when_scheduled_changes_nothing(small, ada):
    first = schedule_session(ada, small)
    aged(ada, small, small.session)

    again = schedule_session(ada, small)

    assert again == first == Outcome("scheduled", None, 1)
    assert Seat.objects.count() == 1
    assert counters(small) == (1, 0)
    assert [modified(ada), modified(small), modified(small.session)] == [LONG_AGO] * 3


def test_schedule_session_again_when_waitlisted_answers_the_place(small, attendees):
    users = attendees(4)
    for user in users:
        schedule_session(user, small)

    again = schedule_session(users[3], small)

    assert again == Outcome("waitlisted", 2, 0)
    assert counters(small) == (2, 2)
    assert Seat.objects.count() == 4


def test_schedule_session_moves_last_modified_of_user_time_and_session(small, ada):
    aged(ada, small, small.session)

    schedule_session(ada, small)

    assert modified(ada) > LONG_AGO
    assert modified(small) > LONG_AGO
    assert modified(small.session) > LONG_AGO


def test_unschedule_session_promotes_the_first_waitlisted_and_closes_the_waitlist_up(
    small, attendees
):
    users = attendees(5)
    for user in users:
        schedule_session(user, small)
    aged(*users, small, small.session)

    unschedule_session(users[0], small)

    assert entries(small) == [
        (users[1].pk, "scheduled", None),
        (users[2].pk, "scheduled", None),
        (users[3].pk, "waitlisted", 1),
        (users[4].pk, "waitlisted", 2),
    ]
    assert counters(small) == (2, 2)
    freed = Seat.objects.get(user=users[0])
    assert (freed.status, freed.position, freed.freed_because) == ("freed", None, "unscheduled")
    # The user who left, the user promoted, the time and its session move; the others do not.
    assert [modified(user) > LONG_AGO for user in users] == [True, False, True, False, False]
    assert (modified(small) > LONG_AGO, modified(small.session) > LONG_AGO) == (True, True)


def test_unschedule_session_from_the_middle_of_the_waitlist_renumbers_without_gaps(
    small, attendees
):
    users = attendees(6)
    for user in users:
        schedule_session(user, small)

    unschedule_session(users[3], small)

    assert entries(small) == [
        (users[0].pk, "scheduled", None),
        (users[1].pk, "scheduled", None),
        (users[2].pk, "waitlisted", 1),
        (users[4].pk, "waitlisted", 2),
        (users[5].pk, "waitlisted", 3),
    ]
    assert counters(small) == (2, 3)


def test_unschedule_session_then_schedule_again_joins_the_end_of_the_waitlist(small, attendees):
    users = attendees(4)
    for user in users:
        schedule_session(user, small)
    unschedule_session(users[0], small)

    again = schedule_session(users[0], small)

    assert again == Outcome("waitlisted", 2, 0)
    assert [s.freed_because for s in Seat.objects.filter(user=users[0]).order_by("pk")] == [
        "unscheduled",
        "",
    ]


def test_unschedule_session_not_scheduled_is_refused(small, ada):
    with pytest.raises(Refused) as refused:
        unschedule_session(ada, small)

    assert (refused.value.what, refused.value.message) == (
        "notScheduled",
        f"user {ada.user_ref} has not scheduled session time {small.pk}",
    )


def test_unschedule_session_twice_is_refused_the_second_time(small, ada):
    schedule_session(ada, small)
    unschedule_session(ada, small)

    with pytest.raises(Refused) as refused:
        unschedule_session(ada, small)

    assert refused.value.what == "notScheduled"
    assert counters(small) == (0, 0)


# --- What may not be scheduled ---------------------------------------------------------------


def test_schedule_session_of_a_cancelled_session_is_refused(keynote, ada):
    update_session(keynote.session, fields={"status": "cancelled"})

    with pytest.raises(Cancelled) as cancelled:
        schedule_session(ada, keynote)

    assert (cancelled.value.what, cancelled.value.message) == (
        "session",
        "session 'KEY' is cancelled",
    )


def test_schedule_session_of_an_unpublished_session_is_refused(keynote, ada):
    update_session(keynote.session, fields={"published": False, "abbreviation": ""})

    with pytest.raises(Cancelled) as cancelled:
        schedule_session(ada, keynote)

    assert (cancelled.value.what, cancelled.value.message) == (
        "session",
        'session "Keynote" is not published',
    )


def test_schedule_session_of_a_cancelled_time_is_refused(keynote, ada):
    update_session_time(keynote, fields={"status": "cancelled"})

    with pytest.raises(Cancelled) as cancelled:
        schedule_session(ada, keynote)

    assert (cancelled.value.what, cancelled.value.message) == (
        "sessionTime",
        f"session time {keynote.pk} is cancelled",
    )
    assert Seat.objects.count() == 0


def test_schedule_session_unpublished_after_scheduling_answers_the_seat_held(keynote, ada):
    schedule_session(ada, keynote)
    update_session(keynote.session, fields={"published": False})

    assert schedule_session(ada, keynote) == Outcome("scheduled", None, None)
    assert [seat.session_time_id for seat in user_schedule(ada)] == [keynote.pk]


def test_schedule_session_of_another_sites_time_is_not_found(keynote):
    stranger = UserFactory(site=site_of(EventFactory()))

    with pytest.raises(NotFound) as not_found:
        schedule_session(stranger, keynote)

    assert (not_found.value.what, not_found.value.message) == (
        "sessionTime",
        f"session time {keynote.pk} not found",
    )


def test_schedule_session_by_a_cancelled_user_is_refused(keynote, ada):
    cancel_user(ada)

    with pytest.raises(Cancelled) as cancelled:
        schedule_session(User.objects.get(pk=ada.pk), keynote)

    assert (cancelled.value.what, cancelled.value.message) == (
        "user",
        f"user {ada.user_ref} is cancelled",
    )


# --- Overlaps --------------------------------------------------------------------------------


def at(site, start: dt.time, length: int = 60, date=dt.date(2026, 6, 1), **fields) -> SessionTime:
    return SessionTimeFactory(
        session=SessionFactory(site=site, **fields), date=date, time=start, length=length
    )


def test_schedule_session_overlapping_a_scheduled_time_is_refused_naming_it(site, keynote, ada):
    schedule_session(ada, keynote)  # 10:00–11:00
    later = at(site, dt.time(10, 30))

    with pytest.raises(Refused) as refused:
        schedule_session(ada, later)

    assert (refused.value.what, refused.value.message) == (
        "overlap",
        f"session time {later.pk} overlaps session time {keynote.pk} of session 'KEY' on "
        f"2026-06-01 at 10:00–11:00, which user {ada.user_ref} has scheduled",
    )
    assert Seat.objects.filter(session_time=later).count() == 0


def test_schedule_session_overlapping_a_waitlist_place_is_refused(site, small, attendees):
    first, second, ada = attendees(3)
    for user in (first, second, ada):
        schedule_session(user, small)  # ada waits for 14:00–15:00
    untitled = at(site, dt.time(13, 30), abbreviation=None, title="Lunch talk")

    with pytest.raises(Refused) as refused:
        schedule_session(ada, untitled)

    assert refused.value.message == (
        f"session time {untitled.pk} overlaps session time {small.pk} of session 'WS' on "
        f"2026-06-01 at 14:00–15:00, which user {ada.user_ref} is waitlisted for"
    )


def test_schedule_session_overlap_names_an_untitled_abbreviation_by_its_title(site, ada):
    lunch = at(site, dt.time(12, 0), abbreviation=None, title="Lunch talk")
    schedule_session(ada, lunch)

    with pytest.raises(Refused) as refused:
        schedule_session(ada, at(site, dt.time(12, 59)))

    assert f'session time {lunch.pk} of session "Lunch talk" on 2026-06-01 at 12:00–13:00' in (
        refused.value.message
    )


@pytest.mark.parametrize(
    ("date", "start", "length"),
    [
        pytest.param(dt.date(2026, 6, 1), dt.time(11, 0), 30, id="starting-as-it-ends"),
        pytest.param(dt.date(2026, 6, 1), dt.time(9, 0), 60, id="ending-as-it-starts"),
        pytest.param(dt.date(2026, 6, 2), dt.time(10, 0), 60, id="same-hour-next-day"),
    ],
)
def test_schedule_session_next_to_a_scheduled_time_is_allowed(
    site, keynote, ada, date, start, length
):
    schedule_session(ada, keynote)

    assert schedule_session(ada, at(site, start, length, date)).status == "scheduled"


def test_schedule_session_past_midnight_overlaps_the_next_morning(site, ada):
    night = at(site, dt.time(23, 0), length=120)  # until 01:00 on 2026-06-02
    schedule_session(ada, night)

    with pytest.raises(Refused) as refused:
        schedule_session(ada, at(site, dt.time(0, 30), length=30, date=dt.date(2026, 6, 2)))

    assert refused.value.what == "overlap"
    assert "on 2026-06-01 at 23:00–01:00" in refused.value.message


def test_schedule_session_overlapping_a_freed_entry_is_allowed(site, keynote, ada):
    schedule_session(ada, keynote)
    unschedule_session(ada, keynote)

    assert schedule_session(ada, at(site, dt.time(10, 0))).status == "scheduled"


def test_schedule_session_overlapping_another_users_seat_is_allowed(site, keynote, attendees):
    ada, grace = attendees(2)
    schedule_session(ada, keynote)

    assert schedule_session(grace, at(site, dt.time(10, 0))).status == "scheduled"


# --- The user's schedule and sessions ----------------------------------------------------------


def test_user_schedule_lists_scheduled_and_waitlisted_times_in_time_order(
    site, keynote, small, attendees
):
    first, second, ada = attendees(3)
    morning = at(site, dt.time(8, 0))
    for user in (first, second, ada):
        schedule_session(user, small)
    schedule_session(ada, keynote)
    schedule_session(ada, morning)
    unschedule_session(ada, morning)

    schedule = user_schedule(ada)

    assert [(s.session_time_id, s.status, s.position) for s in schedule] == [
        (keynote.pk, "scheduled", None),
        (small.pk, "waitlisted", 1),
    ]
    assert schedule[1].session_time.session.abbreviation == "WS"


def test_user_sessions_lists_published_active_sessions_in_id_order(site, ada):
    shown = SessionFactory(site=site)
    SessionFactory(site=site, published=False)
    cancelled = SessionFactory(site=site)
    update_session(cancelled, fields={"status": "cancelled"})
    also_shown = SessionFactory(site=site)
    SessionFactory(site=site_of(EventFactory()))

    assert [(a.session.pk, a.can_schedule) for a in user_sessions(ada)] == [
        (shown.pk, True),
        (also_shown.pk, True),
    ]
    assert Session.objects.count() == 5
