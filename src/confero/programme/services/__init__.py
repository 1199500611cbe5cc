"""The programme's one write path: the API, the console and the CLI call these verbs, which own
their transactions and locks. The lock order, the same in every module: session times → users
→ sessions, ascending id within each (confero.programme.services.seats)."""

from confero.programme.services.scheduling import (
    Outcome,
    SessionAccess,
    free_user_seats,
    hold_times_of_leaving_user,
    schedule_session,
    unschedule_session,
    user_schedule,
    user_sessions,
)
from confero.programme.services.sessions import (
    FileSpec,
    add_session,
    set_files,
    set_speakers,
    update_session,
)
from confero.programme.services.times import (
    add_session_time,
    cancel_session_time,
    update_session_time,
)

__all__ = [
    "FileSpec",
    "Outcome",
    "SessionAccess",
    "add_session",
    "add_session_time",
    "cancel_session_time",
    "free_user_seats",
    "hold_times_of_leaving_user",
    "schedule_session",
    "set_files",
    "set_speakers",
    "unschedule_session",
    "update_session",
    "update_session_time",
    "user_schedule",
    "user_sessions",
]
