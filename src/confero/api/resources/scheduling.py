"""scheduleSession, unscheduleSession, userSchedule and userSessions (contract §8.3).

The scheduling services lock in the order session times → users → sessions (decision 0016),
so these resources get the acting user from the pipeline unlocked (`lock_acting_user=False`,
decision 0020); `schedule_session` locks and re-checks the user after the time."""

from confero.api import codes
from confero.api.call import Call
from confero.api.codes import ApiError
from confero.api.params import Param, integer, text
from confero.api.registry import resource
from confero.api.render import Document, E, Node
from confero.api.resources.sessions import MAX_ID, session_named, session_time_named
from confero.customfields.models import RecordType
from confero.customfields.services import reserve
from confero.programme import services
from confero.programme.models import SessionTime, Status

# Elements of these answers that are not in a record declaration: custom fields of sessions
# may not take their names either (contract §7).
reserve(RecordType.SESSION, codes=(), elements=("waitlist", "position", "canSchedule"))

_WHICH = (
    Param("sessionTimeID", integer(1, MAX_ID), doc="the session time"),
    Param("sessionID", integer(1, MAX_ID), doc="or the session, when it has one time"),
    Param("abbreviation", text(100), doc="or the session, when it has one time"),
)


def _time_of(call: Call) -> SessionTime:
    """The session time named by `sessionTimeID`, or by the session when it is offered once
    (its one time; else its one active time)."""
    session = session_named(call.target, call.params, required=False)
    time_id = call.params.get("sessionTimeID")
    if time_id is not None and session is None:
        # Read (and checked to be of this site) by the service, under its lock: one query less
        # on the hot path. Unknown or of another site → 221 either way.
        return SessionTime(pk=time_id)
    if time_id is not None:
        time = session_time_named(call.target, time_id)
        if session is not None and time.session_id != session.pk:
            raise ApiError(
                codes.PARAM_INVALID, f"session time {time.pk} is not a time of that session"
            )
        return time
    if session is None:
        raise ApiError(
            codes.PARAM_MISSING, "parameter 'sessionTimeID' (or 'sessionID' or 'abbreviation')"
            " is required",
        )  # fmt: skip
    times = list(SessionTime.objects.filter(session=session).order_by("date", "time", "pk"))
    if len(times) > 1:
        times = [time for time in times if time.status == Status.ACTIVE]
    if not times:
        raise ApiError(codes.SESSION_TIME_NOT_FOUND, f"session {session.pk} has no session time")
    if len(times) > 1:
        raise ApiError(
            codes.PARAM_INVALID,
            f"session {session.pk} is offered {len(times)} times: send 'sessionTimeID'",
        )
    return times[0]


@resource(
    "scheduleSession",
    summary="Schedules a session time for the user, or puts them on its waitlist.",
    params=_WHICH,
    writes=True,
    acts_as_user=True,
    lock_acting_user=False,
    record_type=RecordType.SESSION,
)
def schedule_session(call: Call) -> Document:
    """Answers `<status>scheduled</status>`, or `waitlisted` with `<position>`, and
    `<seatsRemaining>` (empty when unlimited). Scheduling again what the user holds answers as
    it stands and changes nothing. Refusals in this order: cancelled or unpublished → 226, the
    constraints → 224, an overlap with another of the user's times → 223 (the message names
    it), full without a waitlist → 222."""
    time = _time_of(call)
    outcome = services.schedule_session(call.acting_user, time)
    children = [E("sessionTimeID", time.pk), E("status", outcome.status)]
    if outcome.position is not None:
        children.append(E("position", outcome.position))
    children.append(E("seatsRemaining", outcome.seats_remaining))
    return Document(children=children)


@resource(
    "unscheduleSession",
    summary="Frees the user's seat (or waitlist place); the first waiting moves up.",
    params=_WHICH,
    writes=True,
    acts_as_user=True,
    lock_acting_user=False,
    record_type=RecordType.SESSION,
)
def unschedule_session(call: Call) -> Document:
    """Not scheduled nor waitlisted there → 225. Answers `<status>unscheduled</status>` and the
    time's `<seatsRemaining>` after whoever waited moved up."""
    time = _time_of(call)
    services.unschedule_session(call.acting_user, time)
    time = SessionTime.objects.get(pk=time.pk)
    return Document(
        children=[
            E("sessionTimeID", time.pk),
            E("status", "unscheduled"),
            E("seatsRemaining", time.seats_remaining),
        ]
    )


@resource(
    "userSchedule",
    summary="The user's scheduled and waitlisted session times.",
    acts_as_user=True,
)
def user_schedule(call: Call) -> Document:
    """`<userSchedule>` holds one `<sessionTime>` per entry, in date and time order; a
    waitlisted entry has its `<position>`, a scheduled one an empty one."""
    entries = []
    for seat in services.user_schedule(call.acting_user):
        time = seat.session_time
        session = time.session
        entries.append(
            Node(
                "sessionTime",
                many=True,
                children=[
                    E("sessionTimeID", time.pk),
                    E("sessionID", session.pk),
                    E("abbreviation", session.abbreviation),
                    E("title", session.title),
                    E("room", time.room),
                    E("date", time.date),
                    E("time", time.time.strftime("%H:%M")),
                    E("length", time.length),
                    E("status", seat.status),
                    E("position", seat.position),
                ],
            )
        )
    return Document(
        children=[E("userRef", call.acting_user.user_ref), Node("userSchedule", children=entries)]
    )


@resource(
    "userSessions",
    summary="The sessions the user may see, each with whether they may schedule it.",
    acts_as_user=True,
)
def user_sessions(call: Call) -> Document:
    """`<userSessions>` holds one `<session>` per published, active session whose constraints
    let the user see it, by sessionID.
    `canSchedule` is what the constraints allow; a full or overlapping time is for
    scheduleSession.do to say."""
    sessions = [
        Node(
            "session",
            many=True,
            children=[
                E("sessionID", access.session.pk),
                E("abbreviation", access.session.abbreviation),
                E("title", access.session.title),
                E("type", access.session.type),
                E("track", access.session.track),
                E("canSchedule", access.can_schedule),
            ],
        )
        for access in services.user_sessions(call.acting_user)
    ]
    return Document(
        children=[E("userRef", call.acting_user.user_ref), Node("userSessions", children=sessions)]
    )
