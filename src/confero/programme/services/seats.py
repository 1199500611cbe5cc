"""Seats and waitlists under their locks: the primitives every programme service that changes a
seat is built from (scheduling, cancelling times and sessions, capacity raised, users cancelled).

Locks (PostgreSQL; SQLite runs one writer at a time, its transactions BEGIN IMMEDIATE, so none
of this is needed there and `select_for_update` is a no-op), always taken in this order:

1. session times, `SELECT … FOR UPDATE`, ascending id;
2. users, ascending id (`SELECT … FOR UPDATE` where a check must read under the lock — the
   overlap check of `schedule_session` — else by the UPDATE that moves their last-modified);
3. sessions, ascending id (the UPDATE that moves their last-modified).

Everything about a session time's seats is decided under the time's lock: its counters
(`registered`, `waitlisted`, kept in its row), the waitlist's order and who is promoted. So the
users a change touches are known before any user is locked, and no transaction ever waits for a
session time while holding a user or a session. Entries are only *created* for a user under the
user's lock as well (schedule_session), which is what makes its overlap check sound when two
calls of the same user race. Decision record: docs/decisions/0016-scheduling-locks.md.

`people.services.cancel_user` keeps the order too: its `user_cancelling` signal comes before it
locks the user's row, and our receiver locks the user's session times, then the user
(`hold_times_of_leaving_user`). The API keeps it as well: it does not lock the acting user of
the scheduling resources and cancelUser.do before they run (decision 0020).
"""

from collections.abc import Iterable

from django.db.models import F
from django.db.models.functions import Now

from confero.errors import NotFound
from confero.people.models import User
from confero.people.services import touch_user
from confero.programme.models import FreedBecause, Seat, SeatStatus, Session, SessionTime

ACTIVE_SEAT = (SeatStatus.SCHEDULED, SeatStatus.WAITLISTED)


def session_label(session: Session) -> str:
    """How messages name a session: its abbreviation, else its title."""
    return f"'{session.abbreviation}'" if session.abbreviation else f'"{session.title}"'


def lock_time(pk: int, *, with_session: bool = False) -> SessionTime:
    """The time, its row locked; `with_session`: its session read along, not locked."""
    times = SessionTime.objects.select_for_update(of=("self",))
    if with_session:
        times = times.select_related("session")
    try:
        return times.get(pk=pk)
    except SessionTime.DoesNotExist:
        raise NotFound("sessionTime", f"session time {pk} not found") from None


def lock_times(pks: Iterable[int]) -> list[SessionTime]:
    """Ascending id: the first step of the lock order."""
    return list(SessionTime.objects.select_for_update().filter(pk__in=set(pks)).order_by("pk"))


def lock_user(pk: int) -> User:
    return User.objects.select_for_update().get(pk=pk)


class Changes:
    """What one operation changed, written at its end in the lock order: the session times'
    counters and fields (locked already), then the users' last-modified, then the sessions'
    — every stamp from the database clock."""

    def __init__(self) -> None:
        self.times: dict[int, tuple[SessionTime, dict]] = {}
        self.users: set[int] = set()
        self.sessions: set[int] = set()

    def time(self, session_time: SessionTime, **fields) -> None:
        """The time's counters (as they stand on the object) and `fields` are written, and the
        time's and its session's last-modified move."""
        kept = self.times.setdefault(session_time.pk, (session_time, {}))
        kept[1].update(fields)
        self.sessions.add(session_time.session_id)

    def write(self) -> None:
        for pk in sorted(self.times):
            session_time, fields = self.times[pk]
            SessionTime.objects.filter(pk=pk).update(
                **fields,
                registered=session_time.registered,
                waitlisted=session_time.waitlisted,
                modified_at=Now(),
            )
        for user_id in sorted(self.users):
            touch_user(user_id)
        for session_id in sorted(self.sessions):
            Session.objects.filter(pk=session_id).update(modified_at=Now())


def active_seats(session_time: SessionTime) -> list[Seat]:
    return list(
        Seat.objects.filter(session_time=session_time, status__in=ACTIVE_SEAT).order_by("pk")
    )


def free(
    session_time: SessionTime, seats: list[Seat], *, because: FreedBecause, changes: Changes
) -> None:
    """Frees active `seats` of the locked `session_time`: kept as history, their places on the
    waitlist closed up (1..n, no gaps), then promotes whom the free seats admit."""
    if not seats:
        return
    Seat.objects.filter(pk__in=[seat.pk for seat in seats]).update(
        status=SeatStatus.FREED, position=None, freed_because=because, modified_at=Now()
    )
    places = sorted(seat.position for seat in seats if seat.status == SeatStatus.WAITLISTED)
    session_time.registered -= sum(seat.status == SeatStatus.SCHEDULED for seat in seats)
    session_time.waitlisted -= len(places)
    if session_time.waitlisted:
        for place in reversed(places):  # from the back, so each place is still where it was
            Seat.objects.filter(
                session_time=session_time, status=SeatStatus.WAITLISTED, position__gt=place
            ).update(position=F("position") - 1)
    changes.users.update(seat.user_id for seat in seats)
    changes.time(session_time)
    promote(session_time, changes=changes)


def admissible(session_time: SessionTime) -> int:
    """How many of the waitlist the free seats admit now."""
    if not session_time.waitlisted:
        return 0
    if session_time.capacity == 0:
        return session_time.waitlisted
    return max(min(session_time.waitlisted, session_time.capacity - session_time.registered), 0)


def promote(session_time: SessionTime, *, changes: Changes) -> list[int]:
    """Moves the head of the locked time's waitlist onto the seats that are free, first come
    first, and closes the waitlist up. Returns the ids of the users promoted, in order."""
    count = admissible(session_time)
    if not count:
        return []
    head = list(
        Seat.objects.filter(
            session_time=session_time, status=SeatStatus.WAITLISTED, position__lte=count
        )
        .order_by("position")
        .values_list("pk", "user_id")
    )
    Seat.objects.filter(pk__in=[pk for pk, _ in head]).update(
        status=SeatStatus.SCHEDULED, position=None, modified_at=Now()
    )
    Seat.objects.filter(
        session_time=session_time, status=SeatStatus.WAITLISTED, position__gt=count
    ).update(position=F("position") - count)
    session_time.registered += count
    session_time.waitlisted -= count
    promoted = [user_id for _, user_id in head]
    changes.users.update(promoted)
    changes.time(session_time)
    return promoted
