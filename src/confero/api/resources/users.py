"""addUser, updateUser, getUser, cancelUser and the userData feed (contract §8.2)."""

from typing import Any

from confero.api import codes, records
from confero.api.acting import named_user
from confero.api.call import Call
from confero.api.codes import ApiError
from confero.api.customvalues import assignment_nodes, parse_custom_params
from confero.api.params import Param, boolean, email, text
from confero.api.params import epoch_millis as since_param
from confero.api.registry import resource
from confero.api.render import Document, E, Feed
from confero.customfields.models import RecordType
from confero.errors import Conflict
from confero.people import services
from confero.people.models import CONTACT_FIELDS, User
from confero.programme.models import Seat, SeatStatus
from confero.registration.standing import regcode_rows, status_follows_orders

# Feed element → model column, in the order of userData.do (contract §8.2).
_LIMITS = {
    "middleInitial": 10,
    "zip": 20,
    "stateID": 40,
    "countryID": 40,
    "phoneNumber": 40,
    "phone2Number": 40,
    "faxNumber": 40,
    "firstName": 100,
    "lastName": 100,
    "city": 100,
    "foreignState": 100,
    "preferredName": 100,
}


def _email_or_empty(value: str) -> str:
    """An email address. Empty passes, as for text parameters: on updates it clears email2 and
    is refused for email ("cannot be empty"), instead of being ignored as absent."""
    return email(value) if value else value


_PROFILE_LIMIT = User._meta.get_field("screen_name").max_length
_email_or_empty.rule = email.rule
_email_or_empty.is_text = True

_CONTACT_PARAMS = tuple(
    Param(
        name,
        _email_or_empty if name in ("email", "email2") else text(_LIMITS.get(name, 200)),
        doc="contact field",
    )
    for name in CONTACT_FIELDS
)
_OTHER_PARAMS = (
    Param("publicBio", text(10_000), doc="public biography"),
    Param("registered", boolean, doc="set by the registration system"),
    Param("paid", boolean, doc="set by the registration system"),
    Param("badgeID", text(100), doc="badge number"),
    Param("screenName", text(_PROFILE_LIMIT), doc="how apps and directories show the user"),
    Param("report-classification", text(_PROFILE_LIMIT), doc="the planners' class for reports"),
)
_PARAM_COLUMNS = {
    **CONTACT_FIELDS,
    "publicBio": "public_bio",
    "registered": "registered",
    "paid": "paid",
    "badgeID": "badge_id",
    # Plain columns of the user (people.User): written with the contact fields in one UPDATE,
    # by the API and the console alike (confero.console.userparams reads this table too).
    "screenName": "screen_name",
    "report-classification": "report_classification",
}
_REQUIRED = ("firstName", "lastName", "email")

ADD_PARAMS = (
    *(Param(p.name, p.parse, required=p.name in _REQUIRED, doc=p.doc) for p in _CONTACT_PARAMS),
    *_OTHER_PARAMS,
    Param("clientID", text(100), doc="your ID for the user (External API Identifier)"),
)
UPDATE_PARAMS = (
    *_CONTACT_PARAMS,
    *_OTHER_PARAMS,
    Param("newClientID", text(100), doc="sets or changes clientID (empty clears it)"),
)

# The <user> record of userData.do and getUser.do (contract §8.2).
USER = records.RecordType(
    tag="user",
    root="user-data",
    model=User,
    custom_fields=RecordType.USER,
    parts=(
        records.EVENT_GUID,
        records.Column("userKey", "user_key", optional=True),  # getUser.do, when it acts
        records.Column("userRef", "user_ref"),
        *(records.Column(element, column) for element, column in CONTACT_FIELDS.items()),
        records.Column("externalRef", "client_id"),
        records.Column("publicBio", "public_bio"),
        records.Column("registered", "registered", records.BOOL),
        records.Column("paid", "paid", records.BOOL),
        records.Column("status", "status"),
        records.Column("create-date", "created_at", records.TIME),
        records.Column("last-modified-date", "modified_at", records.TIME),
        records.Column("badgeID", "badge_id"),
        records.CONSTRAINTS,
        records.Column("screenName", "screen_name"),
        records.Column("report-classification", "report_classification"),
        # The codes of the user's orders that are not cancelled, in the order first used (§8.7).
        records.Nested(
            child="regcode",
            rows=regcode_rows,
            record="user_id",
            columns=(records.Column(None, "regcode__code"),),
            order=("first_used",),
            wrapper="regcodes",
        ),
        records.CUSTOM_FIELDS,
        records.Nested(
            child="session-time",
            wrapper="schedule",
            rows=lambda: Seat.objects.filter(status=SeatStatus.SCHEDULED),
            record="user_id",
            columns=(records.Column(None, "session_time_id", records.INT),),
            order=("session_time__date", "session_time__time", "session_time_id"),
        ),
    ),
)


def fields_from_params(params: dict[str, Any]) -> dict[str, Any]:
    fields = {}
    for name, column in _PARAM_COLUMNS.items():
        value = params.get(name)
        if value is None:
            continue
        if value == "" and name in _REQUIRED:
            raise ApiError(codes.PARAM_INVALID, f"parameter '{name}' cannot be empty")
        fields[column] = value
    return fields


def _check_status_params(call: Call) -> None:
    """Where a site derives `registered` and `paid` from orders, the next order change would
    overwrite what the call sent: refused (201) rather than stored for a moment (docs/api.md)."""
    sent = [name for name in ("registered", "paid") if call.params.get(name) is not None]
    if sent and status_follows_orders(call.target.pk):
        raise ApiError(
            codes.PARAM_INVALID,
            f"parameter '{sent[0]}' is not accepted on this site: registered and paid follow "
            "from the user's orders",
        )


def _conflict(exc: Conflict) -> ApiError:
    code = codes.CLIENT_ID_TAKEN if exc.field == "clientID" else codes.EMAIL_TAKEN
    return ApiError(code, exc.message)


@resource(
    "addUser",
    summary="Creates a user.",
    params=ADD_PARAMS,
    writes=True,
    custom_fields=RecordType.USER,
)
def add_user(call: Call) -> Document:
    """Email is unique among the site's active users (214); clientID among its users (211).
    Returns userKey, userRef, clientID and a `customValue` element per value set."""
    fields = fields_from_params(call.params)
    if call.params.get("clientID"):
        fields["client_id"] = call.params["clientID"]
    _check_status_params(call)
    assignments = parse_custom_params(call.target, RecordType.USER, call.custom)
    try:
        user = services.add_user(call.target, fields=fields, assignments=assignments)
    except Conflict as exc:
        raise _conflict(exc) from exc
    return Document(
        children=[
            E("userKey", user.user_key),
            E("userRef", user.user_ref),
            E("clientID", user.client_id),
            *assignment_nodes(assignments),
        ]
    )


def _update_params(call: Call) -> tuple[dict[str, Any], list]:
    fields = fields_from_params(call.params)
    if call.params.get("newClientID") is not None:
        fields["client_id"] = call.params["newClientID"]
    return fields, parse_custom_params(call.target, RecordType.USER, call.custom)


def _updated(user: User, assignments: list) -> Document:
    return Document(
        children=[
            E("userRef", user.user_ref),
            E("clientID", user.client_id),
            *assignment_nodes(assignments),
        ]
    )


@resource(
    "updateUser",
    summary="Changes a user's contact data and custom fields.",
    params=UPDATE_PARAMS,
    writes=True,
    acts_as_user=True,
    custom_fields=RecordType.USER,
)
def update_user(call: Call) -> Document:
    """Only what is sent changes; an empty value clears a field (not firstName, lastName, email)."""
    fields, assignments = _update_params(call)
    _check_status_params(call)
    try:
        user = services.update_user(call.acting_user, fields=fields, assignments=assignments)
    except Conflict as exc:
        raise _conflict(exc) from exc
    return _updated(user, assignments)


@resource(
    "cancelUser",
    summary="Cancels a user; the record and its history stay.",
    writes=True,
    acts_as_user=True,
    lock_acting_user=False,  # cancel_user locks the user's session times first (decision 0020)
)
def cancel_user(call: Call) -> Document:
    user = services.cancel_user(call.acting_user)
    return Document(children=[E("userRef", user.user_ref), E("status", user.status)])


@resource(
    "getUser",
    summary="One user, as in userData.do.",
    params=(
        Param("userKey", text(32), doc="acts: the answer includes userKey"),
        Param("clientID", text(100), doc="acts: the answer includes userKey"),
        Param("userRef", text(16), doc="refers: the answer has no userKey"),
    ),
)
def get_user(call: Call) -> Document:
    """By userKey, clientID or userRef (all given must name the same user). userKey is in the
    answer only when the caller named the user by userKey or clientID."""
    user, kind = named_user(call.target, call.params)
    key = user.user_key if kind in ("userKey", "clientID") else None
    record = records.one(USER, User.objects.filter(pk=user.pk), call.target, userKey=key)
    return Document(children=[record])


@resource(
    "userData",
    summary="Feed of the users of a site (or of every event with event=all).",
    params=(Param("since", since_param, doc="only users created or changed at or after it"),),
    accepts_all=True,
    is_feed=True,
)
def user_data(call: Call) -> Feed:
    """Cancelled users included (`<status>cancelled</status>`). Store the root's `time` and send
    it back as `since`: no change is ever missed. Never contains userKey."""
    return records.feed(USER, call, User.objects.filter(site__in=call.sites))
