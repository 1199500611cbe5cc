"""The statements of `schedule_session`, the programme's hot path (issue 14: scheduling at
≥ 60 % of updateUser.do's calls per second), written by hand on PostgreSQL.

On PostgreSQL a call reads the session time (with its session) under the time's lock in one
statement, the user's entries in one, and writes its entry, the time's counters and the
session's last-modified in one (data-modifying CTEs); the ORM would send six statements and
build each of them anew. On SQLite (one writer at a time, no network round trips) the ORM's
statements are kept. Both return the same values; the suite runs on both databases.

Only the programme's own tables are written here by hand; the user is locked and stamped
through the people domain (`lock_user`, `touch_user`). The lock order stays that of
decision 0016: the time, then the user, then (by the final UPDATE) the session.
"""

import datetime as dt
from typing import NamedTuple

from django.db import connection
from django.db.models.functions import Now

from confero.errors import NotFound
from confero.people.services import touch_user
from confero.programme.models import Seat, Session, SessionTime
from confero.programme.services.seats import ACTIVE_SEAT, Changes, lock_time


class Entry(NamedTuple):
    """One of a user's entries (scheduled or waitlisted) and what the overlap check and its
    message need of its time and session."""

    session_time_id: int
    status: str
    position: int | None
    date: dt.date
    time: dt.time
    length: int
    abbreviation: str | None
    title: str


_TIME_SQL = """
SELECT t.id, t.session_id, t.site_id, t.room, t.date, t.time, t.length, t.capacity, t.waitlist,
       t.status, t.registered, t.waitlisted, t.created_at, t.modified_at,
       s.abbreviation, s.title, s.status, s.published
FROM programme_sessiontime t JOIN programme_session s ON s.id = t.session_id
WHERE t.id = %s
FOR UPDATE OF t
"""

_ENTRIES_SQL = """
SELECT e.session_time_id, e.status, e.position, t.date, t.time, t.length, s.abbreviation,
       s.title
FROM programme_seat e
JOIN programme_sessiontime t ON t.id = e.session_time_id
JOIN programme_session s ON s.id = t.session_id
WHERE e.user_id = %s AND e.status IN ('scheduled', 'waitlisted')
ORDER BY t.date, t.time, t.id
"""

# The entry, the time's counters and last-modified, the session's last-modified: one statement.
# Its only new lock is the session's row (the time's is held), last, as decision 0016 orders.
_RECORD_SQL = """
WITH entry AS (
    INSERT INTO programme_seat (session_time_id, user_id, status, position, freed_because,
                                created_at, modified_at)
    VALUES (%s, %s, %s, %s, '', STATEMENT_TIMESTAMP(), STATEMENT_TIMESTAMP())
), counters AS (
    UPDATE programme_sessiontime
    SET registered = %s, waitlisted = %s, modified_at = STATEMENT_TIMESTAMP()
    WHERE id = %s
)
UPDATE programme_session SET modified_at = STATEMENT_TIMESTAMP() WHERE id = %s
"""


def _by_hand() -> bool:
    return connection.vendor == "postgresql"


def locked_time(pk: int) -> SessionTime | None:
    """The session time, its row locked, with its session read along (not locked); None when
    there is none."""
    if not _by_hand():
        try:
            return lock_time(pk, with_session=True)
        except NotFound:
            return None
    with connection.cursor() as cursor:
        cursor.execute(_TIME_SQL, [pk])
        row = cursor.fetchone()
    if row is None:
        return None
    (pk, session_id, site_id, room, date, time, length, capacity, waitlist, status, registered,
     waitlisted, created_at, modified_at, abbreviation, title, session_status,
     published) = row  # fmt: skip
    session_time = SessionTime(
        id=pk, session_id=session_id, site_id=site_id, room=room, date=date, time=time,
        length=length, capacity=capacity, waitlist=waitlist, status=status,
        registered=registered, waitlisted=waitlisted, created_at=created_at,
        modified_at=modified_at,
    )  # fmt: skip
    session_time.session = Session(
        id=session_id, site_id=site_id, abbreviation=abbreviation, title=title,
        status=session_status, published=published,
    )  # fmt: skip
    return session_time


def entries_of(user_id: int) -> list[Entry]:
    """The user's scheduled and waitlisted entries, in the order of their times. Read under the
    user's lock: entries are only created under it."""
    if _by_hand():
        with connection.cursor() as cursor:
            cursor.execute(_ENTRIES_SQL, [user_id])
            return [Entry(*row) for row in cursor.fetchall()]
    rows = (
        Seat.objects.filter(user_id=user_id, status__in=ACTIVE_SEAT)
        .order_by("session_time__date", "session_time__time", "session_time_id")
        .values_list(
            "session_time_id",
            "status",
            "position",
            "session_time__date",
            "session_time__time",
            "session_time__length",
            "session_time__session__abbreviation",
            "session_time__session__title",
        )
    )
    return [Entry(*row) for row in rows]


def record_entry(time: SessionTime, user_id: int, status: str, position: int | None) -> None:
    """Writes the user's new entry at the locked `time`, whose counters already count it, and
    moves the last-modified of the time, the user and the session."""
    if not _by_hand():
        Seat.objects.create(session_time=time, user_id=user_id, status=status, position=position,
                            created_at=Now(), modified_at=Now())  # fmt: skip
        changes = Changes()
        changes.time(time)
        changes.users.add(user_id)
        changes.write()
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _RECORD_SQL,
            [time.pk, user_id, str(status), position, time.registered, time.waitlisted, time.pk,
             time.session_id],
        )  # fmt: skip
    touch_user(user_id)  # the user's row is locked already (lock_user)
