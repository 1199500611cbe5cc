"""exhibitors/services.py: exhibitors' fields, codes, cancelling and finding, at service level
(the API resources come with the record layer). Staff and files: test_services_staff_and_files."""

import datetime as dt

import pytest

from confero.customfields.models import Answer
from confero.customfields.services import Assignment, create_field
from confero.errors import Conflict, NotFound, ValidationFailed
from confero.exhibitors import services
from confero.exhibitors.models import Exhibitor
from tests.exhibitors.stored import (
    ACME,
    BROCHURE,
    LOGO,
    LONG_AGO,
    aged,
    files,
    modified_at,
    row,
    staff,
)
from tests.factories import ExhibitorFactory, UserFactory, site_of

# --- add_exhibitor ---------------------------------------------------------------------------


def test_add_exhibitor_stores_every_field_stamped_by_the_database_clock(site):
    exhibitor = services.add_exhibitor(site, fields=ACME)

    assert row(exhibitor) == (site.pk, *ACME.values())
    stored = Exhibitor.objects.get(pk=exhibitor.pk)
    assert (exhibitor.created_at, exhibitor.modified_at) == (stored.created_at, stored.created_at)
    assert abs(stored.created_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_add_exhibitor_with_only_a_name_takes_the_defaults(site):
    exhibitor = services.add_exhibitor(site, fields={"name": "Acme"})

    assert row(exhibitor) == (site.pk, None, "Acme", "active", "", "", "", "", "")


def test_add_exhibitor_with_staff_and_files_lists_them_in_the_order_given(site):
    ada, grace = UserFactory(site=site), UserFactory(site=site)

    exhibitor = services.add_exhibitor(
        site,
        fields={"name": "Acme"},
        participants=[(grace, "Sales"), (ada, "")],
        files=[LOGO, BROCHURE],
    )

    assert staff(exhibitor) == [(grace.pk, "Sales", 0), (ada.pk, "", 1)]
    assert files(exhibitor) == [
        ("Logo", "png", 2048, "https://cdn.example.org/logo.png", "Square, 512 px", 0),
        ("Brochure", "pdf", 48213, "https://cdn.example.org/b.pdf", "", 1),
    ]


@pytest.mark.parametrize("name", ["", "   "])
def test_add_exhibitor_without_a_name_is_refused(site, name):
    with pytest.raises(ValidationFailed) as refused:
        services.add_exhibitor(site, fields={"exhibitor_code": "A", "name": name})

    assert (refused.value.what, refused.value.message) == ("name", "must not be empty")
    assert not Exhibitor.objects.exists()


def test_add_exhibitor_with_an_unknown_status_is_refused(site):
    with pytest.raises(ValidationFailed) as refused:
        services.add_exhibitor(site, fields={"name": "Acme", "status": "paused"})

    assert (refused.value.what, refused.value.message) == ("status", "one of active, cancelled")


@pytest.mark.parametrize(
    ("field", "value", "what", "message"),
    [
        ("name", "x" * 201, "name", "at most 200 characters"),
        ("exhibitor_code", "x" * 101, "exhibitorCode", "at most 100 characters"),
        ("booth", "x" * 101, "booth", "at most 100 characters"),
        (
            "description",
            "bell \x07",
            "description",
            "contains the character U+0007, which XML cannot carry",
        ),
    ],
)
def test_add_exhibitor_with_text_the_record_cannot_hold_is_refused(
    site, field, value, what, message
):
    with pytest.raises(ValidationFailed) as refused:
        services.add_exhibitor(site, fields={"name": "Acme", field: value})

    assert (refused.value.what, refused.value.message) == (what, message)
    assert not Exhibitor.objects.exists()


def test_add_exhibitor_empty_code_is_no_code_and_many_may_have_none(site):
    first = services.add_exhibitor(site, fields={"name": "A", "exhibitor_code": ""})
    second = services.add_exhibitor(site, fields={"name": "B"})

    assert [first.exhibitor_code, second.exhibitor_code] == [None, None]
    assert Exhibitor.objects.filter(exhibitor_code__isnull=True).count() == 2


def test_add_exhibitor_with_a_code_taken_is_a_conflict(site):
    services.add_exhibitor(site, fields=ACME)

    with pytest.raises(Conflict) as conflict:
        services.add_exhibitor(site, fields={**ACME, "name": "Other"})

    assert (conflict.value.what, conflict.value.message) == (
        "exhibitorCode",
        "exhibitorCode 'ACME-1' is already used by another exhibitor",
    )
    assert Exhibitor.objects.count() == 1


def test_add_exhibitor_code_of_a_cancelled_exhibitor_stays_taken(site):
    services.cancel_exhibitor(services.add_exhibitor(site, fields=ACME))

    with pytest.raises(Conflict):
        services.add_exhibitor(site, fields=ACME)


def test_add_exhibitor_same_code_on_the_other_site_is_another_exhibitor(site):
    uat = site_of(site.event, "uat")
    services.add_exhibitor(site, fields=ACME)

    services.add_exhibitor(uat, fields=ACME)

    assert sorted(Exhibitor.objects.values_list("site__environment", "exhibitor_code")) == [
        ("production", "ACME-1"),
        ("uat", "ACME-1"),
    ]


def test_add_exhibitor_code_index_catches_a_race_as_a_conflict(site, monkeypatch):
    services.add_exhibitor(site, fields=ACME)
    monkeypatch.setattr(services, "_check_code", lambda *args, **kwargs: None)

    with pytest.raises(Conflict) as conflict:
        services.add_exhibitor(site, fields={**ACME, "name": "Other"})

    assert conflict.value.what == "exhibitorCode"
    assert Exhibitor.objects.count() == 1


def test_add_exhibitor_stores_custom_values(site):
    field = create_field(
        site, record_type="exhibitor", code="hall", display_name="Hall", field_type="text"
    )

    exhibitor = services.add_exhibitor(
        site, fields={"name": "Acme"}, assignments=[Assignment(field, ((None, "H2"),))]
    )

    assert list(Answer.objects.values_list("record_type", "record_id", "field", "text")) == [
        ("exhibitor", exhibitor.pk, field.pk, "H2")
    ]


# --- update_exhibitor ------------------------------------------------------------------------

NEW_VALUES = {
    "exhibitor_code": "ACME-2",
    "name": "Acme Rockets International",
    "status": "cancelled",
    "type": "Silver sponsor",
    "description": "Only anvils now",
    "url": "https://acme.example.com/",
    "email": "sales@acme.example.com",
    "booth": "H3-001",
}


@pytest.mark.parametrize("field", list(NEW_VALUES))
def test_update_exhibitor_changes_only_the_field_given_and_moves_last_modified(site, field):
    exhibitor = aged(services.add_exhibitor(site, fields=ACME))

    returned = services.update_exhibitor(exhibitor, fields={field: NEW_VALUES[field]})

    assert row(exhibitor) == (site.pk, *{**ACME, field: NEW_VALUES[field]}.values())
    assert returned is exhibitor
    assert getattr(exhibitor, field) == NEW_VALUES[field]
    assert exhibitor.modified_at == modified_at(exhibitor) > LONG_AGO


def test_update_exhibitor_with_the_stored_values_writes_nothing(site):
    exhibitor = aged(services.add_exhibitor(site, fields=ACME))

    services.update_exhibitor(exhibitor, fields={"name": ACME["name"], "booth": ACME["booth"]})

    assert modified_at(exhibitor) == LONG_AGO


def test_update_exhibitor_compares_with_the_stored_row_not_the_callers_copy(site):
    exhibitor = services.add_exhibitor(site, fields=ACME)
    stale = Exhibitor.objects.get(pk=exhibitor.pk)
    services.update_exhibitor(exhibitor, fields={"booth": "H9"})
    aged(exhibitor)

    services.update_exhibitor(stale, fields={"booth": ACME["booth"]})

    assert row(exhibitor)[-1] == "H2-114"
    assert stale.booth == "H2-114"
    assert modified_at(exhibitor) > LONG_AGO


def test_update_exhibitor_empty_code_clears_it(site):
    exhibitor = services.add_exhibitor(site, fields=ACME)

    services.update_exhibitor(exhibitor, fields={"exhibitor_code": ""})

    assert row(exhibitor)[1] is None


def test_update_exhibitor_to_a_code_another_holds_is_a_conflict_and_writes_nothing(site):
    services.add_exhibitor(site, fields={"name": "Other", "exhibitor_code": "TAKEN"})
    exhibitor = aged(services.add_exhibitor(site, fields=ACME))

    with pytest.raises(Conflict) as conflict:
        services.update_exhibitor(exhibitor, fields={"exhibitor_code": "TAKEN", "booth": "X"})

    assert conflict.value.message == "exhibitorCode 'TAKEN' is already used by another exhibitor"
    assert row(Exhibitor.objects.get(pk=exhibitor.pk)) == (site.pk, *ACME.values())
    assert modified_at(exhibitor) == LONG_AGO


def test_update_exhibitor_code_index_catches_a_race_as_a_conflict(site, monkeypatch):
    services.add_exhibitor(site, fields={"name": "Other", "exhibitor_code": "TAKEN"})
    exhibitor = services.add_exhibitor(site, fields=ACME)
    monkeypatch.setattr(services, "_check_code", lambda *args, **kwargs: None)

    with pytest.raises(Conflict) as conflict:
        services.update_exhibitor(exhibitor, fields={"exhibitor_code": "TAKEN"})

    assert conflict.value.what == "exhibitorCode"
    assert row(exhibitor)[1] == "ACME-1"


def test_update_exhibitor_cannot_clear_the_name(site):
    exhibitor = services.add_exhibitor(site, fields=ACME)

    with pytest.raises(ValidationFailed) as refused:
        services.update_exhibitor(exhibitor, fields={"name": ""})

    assert (refused.value.what, refused.value.message) == ("name", "must not be empty")


def test_update_exhibitor_with_custom_values_only_moves_last_modified(site):
    field = create_field(
        site, record_type="exhibitor", code="hall", display_name="Hall", field_type="text"
    )
    exhibitor = aged(services.add_exhibitor(site, fields=ACME))

    services.update_exhibitor(exhibitor, assignments=[Assignment(field, ((None, "H2"),))])

    assert modified_at(exhibitor) > LONG_AGO
    assert list(Answer.objects.values_list("record_id", "text")) == [(exhibitor.pk, "H2")]


def test_update_exhibitor_fields_staff_and_files_in_one_call(site):
    ada = UserFactory(site=site)
    exhibitor = aged(services.add_exhibitor(site, fields=ACME))

    services.update_exhibitor(
        exhibitor, fields={"booth": "H1"}, participants=[(ada, "Lead")], files=[BROCHURE]
    )

    assert row(exhibitor)[-1] == "H1"
    assert staff(exhibitor) == [(ada.pk, "Lead", 0)]
    assert [f[0] for f in files(exhibitor)] == ["Brochure"]
    assert modified_at(exhibitor) > LONG_AGO


# --- cancelling --------------------------------------------------------------------------------


def test_cancel_exhibitor_keeps_the_record_its_staff_and_files(site):
    ada = UserFactory(site=site)
    exhibitor = aged(
        services.add_exhibitor(site, fields=ACME, participants=[(ada, "Lead")], files=[LOGO])
    )

    services.cancel_exhibitor(exhibitor)

    assert row(exhibitor) == (site.pk, *{**ACME, "status": "cancelled"}.values())
    assert exhibitor.status == "cancelled"
    assert modified_at(exhibitor) > LONG_AGO
    assert staff(exhibitor) == [(ada.pk, "Lead", 0)]
    assert len(files(exhibitor)) == 1


def test_cancelled_exhibitor_is_active_again_by_its_status(site):
    exhibitor = services.cancel_exhibitor(services.add_exhibitor(site, fields=ACME))

    services.update_exhibitor(exhibitor, fields={"status": "active"})

    assert row(exhibitor)[3] == "active"


# --- finding -----------------------------------------------------------------------------------


def test_get_exhibitor_by_id_or_code(site):
    exhibitor = ExhibitorFactory(site=site, exhibitor_code="ACME-1")

    assert services.get_exhibitor(site, exhibitor_id=exhibitor.pk) == exhibitor
    assert services.get_exhibitor(site, exhibitor_code="ACME-1") == exhibitor


def test_get_exhibitor_of_another_site_is_not_found(site):
    exhibitor = ExhibitorFactory(site=site_of(site.event, "uat"), exhibitor_code="ACME-1")

    with pytest.raises(NotFound) as by_id:
        services.get_exhibitor(site, exhibitor_id=exhibitor.pk)
    with pytest.raises(NotFound) as by_code:
        services.get_exhibitor(site, exhibitor_code="ACME-1")

    assert (by_id.value.what, by_id.value.message) == (
        "exhibitor",
        f"no exhibitor with exhibitorID {exhibitor.pk} on this site",
    )
    assert by_code.value.message == "no exhibitor with exhibitorCode 'ACME-1' on this site"
