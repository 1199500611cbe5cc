"""Changing custom fields one at a time, as the console does: the rules of `confero customfields
import` (services.py's validation), applied to one field or one value per call.

A field's code, record type and type are never changed here: the code only by a superuser
(`services.change_field_code`), the others not at all once set (as import). Nothing that a
record holds is ever deleted: a field or value is deleted only while no record holds it.
"""

from collections.abc import Sequence

from django.db import transaction

from confero.customfields.models import (
    Answer,
    Constraint,
    CustomField,
    CustomValue,
    RecordType,
)
from confero.customfields.services import (
    ValueSpec,
    add_value,
    create_field,
    field_usage,
    validate_display_name,
    validate_text,
)
from confero.errors import ValidationFailed
from confero.events.models import Site


def define_field(
    site: Site,
    *,
    record_type: str,
    code: str,
    display_name: str,
    field_type: str,
    values: Sequence[ValueSpec] = (),
) -> CustomField:
    """A new field with its values, all or nothing (create_field's rules)."""
    with transaction.atomic():
        return create_field(
            site,
            record_type=record_type,
            code=code,
            display_name=display_name,
            field_type=field_type,
            values=values,
        )


def rename_field(field: CustomField, *, display_name: str) -> CustomField:
    """A new display name, and with it a new element name (rule 5): integrations reading the
    data APIs see the new element from then on."""
    display_name = validate_display_name(field.site, field.record_type, display_name, exclude=field)
    if display_name != field.display_name:
        with transaction.atomic():
            field.display_name = display_name
            field.save(update_fields=["display_name"])  # save() sets the element name too
    return field


def define_value(field: CustomField, spec: ValueSpec) -> CustomValue:
    """A new value at the end of the field's values (add_value's rules)."""
    with transaction.atomic():
        return add_value(field, spec)


def change_value(value: CustomValue, *, label: str, other: bool, constraint: str) -> CustomValue:
    """A value's label, Other flag and constraint; its code never changes (integrations send
    it). Making it the Other option takes that role from the value that had it: a field has
    one Other option at most."""
    field = value.field
    validate_text("label", label, max_length=200)
    if constraint and constraint not in Constraint.values:
        raise ValidationFailed("constraint", "one of " + ", ".join(Constraint.values))
    if constraint and field.record_type != RecordType.PROFILE:
        raise ValidationFailed("constraint", "only values of profile fields carry constraints")
    with transaction.atomic():
        if other and not value.is_other:
            for previous in field.values.filter(is_other=True).exclude(pk=value.pk):
                previous.is_other = False
                previous.save(update_fields=["is_other"])
        value.label = label or value.code
        value.is_other = other
        value.constraint = constraint
        value.save(update_fields=["label", "is_other", "constraint"])
    return value


def usage_text(usage: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}{'' if n == 1 else 's'}" for kind, n in usage.items())


def delete_field(field: CustomField) -> None:
    """Deletes a field (and its values) that no record holds; a field in use is refused."""
    with transaction.atomic():
        if usage := field_usage(field):
            raise ValidationFailed(
                "field", f"'{field.code}' is held by {usage_text(usage)}: it cannot be deleted"
            )
        field.values.all().delete()
        field.delete()


def delete_value(value: CustomValue) -> None:
    """Deletes a value that no record holds; a value in use is refused."""
    with transaction.atomic():
        held = Answer.objects.filter(value=value).values("record_type", "record_id").distinct()
        if count := held.count():
            raise ValidationFailed(
                "value",
                f"'{value.code}' is held by {count} record{'' if count == 1 else 's'}: "
                "it cannot be deleted",
            )
        value.delete()
