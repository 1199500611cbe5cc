"""Custom-field parameters in, custom-field elements out (contract §7, rules 1–6)."""

from collections.abc import Sequence

from confero.api import codes
from confero.api.codes import ApiError
from confero.api.params import RawParams
from confero.api.render import Node
from confero.customfields import cache
from confero.customfields.models import TEXT_MAX, CustomField, CustomValue, FieldType
from confero.customfields.services import Assignment, fields_for
from confero.events.models import Site

# A field, its values by code and its "Other" value.
_Choices = tuple[CustomField, dict[str, CustomValue], CustomValue | None]


def _fields_by_code(site: Site, record_type: str) -> dict[str, _Choices]:
    """The record type's fields of the site by code, built once per definition of its fields
    (customfields.cache.derived) instead of on every call."""

    def build() -> dict[str, _Choices]:
        found = {}
        for field in fields_for([site], record_type):
            known = {value.code: value for value in field.values.all()}
            other = next((value for value in known.values() if value.is_other), None)
            found[field.code] = (field, known, other)
        return found

    return cache.derived(site, ("fields by code", record_type), build)


def parse_custom_params(site: Site, record_type: str, custom: RawParams) -> list[Assignment]:
    """Every parameter that is not a standard one must be a custom field code of the record type.
    Any problem fails the whole call before anything is written (rule 3)."""
    if not custom:
        return []
    by_code = _fields_by_code(site, record_type)
    assignments = []
    for code, values in custom.items():
        choices = by_code.get(code)
        if choices is None:
            raise ApiError(codes.UNKNOWN_FIELD, f"unknown custom field code '{code[:60]}'")
        assignments.append(_assignment(choices, values))
    return assignments


def _assignment(choices: _Choices, values: list[str]) -> Assignment:
    field, known, other = choices
    if len(values) > 1 and field.field_type != FieldType.MULTICHOICE:
        raise ApiError(codes.SINGLE_VALUE_ONLY, f"custom field '{field.code}' takes one value only")
    sent = [value for value in values if value != ""]
    for value in sent:
        if len(value) > TEXT_MAX:
            raise ApiError(
                codes.PARAM_INVALID, f"custom field '{field.code}': at most {TEXT_MAX} characters"
            )
    if field.field_type == FieldType.TEXT:
        return Assignment(field, tuple((None, value) for value in sent))
    chosen: list[tuple[CustomValue | None, str]] = []
    for value in dict.fromkeys(sent):  # a value sent twice counts once
        if value in known:
            chosen.append((known[value], ""))
        elif other is not None:
            chosen.append((other, value))  # rule 2: Other keeps the text sent
        else:
            raise ApiError(
                codes.UNKNOWN_VALUE,
                f"value '{value[:100]}' is not a value of custom field '{field.code}'",
            )
    return Assignment(field, tuple(chosen))


def assignment_nodes(assignments: Sequence[Assignment]) -> list[Node]:
    """Rule 6: each value set, by field code and value code; rule 4: with its custom value ID
    when the value carries a constraint. A cleared field reports an empty code."""
    nodes = []
    for assignment in assignments:
        code = assignment.field.code
        if not assignment.choices:
            nodes.append(Node("customValue", attrs={"field": code, "code": ""}, many=True))
        for value, text in assignment.choices:
            attrs = {"field": code, "code": value.code if value else text}
            if value is not None and value.is_other and text:
                attrs["other"] = text
            if value is not None and value.constraint:
                attrs["id"] = value.pk
            nodes.append(Node("customValue", attrs=attrs, many=True))
    return nodes
