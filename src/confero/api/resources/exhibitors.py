"""addExhibitor, updateExhibitor and the exhibitorData feed (contract §8.4)."""

import re
from typing import Any

from confero.api import codes, records
from confero.api.call import Call
from confero.api.codes import ApiError
from confero.api.customvalues import assignment_nodes, parse_custom_params
from confero.api.params import Invalid, Param, email, integer, one_of, text
from confero.api.params import epoch_millis as since_param
from confero.api.registry import resource
from confero.api.render import Document, E
from confero.customfields.models import RecordType
from confero.events.models import Site
from confero.exhibitors import services
from confero.exhibitors.models import (
    EXHIBITOR_FIELDS,
    Exhibitor,
    ExhibitorFile,
    ExhibitorStatus,
    Participant,
)
from confero.exhibitors.services import FileSpec
from confero.people.identity import normal_hex
from confero.people.models import User

# The <exhibitor> record of exhibitorData.do, its elements in the order of contract §8.4.
EXHIBITOR = records.RecordType(
    tag="exhibitor",
    root="exhibitors",
    model=Exhibitor,
    custom_fields=RecordType.EXHIBITOR,
    parts=(
        records.Column("exhibitorID", "id", records.INT),
        *(records.Column(element, column) for element, column in EXHIBITOR_FIELDS.items()),
        records.Nested(
            child="exhibitorFile",
            rows=lambda: ExhibitorFile.objects.all(),
            record="exhibitor_id",
            columns=(
                records.Column("type", "type"),
                records.Column("displayName", "display_name"),
                records.Column("description", "description"),
                records.Column("url", "url"),
            ),
            order=("position", "id"),
        ),
        records.CUSTOM_FIELDS,
        records.Nested(
            child="participant",
            rows=lambda: Participant.objects.all(),
            record="exhibitor_id",
            columns=(
                records.Column("role", "role"),
                records.Column("userRef", "user__user_ref"),
                records.Column("firstName", "user__first_name"),
                records.Column("lastName", "user__last_name"),
                records.Column("participantEmail", "user__email"),
            ),
            order=("position", "id"),
        ),
        records.EVENT_GUID,
    ),
)


def _email_or_empty(value: str) -> str:
    """An email address; empty passes (it clears the field on updates)."""
    return email(value) if value else value


_email_or_empty.rule = email.rule
_email_or_empty.is_text = True

_SIZE = re.compile(r"[0-9]{1,15}")
FILE_DESCRIPTION_MAX = 10_000


def _file(value: str) -> FileSpec | str:
    """`name|type|size|url`, optionally `|description` (everything after the fourth `|`).
    Empty stays empty: sent alone, it empties the exhibitor's files."""
    if value == "":
        return value
    parts = [part.strip() for part in value.split("|", 4)]
    if len(parts) < 4:
        raise Invalid("name|type|size|url (four parts separated by '|')")
    name, kind, size, url = parts[:4]
    description = parts[4] if len(parts) == 5 else ""
    if not name or not url:
        raise Invalid("name|type|size|url with a name and a url")
    if not _SIZE.fullmatch(size):
        raise Invalid("name|type|size|url with the size in bytes (a whole number)")
    if len(description) > FILE_DESCRIPTION_MAX:
        raise Invalid(f"name|type|size|url|description, a description of at most "
                      f"{FILE_DESCRIPTION_MAX:,} characters")  # fmt: skip
    return FileSpec(display_name=name, url=url, type=kind, size=int(size), description=description)


_file.rule = "name|type|size|url, optionally |description"
_file.is_text = True

_FIELD_PARAMS = (
    Param("status", one_of(*ExhibitorStatus.values), doc="cancelled cancels, active reactivates"),
    Param("type", text(100), doc="the kind of exhibitor (sponsor, startup, …)"),
    Param("description", text(10_000), doc="description"),
    Param("url", text(2000), doc="web site"),
    Param("email", _email_or_empty, doc="contact email"),
    Param("booth", text(100), doc="booth number or name"),
)
_PARTS_PARAMS = (
    Param(
        "participant",
        text(16),
        repeatable=True,
        doc="booth staff by userRef, in order; replaces the staff (empty alone: no staff)",
    ),
    Param(
        "participantRole",
        text(100),
        repeatable=True,
        doc="once: every participant's role; or once per participant, in step",
    ),
    Param(
        "file",
        _file,
        repeatable=True,
        doc="replaces the files, in order (empty alone: no files)",
    ),
)
ADD_PARAMS = (
    Param("exhibitorCode", text(100), doc="your ID for the exhibitor (unique per site)"),
    Param("name", text(200), required=True, doc="the exhibitor's name"),
    *_FIELD_PARAMS,
    *_PARTS_PARAMS,
)
UPDATE_PARAMS = (
    Param("exhibitorID", integer(1), doc="names the exhibitor (or exhibitorCode)"),
    Param("exhibitorCode", text(100), doc="names the exhibitor (or exhibitorID)"),
    Param("newExhibitorCode", text(100), doc="sets or changes exhibitorCode (empty clears it)"),
    Param("name", text(200), doc="the exhibitor's name (cannot be cleared)"),
    *_FIELD_PARAMS,
    *_PARTS_PARAMS,
)


def _fields(params: dict[str, Any]) -> dict[str, Any]:
    """Model fields from the parameters sent (exhibitorCode aside: each resource knows its own)."""
    return {
        column: params[name]
        for name, column in EXHIBITOR_FIELDS.items()
        if name != "exhibitorCode" and params.get(name) is not None
    }


def _staff(site: Site, params: dict[str, Any]) -> list[tuple[User, str]] | None:
    """The booth staff sent as (user, role) pairs; None when `participant` was not sent."""
    refs, roles = params["participant"], params["participantRole"]
    if not refs or refs == [""]:
        if roles:
            raise ApiError(codes.PARAM_INVALID, "parameter 'participantRole' needs participants")
        return [] if refs else None
    if "" in refs:
        raise ApiError(
            codes.PARAM_INVALID,
            "parameter 'participant' must be a userRef (empty only alone, to remove every one)",
        )
    if len(roles) not in (0, 1, len(refs)):
        raise ApiError(
            codes.PARAM_INVALID,
            f"parameter 'participantRole' must be sent once (every participant's role) or once "
            f"per participant ({len(refs)} times), not {len(roles)} times",
        )
    if len(roles) != len(refs):
        roles = (roles or [""]) * len(refs)
    found = {
        user.user_ref: user
        for user in User.objects.filter(
            site_id=site.pk, user_ref__in={normal_hex(ref, 16) for ref in refs} - {None}
        )
    }
    staff = []
    for ref, role in zip(refs, roles, strict=True):
        user = found.get(normal_hex(ref, 16) or "")
        if user is None:
            raise ApiError(codes.USER_NOT_FOUND, f"no user with userRef '{ref}' on this site")
        staff.append((user, role))
    return staff


def _files(params: dict[str, Any]) -> list[FileSpec] | None:
    """The files sent; None when `file` was not sent."""
    files = params["file"]
    if not files:
        return None
    if files == [""]:
        return []
    if "" in files:
        raise ApiError(
            codes.PARAM_INVALID,
            "parameter 'file' must be name|type|size|url (empty only alone, to remove every file)",
        )
    return files


def _answer(exhibitor: Exhibitor, assignments: list) -> Document:
    return Document(
        children=[
            E("exhibitorID", exhibitor.pk),
            E("exhibitorCode", exhibitor.exhibitor_code),
            *assignment_nodes(assignments),
        ]
    )


@resource(
    "addExhibitor",
    summary="Creates an exhibitor, with its booth staff and files.",
    params=ADD_PARAMS,
    writes=True,
    custom_fields=RecordType.EXHIBITOR,
)
def add_exhibitor(call: Call) -> Document:
    """exhibitorCode is unique per site (231); participants are active users of the site named
    by userRef (unknown: 210; cancelled: 215). Returns exhibitorID, exhibitorCode and a
    `customValue` element per value set."""
    fields = _fields(call.params)
    fields["exhibitor_code"] = call.params.get("exhibitorCode")
    assignments = parse_custom_params(call.target, RecordType.EXHIBITOR, call.custom)
    exhibitor = services.add_exhibitor(
        call.target,
        fields=fields,
        assignments=assignments,
        participants=_staff(call.target, call.params) or (),
        files=_files(call.params) or (),
    )
    return _answer(exhibitor, assignments)


def _named_exhibitor(site: Site, params: dict[str, Any]) -> Exhibitor:
    """The exhibitor named by exhibitorID and/or exhibitorCode: both given must name the same."""
    by_id, by_code = params.get("exhibitorID"), params.get("exhibitorCode") or None
    if by_id is None and by_code is None:
        raise ApiError(
            codes.PARAM_MISSING, "parameter 'exhibitorID' or 'exhibitorCode' is required"
        )
    named = [
        services.get_exhibitor(site, exhibitor_id=by_id) if by_id is not None else None,
        services.get_exhibitor(site, exhibitor_code=by_code) if by_code is not None else None,
    ]
    found = [exhibitor for exhibitor in named if exhibitor is not None]
    if len({exhibitor.pk for exhibitor in found}) > 1:
        raise ApiError(
            codes.PARAM_INVALID, "exhibitorID and exhibitorCode name different exhibitors"
        )
    return found[0]


@resource(
    "updateExhibitor",
    summary="Changes an exhibitor, its booth staff or its files.",
    params=UPDATE_PARAMS,
    writes=True,
    custom_fields=RecordType.EXHIBITOR,
)
def update_exhibitor(call: Call) -> Document:
    """By exhibitorID or exhibitorCode (unknown: 230). Only what is sent changes; an empty value
    clears a field (not name). `participant` and `file` replace the whole staff or set of files.
    `status=cancelled` cancels the exhibitor, `status=active` makes it active again."""
    exhibitor = _named_exhibitor(call.target, call.params)
    fields = _fields(call.params)
    if call.params.get("newExhibitorCode") is not None:
        fields["exhibitor_code"] = call.params["newExhibitorCode"]
    assignments = parse_custom_params(call.target, RecordType.EXHIBITOR, call.custom)
    exhibitor = services.update_exhibitor(
        exhibitor,
        fields=fields,
        assignments=assignments,
        participants=_staff(call.target, call.params),
        files=_files(call.params),
    )
    return _answer(exhibitor, assignments)


@resource(
    "exhibitorData",
    summary="Feed of the exhibitors of a site (or of every event with event=all).",
    params=(Param("since", since_param, doc="only exhibitors created or changed at or after it"),),
    accepts_all=True,
    is_feed=True,
)
def exhibitor_data(call: Call):
    """Cancelled exhibitors included (`<status>cancelled</status>`), with their files, custom
    fields and booth staff. Store the root's `time` and send it back as `since`."""
    return records.feed(EXHIBITOR, call, Exhibitor.objects.filter(site__in=call.sites))
