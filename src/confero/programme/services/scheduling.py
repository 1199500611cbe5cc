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

from confero.errors import Cancelled, DomainError, NotFound, Refused
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
from confero.programme.services.hotpath import Entry, entries_of, locked_time, record_entry
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
    """`session_time` may be unsaved with only its id (`SessionTime(pk=…)`): it is read here,
    under its lock, and one of another site is NotFound like one that does not exist.

    Every refusal is decided before anything is written, so no savepoint is needed to undo a
    refused call: the checks run in the caller's transaction (or one of their own), return
    their refusal, and it is raised once the block has ended, which leaves the caller's
    transaction usable (two statements fewer a call: decision 0020)."""
    with transaction.atomic(savepoint=False):
        outcome = _schedule(user, session_time)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def _schedule(user: User, session_time: SessionTime) -> Outcome | DomainError:
    site = user.site  # the caller's, with its definitions' version (for the constraints)
    time = locked_time(session_time.pk)
    if time is None or time.site_id != user.site_id:
        return NotFound("sessionTime", f"session time {session_time.pk} not found")
    session = time.session
    user = lock_user(user.pk)
    if not user.is_active:
        return Cancelled("user", f"user {user.user_ref} is cancelled")
    entries = entries_of(user.pk)
    held = next((entry for entry in entries if entry.session_time_id == time.pk), None)
    if held is not None:
        return Outcome(held.status, held.position, time.seats_remaining)
    if refusal := _closed(session, time):
        return refusal
    if not accesses(user.pk, [session.pk], site=site)[session.pk].can_schedule:
        return Refused(
            "constraint", f"user {user.user_ref} may not schedule session {session_label(session)}"
        )
    if refusal := _overlap(user, time, entries):
        return refusal
    room = time.capacity == 0 or time.registered < time.capacity
    if room and not time.waitlisted:
        status, position = SeatStatus.SCHEDULED, None
        time.registered += 1
    elif time.waitlist:
        status, position = SeatStatus.WAITLISTED, time.waitlisted + 1
        time.waitlisted += 1
    else:
        return Refused(
            "full", f"session time {time.pk} is full ({time.capacity} seats, no waitlist)"
        )
    record_entry(time, user.pk, status, position)
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


class _EntriesMoved(Exception):
    """The user got an entry at a time not yet locked, between the times' locks and theirs."""


def hold_times_of_leaving_user(user: User) -> None:
    """Locks, in the lock order, the session times where the user holds an entry and then the
    user's row, so that `free_user_seats` can run while holding the user (cancel_user locks
    the user's row between the two). Entries are only created under the user's lock, so once
    the user is locked the set cannot grow; if it grew before (a schedule call committed between
    the times' locks and the user's), the locks taken are given back — a savepoint rolled back
    releases them — and taken again with the new time, never a time after the user."""
    known: set[int] = set()
    while True:
        try:
            with transaction.atomic():
                known |= _entry_time_ids(user)
                lock_times(known)
                lock_user(user.pk)
                if not _entry_time_ids(user) <= known:
                    raise _EntriesMoved
                return
        except _EntriesMoved:
            continue


def _entry_time_ids(user: User) -> set[int]:
    return set(
        Seat.objects.filter(user=user, status__in=ACTIVE_SEAT).values_list(
            "session_time_id", flat=True
        )
    )


def free_user_seats(user: User, *, because: FreedBecause = FreedBecause.USER_CANCELLED) -> None:
    """Frees every seat and waitlist place of the user (cancelled users), waitlists moving up.
    The caller holds the user's row (cancel_user updated it), so the user's entries do not
    change while the session times are locked; their times were locked before the user's row
    (`hold_times_of_leaving_user`, on people's `user_cancelling`), so locking them again here
    waits for nothing."""
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


def _closed(session: Session, time: SessionTime) -> Cancelled | None:
    if session.status == Status.CANCELLED:
        return Cancelled("session", f"session {session_label(session)} is cancelled")
    if not session.published:
        return Cancelled("session", f"session {session_label(session)} is not published")
    if time.status == Status.CANCELLED:
        return Cancelled("sessionTime", f"session time {time.pk} is cancelled")
    return None


def _span(time: SessionTime) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in the event's local time: a time running past midnight overlaps the next
    day's morning."""
    start = dt.datetime.combine(time.date, time.time)
    return start, start + dt.timedelta(minutes=time.length)


def _overlap(user: User, time: SessionTime, entries: list[Entry]) -> Refused | None:
    start, end = _span(time)
    for entry in entries:
        if entry.session_time_id == time.pk:
            continue
        other_start = dt.datetime.combine(entry.date, entry.time)
        other_end = other_start + dt.timedelta(minutes=entry.length)
        if other_start < end and start < other_end:
            held = "has scheduled" if entry.status == SeatStatus.SCHEDULED else "is waitlisted for"
            label = f"'{entry.abbreviation}'" if entry.abbreviation else f'"{entry.title}"'
            return Refused(
                "overlap",
                f"session time {time.pk} overlaps session time {entry.session_time_id} of "
                f"session {label} on {entry.date:%Y-%m-%d} at "
                f"{entry.time:%H:%M}–{other_end:%H:%M}, which user {user.user_ref} {held}",
            )
    return None
