"""The user form: contact data and custom values, read from a POST into the parameters an API
call would send (confero.console.userparams checks them), and laid out for the template.

Inputs are named as the API's parameters (`firstName`, `email`, …); custom fields as
`cf:CODE` (and `cf:CODE:other` for the text of an Other option), so no custom code can clash
with anything else the page posts.
"""

from typing import Any

from django.http import QueryDict

from confero.api.params import RawParams
from confero.console.userparams import BOOLEANS, COLUMNS, LABELS, REQUIRED, Refusal, declared
from confero.customfields.models import CustomField, FieldType

OTHER = "__other__"


def custom_sent(post: QueryDict, custom: CustomField) -> list[str]:
    name = f"cf:{custom.code}"
    other = next((v for v in custom.values.all() if v.is_other), None)
    other_text = post.get(f"{name}:other", "").strip()
    if custom.field_type == FieldType.TEXT:
        text = post.get(name, "").strip()
        return [text] if text else []
    chosen = [value.strip() for value in post.getlist(name) if value.strip()]
    sent = [value for value in chosen if value != OTHER]
    if OTHER in chosen and other is not None:
        sent.append(other_text or other.code)
    return sent


def read_post(
    post: QueryDict,
    fields: list[CustomField],
    *,
    adding: bool,
    held: dict[str, list[str]] | None = None,
    status_from_orders: bool = False,
) -> RawParams:
    """The parameters the form sends. Adding: what is filled in. Changing: every contact field
    (an emptied one clears, as updateUser.do does) and only the custom fields whose values
    differ from `held` (a custom value rewritten unchanged would still move last-modified).
    Where registered and paid follow from orders (`status_from_orders`), the form has no say
    in them: they are not sent."""
    raw: RawParams = {}
    for param in declared(adding=adding):
        if param.name in BOOLEANS and status_from_orders:
            continue
        if param.name in BOOLEANS:
            raw[param.name] = ["true" if post.get(param.name) else "false"]
            continue
        value = post.get("clientID" if param.name == "newClientID" else param.name, "").strip()
        if value or not adding:
            raw[param.name] = [value]
    for custom in fields:
        sent = custom_sent(post, custom)
        if adding:
            if sent:
                raw[custom.code] = sent
        elif sorted(sent) != sorted((held or {}).get(custom.code, [])):
            raw[custom.code] = sent or [""]  # an empty value clears the field
    return raw


def contact_inputs(
    *,
    adding: bool,
    values: dict[str, Any],
    refusals: dict[str, Refusal],
    status_from_orders: bool = False,
) -> list[dict]:
    inputs = []
    for param in declared(adding=adding):
        name = "clientID" if param.name == "newClientID" else param.name
        kind = "bool" if name in BOOLEANS else "textarea" if name == "publicBio" else "text"
        inputs.append(
            {
                "name": name,
                "label": LABELS.get(name, name),
                "kind": kind,
                "value": values.get(name, ""),
                "required": name in REQUIRED,
                "refusal": refusals.get(param.name) or refusals.get(name),
                "type": "email" if name in ("email", "email2") else "text",
                "derived": status_from_orders and name in BOOLEANS,
            }
        )
    return inputs


def user_values(user) -> dict[str, Any]:
    """A stored user's contact data by parameter name, for the form."""
    values = {}
    for name, column in COLUMNS.items():
        if name == "newClientID":
            continue
        value = getattr(user, column)
        values[name] = value if isinstance(value, bool) else value or ""
    return values


def post_values(post: QueryDict) -> dict[str, Any]:
    """What the planner typed, to show it again with the refusals."""
    values: dict[str, Any] = {name: post.get(name, "") for name in COLUMNS}
    for name in BOOLEANS:
        values[name] = bool(post.get(name))
    return values


def custom_inputs(
    fields: list[CustomField], held: dict[str, list[str]], refusals: dict[str, Refusal]
) -> list[dict]:
    inputs = []
    for custom in fields:
        current = held.get(custom.code, [])
        values = [v for v in custom.values.all()]
        other = next((v for v in values if v.is_other), None)
        known = {v.code for v in values}
        other_text = next((text for text in current if text not in known), "")
        chosen = {text for text in current if text in known}
        if other_text or (other is not None and other.code in chosen):
            chosen.add(OTHER)
        inputs.append(
            {
                "field": custom,
                "name": f"cf:{custom.code}",
                "text": current[0] if custom.field_type == FieldType.TEXT and current else "",
                "choices": [
                    {"code": v.code, "label": v.label, "checked": v.code in chosen}
                    for v in values
                    if not v.is_other
                ],
                "other": other,
                "other_checked": OTHER in chosen,
                "other_text": other_text,
                "refusal": refusals.get(custom.code),
                "multiple": custom.field_type == FieldType.MULTICHOICE,
            }
        )
    return inputs


def held_from_post(post: QueryDict, fields: list[CustomField]) -> dict[str, list[str]]:
    """The custom values as the planner chose them, to show them again with the refusals."""
    return {custom.code: custom_sent(post, custom) for custom in fields}
