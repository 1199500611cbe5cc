"""Defining custom fields and storing the values records hold."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection, transaction

from confero.customfields.cache import bump_fields_version, fields_of_sites
from confero.customfields.models import (
    CODE_RE,
    Answer,
    Constraint,
    CustomField,
    CustomValue,
    FieldType,
    RecordType,
    element_name_for,
)
from confero.errors import ValidationFailed
from confero.events.models import Site
from confero.xmltext import not_xml

# Parameter and element names a custom field may not take, per record type. Each domain adds its
# own standard names here when it registers its resources (see confero.people.fields).
RESERVED_CODES: dict[str, set[str]] = defaultdict(lambda: {"apiToken", "event", "format", "since"})
# Feed and envelope roots too: a custom element named like a root would confuse readers (and the
# XML Schemas, which pick a schema by root name).
RESERVED_ROOTS = frozenset(
    {
        "api",
        "user-data",
        "session-data",
        "sessionCapacities",
        "speakers",
        "exhibitors",
        "messages",
        "order-data",
    }
)
RESERVED_ELEMENTS: dict[str, set[str]] = defaultdict(
    lambda: {"eventGUID", "response", "status", *RESERVED_ROOTS}
)


def reserve(record_type: str, *, codes: Iterable[str], elements: Iterable[str]) -> None:
    RESERVED_CODES[record_type].update(codes)
    RESERVED_ELEMENTS[record_type].update(elements)


# Contract §8.3 names the standard parameters and elements of sessions before their resources
# exist here: a field defined now must still be writable, and its element distinct, when they
# arrive (their registration adds what it declares, as users' and exhibitors' do: the
# declarations in confero.api.resources reserve their element names, the writing resources their
# parameters).
_ACTING = ("userKey", "clientID", "userRef")
reserve(
    RecordType.SESSION,
    codes=(
        *_ACTING,
        *("sessionID", "abbreviation", "title", "abstract", "type", "track", "status"),
        *("published", "speaker", "speakerRole", "sessionTimeID", "room", "date", "time"),
        *("length", "capacity", "waitlist"),
    ),
    elements=(
        *("session", "sessionID", "abbreviation", "title", "abstract", "type", "track"),
        *("published", "sessionTime", "sessionTimeID", "room", "date", "time", "length"),
        *("capacity", "waitlist", "registered", "waitlisted", "seatsRemaining", "speaker"),
        *("speakerRole", "userRef", "firstName", "lastName", "email", "bio", "companyName"),
        *("jobTitle", "photoURL", "position", "canSchedule"),
        *("publicViewPrivateSchedule", "privateViewPrivateSchedule", "cannotViewOrSchedule"),
    ),
)


def _record_types(record_type: str) -> tuple[str, ...]:
    if record_type == RecordType.PROFILE:
        return (RecordType.USER, RecordType.SESSION)
    return (record_type,)


def validate_text(what: str, value: str, *, max_length: int) -> str:
    if problem := not_xml(value):  # display names, value codes and labels are answered in XML
        raise ValidationFailed(what, problem)
    if len(value) > max_length:
        raise ValidationFailed(what, f"at most {max_length} characters")
    return value


def validate_code(record_type: str, code: str) -> str:
    if not CODE_RE.match(code):
        raise ValidationFailed("code", "a letter, then letters, digits, '_', '.' or '-' (≤ 60)")
    for kind in _record_types(record_type):
        if code in RESERVED_CODES[kind]:
            raise ValidationFailed("code", f"'{code}' is a standard parameter of {kind} resources")
    return code


def validate_display_name(site: Site, record_type: str, display_name: str, *, exclude=None) -> str:
    if not display_name.strip():
        raise ValidationFailed("displayName", "must not be empty")
    validate_text("displayName", display_name.strip(), max_length=200)
    element = element_name_for(display_name)
    if len(element) > 200:
        raise ValidationFailed(
            "displayName", f"its element name <{element[:20]}…> is over 200 characters"
        )
    for kind in _record_types(record_type):
        if element in RESERVED_ELEMENTS[kind]:
            raise ValidationFailed(
                "displayName", f"its element name <{element}> is a standard element of {kind}s"
            )
    clash = CustomField.objects.filter(site=site, element_name=element)
    if exclude is not None:
        clash = clash.exclude(pk=exclude.pk)
    for other in clash:
        if set(_record_types(other.record_type)) & set(_record_types(record_type)):
            raise ValidationFailed(
                "displayName", f"<{element}> is already used by field '{other.code}'"
            )
    return display_name.strip()


@dataclass(frozen=True)
class ValueSpec:
    code: str
    label: str = ""
    other: bool = False
    constraint: str = ""


def create_field(
    site: Site,
    *,
    record_type: str,
    code: str,
    display_name: str,
    field_type: str,
    values: Sequence[ValueSpec] = (),
    position: int | None = None,
) -> CustomField:
    if record_type not in RecordType.values:
        raise ValidationFailed("recordType", "one of " + ", ".join(RecordType.values))
    if field_type not in FieldType.values:
        raise ValidationFailed("type", "one of " + ", ".join(FieldType.values))
    validate_code(record_type, code)
    display_name = validate_display_name(site, record_type, display_name)
    if CustomField.objects.filter(site=site, code=code).exists():
        raise ValidationFailed("code", f"a field with code '{code}' exists already")
    if field_type == FieldType.TEXT and values:
        raise ValidationFailed("values", "a text field has no values")
    with transaction.atomic():
        field = CustomField.objects.create(
            site=site,
            record_type=record_type,
            code=code,
            display_name=display_name,
            element_name=element_name_for(display_name),
            field_type=field_type,
            position=site.custom_fields.count() if position is None else position,
        )
        for spec in values:
            add_value(field, spec)
    return field


def add_value(field: CustomField, spec: ValueSpec) -> CustomValue:
    if not field.is_choice:
        raise ValidationFailed("values", "a text field has no values")
    if not spec.code or len(spec.code) > 100:
        raise ValidationFailed("value code", "1–100 characters")
    validate_text("value code", spec.code, max_length=100)
    if spec.code != spec.code.strip():
        # The API trims every value it receives: such a code could never be sent.
        raise ValidationFailed("value code", f"'{spec.code}' starts or ends with white space")
    validate_text("label", spec.label, max_length=200)
    if spec.constraint and spec.constraint not in Constraint.values:
        raise ValidationFailed("constraint", "one of " + ", ".join(Constraint.values))
    if spec.constraint and field.record_type != RecordType.PROFILE:
        raise ValidationFailed("constraint", "only values of profile fields carry constraints")
    if field.values.filter(code=spec.code).exists():
        raise ValidationFailed("value code", f"'{spec.code}' exists already in '{field.code}'")
    if spec.other and field.values.filter(is_other=True).exists():
        raise ValidationFailed("other", f"'{field.code}' has an Other option already")
    return CustomValue.objects.create(
        field=field,
        code=spec.code,
        label=spec.label or spec.code,
        is_other=spec.other,
        constraint=spec.constraint,
        position=field.values.count(),
    )


def change_field_code(field: CustomField, new_code: str, *, actor) -> CustomField:
    """The one way to change a code once set: superusers only, after seeing where it is used
    (`field_usage`). Integrations sending the old code get 300 from then on."""
    if actor is None or not getattr(actor, "is_superuser", False):
        raise ValidationFailed("code", "only a superuser can change a custom field's code")
    validate_code(field.record_type, new_code)
    if CustomField.objects.filter(site=field.site, code=new_code).exclude(pk=field.pk).exists():
        raise ValidationFailed("code", f"a field with code '{new_code}' exists already")
    CustomField.objects.filter(pk=field.pk).update(code=new_code)
    bump_fields_version(field.site_id)  # .update() sends no signal
    field.code = new_code
    return field


def field_usage(field: CustomField) -> dict[str, int]:
    """How many records hold a value of the field, per record type."""
    usage: dict[str, int] = {}
    for row in (
        Answer.objects.filter(field=field).values_list("record_type", "record_id").distinct()
    ):
        usage[row[0]] = usage.get(row[0], 0) + 1
    return usage


# --- Values held by records -----------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    """What one call sets for one field: [(value or None, text), …]; empty clears the field."""

    field: CustomField
    choices: tuple[tuple[CustomValue | None, str], ...]


def set_answers(record_type: str, record_id: int, assignments: Sequence[Assignment]) -> None:
    """Replaces the record's values of each assigned field (a multichoice set as a whole), in
    the order given (the rows' ids keep a multichoice's order)."""
    if not assignments:
        return
    fields = [assignment.field.pk for assignment in assignments]
    # One DELETE by the cursor: QuerySet.delete() runs the deletion collector on every call
    # (answers have no signals and nothing refers to them). Placeholders only; the table is
    # the model's.
    placeholders = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {Answer._meta.db_table} WHERE record_type = %s"  # noqa: S608
            f" AND record_id = %s AND field_id IN ({placeholders})",
            [record_type, record_id, *fields],
        )
    Answer.objects.bulk_create(
        Answer(
            field_id=assignment.field.pk,
            record_type=record_type,
            record_id=record_id,
            value_id=value.pk if value else None,
            text=text,
        )
        for assignment in assignments
        for value, text in assignment.choices
    )


def fields_for(sites: Sequence[Site], record_type: str) -> list[CustomField]:
    """The custom fields of these sites that apply to a record type, with their values (from the
    process's cache while the sites' fields_version has not moved)."""
    types = (
        {record_type, RecordType.PROFILE}
        if record_type in (RecordType.USER, RecordType.SESSION)
        else {record_type}
    )
    by_site = fields_of_sites(sites)
    return [f for pk in sorted(by_site) for f in by_site[pk] if f.record_type in types]
