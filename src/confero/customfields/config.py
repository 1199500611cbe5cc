"""Custom-field configuration as a JSON file: how fields get into tests, demos, and from UAT to
Production. The format is documented in docs/custom-fields.md.

Import creates and updates, matching fields by code and values by value code. It never deletes
and never renames a code: a field or value missing from the file is kept and reported.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from confero.customfields.models import (
    Constraint,
    CustomField,
    CustomValue,
    RecordType,
    element_name_for,
)
from confero.customfields.services import (
    ValueSpec,
    add_value,
    create_field,
    validate_display_name,
    validate_text,
)
from confero.errors import ValidationFailed
from confero.events.models import Site

FORMAT = "confero.customfields/1"


def export_fields(site: Site) -> dict[str, Any]:
    fields = site.custom_fields.prefetch_related("values").order_by("position", "id")
    return {
        "format": FORMAT,
        "event": site.event.code,
        "environment": site.environment,
        "fields": [
            {
                "code": f.code,
                "displayName": f.display_name,
                "recordType": f.record_type,
                "type": f.field_type,
                "values": [
                    {
                        "code": v.code,
                        "label": v.label,
                        "other": v.is_other,
                        "constraint": v.constraint,
                    }
                    for v in f.values.all()
                ],
            }
            for f in fields
        ],
    }


@dataclass
class ImportReport:
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    applied: bool = False

    def text(self) -> str:
        lines = self.changes or ["no changes"]
        lines = [f"  {line}" for line in lines] + [f"  note: {note}" for note in self.notes]
        head = "applied:" if self.applied else "would apply (dry run):"
        return "\n".join([head, *lines])


class _DryRun(Exception):
    pass


def import_fields(site: Site, document: Any, *, dry_run: bool = False) -> ImportReport:
    """All or nothing: any invalid entry raises ValidationFailed and nothing is written."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValidationFailed("format", f"not a {FORMAT} document")
    entries = document.get("fields")
    if not isinstance(entries, list):
        raise ValidationFailed("fields", "must be a list")
    report = ImportReport()
    try:
        with transaction.atomic():
            _apply(site, entries, report)
            if dry_run:
                raise _DryRun
    except _DryRun:
        return report
    report.applied = True
    return report


def _text(entry: dict, key: str, where: str, default: str | None = None) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str):
        raise ValidationFailed(f"{where}.{key}", "must be a string")
    return value


def _apply(site: Site, entries: list, report: ImportReport) -> None:
    existing = {
        f.code: f for f in site.custom_fields.prefetch_related("values").order_by("position", "id")
    }
    seen = set()
    for index, entry in enumerate(entries):
        where = f"fields[{index}]"
        if not isinstance(entry, dict):
            raise ValidationFailed(where, "must be an object")
        code = _text(entry, "code", where)
        if code in seen:
            raise ValidationFailed(f"{where}.code", f"'{code}' appears twice in the file")
        seen.add(code)
        values = entry.get("values", [])
        if not isinstance(values, list):
            raise ValidationFailed(f"{where}.values", "must be a list")
        specs = [_value_spec(v, f"{where}.values[{i}]") for i, v in enumerate(values)]
        current = existing.get(code)
        if current is None:
            _create(site, entry, code, specs, where, existing, report)
        else:
            _update(current, entry, specs, where, report)
    for code in (code for code in existing if code not in seen):  # in the site's order
        report.notes.append(f"field '{code}' is not in the file: kept as it is")


def _value_spec(value: Any, where: str) -> ValueSpec:
    if not isinstance(value, dict):
        raise ValidationFailed(where, "must be an object")
    other = value.get("other", False)
    if not isinstance(other, bool):
        raise ValidationFailed(f"{where}.other", "must be true or false")
    return ValueSpec(
        code=_text(value, "code", where),
        label=_text(value, "label", where, ""),
        other=other,
        constraint=_text(value, "constraint", where, "") or "",
    )


def _create(site, entry, code, specs, where, existing, report) -> None:
    display_name = _text(entry, "displayName", where)
    for other in existing.values():
        if other.display_name == display_name:
            report.notes.append(
                f"field '{code}' has the display name of field '{other.code}': codes are never "
                "renamed by import (a superuser can: confero customfields recode)"
            )
    try:
        create_field(
            site,
            record_type=_text(entry, "recordType", where),
            code=code,
            display_name=display_name,
            field_type=_text(entry, "type", where),
            values=specs,
        )
    except ValidationFailed as exc:
        raise ValidationFailed(f"{where} ({code})", exc.message) from exc
    report.changes.append(f"create field '{code}' ({entry['type']}, {len(specs)} values)")


def _update(current: CustomField, entry, specs, where, report) -> None:
    code = current.code
    for key, attr in (("recordType", "record_type"), ("type", "field_type")):
        wanted = _text(entry, key, where, getattr(current, attr))
        if wanted != getattr(current, attr):
            raise ValidationFailed(
                f"{where}.{key}",
                f"field '{code}' is {getattr(current, attr)}; import does not change it",
            )
    display_name = _text(entry, "displayName", where, current.display_name)
    if display_name != current.display_name:
        validate_display_name(current.site, current.record_type, display_name, exclude=current)
        report.changes.append(
            f"field '{code}': displayName '{current.display_name}' → '{display_name}'"
        )
        current.display_name = display_name
        current.element_name = element_name_for(display_name)
        current.save(update_fields=["display_name", "element_name"])
    values = {v.code: v for v in current.values.all()}
    # A field has at most one Other value: a file moving it from one value to another is applied
    # taking it from the old value first.
    losing_other = [
        s for s in specs if s.code in values and values[s.code].is_other and not s.other
    ]
    for spec in [*losing_other, *(s for s in specs if s not in losing_other)]:
        value = values.pop(spec.code, None)
        if value is None:
            try:
                add_value(current, spec)
            except ValidationFailed as exc:
                raise ValidationFailed(f"{where} ({code})", exc.message) from exc
            report.changes.append(f"field '{code}': add value '{spec.code}'")
            continue
        _update_value(code, value, spec, report)
    for missing in values:
        report.notes.append(f"value '{code}.{missing}' is not in the file: kept as it is")


def _update_value(code: str, value: CustomValue, spec: ValueSpec, report: ImportReport) -> None:
    changed = []
    for attr, wanted in (
        ("label", spec.label or value.label),
        ("is_other", spec.other),
        ("constraint", spec.constraint),
    ):
        if getattr(value, attr) != wanted:
            changed.append(f"{attr} {getattr(value, attr)!r} → {wanted!r}")
            setattr(value, attr, wanted)
    if changed:
        try:
            validate_text("label", value.label, max_length=200)
        except ValidationFailed as exc:
            raise ValidationFailed(f"{code}.{value.code}", exc.message) from exc
        if value.constraint and value.field.record_type != RecordType.PROFILE:
            raise ValidationFailed(
                f"{code}.{value.code}", "only values of profile fields carry constraints"
            )
        if value.constraint and value.constraint not in Constraint.values:
            raise ValidationFailed(
                f"{code}.{value.code}", "constraint: one of " + ", ".join(Constraint.values)
            )
        try:
            value.validate_constraints()
        except DjangoValidationError as exc:
            raise ValidationFailed(f"{code}.{value.code}", "; ".join(exc.messages)) from exc
        value.save()
        report.changes.append(f"field '{code}': value '{value.code}': " + ", ".join(changed))


def load(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise ValidationFailed("file", str(exc)) from exc
