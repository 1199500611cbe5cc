"""addSessionTime, updateSessionTime, cancelSessionTime and the sessionCapacity feed (§8.3).

Dates and times are the event's local ones, as `YYYY-MM-DD` and `HH:MM` (contract §6)."""

import datetime as dt
import re
from typing import Any

from django.db.models import Case, F, IntegerField, Value, When
from django.db.models.functions import Greatest

from confero.api import records
from confero.api.call import Call
from confero.api.params import Invalid, Param, boolean, integer, one_of, text
from confero.api.params import epoch_millis as since_param
from confero.api.registry import resource
from confero.api.render import Document, Node
from confero.api.resources.sessions import MAX_ID, session_named, session_time_named
from confero.customfields.models import RecordType
from confero.programme import services
from confero.programme.models import SessionTime
from confero.programme.services.times import MAX_CAPACITY, MAX_LENGTH_MINUTES


def day(value: str) -> dt.date:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise Invalid("a date, YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid("a date, YYYY-MM-DD") from exc


day.rule = "date, YYYY-MM-DD (the event's)"


def hhmm(value: str) -> dt.time:
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", value):
        raise Invalid("a time of day, HH:MM (00:00–23:59)")
    return dt.time(int(value[:2]), int(value[3:]))


hhmm.rule = "time of day, HH:MM (the event's)"

_TIME_PARAMS = (
    Param("room", text(200)),
    Param("date", day, doc="required on addSessionTime.do"),
    Param("time", hhmm, doc="start; required on addSessionTime.do"),
    Param("length", integer(1, MAX_LENGTH_MINUTES), doc="minutes; required on addSessionTime.do"),
    Param("capacity", integer(0, MAX_CAPACITY), doc="seats; 0 = unlimited (the default)"),
    Param("waitlist", boolean, doc="a waitlist when full (off by default)"),
)


def _fields(params: dict[str, Any]) -> dict[str, Any]:
    return {p.name: params[p.name] for p in _TIME_PARAMS if params.get(p.name) is not None}


def _time_node(time: SessionTime) -> Node:
    """The time as it stands after the call."""
    return Node(
        "sessionTime",
        children=[
            Node("sessionTimeID", time.pk),
            Node("sessionID", time.session_id),
            Node("room", time.room),
            Node("date", time.date),
            Node("time", time.time.strftime("%H:%M")),
            Node("length", time.length),
            Node("capacity", time.capacity),
            Node("waitlist", time.waitlist),
            Node("registered", time.registered),
            Node("waitlisted", time.waitlisted),
            Node("seatsRemaining", time.seats_remaining),
            Node("status", time.status),
        ],
    )


@resource(
    "addSessionTime",
    summary="Offers a session at one more time.",
    params=(
        Param("sessionID", integer(1, MAX_ID), doc="the session (or abbreviation)"),
        Param("abbreviation", text(100), doc="the session (or sessionID)"),
        *(
            Param(p.name, p.parse, required=p.name in ("date", "time", "length"), doc=p.doc)
            for p in _TIME_PARAMS
        ),
    ),
    writes=True,
    record_type=RecordType.SESSION,
)
def add_session_time(call: Call) -> Document:
    session = session_named(call.target, call.params)
    time = services.add_session_time(session, fields=_fields(call.params))
    return Document(children=[_time_node(time)])


_BY_ID = Param("sessionTimeID", integer(1, MAX_ID), required=True)


@resource(
    "updateSessionTime",
    summary="Changes a session time: room, date, time, length, capacity, waitlist, status.",
    params=(
        _BY_ID,
        *_TIME_PARAMS,
        Param("status", one_of("active", "cancelled"), doc="active brings a cancelled time back"),
    ),
    writes=True,
    record_type=RecordType.SESSION,
)
def update_session_time(call: Call) -> Document:
    """Only what is sent changes. A capacity raised (or made unlimited) seats the first of the
    waitlist at once; lowered below the seats taken, it keeps everyone. Moving a time does not
    re-check its seats for overlaps. `status=cancelled` is cancelSessionTime.do."""
    time = session_time_named(call.target, call.params["sessionTimeID"])
    fields = _fields(call.params)
    if call.params.get("status") is not None:
        fields["status"] = call.params["status"]
    return Document(children=[_time_node(services.update_session_time(time, fields=fields))])


@resource(
    "cancelSessionTime",
    summary="Cancels a session time; its seats and waitlist are freed.",
    params=(_BY_ID,),
    writes=True,
    record_type=RecordType.SESSION,
)
def cancel_session_time(call: Call) -> Document:
    """The time stays, cancelled, and shows in the feeds with `since`. Cancelled already → 226."""
    time = session_time_named(call.target, call.params["sessionTimeID"])
    return Document(children=[_time_node(services.cancel_session_time(time))])


def _seats_remaining() -> dict[str, Any]:
    return {
        "seats_remaining": Case(
            When(capacity=0, then=Value(None)),
            default=Greatest(F("capacity") - F("registered"), Value(0)),
            output_field=IntegerField(),
        )
    }


# The <sessionTime> record of sessionCapacity.do (§8.3), and Confero's `status` and
# `eventGUID` (every feed record has one, §6): a cancelled time shows with `since`.
CAPACITY = records.RecordType(
    tag="sessionTime",
    root="sessionCapacities",
    model=SessionTime,
    reserves_for=RecordType.SESSION,
    annotations=_seats_remaining,
    parts=(
        records.Column("sessionID", "session_id", records.INT),
        records.Column("abbreviation", "session__abbreviation"),
        records.Column("sessionTimeID", "id", records.INT),
        records.Column("capacity", "capacity", records.INT),
        records.Column("registered", "registered", records.INT),
        records.Column("waitlisted", "waitlisted", records.INT),
        records.Column("seatsRemaining", "seats_remaining", records.INT),
        records.Column("status", "status"),
        records.EVENT_GUID,
    ),
)


@resource(
    "sessionCapacity",
    summary="Feed of the seats of every session time (or of every event with event=all).",
    params=(Param("since", since_param, doc="only times whose seats or fields changed since"),),
    accepts_all=True,
    is_feed=True,
)
def session_capacity(call: Call) -> Any:
    """`seatsRemaining` is empty for an unlimited time, never below 0. Every seat taken or
    freed moves the time's last-modified, so `since` brings exactly the times that moved."""
    return records.feed(CAPACITY, call, SessionTime.objects.filter(site__in=call.sites))
