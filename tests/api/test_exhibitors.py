"""addExhibitor.do and updateExhibitor.do through HTTP (contract §5, §8.4): what they store, what
they answer, what they refuse — and that a refused call writes nothing. Staff and files:
test_exhibitors_staff_and_files.py; custom fields: test_exhibitors_custom_fields.py."""

import pytest

from confero.access.models import ApiCall
from confero.access.tokens import public_prefix
from confero.exhibitors.models import Exhibitor, ExhibitorFile, Participant
from tests.exhibitors.stored import aged, modified_at, row

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
ACME = {
    "exhibitorCode": "ACME-1",
    "name": "Acme Rockets",
    "status": "active",
    "type": "Gold sponsor",
    "description": "Rockets <b>and</b> anvils",
    "url": "https://acme.example.org/",
    "email": "booth@acme.example.org",
    "booth": "H2-114",
}


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


def answer_xml(exhibitor_id: int, code: str | None, custom: str = "") -> bytes:
    code_element = f"<exhibitorCode>{code}</exhibitorCode>" if code else "<exhibitorCode/>"
    return (
        DECLARATION
        + (
            '<api><response code="0">Success</response>'
            f"<exhibitorID>{exhibitor_id}</exhibitorID>{code_element}{custom}</api>"
        ).encode()
    )


def last_call() -> ApiCall:
    return ApiCall.objects.order_by("-id").first()


def nothing_written() -> bool:
    return not (
        Exhibitor.objects.exists() or Participant.objects.exists() or ExhibitorFile.objects.exists()
    )


@pytest.fixture
def acme(live) -> Exhibitor:
    """Acme Rockets, added through the API, last modified long ago."""
    result = live.call("addExhibitor", ACME)
    assert result.code == 0, result.body
    return aged(Exhibitor.objects.get(exhibitor_code="ACME-1"))


# --- addExhibitor.do -----------------------------------------------------------------------------


def test_add_exhibitor_stores_every_field_and_answers_with_its_ids(live, live_site):
    result = live.call("addExhibitor", ACME)

    exhibitor = Exhibitor.objects.get()
    assert (result.status, result.body) == (200, answer_xml(exhibitor.pk, "ACME-1"))
    assert result.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert row(exhibitor) == (live_site.site.pk, *ACME.values())
    call = last_call()
    assert (call.resource, call.code, call.http_status, call.site_id, call.token_prefix) == (
        "addExhibitor",
        0,
        200,
        live_site.site.pk,
        public_prefix(live_site.token),
    )


def test_add_exhibitor_with_only_a_name_has_no_code(live, live_site):
    result = live.call("addExhibitor", {"name": "Acme", "exhibitorCode": ""})

    exhibitor = Exhibitor.objects.get()
    assert result.body == answer_xml(exhibitor.pk, None)
    assert row(exhibitor) == (live_site.site.pk, None, "Acme", "active", "", "", "", "", "")


def test_add_exhibitor_many_without_a_code_is_allowed(live):
    for name in ("One", "Two"):
        assert live.call("addExhibitor", {"name": name}).code == 0

    assert list(Exhibitor.objects.values_list("name", "exhibitor_code")) == [
        ("One", None),
        ("Two", None),
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "parameter 'name' is required"),
        ({"name": ""}, "parameter 'name' is required (it is empty)"),
    ],
)
def test_add_exhibitor_without_a_name_is_refused_with_200(live, params, message):
    result = live.call("addExhibitor", {"exhibitorCode": "X", **params})

    assert (result.status, result.body) == (400, error_xml(200, message))
    assert nothing_written()


def test_add_exhibitor_with_a_code_already_used_is_refused_with_231(live, acme):
    result = live.call("addExhibitor", {"name": "Other", "exhibitorCode": "ACME-1"})

    assert (result.status, result.body) == (
        409,
        error_xml(231, "exhibitorCode 'ACME-1' is already used by another exhibitor"),
    )
    assert list(Exhibitor.objects.values_list("name", flat=True)) == ["Acme Rockets"]
    assert (last_call().resource, last_call().code) == ("addExhibitor", 231)


def test_add_exhibitor_with_a_code_of_a_cancelled_exhibitor_is_refused_with_231(live, acme):
    assert (
        live.call("updateExhibitor", {"exhibitorCode": "ACME-1", "status": "cancelled"}).code == 0
    )

    result = live.call("addExhibitor", {"name": "Other", "exhibitorCode": "ACME-1"})

    assert (result.status, result.code) == (409, 231)


def test_add_exhibitor_same_code_on_the_other_site_is_another_exhibitor(api, live, uat_site, acme):
    result = api.call(
        uat_site.url("addExhibitor"),
        {"apiToken": uat_site.token, "name": "Acme (test)", "exhibitorCode": "ACME-1"},
    )

    assert result.code == 0
    assert sorted(Exhibitor.objects.values_list("site_id", "name")) == sorted(
        [(acme.site_id, "Acme Rockets"), (uat_site.site.pk, "Acme (test)")]
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "deleted"}, "parameter 'status' must be one of active, cancelled"),
        ({"email": "booth"}, "parameter 'email' must be an email address"),
        ({"name": "n" * 201}, "parameter 'name' must be at most 200 characters"),
        ({"booth": "b" * 101}, "parameter 'booth' must be at most 100 characters"),
        ({"exhibitorCode": "c" * 101}, "parameter 'exhibitorCode' must be at most 100 characters"),
        ({"url": "u" * 2001}, "parameter 'url' must be at most 2000 characters"),
        ({"booth": ["A", "B"]}, "parameter 'booth' is repeated; send it once"),
        (
            {"description": "Bell \x07"},
            "parameter 'description' contains the character U+0007, which XML cannot carry",
        ),
    ],
)
def test_add_exhibitor_with_a_value_breaking_a_rule_is_refused_with_201(live, params, message):
    result = live.call("addExhibitor", {"name": "Acme", **params})

    assert (result.status, result.body) == (400, error_xml(201, message))
    assert nothing_written()


@pytest.mark.parametrize("name", ["userKey", "clientID", "userRef", "exhibitorID", "shoeSize"])
def test_add_exhibitor_with_a_parameter_it_does_not_take_is_refused_as_an_unknown_field(live, name):
    """Undeclared parameters of a writing resource are custom field codes (§2): the acting
    parameters and updateExhibitor's exhibitorID are none, and can never become one."""
    result = live.call("addExhibitor", {"name": "Acme", name: "x"})

    assert (result.status, result.body) == (
        400,
        error_xml(300, f"unknown custom field code '{name}'"),
    )
    assert nothing_written()


def test_add_exhibitor_as_json(live):
    result = live.call("addExhibitor", {"name": "Acme", "exhibitorCode": "A", "format": "json"})

    exhibitor = Exhibitor.objects.get()
    assert (
        result.body
        == (
            '{"api": {"response": {"code": 0, "message": "Success"}, '
            f'"exhibitorID": {exhibitor.pk}, "exhibitorCode": "A"}}}}'
        ).encode()
    )


# --- updateExhibitor.do: naming the exhibitor ----------------------------------------------------


@pytest.mark.parametrize(
    "names",
    [
        lambda e: {"exhibitorID": str(e.pk)},
        lambda e: {"exhibitorCode": "ACME-1"},
        lambda e: {"exhibitorID": str(e.pk), "exhibitorCode": "ACME-1"},
    ],
    ids=["exhibitorID", "exhibitorCode", "both"],
)
def test_update_exhibitor_by_each_id_changes_what_is_sent(live, live_site, acme, names):
    result = live.call("updateExhibitor", {**names(acme), "booth": "H3-001", "type": ""})

    assert (result.status, result.body) == (200, answer_xml(acme.pk, "ACME-1"))
    expected = {**ACME, "booth": "H3-001", "type": ""}
    assert row(acme) == (live_site.site.pk, *expected.values())
    assert modified_at(acme) > acme.modified_at


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"exhibitorID": "999999"}, "no exhibitor with exhibitorID 999999 on this site"),
        ({"exhibitorCode": "NOPE"}, "no exhibitor with exhibitorCode 'NOPE' on this site"),
    ],
)
def test_update_exhibitor_unknown_is_refused_with_230(live, acme, params, message):
    result = live.call("updateExhibitor", {**params, "booth": "X"})

    assert (result.status, result.body) == (404, error_xml(230, message))
    assert modified_at(acme) == acme.modified_at


def test_update_exhibitor_of_the_other_site_is_not_found(api, live, uat_site, acme):
    result = api.call(
        uat_site.url("updateExhibitor"),
        {"apiToken": uat_site.token, "exhibitorID": str(acme.pk), "booth": "X"},
    )

    assert (result.status, result.code) == (404, 230)
    assert row(acme)[-1] == "H2-114"


def test_update_exhibitor_ids_naming_two_exhibitors_is_refused_with_201(live, acme):
    other = live.call("addExhibitor", {"name": "Other", "exhibitorCode": "OTHER"})

    result = live.call(
        "updateExhibitor",
        {"exhibitorID": other.xml.findtext("exhibitorID"), "exhibitorCode": "ACME-1", "booth": "X"},
    )

    assert (result.status, result.body) == (
        400,
        error_xml(201, "exhibitorID and exhibitorCode name different exhibitors"),
    )
    assert list(Exhibitor.objects.values_list("booth", flat=True)) == ["H2-114", ""]


@pytest.mark.parametrize("params", [{}, {"exhibitorCode": ""}, {"exhibitorID": ""}])
def test_update_exhibitor_without_an_id_is_refused_with_200(live, acme, params):
    result = live.call("updateExhibitor", {**params, "booth": "X"})

    assert (result.status, result.body) == (
        400,
        error_xml(200, "parameter 'exhibitorID' or 'exhibitorCode' is required"),
    )


@pytest.mark.parametrize("value", ["ACME-1", "0", "-3", "1.5"])
def test_update_exhibitor_id_not_a_positive_number_is_refused_with_201(live, acme, value):
    result = live.call("updateExhibitor", {"exhibitorID": value})

    assert result.status == 400
    assert result.code == 201
    assert result.message.startswith("parameter 'exhibitorID' must be a whole number")


# --- updateExhibitor.do: what changes ------------------------------------------------------------


def test_update_exhibitor_sending_what_is_stored_changes_nothing(live, live_site, acme):
    result = live.call("updateExhibitor", {"exhibitorID": str(acme.pk), **ACME})

    assert result.body == answer_xml(acme.pk, "ACME-1")
    assert modified_at(acme) == acme.modified_at


def test_update_exhibitor_new_code_changes_it_and_empty_clears_it(live, acme):
    changed = live.call("updateExhibitor", {"exhibitorCode": "ACME-1", "newExhibitorCode": "A-2"})
    cleared = live.call("updateExhibitor", {"exhibitorCode": "A-2", "newExhibitorCode": ""})

    assert changed.body == answer_xml(acme.pk, "A-2")
    assert cleared.body == answer_xml(acme.pk, None)
    assert Exhibitor.objects.get().exhibitor_code is None


def test_update_exhibitor_new_code_used_by_another_is_refused_with_231(live, acme):
    live.call("addExhibitor", {"name": "Other", "exhibitorCode": "OTHER"})

    result = live.call("updateExhibitor", {"exhibitorCode": "ACME-1", "newExhibitorCode": "OTHER"})

    assert (result.status, result.body) == (
        409,
        error_xml(231, "exhibitorCode 'OTHER' is already used by another exhibitor"),
    )
    assert sorted(Exhibitor.objects.values_list("exhibitor_code", flat=True)) == ["ACME-1", "OTHER"]


def test_update_exhibitor_empty_name_is_refused_with_201(live, acme):
    result = live.call("updateExhibitor", {"exhibitorCode": "ACME-1", "name": "", "booth": "X"})

    assert (result.status, result.body) == (
        400,
        error_xml(201, "parameter 'name': must not be empty"),
    )
    assert row(acme)[2:] == ("Acme Rockets", "active", "Gold sponsor", *list(ACME.values())[4:])


def test_update_exhibitor_status_cancels_and_reactivates_it(live, acme):
    cancelled = live.call("updateExhibitor", {"exhibitorCode": "ACME-1", "status": "cancelled"})
    stored = Exhibitor.objects.get().status
    active = live.call("updateExhibitor", {"exhibitorCode": "ACME-1", "status": "active"})

    assert (cancelled.code, stored, active.code) == (0, "cancelled", 0)
    assert Exhibitor.objects.get().status == "active"


def test_update_exhibitor_a_cancelled_one_can_still_be_changed(live, acme):
    live.call("updateExhibitor", {"exhibitorCode": "ACME-1", "status": "cancelled"})

    result = live.call("updateExhibitor", {"exhibitorCode": "ACME-1", "booth": "gone"})

    assert result.code == 0
    assert Exhibitor.objects.values_list("status", "booth").get() == ("cancelled", "gone")


def test_update_exhibitor_empty_status_changes_nothing(live, acme):
    result = live.call("updateExhibitor", {"exhibitorCode": "ACME-1", "status": ""})

    assert result.code == 0
    assert modified_at(acme) == acme.modified_at


def test_update_exhibitor_refused_writes_nothing_and_logs_the_code(live, acme):
    """One call, one transaction: a valid field and a refused one in the same call."""
    result = live.call(
        "updateExhibitor", {"exhibitorCode": "ACME-1", "booth": "New", "email": "not-an-email"}
    )

    assert (result.status, result.code) == (400, 201)
    assert row(acme)[-1] == "H2-114"
    assert modified_at(acme) == acme.modified_at
    assert (last_call().resource, last_call().code) == ("updateExhibitor", 201)


def test_update_exhibitor_on_a_uat_site_with_a_production_token_is_refused(api, live, uat_site):
    result = api.call(uat_site.url("updateExhibitor"), {"apiToken": live.site.token})

    assert (result.status, result.code) == (401, 101)
