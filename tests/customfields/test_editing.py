"""confero.customfields.editing: one field or value at a time, with the import's rules."""

import pytest

from confero.customfields import editing
from confero.customfields.models import CustomField, CustomValue
from confero.customfields.services import Assignment, ValueSpec, set_answers
from confero.errors import ValidationFailed
from tests.factories import EventFactory, site_of


@pytest.fixture
def site(db):
    return site_of(EventFactory())


def choice(site, code="size", record_type="user", **kwargs) -> CustomField:
    return editing.define_field(
        site,
        record_type=record_type,
        code=code,
        display_name=kwargs.pop("display_name", code.title()),
        field_type="choice",
        values=kwargs.pop("values", [ValueSpec("s", "Small"), ValueSpec("m", "Medium")]),
    )


def test_define_field_with_a_bad_value_creates_nothing(site):
    with pytest.raises(ValidationFailed) as refused:
        choice(site, values=[ValueSpec("s"), ValueSpec(" m")])

    assert refused.value.message == "' m' starts or ends with white space"
    assert CustomField.objects.count() == CustomValue.objects.count() == 0


def test_rename_field_moves_the_element_name(site):
    field = choice(site)

    editing.rename_field(field, display_name="T-shirt size")

    stored = CustomField.objects.get(pk=field.pk)
    assert (stored.code, stored.display_name, stored.element_name) == (
        "size",
        "T-shirt size",
        "T-shirt-size",
    )


def test_rename_field_to_another_fields_element_name_is_refused(site):
    choice(site, code="size", display_name="Size?")
    other = choice(site, code="shirt", display_name="Shirt")

    with pytest.raises(ValidationFailed) as refused:
        editing.rename_field(other, display_name="Size!")

    assert refused.value.message == "<Size-> is already used by field 'size'"
    assert CustomField.objects.get(pk=other.pk).display_name == "Shirt"


def test_change_value_moves_the_other_option(site):
    field = choice(site, values=[ValueSpec("a", other=True), ValueSpec("b")])
    b = field.values.get(code="b")

    editing.change_value(b, label="Other: please say", other=True, constraint="")

    assert list(field.values.values_list("code", "label", "is_other")) == [
        ("a", "a", False),
        ("b", "Other: please say", True),
    ]


def test_change_value_constraint_only_on_profile_fields(site):
    value = choice(site).values.get(code="s")

    with pytest.raises(ValidationFailed) as refused:
        editing.change_value(value, label="S", other=False, constraint="cannotViewOrSchedule")

    assert refused.value.message == "only values of profile fields carry constraints"
    profile = choice(site, code="tier", record_type="profile").values.get(code="s")
    editing.change_value(profile, label="S", other=False, constraint="cannotViewOrSchedule")
    assert CustomValue.objects.get(pk=profile.pk).constraint == "cannotViewOrSchedule"


def test_delete_field_held_by_a_user_is_refused(site):
    from confero.people.services import add_user

    field = choice(site)
    user = add_user(site, fields={"first_name": "A", "last_name": "B", "email": "a@example.org"})
    set_answers("user", user.pk, [Assignment(field, ((field.values.get(code="s"), ""),))])

    with pytest.raises(ValidationFailed) as refused:
        editing.delete_field(field)
    with pytest.raises(ValidationFailed) as value_refused:
        editing.delete_value(field.values.get(code="s"))

    assert refused.value.message == "'size' is held by 1 user: it cannot be deleted"
    assert value_refused.value.message == "'s' is held by 1 record: it cannot be deleted"
    editing.delete_value(field.values.get(code="m"))
    assert list(field.values.values_list("code", flat=True)) == ["s"]


def test_delete_field_unused_deletes_it_and_its_values(site):
    field = choice(site)
    version = site_of(site.event).fields_version

    editing.delete_field(field)

    assert CustomField.objects.count() == CustomValue.objects.count() == 0
    assert site_of(site.event).fields_version != version  # processes reload the definitions
