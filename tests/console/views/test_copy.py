"""Settings › Copy configuration: the custom fields of one site onto the other, after a preview
of what would change; applied only if the preview still holds."""

from lxml import html

from confero.customfields import editing
from confero.customfields.models import CustomField
from confero.customfields.services import ValueSpec

COPY = "/manage/events/alpha/settings/copy/"


def changes(response) -> list[str]:
    return html.fromstring(response.content).xpath("//ul[@class='changes']/li/text()")


def test_copy_previews_then_applies_the_changes(world, planner_client):
    editing.define_field(world.uat, record_type="user", code="track", display_name="Track",
                         field_type="choice", values=[ValueSpec("dev")])  # fmt: skip
    editing.define_value(world.uat.custom_fields.get(code="tshirt"), ValueSpec("xl", "XL"))

    preview = planner_client.get(COPY, {"from": "uat"})
    fingerprint = html.fromstring(preview.content).xpath("//input[@name='fingerprint']/@value")[0]
    before = CustomField.objects.filter(site=world.production).count()
    applied = planner_client.post(COPY, {"from": "uat", "fingerprint": fingerprint})

    assert changes(preview) == [
        "field 'tshirt': add value 'xl'",
        "create field 'track' (choice, 1 values)",
    ]
    assert applied.status_code == 302
    assert CustomField.objects.filter(site=world.production).count() == before + 1
    assert changes(planner_client.get(COPY, {"from": "uat"})) == [
        "No change: the custom fields already agree."
    ]


def test_copy_with_a_preview_that_no_longer_holds_applies_nothing(world, planner_client):
    preview = planner_client.get(COPY, {"from": "uat"})
    fingerprint = html.fromstring(preview.content).xpath("//input[@name='fingerprint']/@value")
    editing.define_field(world.uat, record_type="user", code="track", display_name="Track",
                         field_type="text")  # fmt: skip

    response = planner_client.post(COPY, {"from": "uat", "fingerprint": (fingerprint or [""])[0]})

    assert response.status_code == 200
    assert not CustomField.objects.filter(site=world.production, code="track").exists()
    assert changes(response) == ["create field 'track' (text, 0 values)"]


def test_copy_refused_by_the_import_names_the_entry(world, planner_client):
    editing.define_field(world.uat, record_type="user", code="badge", display_name="Notes 2",
                         field_type="text")  # fmt: skip
    editing.define_field(world.production, record_type="user", code="badge",
                         display_name="Badge", field_type="choice")  # fmt: skip

    response = planner_client.get(COPY, {"from": "uat"})

    alert = html.fromstring(response.content).xpath("string(//div[@role='alert'])")
    assert " ".join(alert.split()) == (
        "Cannot be copied: fields[7].type: field 'badge' is choice; import does not change it"
    )
