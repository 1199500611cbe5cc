"""Custom-field configuration as a file, through the CLI (`confero customfields export|import|
recode`, docs/custom-fields.md): export and import between UAT and Production, dry runs, all or
nothing, codes never renamed by import, recode for superusers only."""

import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from confero.cli import main
from confero.customfields import config
from confero.customfields.models import Answer, CustomField, CustomValue
from confero.customfields.services import ValueSpec, create_field
from tests.api.conftest import EXHIBITOR_FIELDS_FILE, FIELDS_FILE, import_test_fields
from tests.factories import EventFactory, site_of

FORMAT = "confero.customfields/1"


@pytest.fixture
def event(db):
    return EventFactory(code="summit")


@pytest.fixture
def production(event):
    site = site_of(event, "production")
    import_test_fields(site)
    return site


@pytest.fixture
def uat(event):
    return site_of(event, "uat")


def cli(*args: str) -> None:
    main(["customfields", *args])


def refused(capsys, *args: str) -> str:
    """Runs a CLI command that must fail: exit status 2, the reason on stderr."""
    with pytest.raises(SystemExit) as exit_:
        cli(*args)
    assert exit_.value.code == 2
    return capsys.readouterr().err


def configuration(site) -> list[dict]:
    """A site's fields as the file format has them (what export writes)."""
    return config.export_fields(site)["fields"]


def write(tmp_path: Path, fields: list, **document) -> str:
    path = tmp_path / "fields.json"
    path.write_text(json.dumps({"format": FORMAT, "fields": fields, **document}), encoding="utf-8")
    return str(path)


def snapshot() -> list[tuple]:
    """Every field and value of every site, to prove that nothing changed."""
    fields = CustomField.objects.order_by("pk").values_list("site_id", "code", "display_name")
    values = CustomValue.objects.order_by("pk").values_list(
        "field__site_id", "field__code", "code", "label", "is_other", "constraint"
    )
    return [*fields, *values]


TEXT_FIELD = {"code": "notes", "displayName": "Notes", "recordType": "user", "type": "text"}


# --- Export ---------------------------------------------------------------------------------


def test_export_writes_the_sites_fields_as_json(production, capsys):
    cli("export", "--event", "summit", "--site", "production")

    document = json.loads(capsys.readouterr().out)
    assert document["format"] == FORMAT
    assert (document["event"], document["environment"]) == ("summit", "production")
    assert document["fields"][0] == {
        "code": "type_business",
        "displayName": "Type of business",
        "recordType": "user",
        "type": "choice",
        "values": [
            {"code": "govt", "label": "Government", "other": False, "constraint": ""},
            {"code": "education", "label": "Education", "other": False, "constraint": ""},
            {"code": "other", "label": "Other: please specify", "other": True, "constraint": ""},
        ],
    }
    source = json.loads(FIELDS_FILE.read_text())["fields"]
    assert [f["code"] for f in document["fields"]] == [f["code"] for f in source]


def test_export_to_a_file(production, tmp_path, capsys):
    out = tmp_path / "production.json"

    cli("export", "--event", "summit", "--site", "production", "--out", str(out))

    assert capsys.readouterr().out == f"wrote {out}\n"
    assert json.loads(out.read_text(encoding="utf-8"))["fields"] == configuration(production)


# --- Export, then import on the other site -----------------------------------------------------


def test_export_then_import_on_the_other_site_reproduces_the_fields(
    production, uat, tmp_path, capsys
):
    exported = tmp_path / "production.json"
    cli("export", "--event", "summit", "--site", "production", "--out", str(exported))
    capsys.readouterr()

    cli("import", "--event", "summit", "--site", "uat", str(exported))

    assert configuration(uat) == configuration(production)
    assert capsys.readouterr().out == (
        "applied:\n"
        "  create field 'type_business' (choice, 3 values)\n"
        "  create field 'dietary' (multichoice, 3 values)\n"
        "  create field 'interests' (multichoice, 3 values)\n"
        "  create field 'tshirt' (choice, 3 values)\n"
        "  create field 'notes' (text, 0 values)\n"
        "  create field 'attendee_type' (choice, 3 values)\n"
        "  create field 'level' (choice, 1 values)\n"
    )
    # Same configuration, separate data: each site's values have their own custom value IDs.
    production_ids = set(
        CustomValue.objects.filter(field__site=production).values_list("pk", flat=True)
    )
    uat_ids = set(CustomValue.objects.filter(field__site=uat).values_list("pk", flat=True))
    assert production_ids.isdisjoint(uat_ids)


def test_import_of_the_same_file_again_changes_nothing(production, uat, tmp_path, capsys):
    path = write(tmp_path, configuration(production))
    cli("import", "--event", "summit", "--site", "uat", path)
    before = snapshot()
    capsys.readouterr()

    cli("import", "--event", "summit", "--site", "uat", path)

    assert capsys.readouterr().out == "applied:\n  no changes\n"
    assert snapshot() == before


def test_import_updates_display_names_labels_and_adds_values(production, tmp_path, capsys):
    fields = configuration(production)
    fields[0]["displayName"] = "Kind of business"
    fields[0]["values"][0]["label"] = "Public sector"
    fields[0]["values"].append({"code": "ngo", "label": "Non-profit"})
    field = CustomField.objects.get(site=production, code="type_business")
    govt_id = field.values.get(code="govt").pk

    cli("import", "--event", "summit", "--site", "production", write(tmp_path, fields))

    assert capsys.readouterr().out == (
        "applied:\n"
        "  field 'type_business': displayName 'Type of business' → 'Kind of business'\n"
        "  field 'type_business': value 'govt': label 'Government' → 'Public sector'\n"
        "  field 'type_business': add value 'ngo'\n"
    )
    field.refresh_from_db()
    assert (field.code, field.display_name, field.element_name) == (
        "type_business",
        "Kind of business",
        "Kind-of-business",
    )
    # The value keeps its custom value ID: integrations holding it are not broken.
    assert field.values.get(code="govt").pk == govt_id
    assert list(field.values.values_list("code", "label")) == [
        ("govt", "Public sector"), ("education", "Education"),
        ("other", "Other: please specify"), ("ngo", "Non-profit"),
    ]  # fmt: skip


def test_import_moves_the_other_option_from_one_value_to_another(production, tmp_path, capsys):
    """One Other value per field: the file names the new one first, the old one after; the
    import takes it from the old value first (it was refused, the move needed two imports)."""
    fields = configuration(production)[:1]
    values = {v["code"]: v for v in fields[0]["values"]}
    values["govt"]["other"], values["other"]["other"] = True, False

    cli("import", "--event", "summit", "--site", "production", write(tmp_path, fields))

    assert capsys.readouterr().out == (
        "applied:\n"
        "  field 'type_business': value 'other': is_other True → False\n"
        "  field 'type_business': value 'govt': is_other False → True\n"
        "  note: field 'dietary' is not in the file: kept as it is\n"
        "  note: field 'interests' is not in the file: kept as it is\n"
        "  note: field 'tshirt' is not in the file: kept as it is\n"
        "  note: field 'notes' is not in the file: kept as it is\n"
        "  note: field 'attendee_type' is not in the file: kept as it is\n"
        "  note: field 'level' is not in the file: kept as it is\n"
    )
    field = CustomField.objects.get(site=production, code="type_business")
    assert list(field.values.values_list("code", "is_other")) == [
        ("govt", True), ("education", False), ("other", False),
    ]  # fmt: skip


def test_import_keeps_and_reports_what_the_file_does_not_name(production, tmp_path, capsys):
    fields = [f for f in configuration(production) if f["code"] != "notes"]
    fields[0]["values"] = fields[0]["values"][:1]
    before = snapshot()

    cli("import", "--event", "summit", "--site", "production", write(tmp_path, fields))

    assert capsys.readouterr().out == (
        "applied:\n"
        "  no changes\n"
        "  note: value 'type_business.education' is not in the file: kept as it is\n"
        "  note: value 'type_business.other' is not in the file: kept as it is\n"
        "  note: field 'notes' is not in the file: kept as it is\n"
    )
    assert snapshot() == before


# --- Dry run ------------------------------------------------------------------------------------


def test_dry_run_reports_and_changes_nothing(production, uat, tmp_path, capsys):
    fields = configuration(production)[:2]
    fields[1]["displayName"] = "Diet"
    cli(
        "import",
        "--event",
        "summit",
        "--site",
        "uat",
        write(tmp_path, configuration(production)[:1]),
    )
    before = snapshot()
    capsys.readouterr()

    cli(
        "import",
        "--event",
        "summit",
        "--site",
        "uat",
        "--dry-run",
        write(tmp_path, [{**fields[0], "displayName": "Sector"}, fields[1]]),
    )

    assert capsys.readouterr().out == (
        "would apply (dry run):\n"
        "  field 'type_business': displayName 'Type of business' → 'Sector'\n"
        "  create field 'dietary' (multichoice, 3 values)\n"
    )
    assert snapshot() == before


def test_dry_run_of_an_invalid_file_is_refused_like_the_real_import(production, tmp_path, capsys):
    before = snapshot()

    message = refused(
        capsys,
        "import",
        "--event",
        "summit",
        "--site",
        "production",
        "--dry-run",
        write(tmp_path, [{**TEXT_FIELD, "code": "firstName", "displayName": "X"}]),
    )

    assert message == (
        "confero: fields[0] (firstName): 'firstName' is a standard parameter of user resources\n"
    )
    assert snapshot() == before


# --- Codes are never renamed by import ----------------------------------------------------


def test_import_never_renames_a_code(production, tmp_path, capsys):
    """A file naming the same field by another code is a new field, refused because two fields
    cannot share an element name; the existing code stays."""
    fields = configuration(production)
    renamed = {**fields[0], "code": "business_type"}
    before = snapshot()

    message = refused(
        capsys,
        "import",
        "--event",
        "summit",
        "--site",
        "production",
        write(tmp_path, [renamed, *fields[1:]]),
    )

    assert message == (
        "confero: fields[0] (business_type): <Type-of-business> is already used by field "
        "'type_business'\n"
    )
    assert snapshot() == before
    assert CustomField.objects.filter(site=production, code="type_business").exists()


def test_import_of_a_new_code_with_a_new_display_name_adds_a_field_and_keeps_the_old(
    production, tmp_path, capsys
):
    fields = configuration(production)
    fields[4] = {**fields[4], "code": "remarks", "displayName": "Remarks"}

    cli("import", "--event", "summit", "--site", "production", write(tmp_path, fields))

    assert capsys.readouterr().out == (
        "applied:\n"
        "  create field 'remarks' (text, 0 values)\n"
        "  note: field 'notes' is not in the file: kept as it is\n"
    )
    assert list(
        CustomField.objects.filter(site=production, code__in=["notes", "remarks"]).values_list(
            "code", flat=True
        )
    ) == ["notes", "remarks"]


# --- Invalid files: nothing applied -------------------------------------------------------------

VALID_NEW = {
    "code": "badge_color",
    "displayName": "Badge color",
    "recordType": "user",
    "type": "choice",
    "values": [{"code": "red", "label": "Red"}],
}


@pytest.mark.parametrize(("entry", "reason"), [
    ({**TEXT_FIELD, "code": "x", "displayName": "X", "type": "date"},
     "fields[1] (x): one of text, choice, multichoice"),
    ({**TEXT_FIELD, "code": "x", "displayName": "X", "recordType": "room"},
     "fields[1] (x): one of user, session, exhibitor, profile"),
    ({**TEXT_FIELD, "code": "since", "displayName": "X"},
     "fields[1] (since): 'since' is a standard parameter of user resources"),
    ({**TEXT_FIELD, "code": "abbreviation", "displayName": "X", "recordType": "session"},
     "fields[1] (abbreviation): 'abbreviation' is a standard parameter of session resources"),
    ({**TEXT_FIELD, "code": "sessionTimeID", "displayName": "X", "recordType": "profile"},
     "fields[1] (sessionTimeID): 'sessionTimeID' is a standard parameter of session resources"),
    ({**TEXT_FIELD, "code": "exhibitorCode", "displayName": "X", "recordType": "exhibitor"},
     "fields[1] (exhibitorCode): 'exhibitorCode' is a standard parameter of exhibitor resources"),
    ({**TEXT_FIELD, "code": "x", "displayName": "abstract", "recordType": "session"},
     "fields[1] (x): its element name <abstract> is a standard element of sessions"),
    ({**TEXT_FIELD, "code": "x", "displayName": "booth", "recordType": "exhibitor"},
     "fields[1] (x): its element name <booth> is a standard element of exhibitors"),
    ({**TEXT_FIELD, "code": "2fast", "displayName": "X"},
     "fields[1] (2fast): a letter, then letters, digits, '_', '.' or '-' (≤ 60)"),
    ({**TEXT_FIELD, "code": "x", "displayName": "email"},
     "fields[1] (x): its element name <email> is a standard element of users"),
    ({**TEXT_FIELD, "code": "x", "displayName": "Bell \x07"},
     "fields[1] (x): contains the character U+0007, which XML cannot carry"),
    ({**VALID_NEW, "code": "x", "displayName": "X",
      "values": [{"code": "a", "constraint": "cannotViewOrSchedule"}]},
     "fields[1] (x): only values of profile fields carry constraints"),
    ({**VALID_NEW, "code": "x", "displayName": "X",
      "values": [{"code": "a", "other": True}, {"code": "b", "other": True}]},
     "fields[1] (x): 'x' has an Other option already"),
    ({**VALID_NEW, "code": "x", "displayName": "X", "values": [{"code": " a"}]},
     "fields[1] (x): ' a' starts or ends with white space"),
    ({**VALID_NEW, "code": "x", "displayName": "X", "values": [{"code": "a", "other": "yes"}]},
     "fields[1].values[0].other: must be true or false"),
    ({**TEXT_FIELD, "code": "badge_color", "displayName": "Y"},
     "fields[1].code: 'badge_color' appears twice in the file"),
    ({**TEXT_FIELD, "code": "notes", "type": "choice"},
     "fields[1].type: field 'notes' is text; import does not change it"),
    ({**TEXT_FIELD, "code": "tshirt", "displayName": "T-shirt size", "type": "choice",
      "recordType": "profile"},
     "fields[1].recordType: field 'tshirt' is user; import does not change it"),
    ("not an object", "fields[1]: must be an object"),
])  # fmt: skip
def test_import_of_an_invalid_entry_applies_nothing(production, tmp_path, capsys, entry, reason):
    before = snapshot()

    message = refused(
        capsys,
        "import",
        "--event",
        "summit",
        "--site",
        "production",
        write(tmp_path, [VALID_NEW, entry]),
    )

    assert message == f"confero: {reason}\n"
    assert snapshot() == before
    assert not CustomField.objects.filter(code="badge_color").exists()


@pytest.mark.parametrize(("text", "reason"), [
    ('{"format": "other/1", "fields": []}', "format: not a confero.customfields/1 document"),
    ('{"format": "confero.customfields/1", "fields": {}}', "fields: must be a list"),
    ("[]", "format: not a confero.customfields/1 document"),
])  # fmt: skip
def test_import_of_a_file_that_is_not_a_configuration_applies_nothing(
    production, tmp_path, capsys, text, reason
):
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    before = snapshot()

    assert refused(capsys, "import", "--event", "summit", "--site", "production", str(path)) == (
        f"confero: {reason}\n"
    )
    assert snapshot() == before


def test_import_of_a_file_that_is_not_json_applies_nothing(production, tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text('{"format": ', encoding="utf-8")
    before = snapshot()

    message = refused(capsys, "import", "--event", "summit", "--site", "production", str(path))

    assert message.startswith("confero: file: Expecting value")
    assert snapshot() == before


def test_import_of_a_missing_file_is_refused(production, tmp_path, capsys):
    message = refused(
        capsys,
        "import",
        "--event",
        "summit",
        "--site",
        "production",
        str(tmp_path / "nowhere.json"),
    )

    assert message.startswith("confero: file: [Errno 2] No such file or directory")


def test_import_to_an_unknown_event_is_refused(production, tmp_path, capsys):
    message = refused(
        capsys, "import", "--event", "nowhere", "--site", "uat", write(tmp_path, [TEXT_FIELD])
    )

    assert message == "confero: event: no event with code 'nowhere'\n"


# --- Recode: superusers only --------------------------------------------------------------------


@pytest.fixture
def people(db):
    model = get_user_model()
    return {
        "root": model.objects.create(username="root", is_superuser=True, is_staff=True),
        "organizer": model.objects.create(username="organizer", is_staff=True),
    }


@pytest.fixture
def held(production):
    """Two users hold a value of type_business, as the usage report will say."""
    from confero.people.models import User

    field = CustomField.objects.get(site=production, code="type_business")
    for n in range(2):
        user = User.objects.create(
            site=production,
            first_name="A",
            last_name="B",
            email=f"u{n}@example.org",
            created_at="2026-01-01T00:00:00Z",
            modified_at="2026-01-01T00:00:00Z",
        )
        Answer.objects.create(
            field=field, record_type="user", record_id=user.pk, value=field.values.get(code="govt")
        )
    return field


RECODE = (
    "recode",
    "--event",
    "summit",
    "--site",
    "production",
    "--field",
    "type_business",
    "--to",
    "business_type",
)


def test_recode_without_yes_shows_the_usage_and_changes_nothing(held, people, capsys):
    cli(*RECODE, "--as", "root")

    assert capsys.readouterr().out == (
        "field 'type_business' (Type of business) on summit · Production is held by: 2 users\n"
        "integrations sending 'type_business' will get code 300 once it is 'business_type'\n"
        "nothing changed: add --yes to change the code\n"
    )
    held.refresh_from_db()
    assert held.code == "type_business"


def test_recode_by_a_superuser_changes_the_code_and_keeps_the_values(held, people, capsys):
    cli(*RECODE, "--as", "root", "--yes")

    assert capsys.readouterr().out.endswith("code changed: 'type_business' → 'business_type'\n")
    held.refresh_from_db()
    assert (held.code, held.display_name, held.element_name) == (
        "business_type",
        "Type of business",
        "Type-of-business",
    )
    assert Answer.objects.filter(field=held).count() == 2


@pytest.mark.parametrize("actor", ["organizer", "nobody"])
def test_recode_by_anyone_but_a_superuser_is_refused(held, people, capsys, actor):
    message = refused(capsys, *RECODE, "--as", actor, "--yes")

    assert message == "confero: code: only a superuser can change a custom field's code\n"
    held.refresh_from_db()
    assert held.code == "type_business"


@pytest.mark.parametrize(("to", "reason"), [
    ("userKey", "'userKey' is a standard parameter of user resources"),
    ("dietary", "a field with code 'dietary' exists already"),
    ("bad code", "a letter, then letters, digits, '_', '.' or '-' (≤ 60)"),
])  # fmt: skip
def test_recode_to_a_code_that_cannot_be_is_refused(held, people, capsys, to, reason):
    message = refused(
        capsys,
        "recode",
        "--event",
        "summit",
        "--site",
        "production",
        "--field",
        "type_business",
        "--to",
        to,
        "--as",
        "root",
        "--yes",
    )

    assert message == f"confero: code: {reason}\n"
    held.refresh_from_db()
    assert held.code == "type_business"


def test_recode_of_an_unknown_field_is_refused(production, people, capsys):
    message = refused(
        capsys,
        "recode",
        "--event",
        "summit",
        "--site",
        "production",
        "--field",
        "nope",
        "--to",
        "other",
        "--as",
        "root",
        "--yes",
    )

    assert message == "confero: field: no custom field with code 'nope' on summit · Production\n"


def test_recode_is_seen_by_the_api_old_code_300_new_code_accepted(api, production, people, capsys):
    from tests.factories import open_site

    _, token = open_site(production.event)
    cli(*RECODE, "--as", "root", "--yes")
    url = "/summit/api/addUser.do"
    base = {"apiToken": token, "firstName": "A", "lastName": "B"}

    old = api.call(url, {**base, "email": "a@example.org", "type_business": "govt"})
    new = api.call(url, {**base, "email": "b@example.org", "business_type": "govt"})

    assert (old.status, old.code, old.message) == (
        400,
        300,
        "unknown custom field code 'type_business'",
    )
    assert (new.status, new.code) == (200, 0)
    assert new.xml.find("customValue").attrib == {"field": "business_type", "code": "govt"}


def test_recode_keeps_the_other_site_as_it_is(production, uat, people, tmp_path, capsys):
    cli("import", "--event", "summit", "--site", "uat", write(tmp_path, configuration(production)))

    cli(*RECODE, "--as", "root", "--yes")

    assert (
        CustomField.objects.get(site=uat, display_name="Type of business").code == "type_business"
    )
    assert CustomField.objects.get(site=production, display_name="Type of business").code == (
        "business_type"
    )


def test_service_level_field_creation_and_export_agree(production, uat):
    """What the services create is what export writes, values in their order."""
    create_field(
        uat,
        record_type="profile",
        code="tier",
        display_name="Tier",
        field_type="choice",
        values=[
            ValueSpec("a", "A", constraint="publicViewPrivateSchedule"),
            ValueSpec("z", "Other", other=True),
        ],
    )

    assert configuration(uat) == [{
        "code": "tier", "displayName": "Tier", "recordType": "profile", "type": "choice",
        "values": [
            {"code": "a", "label": "A", "other": False, "constraint": "publicViewPrivateSchedule"},
            {"code": "z", "label": "Other", "other": True, "constraint": ""},
        ],
    }]  # fmt: skip


# --- Exhibitors' fields ----------------------------------------------------------------------


def test_exhibitor_fields_are_exported_and_imported_like_any(production, uat, tmp_path, capsys):
    import_test_fields(production, EXHIBITOR_FIELDS_FILE)
    exported = tmp_path / "production.json"
    cli("export", "--event", "summit", "--site", "production", "--out", str(exported))
    capsys.readouterr()

    cli("import", "--event", "summit", "--site", "uat", str(exported))

    assert configuration(uat) == configuration(production)
    assert configuration(uat)[-4:] == [
        {
            "code": "sponsor_level",
            "displayName": "Sponsor level",
            "recordType": "exhibitor",
            "type": "choice",
            "values": [
                {"code": "gold", "label": "Gold", "other": False, "constraint": ""},
                {"code": "silver", "label": "Silver", "other": False, "constraint": ""},
                {"code": "other", "label": "Other: please specify", "other": True,
                 "constraint": ""},
            ],
        },
        {
            "code": "sectors",
            "displayName": "Sectors",
            "recordType": "exhibitor",
            "type": "multichoice",
            "values": [
                {"code": "space", "label": "Space", "other": False, "constraint": ""},
                {"code": "food", "label": "Food", "other": False, "constraint": ""},
                {"code": "tools", "label": "Tools", "other": False, "constraint": ""},
            ],
        },
        {
            "code": "hall",
            "displayName": "Hall",
            "recordType": "exhibitor",
            "type": "choice",
            "values": [
                {"code": "h1", "label": "Hall 1", "other": False, "constraint": ""},
                {"code": "h2", "label": "Hall 2", "other": False, "constraint": ""},
            ],
        },
        {
            "code": "tagline",
            "displayName": "Tag line",
            "recordType": "exhibitor",
            "type": "text",
            "values": [],
        },
    ]  # fmt: skip
    assert "  create field 'tagline' (text, 0 values)\n" in capsys.readouterr().out
