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


class FieldRenderer:
    """Rule 5 for data APIs: one element per value, named after the field's display name, with
    the value code (the text itself for text fields); Other carries the text in `other`."""

    def __init__(self, fields: Sequence[CustomField]):
        self.fields = {field.pk: field for field in fields}
        self.values = {value.pk: value for field in fields for value in field.values.all()}
        self.order = {field.pk: index for index, field in enumerate(fields)}

    def nodes(self, answers: list[tuple[int, int | None, str]]) -> list[Node]:
        out = []
        for field_id, value_id, text in sorted(answers, key=lambda a: self.order.get(a[0], 0)):
            field = self.fields.get(field_id)
            if field is None:
                continue
            many = field.field_type == FieldType.MULTICHOICE
            if value_id is None:
                out.append(Node(field.element_name, text, many=many))
                continue
            value = self.values[value_id]
            attrs = {"other": text} if value.is_other and text else None
            out.append(Node(field.element_name, value.code, attrs, many=many))
        return out

    def constraint_nodes(self, answers: list[tuple[int, int | None, str]]) -> list[Node]:
        """The record's constraint values as `<publicViewPrivateSchedule>ID</…>` and so on."""
        out = []
        for _, value_id, _ in answers:
            value = self.values.get(value_id) if value_id else None
            if value is not None and value.constraint:
                out.append(Node(value.constraint, value.pk, many=True))
        return out
