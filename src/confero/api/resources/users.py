"""addUser, updateUser, getUser, cancelUser and the userData feed (contract §8.2)."""

from collections.abc import Iterator, Sequence
from typing import Any

from confero.api import codes
from confero.api.codes import ApiError
from confero.api.customvalues import FieldRenderer, assignment_nodes, parse_custom_params
from confero.api.feeds import chunked, epoch_millis, watermark
from confero.api.params import Param, boolean, email, epoch_millis as since_param, text
from confero.api.pipeline import Call
from confero.api.registry import resource
from confero.api.render import Document, E, Feed, Node
from confero.customfields.models import RecordType
from confero.customfields.services import answers_by_record, fields_for, reserve
from confero.errors import Conflict
from confero.events.models import Site
from confero.people import services
from confero.people.identity import find_user
from confero.people.models import CONTACT_FIELDS, User

# Feed element → model column, in the order of userData.do (contract §8.2).
_LIMITS = {"middleInitial": 10, "zip": 20, "stateID": 40, "countryID": 40, "phoneNumber": 40,
           "phone2Number": 40, "faxNumber": 40, "firstName": 100, "lastName": 100, "city": 100,
           "foreignState": 100, "preferredName": 100}
_CONTACT_PARAMS = tuple(
    Param(name, email if name in ("email", "email2") else text(_LIMITS.get(name, 200)),
          doc="contact field")
    for name in CONTACT_FIELDS
)
_OTHER_PARAMS = (
    Param("publicBio", text(10_000), doc="public biography"),
    Param("registered", boolean, doc="set by the registration system"),
    Param("paid", boolean, doc="set by the registration system"),
    Param("badgeID", text(100), doc="badge number"),
)
_PARAM_COLUMNS = {**CONTACT_FIELDS, "publicBio": "public_bio", "registered": "registered",
                  "paid": "paid", "badgeID": "badge_id"}
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

# Feed columns: element name → model column.
_FEED_COLUMNS = ("id", "site_id", "user_key", "user_ref", *CONTACT_FIELDS.values(), "client_id",
                 "public_bio", "registered", "paid", "status", "created_at", "modified_at", "badge_id")
_IDX = {name: index for index, name in enumerate(_FEED_COLUMNS)}

reserve(
    RecordType.USER,
    codes=("newClientID", "since"),
    elements=("user", "userKey", "userRef", *CONTACT_FIELDS, "externalRef", "publicBio", "registered",
              "paid", "status", "create-date", "last-modified-date", "badgeID", "schedule",
              "publicViewPrivateSchedule", "privateViewPrivateSchedule", "cannotViewOrSchedule"),
)


def _fields_from_params(params: dict[str, Any]) -> dict[str, Any]:
    fields = {}
    for name, column in _PARAM_COLUMNS.items():
        value = params.get(name)
        if value is None:
            continue
        if value == "" and name in _REQUIRED:
            raise ApiError(codes.PARAM_INVALID, f"parameter '{name}' cannot be empty")
        fields[column] = value
    return fields


def _conflict(exc: Conflict) -> ApiError:
    code = codes.CLIENT_ID_TAKEN if exc.field == "clientID" else codes.EMAIL_TAKEN
    return ApiError(code, exc.message)


@resource("addUser", summary="Creates a user.", params=ADD_PARAMS, writes=True,
          custom_fields=RecordType.USER)
def add_user(call: Call) -> Document:
    """Email is unique among the site's active users (214); clientID among its users (211).
    Returns userKey, userRef, clientID and a `customValue` element per value set."""
    fields = _fields_from_params(call.params)
    if call.params.get("clientID"):
        fields["client_id"] = call.params["clientID"]
    assignments = parse_custom_params(call.target, RecordType.USER, call.custom)
    try:
        user = services.add_user(call.target, fields=fields, assignments=assignments)
    except Conflict as exc:
        raise _conflict(exc) from exc
    return Document(children=[
        E("userKey", user.user_key),
        E("userRef", user.user_ref),
        E("clientID", user.client_id),
        *assignment_nodes(assignments),
    ])


@resource("updateUser", summary="Changes a user's contact data and custom fields.",
          params=UPDATE_PARAMS, writes=True, acts_as_user=True, custom_fields=RecordType.USER)
def update_user(call: Call) -> Document:
    """Only what is sent changes; an empty value clears a field (not firstName, lastName, email)."""
    fields = _fields_from_params(call.params)
    if call.params.get("newClientID") is not None:
        fields["client_id"] = call.params["newClientID"]
    assignments = parse_custom_params(call.target, RecordType.USER, call.custom)
    try:
        user = services.update_user(call.acting_user, fields=fields, assignments=assignments)
    except Conflict as exc:
        raise _conflict(exc) from exc
    return Document(children=[
        E("userRef", user.user_ref),
        E("clientID", user.client_id),
        *assignment_nodes(assignments),
    ])


@resource("cancelUser", summary="Cancels a user; the record and its history stay.",
          writes=True, acts_as_user=True)
def cancel_user(call: Call) -> Document:
    user = services.cancel_user(call.acting_user)
    return Document(children=[E("userRef", user.user_ref), E("status", user.status)])


@resource("getUser", summary="One user, as in userData.do.", params=(
    Param("userKey", text(32), doc="acts: the answer includes userKey"),
    Param("clientID", text(100), doc="acts: the answer includes userKey"),
    Param("userRef", text(16), doc="refers: the answer has no userKey"),
))
def get_user(call: Call) -> Document:
    """By userKey, clientID or userRef (all given must name the same user). userKey is in the
    answer only when the caller named the user by userKey or clientID."""
    user, kind = find_user(call.target, user_key=call.params["userKey"],
                           client_id=call.params["clientID"], user_ref=call.params["userRef"])
    row = User.objects.filter(pk=user.pk).values_list(*_FEED_COLUMNS).get()
    renderer = FieldRenderer(fields_for([call.target], RecordType.USER))
    answers = answers_by_record(RecordType.USER, [user.pk])
    node = _user_node(row, {call.target.pk: call.target.event.guid_text}, renderer, answers[user.pk])
    if kind in ("userKey", "clientID"):
        node.children.insert(1, E("userKey", user.user_key))
    return Document(children=[node])


@resource("userData", summary="Feed of the users of a site (or of every event with event=all).",
          params=(Param("since", since_param, doc="only users created or changed at or after it"),),
          accepts_all=True, is_feed=True)
def user_data(call: Call) -> Feed:
    """Cancelled users included (`<status>cancelled</status>`). Store the root's `time` and send
    it back as `since`: no change is ever missed. Never contains userKey."""
    moment = watermark()
    sites = call.sites
    queryset = User.objects.filter(site__in=sites)
    if call.params["since"] is not None:
        queryset = queryset.filter(modified_at__gte=call.params["since"])
    return Feed(root="user-data", record_tag="user", attrs={"time": epoch_millis(moment)},
                records=_user_records(queryset.values_list(*_FEED_COLUMNS), sites))


def _user_records(queryset, sites: Sequence[Site]) -> Iterator[Node]:
    guids = {site.pk: site.event.guid_text for site in sites}
    renderer = FieldRenderer(fields_for(sites, RecordType.USER))

    def render_chunk(rows: list[tuple]) -> Iterator[Node]:
        answers = answers_by_record(RecordType.USER, [row[0] for row in rows])
        for row in rows:
            yield _user_node(row, guids, renderer, answers.get(row[0], []))

    return chunked(queryset, render_chunk)


def _user_node(row: tuple, guids: dict[int, str], renderer: FieldRenderer,
               answers: list[tuple[int, int | None, str]]) -> Node:
    children = [E("eventGUID", guids[row[_IDX["site_id"]]]), E("userRef", row[_IDX["user_ref"]])]
    children += [E(name, row[_IDX[column]]) for name, column in CONTACT_FIELDS.items()]
    children += [
        E("externalRef", row[_IDX["client_id"]]),
        E("publicBio", row[_IDX["public_bio"]]),
        E("registered", row[_IDX["registered"]]),
        E("paid", row[_IDX["paid"]]),
        E("status", row[_IDX["status"]]),
        E("create-date", row[_IDX["created_at"]]),
        E("last-modified-date", row[_IDX["modified_at"]]),
        E("badgeID", row[_IDX["badge_id"]]),
        *renderer.constraint_nodes(answers),
        *renderer.nodes(answers),
        Node("schedule", children=[]),
    ]
    return Node("user", children=children, many=True)
