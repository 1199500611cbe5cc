"""Custom-field parameters in, custom-field elements out (contract §7, rules 1–6)."""

from collections.abc import Sequence

from confero.api import codes
from confero.api.codes import ApiError
from confero.api.params import RawParams
from confero.api.render import Node
from confero.customfields.models import TEXT_MAX, CustomField, CustomValue, FieldType
from confero.customfields.services import Assignment, fields_for
from confero.events.models import Site


def parse_custom_params(site: Site, record_type: str, custom: RawParams) -> list[Assignment]:
    """Every parameter that is not a standard one must be a custom field code of the record type.
    Any problem fails the whole call before anything is written (rule 3)."""
    if not custom:
        return []
    by_code = {field.code: field for field in fields_for([site], record_type)}
    assignments = []
    for code, values in custom.items():
        field = by_code.get(code)
        if field is None:
            raise ApiError(codes.UNKNOWN_FIELD, f"unknown custom field code '{code[:60]}'")
        assignments.append(_assignment(field, values))
    return assignments


def _assignment(field: CustomField, values: list[str]) -> Assignment:
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
    choices: list[tuple[CustomValue | None, str]] = []
    known = {value.code: value for value in field.values.all()}
    other = next((value for value in known.values() if value.is_other), None)
    for value in dict.fromkeys(sent):  # a value sent twice counts once
        if value in known:
            choice = known[value]
            choices.append((choice, ""))
        elif other is not None:
            choices.append((other, value))  # rule 2: Other keeps the text sent
        else:
            raise ApiError(
                codes.UNKNOWN_VALUE,
                f"value '{value[:100]}' is not a value of custom field '{field.code}'",
            )
    return Assignment(field, tuple(choices))


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
