"""A user's data as the API takes it: the console's user form and its CSV import send what
addUser.do and updateUser.do would receive (parameter names, values as text), and it is checked
by the API's own declarations and rules — the same code, the same codes (200, 201, 211, 214,
300, 301, 302) and messages. So the console cannot accept what the API refuses, nor refuse
what it accepts."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from confero.api import codes
from confero.api.codes import ApiError
from confero.api.customvalues import parse_custom_params
from confero.api.params import Param, RawParams, parse_declared
from confero.api.registry import STANDARD_PARAMS
from confero.api.resources.users import ADD_PARAMS, UPDATE_PARAMS, fields_from_params
from confero.customfields.models import CustomField, FieldType, RecordType
from confero.customfields.services import Assignment, fields_for
from confero.errors import Conflict
from confero.people.models import CONTACT_FIELDS, User

# The API's parameter names, with the labels the console shows.
LABELS = {
    "firstName": "First name",
    "lastName": "Last name",
    "email": "Email",
    "companyName": "Company",
    "jobTitle": "Job title",
    "address1": "Address 1",
    "address2": "Address 2",
    "address3": "Address 3",
    "city": "City",
    "stateID": "State",
    "foreignState": "Foreign state",
    "zip": "ZIP",
    "countryID": "Country",
    "phoneNumber": "Phone",
    "phone2Number": "Phone 2",
    "middleInitial": "Middle initial",
    "preferredName": "Preferred name",
    "email2": "Email 2",
    "faxNumber": "Fax",
    "publicBio": "Public bio",
    "registered": "Registered",
    "paid": "Paid",
    "badgeID": "Badge ID",
    "screenName": "Screen name",
    "report-classification": "Report classification",
    "clientID": "clientID (External API Identifier)",
    "newClientID": "clientID (External API Identifier)",
}
REQUIRED = ("firstName", "lastName", "email")
BOOLEANS = ("registered", "paid")
# Model field of each parameter (addUser's clientID and updateUser's newClientID both set it).
COLUMNS = {
    **CONTACT_FIELDS,
    "publicBio": "public_bio",
    "registered": "registered",
    "paid": "paid",
    "badgeID": "badge_id",
    "screenName": "screen_name",
    "report-classification": "report_classification",
    "clientID": "client_id",
    "newClientID": "client_id",
}


@dataclass
class Refusal:
    """What the API would answer: its code and message, and the parameter concerned."""

    code: int
    message: str
    param: str

    @property
    def meaning(self) -> str:
        return codes.CODES[self.code].meaning


@dataclass
class Checked:
    fields: dict[str, Any] = field(default_factory=dict)  # model field → value
    assignments: list[Assignment] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refusals

    def first(self) -> Refusal | None:
        return self.refusals[0] if self.refusals else None


def declared(*, adding: bool) -> tuple[Param, ...]:
    return ADD_PARAMS if adding else UPDATE_PARAMS


def user_fields(site) -> list[CustomField]:
    """The custom fields a user carries on this site (user and profile fields), in order."""
    return fields_for([site], RecordType.USER)


def check(site, raw: RawParams, *, adding: bool, every: bool = False) -> Checked:
    """`raw` as addUser.do (`adding`) or updateUser.do would read it, checked in the API's
    order: the declared parameters, then the custom fields. With `every`, each refusal (one
    per parameter) is collected, for a form to show them all; otherwise the first one ends
    the check, as it ends an API call."""
    result = Checked()
    params = declared(adding=adding)
    index = {param.name: param for param in params}
    typed: dict[str, Any] = {}
    for param in params:
        try:
            typed[param.name] = parse_declared(param, raw.get(param.name))
        except ApiError as exc:
            result.refusals.append(Refusal(exc.code, exc.message, param.name))
            if not every:
                return result
            typed[param.name] = None
    for name in REQUIRED:  # updateUser.do: an empty value would clear them
        if typed.get(name) == "":
            result.refusals.append(
                Refusal(codes.PARAM_INVALID, f"parameter '{name}' cannot be empty", name)
            )
            if not every:
                return result
            typed[name] = None
    for name, values in raw.items():
        if name in index:
            continue
        if name in STANDARD_PARAMS:
            result.refusals.append(
                Refusal(codes.PARAM_INVALID, f"'{name}' is not a field of a user", name)
            )
            if not every:
                return result
            continue
        try:
            result.assignments.extend(parse_custom_params(site, RecordType.USER, {name: values}))
        except ApiError as exc:
            result.refusals.append(Refusal(exc.code, exc.message, name))
            if not every:
                return result
    result.fields = fields_from_params(typed)
    client_id = typed.get("clientID" if adding else "newClientID")
    if client_id is not None and ((adding and client_id) or not adding):
        result.fields["client_id"] = client_id
    return result


def conflict_refusal(exc: Conflict) -> Refusal:
    """A uniqueness refusal of the people services, as the API answers it (211, 214)."""
    if exc.what == "clientID":
        return Refusal(codes.CLIENT_ID_TAKEN, exc.message, "clientID")
    return Refusal(codes.EMAIL_TAKEN, exc.message, "email")


def sent_values(user: User | None, fields: Sequence[CustomField], answers) -> dict[str, list[str]]:
    """What a user holds, per field code, as an API call would send it: a value's code, or for
    the Other option the text it keeps; a text field's text."""
    held: dict[str, list[str]] = {f.code: [] for f in fields}
    by_pk = {f.pk: f for f in fields}
    values = {v.pk: v for f in fields for v in f.values.all()}
    for answer in answers:
        custom = by_pk.get(answer.field_id)
        if custom is None:
            continue
        if custom.field_type == FieldType.TEXT:
            held[custom.code].append(answer.text)
            continue
        value = values.get(answer.value_id)
        if value is None:
            continue
        held[custom.code].append(answer.text if value.is_other and answer.text else value.code)
    return held
