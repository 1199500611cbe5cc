"""Custom values on the forms of sessions and exhibitors, as on the user form
(confero.console.userform): inputs named `cf:CODE`, read into the parameters an API call would
send, and checked by the API's own rules (confero.api.customvalues) — the same codes (201, 300,
301, 302) and messages as addSession.do or updateExhibitor.do would answer."""

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from confero.api.codes import ApiError
from confero.api.customvalues import parse_custom_params
from confero.api.params import RawParams
from confero.console.forms import service_error
from confero.console.userform import custom_inputs, custom_sent, held_from_post
from confero.console.userparams import Refusal, sent_values
from confero.customfields.models import Answer, CustomField, RecordType
from confero.customfields.services import Assignment, fields_for
from confero.errors import Conflict, ValidationFailed

__all__ = ["custom_inputs", "held_from_post"]


def fields_of(site, record_type: str) -> list[CustomField]:
    """The custom fields a record of `record_type` carries on the site, in order (a session's
    profile fields included: their values are its constraint values)."""
    return fields_for([site], record_type)


def held(fields: list[CustomField], answers: Iterable[Answer]) -> dict[str, list[str]]:
    """What the record holds, per field code, as an API call would send it."""
    return sent_values(None, fields, answers)


def read_post(
    post: QueryDict, fields: list[CustomField], *, held: dict[str, list[str]]
) -> RawParams:
    """The fields whose values differ from `held` (all that are filled in, for a new record):
    a value rewritten unchanged would still move last-modified. An emptied field is sent
    empty, which clears it."""
    raw: RawParams = {}
    for custom in fields:
        sent = custom_sent(post, custom)
        if sorted(sent) != sorted(held.get(custom.code, [])):
            raw[custom.code] = sent or [""]
    return raw


@dataclass
class Checked:
    assignments: list[Assignment]
    refusals: list[Refusal]


def check(site, record_type: str, raw: RawParams) -> Checked:
    """Every field's refusal, for the form to show them all (the API stops at the first)."""
    assignments, refusals = [], []
    for code, values in raw.items():
        try:
            assignments.extend(parse_custom_params(site, record_type, {code: values}))
        except ApiError as exc:
            refusals.append(Refusal(exc.code, exc.message, code))
    return Checked(assignments, refusals)


@dataclass
class Shown:
    field: CustomField
    values: list[str]  # labels; an Other text with the option's label
    constraints: list[tuple[int, str, str]]  # (value ID, label, constraint) of profile values


def shown(fields: list[CustomField], held: dict[str, list[str]]) -> list[Shown]:
    """The record's values as the detail pages show them."""
    rows = []
    for field in fields:
        values = list(field.values.all())
        by_code = {v.code: v for v in values}
        other = next((v for v in values if v.is_other), None)
        labels, constraints = [], []
        for sent in held.get(field.code, []):
            value = by_code.get(sent) if field.is_choice else None
            if value is None and field.is_choice and other is not None:
                labels.append(f"{sent} ({other.label})")
                value = other
            else:
                labels.append(value.label if value is not None else sent)
            if value is not None and value.constraint:
                constraints.append((value.pk, value.label, value.constraint))
        rows.append(Shown(field, labels, constraints))
    return rows


def split_profile(rows: list[Shown]) -> tuple[list[Shown], list[Shown]]:
    """A session's own fields, and its profile fields (whose values are constraint values)."""
    own = [row for row in rows if row.field.record_type != RecordType.PROFILE]
    return own, [row for row in rows if row.field.record_type == RecordType.PROFILE]


@dataclass
class Submitted:
    """What a record form's POST came to: the record saved, or the inputs to show again."""

    saved: Any = None
    custom: list[dict] = dataclasses.field(default_factory=list)  # as the planner sent them
    refusals: list[Refusal] = dataclasses.field(default_factory=list)


def submit(
    post: QueryDict,
    site,
    record_type: str,
    form,
    *,
    held: dict[str, list[str]],
    save: Callable[[list[Assignment]], Any],
    form_fields: dict[str, str] | None = None,
) -> Submitted:
    """A session's or an exhibitor's form: its fields (`form`, a Django form) and its custom
    values, checked by the API's rules; when both pass, `save(assignments)` writes the record
    through its service (fields and values in one call, so in one transaction). A refusal of the
    service lands on the form's field (`form_fields`: the service's name → the form's; by
    default the same names)."""
    fields = fields_of(site, record_type)
    checked = check(site, record_type, read_post(post, fields, held=held))
    if form.is_valid() and not checked.refusals:
        try:
            return Submitted(saved=save(checked.assignments))
        except (ValidationFailed, Conflict) as exc:
            service_error(form, exc, fields=form_fields or {name: name for name in form.fields})
    by_param = {refusal.param: refusal for refusal in checked.refusals}
    custom = custom_inputs(fields, held_from_post(post, fields), by_param)
    return Submitted(custom=custom, refusals=checked.refusals)
