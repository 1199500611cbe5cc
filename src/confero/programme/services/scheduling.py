"""Users' schedules: scheduling and unscheduling session times, seats and waitlists (contract
§8.3), what a user's schedule holds and which sessions a user may see.

Lock order (confero.programme.services.seats): session times → users → sessions, ascending id
within each. `schedule_session` locks the session time, then the user (its overlap check reads
the user's other entries under the user's lock), and moves the time's, the user's and the
session's last-modified at its end.

Rules, in the order they are checked:
1. an entry the user holds already at the time (scheduled or waitlisted) is answered as it
   stands, whatever changed since, and nothing is written;
2. a cancelled or unpublished session, or a cancelled time → Cancelled;
3. the session's constraints (confero.programme.constraints) → Refused("constraint");
4. an overlap with another entry of the user, scheduled *or waitlisted* → Refused("overlap"):
   promotion from a waitlist is automatic, so a waitlist place is a promise of a seat;
5. a free seat (none is free while anyone waits) → scheduled; else the waitlist when the time
   has one → waitlisted at the end; else Refused("full").
"""

import datetime as dt
from typing import NamedTuple

from django.db import transaction
from django.db.models.functions import Now

from confero.errors import Cancelled, NotFound, Refused
from confero.people.models import User
from confero.programme.constraints import accesses
from confero.programme.models import (
    FreedBecause,
    Seat,
    SeatStatus,
    Session,
    SessionTime,
    Status,
)
from confero.programme.services.seats import (
    ACTIVE_SEAT,
    Changes,
    free,
    lock_time,
    lock_times,
    lock_user,
    session_label,
)


class Outcome(NamedTuple):
    """What scheduling gave: `status` "scheduled" or "waitlisted", the waitlist `position`
    (None when scheduled), the seats still free (None when the time is unlimited)."""

    status: str
    position: int | None
    seats_remaining: int | None


class SessionAccess(NamedTuple):
    session: Session
    can_schedule: bool


def schedule_session(user: User, session_time: SessionTime) -> Outcome:
    with transaction.atomic():
        time = lock_time(session_time.pk)
        if time.site_id != user.site_id:
            raise NotFound("sessionTime", f"session time {time.pk} not found")
        session = Session.objects.get(pk=time.session_id)
        user = lock_user(user.pk)
        if not user.is_active:
            raise Cancelled("user", f"user {user.user_ref} is cancelled")
        held = _entry(time, user)
        if held is not None:
            return Outcome(held.status, held.position, time.seats_remaining)
        _check_open(session, time)
        if not accesses(user.pk, [session.pk])[session.pk].can_schedule:
            raise Refused(
                "constraint",
                f"user {user.user_ref} may not schedule session {session_label(session)}",
            )
        _check_overlap(user, time)
        room = time.capacity == 0 or time.registered < time.capacity
        if room and not time.waitlisted:
            status, position = SeatStatus.SCHEDULED, None
            time.registered += 1
        elif time.waitlist:
            status, position = SeatStatus.WAITLISTED, time.waitlisted + 1
            time.waitlisted += 1
        else:
            raise Refused(
                "full", f"session time {time.pk} is full ({time.capacity} seats, no waitlist)"
            )
        Seat.objects.create(
            session_time=time,
            user=user,
            status=status,
            position=position,
            created_at=Now(),
            modified_at=Now(),
        )
        changes = Changes()
        changes.time(time)
        changes.users.add(user.pk)
        changes.write()
    return Outcome(str(status), position, time.seats_remaining)


def unschedule_session(user: User, session_time: SessionTime) -> None:
    """Frees the user's seat or waitlist place; whom a freed seat admits moves up from the
    waitlist in the same transaction."""
    with transaction.atomic():
        time = lock_time(session_time.pk)
        if time.site_id != user.site_id:
            raise NotFound("sessionTime", f"session time {time.pk} not found")
        held = _entry(time, user)
        if held is None:
            raise Refused(
                "notScheduled", f"user {user.user_ref} has not scheduled session time {time.pk}"
            )
        changes = Changes()
        free(time, [held], because=FreedBecause.UNSCHEDULED, changes=changes)
        changes.write()


def free_user_seats(user: User, *, because: FreedBecause = FreedBecause.USER_CANCELLED) -> None:
    """Frees every seat and waitlist place of the user (cancelled users), waitlists moving up.
    The caller holds the user's row (cancel_user updated it), so the user's entries do not
    change while the session times are locked."""
    with transaction.atomic():
        time_ids = Seat.objects.filter(user=user, status__in=ACTIVE_SEAT).values_list(
            "session_time_id", flat=True
        )
        times = lock_times(list(time_ids))
        if not times:
            return
        # Read again under the times' locks: a promotion may have committed meanwhile.
        seats = {
            seat.session_time_id: seat
            for seat in Seat.objects.filter(
                user=user, status__in=ACTIVE_SEAT, session_time__in=times
            )
        }
        changes = Changes()
        for time in times:
            if time.pk in seats:
                free(time, [seats[time.pk]], because=because, changes=changes)
        changes.write()


def user_schedule(user: User) -> list[Seat]:
    """The user's entries, scheduled and waitlisted, in the order of their times; each with its
    session time and session loaded."""
    return list(
        Seat.objects.filter(user=user, status__in=ACTIVE_SEAT)
        .select_related("session_time__session")
        .order_by("session_time__date", "session_time__time", "session_time_id")
    )


def user_sessions(user: User) -> list[SessionAccess]:
    """The sessions of the user's site the user may see — published, not cancelled, let through
    by their constraints — in id order, each with whether the user may schedule it (by the
    constraints: a full time or one that overlaps is for `schedule_session` to say)."""
    sessions = list(
        Session.objects.filter(site_id=user.site_id, status=Status.ACTIVE, published=True).order_by(
            "pk"
        )
    )
    allowed = accesses(user.pk, [session.pk for session in sessions])
    return [
        SessionAccess(session, allowed[session.pk].can_schedule)
        for session in sessions
        if allowed[session.pk].can_view
    ]


def _entry(time: SessionTime, user: User) -> Seat | None:
    return Seat.objects.filter(session_time=time, user=user, status__in=ACTIVE_SEAT).first()


def _check_open(session: Session, time: SessionTime) -> None:
    if session.status == Status.CANCELLED:
        raise Cancelled("session", f"session {session_label(session)} is cancelled")
    if not session.published:
        raise Cancelled("session", f"session {session_label(session)} is not published")
    if time.status == Status.CANCELLED:
        raise Cancelled("sessionTime", f"session time {time.pk} is cancelled")


def _span(time: SessionTime) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in the event's local time: a time running past midnight overlaps the next
    day's morning."""
    start = dt.datetime.combine(time.date, time.time)
    return start, start + dt.timedelta(minutes=time.length)


def _check_overlap(user: User, time: SessionTime) -> None:
    start, end = _span(time)
    entries = (
        Seat.objects.filter(user=user, status__in=ACTIVE_SEAT)
        .exclude(session_time=time)
        .select_related("session_time__session")
        .order_by("session_time__date", "session_time__time", "session_time_id")
    )
    for entry in entries:
        other = entry.session_time
        other_start, other_end = _span(other)
        if other_start < end and start < other_end:
            held = "has scheduled" if entry.status == SeatStatus.SCHEDULED else "is waitlisted for"
            raise Refused(
                "overlap",
                f"session time {time.pk} overlaps session time {other.pk} of session "
                f"{session_label(other.session)} on {other.date:%Y-%m-%d} at "
                f"{other.time:%H:%M}–{other_end:%H:%M}, which user {user.user_ref} {held}",
            )
