"""programme/receivers.py: a cancelled user's seats and waitlist places are freed, waitlists move
up, in cancel_user's own transaction (contract §8.2 cancelUser.do)."""

import pytest
from django.db import transaction

from confero.people.models import User
from confero.people.services import cancel_user
from confero.programme.models import Seat
from confero.programme.services import schedule_session
from tests.factories import SessionFactory, SessionTimeFactory
from tests.programme.conftest import LONG_AGO, aged, counters, entries, modified


def test_cancel_user_frees_seats_and_waitlist_places_and_promotes(site, small, keynote, attendees):
    first, ada, third, fourth, fifth = attendees(5)
    for user in (first, ada, third, fourth):
        schedule_session(user, small)  # ada seated; third, fourth waiting
    schedule_session(ada, keynote)
    other = SessionTimeFactory(session=SessionFactory(site=site), capacity=1, waitlist=True,
                               time=small.time.replace(hour=16))  # fmt: skip
    schedule_session(fifth, other)
    schedule_session(ada, other)  # ada waiting at 16:00
    aged(first, ada, third, fourth, fifth, small, keynote, other)

    cancel_user(ada)

    assert entries(small) == [
        (first.pk, "scheduled", None),
        (third.pk, "scheduled", None),
        (fourth.pk, "waitlisted", 1),
    ]
    assert entries(keynote) == []
    assert entries(other) == [(fifth.pk, "scheduled", None)]
    assert (counters(small), counters(keynote), counters(other)) == ((2, 1), (0, 0), (1, 0))
    assert set(Seat.objects.filter(user=ada).values_list("status", "freed_because")) == {
        ("freed", "userCancelled")
    }
    # ada, and third (promoted) move; so do the three times.
    assert [modified(u) > LONG_AGO for u in (first, ada, third, fourth, fifth)] == [
        False,
        True,
        True,
        False,
        False,
    ]
    assert [modified(t) > LONG_AGO for t in (small, keynote, other)] == [True, True, True]


def test_cancel_user_without_seats_changes_no_time(keynote, ada):
    aged(keynote)

    cancel_user(ada)

    assert modified(keynote) == LONG_AGO


def test_cancel_user_rolled_back_keeps_the_seats(small, attendees):
    users = attendees(3)
    for user in users:
        schedule_session(user, small)

    def cancelling_then_failing():
        with transaction.atomic():
            cancel_user(users[0])
            raise RuntimeError("the call fails after cancelling")

    with pytest.raises(RuntimeError):
        cancelling_then_failing()

    assert User.objects.get(pk=users[0].pk).status == "active"
    assert entries(small) == [
        (users[0].pk, "scheduled", None),
        (users[1].pk, "scheduled", None),
        (users[2].pk, "waitlisted", 1),
    ]
