"""A site with a programme: sessions, session times, attendees, and a profile field whose values
carry each of the three constraints (contract §8.3)."""

import datetime as dt

import pytest

from confero.customfields.models import RecordType
from confero.customfields.services import Assignment, ValueSpec, create_field, set_answers
from confero.people.models import User
from confero.programme.models import Seat, SessionTime
from tests.factories import (
    SessionFactory,
    SessionTimeFactory,
    UserFactory,
)

LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def attendees(site):
    """`attendees(n)`: n new active users of the site, in id order."""
    return lambda n: [UserFactory(site=site) for _ in range(n)]


@pytest.fixture
def session(site):
    return SessionFactory(site=site, abbreviation="KEY", title="Keynote")


@pytest.fixture
def keynote(session):
    """10:00–11:00 on 2026-06-01, unlimited."""
    return SessionTimeFactory(session=session)


@pytest.fixture
def small(site):
    """A 2-seat time with a waitlist, 14:00–15:00 on 2026-06-01."""
    return SessionTimeFactory(
        session=SessionFactory(site=site, abbreviation="WS", title="Workshop"),
        time=dt.time(14, 0),
        capacity=2,
        waitlist=True,
    )


@pytest.fixture
def access_field(site):
    """A multichoice profile field: one value per constraint type, and one without."""
    return create_field(
        site,
        record_type=RecordType.PROFILE,
        code="access",
        display_name="Access",
        field_type="multichoice",
        values=[
            ValueSpec("pv", constraint="publicViewPrivateSchedule"),
            ValueSpec("pp", constraint="privateViewPrivateSchedule"),
            ValueSpec("cn", constraint="cannotViewOrSchedule"),
            ValueSpec("pv2", constraint="publicViewPrivateSchedule"),
            ValueSpec("pp2", constraint="privateViewPrivateSchedule"),
            ValueSpec("plain"),
        ],
    )


def value(field, code: str):
    return field.values.get(code=code)


def holding(field, *codes: str) -> list[Assignment]:
    return [Assignment(field, tuple((value(field, code), "") for code in codes))]


def give(user: User, field, *codes: str) -> None:
    """The user holds these values of the field (a profile field: users and sessions)."""
    set_answers(RecordType.USER, user.pk, holding(field, *codes))


def entries(time: SessionTime) -> list[tuple[int, str, int | None]]:
    """(user id, status, position) of the time's entries that are not freed, waitlist last in
    order."""
    return [
        (seat.user_id, seat.status, seat.position)
        for seat in Seat.objects.filter(session_time=time)
        .exclude(status="freed")
        .order_by("status", "position", "user_id")
    ]


def counters(time: SessionTime) -> tuple[int, int]:
    time.refresh_from_db()
    return time.registered, time.waitlisted


def modified(record) -> dt.datetime:
    return type(record).objects.values_list("modified_at", flat=True).get(pk=record.pk)


def aged(*records) -> None:
    """Sets last-modified of the records (users, sessions, times) long ago."""
    for record in records:
        type(record).objects.filter(pk=record.pk).update(modified_at=LONG_AGO)
