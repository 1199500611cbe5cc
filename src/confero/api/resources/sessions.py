"""addSession, updateSession and the sessionData feed (contract §8.3)."""

import re
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat

from confero.api import codes, records
from confero.api.call import Call
from confero.api.codes import ApiError
from confero.api.customvalues import assignment_nodes, parse_custom_params
from confero.api.params import Invalid, Param, boolean, integer, one_of, text
from confero.api.params import epoch_millis as since_param
from confero.api.registry import resource
from confero.api.render import Document, E, Feed
from confero.customfields.models import RecordType
from confero.events.models import Site
from confero.people.identity import find_user
from confero.people.models import User
from confero.programme import services
from confero.programme.models import Session, SessionFile, SessionTime, Speaker, Status

MAX_ID = 2**63 - 1
INT = IntegerField()


def _active_times():
    return SessionTime.objects.filter(session=OuterRef("pk"), status=Status.ACTIVE).order_by()


def _computed_columns() -> dict[str, Any]:
    """§8.3's elements computed from a session's times: each one subquery by the index on
    (session, date, time), so a chunk of sessions is still one query."""
    per_session = _active_times().values("session")
    return {
        "times_offered": Coalesce(
            Subquery(per_session.annotate(n=Count("pk")).values("n")), 0, output_field=INT
        ),
        # 0 (unlimited) when any active time is unlimited, else the sum of their seats.
        "capacity_total": Case(
            When(Exists(_active_times().filter(capacity=0)), then=Value(0)),
            default=Coalesce(Subquery(per_session.annotate(n=Sum("capacity")).values("n")), 0),
            output_field=INT,
        ),
        # The first active time's length (by date and time); empty when it has none.
        "first_length": Subquery(
            _active_times().order_by("date", "time", "pk").values("length")[:1], output_field=INT
        ),
    }


# The <session> record of sessionData.do, elements in §8.3's order.
SESSION = records.RecordType(
    tag="session",
    root="session-data",
    model=Session,
    custom_fields=RecordType.SESSION,
    annotations=_computed_columns,
    parts=(
        records.Column("sessionID", "id", records.INT),
        records.Column("abbreviation", "abbreviation"),
        records.Column("title", "title"),
        records.Column("abstract", "abstract"),
        records.Column("timesOffered", "times_offered", records.INT),
        records.Column("capacity", "capacity_total", records.INT),
        records.Column("type", "type"),
        records.Column("track", "track"),
        records.Column("status", "status"),
        records.Column("length", "first_length", records.INT),
        records.Column("created", "created_at", records.TIME),
        records.Column("modified", "modified_at", records.TIME),
        records.Column("published", "published", records.BOOL),
        records.CONSTRAINTS,
        records.Nested(
            child="sessionTime",
            rows=lambda: SessionTime.objects.all(),
            record="session_id",
            columns=(
                records.Column("sessionTimeID", "id", records.INT),
                records.Column("room", "room"),
                records.Column("date", "date", records.DATE),
                records.Column("time", "time", records.HHMM),
                records.Column("length", "length", records.INT),
                records.Column("capacity", "capacity", records.INT),
                records.Column("registered", "registered", records.INT),
                records.Column("waitlisted", "waitlisted", records.INT),
                records.Column("status", "status"),
            ),
            order=("date", "time", "pk"),
        ),
        records.CUSTOM_FIELDS,
        records.Nested(
            child="speaker",
            rows=lambda: Speaker.objects.annotate(
                full_name=Concat("user__first_name", Value(" "), "user__last_name")
            ),
            record="session_id",
            columns=(
                records.Column("userRef", "user__user_ref"),
                records.Column("fullName", "full_name"),
                records.Column("jobTitle", "user__job_title"),
                records.Column("company", "user__company_name"),
                records.Column("roles", "role"),
            ),
            order=("position",),
        ),
        records.Nested(
            child="file",
            rows=lambda: SessionFile.objects.all(),
            record="session_id",
            columns=(
                records.Column("filename", "name"),
                records.Column("size", "size", records.INT),
                records.Column("url", "url"),
            ),
            order=("position",),
        ),
        records.EVENT_GUID,
    ),
)


# --- Finding what a call names -----------------------------------------------------------------


def session_named(site: Site, params: dict[str, Any], *, required: bool = True) -> Session | None:
    """The session named by `sessionID` or `abbreviation` (both given: the same session, else
    201); 220 when there is none on the site."""
    session_id, abbreviation = params.get("sessionID"), params.get("abbreviation")
    if session_id is None and not abbreviation:
        if not required:
            return None
        raise ApiError(codes.PARAM_MISSING, "parameter 'sessionID' or 'abbreviation' is required")
    found = []
    if session_id is not None:
        session = Session.objects.filter(site=site, pk=session_id).first()
        if session is None:
            raise ApiError(codes.SESSION_NOT_FOUND, f"no session with sessionID {session_id}")
        found.append(session)
    if abbreviation:
        session = Session.objects.filter(site=site, abbreviation=abbreviation).first()
        if session is None:
            raise ApiError(
                codes.SESSION_NOT_FOUND, f"no session with abbreviation '{abbreviation[:100]}'"
            )
        found.append(session)
    if len({session.pk for session in found}) > 1:
        raise ApiError(codes.PARAM_INVALID, "sessionID and abbreviation name different sessions")
    found[0].site = site
    return found[0]


def session_time_named(site: Site, session_time_id: int) -> SessionTime:
    time = SessionTime.objects.filter(site=site, pk=session_time_id).first()
    if time is None:
        raise ApiError(
            codes.SESSION_TIME_NOT_FOUND, f"no session time with sessionTimeID {session_time_id}"
        )
    return time


# --- Speakers and files as sent ----------------------------------------------------------------


def _file(value: str) -> services.FileSpec | str:
    """name|type|size|url, the url everything after the third `|`; "" stays "" (it clears)."""
    if not value:
        return value
    parts = value.split("|", 3)
    if len(parts) != 4:
        raise Invalid("name|type|size|url")
    name, kind, size, url = (part.strip() for part in parts)
    if not re.fullmatch(r"[0-9]{1,18}", size):
        raise Invalid("name|type|size|url, the size a number of bytes")
    return services.FileSpec(name, kind, int(size), url)


_file.rule = "name|type|size|url (repeated: replaces the set; empty clears it)"
_file.is_text = True  # an empty value is a value: it clears the set


def _cleared_or(sent: list, name: str) -> list | None:
    """None when the parameter was not sent, [] when it was sent once and empty."""
    if not sent:
        return None
    if sent == [""]:
        return []
    if "" in sent:
        raise ApiError(codes.PARAM_INVALID, f"parameter '{name}' is empty among other values")
    return sent


def _speakers(call: Call) -> list[tuple[User, str]] | None:
    """(user, speakerRole) as sent (None: `speaker` not sent; [] when sent empty). Roles pair
    with speakers in order; one role applies to every speaker."""
    roles = call.params.get("speakerRole") or []
    refs = _cleared_or(call.params.get("speaker") or [], "speaker")
    if not refs:
        if roles and refs is None:
            raise ApiError(codes.PARAM_INVALID, "parameter 'speakerRole' needs 'speaker'")
        return refs
    if len(roles) > 1 and len(roles) != len(refs):
        raise ApiError(
            codes.PARAM_INVALID,
            "parameter 'speakerRole' must be sent once, or once per 'speaker' in the same order",
        )
    roles = roles * len(refs) if len(roles) == 1 else roles or [""] * len(refs)
    speakers = []
    for ref, role in zip(refs, roles, strict=True):
        user = find_user(call.target, "userRef", ref)
        if user is None:
            raise ApiError(codes.USER_NOT_FOUND, f"no user with userRef '{ref[:100]}' on this site")
        speakers.append((user, role))
    return speakers


# --- Resources -------------------------------------------------------------------------------

_FIELD_PARAMS = (
    Param("title", text(500), doc="required on addSession.do; cannot be cleared"),
    Param("abstract", text(20_000)),
    Param("type", text(100)),
    Param("track", text(200)),
    Param("published", boolean, doc="addSession.do: true unless sent"),
)
_LINK_PARAMS = (
    Param("speaker", text(16), repeatable=True, doc="a userRef; repeated; replaces the speakers"),
    Param("speakerRole", text(100), repeatable=True, doc="once, or once per speaker"),
    Param("file", _file, repeatable=True, doc="a file by reference; repeated"),
)


def _fields(params: dict[str, Any]) -> dict[str, Any]:
    fields = {name: params[name] for name in ("title", "abstract", "type", "track", "published")
              if params.get(name) is not None}  # fmt: skip
    if fields.get("title") == "":
        raise ApiError(codes.PARAM_INVALID, "parameter 'title' cannot be empty")
    return fields


def _write_links(call: Call, session: Session) -> None:
    if (speakers := _speakers(call)) is not None:
        services.set_speakers(session, speakers)
    if (files := _cleared_or(call.params.get("file") or [], "file")) is not None:
        services.set_files(session, files)


def _answer(session: Session, assignments: list) -> Document:
    return Document(
        children=[
            E("sessionID", session.pk),
            E("abbreviation", session.abbreviation),
            *assignment_nodes(assignments),
        ]
    )


@resource(
    "addSession",
    summary="Adds a session (its times come with addSessionTime.do).",
    params=(
        Param("abbreviation", text(100), doc="your ID for the session, unique per site"),
        *(Param(p.name, p.parse, required=p.name == "title", doc=p.doc) for p in _FIELD_PARAMS),
        *_LINK_PARAMS,
    ),
    writes=True,
    custom_fields=RecordType.SESSION,
)
def add_session(call: Call) -> Document:
    """Added active and published (unless `published=false`). An abbreviation another session
    of the site holds → 227. Returns sessionID, abbreviation and a `customValue` per value set."""
    fields = _fields(call.params)
    if call.params.get("abbreviation"):
        fields["abbreviation"] = call.params["abbreviation"]
    assignments = parse_custom_params(call.target, RecordType.SESSION, call.custom)
    session = services.add_session(call.target, fields=fields, assignments=assignments)
    _write_links(call, session)
    return _answer(session, assignments)


@resource(
    "updateSession",
    summary="Changes a session: its fields, custom fields, speakers and files.",
    params=(
        Param("sessionID", integer(1, MAX_ID), doc="the session (or abbreviation)"),
        Param("abbreviation", text(100), doc="the session (or sessionID)"),
        Param("newAbbreviation", text(100), doc="sets or changes the abbreviation (empty clears)"),
        *_FIELD_PARAMS,
        Param("status", one_of("active", "cancelled"), doc="cancelled frees every seat"),
        *_LINK_PARAMS,
    ),
    writes=True,
    custom_fields=RecordType.SESSION,
)
def update_session(call: Call) -> Document:
    """Only what is sent changes. `speaker` and `file` replace the whole set (an empty value
    clears it). `status=cancelled` frees the seats of every time of the session; unpublishing
    (`published=false`) keeps them."""
    session = session_named(call.target, call.params)
    fields = _fields(call.params)
    if call.params.get("newAbbreviation") is not None:
        fields["abbreviation"] = call.params["newAbbreviation"]
    if call.params.get("status") is not None:
        fields["status"] = call.params["status"]
    assignments = parse_custom_params(call.target, RecordType.SESSION, call.custom)
    session = services.update_session(session, fields=fields, assignments=assignments)
    _write_links(call, session)
    return _answer(session, assignments)


def sessions_of(sites) -> Any:
    return Session.objects.filter(site__in=sites)


@resource(
    "sessionData",
    summary="Feed of the sessions of a site (or of every event with event=all).",
    params=(Param("since", since_param, doc="only sessions created or changed at or after it"),),
    accepts_all=True,
    is_feed=True,
)
def session_data(call: Call) -> Feed:
    """Every session, cancelled and unpublished ones included, each with all its times
    (cancelled ones with `<status>cancelled</status>`), speakers and files. A change of a time,
    of its seat counts, of a speaker or a file moves the session's last-modified."""
    return records.feed(SESSION, call, sessions_of(call.sites))
