"""Booth staff (`participant` by userRef, `participantRole`) and files (`file` as
name|type|size|url[|description]) on addExhibitor.do and updateExhibitor.do (contract §8.3
"Files", §8.4; decisions in docs/api.md, Exhibitors and messages)."""

import pytest

from confero.exhibitors.models import Exhibitor
from tests.exhibitors.stored import aged, files, modified_at, staff

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
BROCHURE = "Brochure|application/pdf|48213|https://cdn.example.org/b.pdf"
FORM = "name|type|size|url"
LOGO = "Logo|image/png|2048|https://cdn.example.org/logo.png|Square, 512 px | transparent"


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


@pytest.fixture
def people(live):
    """Ada, Grace and Alan: active users of the live site."""
    return [
        live.add_user(firstName=first, email=f"{first.lower()}@example.org")
        for first in ("Ada", "Grace", "Alan")
    ]


@pytest.fixture
def acme(live, people) -> Exhibitor:
    """Acme with Ada (Lead) and Grace (Sales) on its booth and a brochure; modified long ago."""
    ada, grace, _ = people
    result = live.call(
        "addExhibitor",
        {
            "name": "Acme",
            "exhibitorCode": "ACME-1",
            "participant": [ada.user_ref, grace.user_ref],
            "participantRole": ["Lead", "Sales"],
            "file": BROCHURE,
        },
    )
    assert result.code == 0, result.body
    return aged(Exhibitor.objects.get())


# --- Participants ---------------------------------------------------------------------------------


def test_add_exhibitor_with_staff_by_user_ref_in_the_order_sent(live, people):
    ada, grace, alan = people

    result = live.call(
        "addExhibitor",
        {
            "name": "Acme",
            "participant": [alan.user_ref, ada.user_ref.lower(), grace.user_ref],
            "participantRole": ["Engineer", "Lead", ""],
        },
    )

    assert result.code == 0
    assert staff(Exhibitor.objects.get()) == [
        (alan.pk, "Engineer", 0),
        (ada.pk, "Lead", 1),
        (grace.pk, "", 2),
    ]


def test_one_participant_role_is_the_role_of_every_participant(live, people):
    ada, grace, _ = people

    live.call(
        "addExhibitor",
        {"name": "Acme", "participant": [ada.user_ref, grace.user_ref], "participantRole": "Staff"},
    )

    assert staff(Exhibitor.objects.get()) == [(ada.pk, "Staff", 0), (grace.pk, "Staff", 1)]


def test_participants_without_roles_have_none(live, people):
    ada, grace, _ = people

    live.call("addExhibitor", {"name": "Acme", "participant": [ada.user_ref, grace.user_ref]})

    assert staff(Exhibitor.objects.get()) == [(ada.pk, "", 0), (grace.pk, "", 1)]


def test_participant_roles_neither_one_nor_one_each_are_refused_with_201(live, people):
    ada, grace, alan = people

    result = live.call(
        "addExhibitor",
        {
            "name": "Acme",
            "participant": [ada.user_ref, grace.user_ref, alan.user_ref],
            "participantRole": ["Lead", "Sales"],
        },
    )

    assert (result.status, result.body) == (
        400,
        error_xml(
            201,
            "parameter 'participantRole' must be sent once (every participant's role) or once "
            "per participant (3 times), not 2 times",
        ),
    )
    assert not Exhibitor.objects.exists()


@pytest.mark.parametrize("participant", [None, ""], ids=["absent", "empty"])
def test_participant_role_without_participants_is_refused_with_201(live, participant):
    params = {"name": "Acme", "participantRole": "Lead"}
    if participant is not None:
        params["participant"] = participant

    result = live.call("addExhibitor", params)

    assert (result.status, result.body) == (
        400,
        error_xml(201, "parameter 'participantRole' needs participants"),
    )


@pytest.mark.parametrize("ref", ["0123456789ABCDEF", "nothex", "0123456789ABCDE"])
def test_participant_unknown_user_ref_is_refused_with_210(live, people, ref):
    result = live.call("addExhibitor", {"name": "Acme", "participant": [people[0].user_ref, ref]})

    assert (result.status, result.body) == (
        404,
        error_xml(210, f"no user with userRef '{ref}' on this site"),
    )
    assert not Exhibitor.objects.exists()


def test_participant_of_the_other_site_is_refused_with_210(api, live, uat_site):
    """A userRef names a user of one site: the same person registered on UAT is not staff here."""
    tester = api.call(
        uat_site.url("addUser"),
        {"apiToken": uat_site.token, "firstName": "T", "lastName": "T", "email": "t@example.org"},
    ).xml.findtext("userRef")

    result = live.call("addExhibitor", {"name": "Acme", "participant": tester})

    assert (result.status, result.code) == (404, 210)


def test_participant_cancelled_is_refused_with_215(live, people):
    ada = people[0]
    live.call("cancelUser", {"userKey": ada.user_key})

    result = live.call("addExhibitor", {"name": "Acme", "participant": ada.user_ref})

    assert (result.status, result.body) == (
        409,
        error_xml(215, f"user '{ada.user_ref}' is cancelled"),
    )


def test_participant_named_twice_is_refused_with_201(live, people):
    ada = people[0]

    result = live.call(
        "addExhibitor", {"name": "Acme", "participant": [ada.user_ref, ada.user_ref.lower()]}
    )

    assert (result.status, result.body) == (
        400,
        error_xml(201, f"parameter 'participant': userRef '{ada.user_ref}' is named twice"),
    )


def test_participant_user_key_is_not_a_user_ref(live, people):
    """Staff are named by the secondary ID only: a userKey names nobody there."""
    ada = people[0]

    result = live.call("addExhibitor", {"name": "Acme", "participant": ada.user_key})

    assert (result.status, result.body) == (
        400,
        error_xml(201, "parameter 'participant' must be at most 16 characters"),
    )


def test_update_exhibitor_participants_replace_the_staff(live, people, acme):
    ada, _, alan = people

    result = live.call(
        "updateExhibitor",
        {"exhibitorCode": "ACME-1", "participant": [alan.user_ref, ada.user_ref]},
    )

    assert result.code == 0
    assert staff(acme) == [(alan.pk, "", 0), (ada.pk, "", 1)]
    assert modified_at(acme) > acme.modified_at


def test_update_exhibitor_empty_participant_removes_the_staff(live, acme):
    result = live.call("updateExhibitor", {"exhibitorCode": "ACME-1", "participant": ""})

    assert result.code == 0
    assert staff(acme) == []


def test_update_exhibitor_without_participant_keeps_the_staff(live, people, acme):
    ada, grace, _ = people

    live.call("updateExhibitor", {"exhibitorCode": "ACME-1", "booth": "B1"})

    assert staff(acme) == [(ada.pk, "Lead", 0), (grace.pk, "Sales", 1)]


def test_update_exhibitor_same_staff_changes_nothing(live, people, acme):
    ada, grace, _ = people

    result = live.call(
        "updateExhibitor",
        {
            "exhibitorCode": "ACME-1",
            "participant": [ada.user_ref, grace.user_ref],
            "participantRole": ["Lead", "Sales"],
        },
    )

    assert result.code == 0
    assert modified_at(acme) == acme.modified_at


def test_update_exhibitor_empty_participant_among_others_is_refused_with_201(live, people, acme):
    result = live.call(
        "updateExhibitor", {"exhibitorCode": "ACME-1", "participant": [people[2].user_ref, ""]}
    )

    assert (result.status, result.body) == (
        400,
        error_xml(
            201,
            "parameter 'participant' must be a userRef (empty only alone, to remove every one)",
        ),
    )
    assert len(staff(acme)) == 2


def test_cancelled_user_leaves_the_booth_and_the_exhibitor_moves(live, people, acme):
    ada, grace, _ = people

    live.call("cancelUser", {"userKey": ada.user_key})

    assert staff(acme) == [(grace.pk, "Sales", 1)]
    assert modified_at(acme) > acme.modified_at


# --- Files ----------------------------------------------------------------------------------------


def test_add_exhibitor_files_in_the_order_sent_with_an_optional_description(live):
    result = live.call("addExhibitor", {"name": "Acme", "file": [LOGO, BROCHURE]})

    assert result.code == 0
    assert files(Exhibitor.objects.get()) == [
        (
            "Logo",
            "image/png",
            2048,
            "https://cdn.example.org/logo.png",
            "Square, 512 px | transparent",
            0,
        ),
        ("Brochure", "application/pdf", 48213, "https://cdn.example.org/b.pdf", "", 1),
    ]


def test_file_parts_are_trimmed_and_type_may_be_empty(live):
    live.call("addExhibitor", {"name": "Acme", "file": " Map | | 0 | https://x.org/m | "})

    assert files(Exhibitor.objects.get()) == [("Map", "", 0, "https://x.org/m", "", 0)]


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("Brochure|pdf|12", f"{FORM} (four parts separated by '|')"),
        ("Brochure", f"{FORM} (four parts separated by '|')"),
        ("|pdf|12|https://x.org/b", f"{FORM} with a name and a url"),
        ("Brochure|pdf|12|", f"{FORM} with a name and a url"),
        ("Brochure|pdf|12 kB|https://x.org/b", f"{FORM} with the size in bytes (a whole number)"),
        ("Brochure|pdf|-1|https://x.org/b", f"{FORM} with the size in bytes (a whole number)"),
    ],
)  # fmt: skip
def test_file_not_in_the_form_name_type_size_url_is_refused_with_201(live, value, rule):
    result = live.call("addExhibitor", {"name": "Acme", "file": [BROCHURE, value]})

    assert (result.status, result.body) == (400, error_xml(201, f"parameter 'file' must be {rule}"))
    assert not Exhibitor.objects.exists()


def test_file_name_too_long_is_refused_with_201(live):
    result = live.call("addExhibitor", {"name": "Acme", "file": f"{'n' * 201}|pdf|1|https://x.org"})

    assert (result.status, result.body) == (
        400,
        error_xml(201, "parameter 'file': at most 200 characters"),
    )


def test_update_exhibitor_files_replace_the_set(live, acme):
    result = live.call("updateExhibitor", {"exhibitorCode": "ACME-1", "file": LOGO})

    assert result.code == 0
    assert [f[0] for f in files(acme)] == ["Logo"]
    assert modified_at(acme) > acme.modified_at


def test_update_exhibitor_empty_file_removes_every_file(live, acme):
    result = live.call("updateExhibitor", {"exhibitorCode": "ACME-1", "file": ""})

    assert result.code == 0
    assert files(acme) == []


def test_update_exhibitor_empty_file_among_others_is_refused_with_201(live, acme):
    result = live.call("updateExhibitor", {"exhibitorCode": "ACME-1", "file": [LOGO, ""]})

    assert (result.status, result.body) == (
        400,
        error_xml(
            201,
            "parameter 'file' must be name|type|size|url (empty only alone, to remove every file)",
        ),
    )
    assert [f[0] for f in files(acme)] == ["Brochure"]


def test_update_exhibitor_same_files_change_nothing(live, acme):
    result = live.call("updateExhibitor", {"exhibitorCode": "ACME-1", "file": BROCHURE})

    assert result.code == 0
    assert modified_at(acme) == acme.modified_at
