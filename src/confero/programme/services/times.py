"""Session times: adding, changing and cancelling them (contract §8.3).

Lock order as everywhere in the programme (confero.programme.services.seats): session times →
users → sessions. Editing a time's date, time or length does not check its seats for overlaps
with their users' other entries (they were fine when taken; a planner moving a time decides
for everyone in it). Raising the capacity, or making it unlimited, promotes from the waitlist at
once; lowering it below the seats taken keeps everyone and admits nobody until enough seats free.
Switching the waitlist off keeps whoever waits, in order: they still move up as seats free.
"""

from typing import Any

from django.db import transaction
from django.db.models.functions import Now

from confero.errors import Cancelled, ValidationFailed
from confero.programme.models import FreedBecause, Session, SessionTime, Status
from confero.programme.services import checks
from confero.programme.services.seats import Changes, active_seats, free, lock_time, promote

MAX_LENGTH_MINUTES = 7 * 24 * 60
MAX_CAPACITY = 1_000_000
EDITABLE = ("room", "date", "time", "length", "capacity", "waitlist", "status")


def add_session_time(session: Session, *, fields: dict[str, Any]) -> SessionTime:
    """`fields`: date and time (required), length (minutes, required), room, capacity (0 =
    unlimited, the default), waitlist (off by default)."""
    for required in ("date", "time", "length"):
        if fields.get(required) is None:
            raise ValidationFailed(required, "required")
    fields = _validated(fields)
    if fields.pop("status", Status.ACTIVE) != Status.ACTIVE:
        raise ValidationFailed("status", "a session time is added active")
    with transaction.atomic():
        time = SessionTime.objects.create(
            session=session,
            site_id=session.site_id,
            created_at=Now(),
            modified_at=Now(),
            **fields,
        )
        Session.objects.filter(pk=session.pk).update(modified_at=Now())
    time.refresh_from_db(fields=["created_at", "modified_at"])
    return time


def update_session_time(session_time: SessionTime, *, fields: dict[str, Any]) -> SessionTime:
    """Changes only what is given (room, date, time, length, capacity, waitlist, status);
    nothing written when nothing differs. Status "cancelled" is `cancel_session_time`; "active"
    brings a cancelled time back, empty (its seats were freed)."""
    fields = _validated(fields)
    with transaction.atomic():
        time = lock_time(session_time.pk)
        if fields.get("status") == Status.CANCELLED and time.is_active:
            _cancel(time)
            fields.pop("status")
        changed = {name: value for name, value in fields.items() if getattr(time, name) != value}
        if changed:
            for name, value in changed.items():
                setattr(time, name, value)
            changes = Changes()
            changes.time(time, **changed)
            if {"capacity", "status"} & changed.keys() and time.is_active:
                promote(time, changes=changes)
            changes.write()
    time.refresh_from_db()
    return time


def cancel_session_time(session_time: SessionTime) -> SessionTime:
    """The time stays, cancelled; its seats and waitlist are freed (kept as history), and every
    user who held one moves in the feeds, as do the time and its session."""
    with transaction.atomic():
        time = lock_time(session_time.pk)
        if not time.is_active:
            raise Cancelled("sessionTime", f"session time {time.pk} is cancelled already")
        _cancel(time)
    time.refresh_from_db()
    return time


def cancel_times(times: list[SessionTime], *, because: FreedBecause, changes: Changes) -> None:
    """Frees every seat of the locked `times` (a cancelled session's)."""
    for time in times:
        free(time, active_seats(time), because=because, changes=changes)


def _cancel(time: SessionTime) -> None:
    changes = Changes()
    time.status = Status.CANCELLED
    changes.time(time, status=Status.CANCELLED)
    free(time, active_seats(time), because=FreedBecause.SESSION_TIME_CANCELLED, changes=changes)
    changes.write()


def _validated(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not session time fields: {', '.join(sorted(unknown))}")
    out = dict(fields)
    if "room" in out:
        out["room"] = checks.text("room", out["room"] or "", max_length=200)
    if "date" in out:
        out["date"] = checks.day("date", out["date"])
    if "time" in out:
        out["time"] = checks.time_of_day("time", out["time"])
    if "length" in out:
        out["length"] = checks.whole(
            "length", out["length"], low=1, high=MAX_LENGTH_MINUTES,
            rule=f"whole minutes from 1 to {MAX_LENGTH_MINUTES}",
        )  # fmt: skip
    if "capacity" in out:
        out["capacity"] = checks.whole(
            "capacity", out["capacity"], low=0, high=MAX_CAPACITY,
            rule=f"a whole number of seats from 0 (unlimited) to {MAX_CAPACITY}",
        )  # fmt: skip
    if "waitlist" in out:
        out["waitlist"] = checks.flag("waitlist", out["waitlist"])
    if "status" in out:
        out["status"] = checks.choice("status", out["status"], Status.values)
    return out
