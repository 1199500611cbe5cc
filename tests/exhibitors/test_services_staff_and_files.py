"""exhibitors/services.py: booth staff and files, replaced as sets, at service level."""

import pytest

from confero.errors import Cancelled, NotFound, ValidationFailed
from confero.exhibitors import services
from confero.exhibitors.models import ExhibitorFile, Participant
from confero.exhibitors.services import FileSpec
from confero.people.services import cancel_user
from tests.exhibitors.stored import (
    ACME,
    BROCHURE,
    LOGO,
    LONG_AGO,
    aged,
    files,
    modified_at,
    staff,
)
from tests.factories import UserFactory, site_of

# --- participants ------------------------------------------------------------------------------


def test_set_participants_replaces_the_set_and_moves_last_modified(site):
    ada, grace, kat = (UserFactory(site=site) for _ in range(3))
    exhibitor = aged(
        services.add_exhibitor(site, fields=ACME, participants=[(ada, "Lead"), (grace, "")])
    )

    services.set_participants(exhibitor, [(kat, "Demo"), (ada, "Sales")])

    assert staff(exhibitor) == [(kat.pk, "Demo", 0), (ada.pk, "Sales", 1)]
    assert modified_at(exhibitor) > LONG_AGO


def test_set_participants_with_only_a_role_changed_moves_last_modified(site):
    ada = UserFactory(site=site)
    exhibitor = aged(services.add_exhibitor(site, fields=ACME, participants=[(ada, "Lead")]))

    services.set_participants(exhibitor, [(ada, "Sales")])

    assert staff(exhibitor) == [(ada.pk, "Sales", 0)]
    assert modified_at(exhibitor) > LONG_AGO


def test_set_participants_same_set_writes_nothing(site):
    ada, grace = UserFactory(site=site), UserFactory(site=site)
    exhibitor = services.add_exhibitor(site, fields=ACME, participants=[(ada, "Lead"), (grace, "")])
    ids = list(Participant.objects.order_by("pk").values_list("pk", flat=True))
    aged(exhibitor)

    services.set_participants(exhibitor, [(ada, "Lead"), (grace, "")])

    assert list(Participant.objects.order_by("pk").values_list("pk", flat=True)) == ids
    assert modified_at(exhibitor) == LONG_AGO


def test_set_participants_in_another_order_is_a_change(site):
    ada, grace = UserFactory(site=site), UserFactory(site=site)
    exhibitor = aged(
        services.add_exhibitor(site, fields=ACME, participants=[(ada, ""), (grace, "")])
    )

    services.set_participants(exhibitor, [(grace, ""), (ada, "")])

    assert staff(exhibitor) == [(grace.pk, "", 0), (ada.pk, "", 1)]
    assert modified_at(exhibitor) > LONG_AGO


def test_set_participants_empty_list_empties_the_booth(site):
    exhibitor = aged(
        services.add_exhibitor(site, fields=ACME, participants=[(UserFactory(site=site), "")])
    )

    services.set_participants(exhibitor, [])

    assert staff(exhibitor) == []
    assert modified_at(exhibitor) > LONG_AGO


def test_set_participants_user_of_another_site_is_not_found_and_nothing_changes(site):
    ada = UserFactory(site=site)
    stranger = UserFactory(site=site_of(site.event, "uat"))
    exhibitor = aged(services.add_exhibitor(site, fields=ACME, participants=[(ada, "Lead")]))

    with pytest.raises(NotFound) as not_found:
        services.set_participants(exhibitor, [(ada, "Lead"), (stranger, "")])

    assert (not_found.value.what, not_found.value.message) == (
        "user",
        f"no user with userRef '{stranger.user_ref}' on this site",
    )
    assert staff(exhibitor) == [(ada.pk, "Lead", 0)]
    assert modified_at(exhibitor) == LONG_AGO


def test_set_participants_cancelled_user_is_refused(site):
    ada = cancel_user(UserFactory(site=site))
    exhibitor = services.add_exhibitor(site, fields=ACME)

    with pytest.raises(Cancelled) as cancelled:
        services.set_participants(exhibitor, [(ada, "")])

    assert (cancelled.value.what, cancelled.value.message) == (
        "user",
        f"user '{ada.user_ref}' is cancelled",
    )
    assert staff(exhibitor) == []


def test_set_participants_reads_the_users_status_as_stored(site):
    ada = UserFactory(site=site)
    cancel_user(type(ada).objects.get(pk=ada.pk))  # the caller's copy still says active
    exhibitor = services.add_exhibitor(site, fields=ACME)

    with pytest.raises(Cancelled):
        services.set_participants(exhibitor, [(ada, "")])


def test_set_participants_same_user_twice_is_refused(site):
    ada = UserFactory(site=site)
    exhibitor = services.add_exhibitor(site, fields=ACME)

    with pytest.raises(ValidationFailed) as refused:
        services.set_participants(exhibitor, [(ada, "Lead"), (ada, "Sales")])

    assert (refused.value.what, refused.value.message) == (
        "participant",
        f"userRef '{ada.user_ref}' is named twice",
    )


def test_set_participants_role_too_long_is_refused(site):
    exhibitor = services.add_exhibitor(site, fields=ACME)

    with pytest.raises(ValidationFailed) as refused:
        services.set_participants(exhibitor, [(UserFactory(site=site), "r" * 101)])

    assert (refused.value.what, refused.value.message) == (
        "participantRole",
        "at most 100 characters",
    )


def test_cancelled_user_leaves_every_booth_and_those_exhibitors_move(site):
    ada, grace = UserFactory(site=site), UserFactory(site=site)
    first = aged(services.add_exhibitor(site, fields={"name": "A"}, participants=[(ada, "x")]))
    second = aged(
        services.add_exhibitor(site, fields={"name": "B"}, participants=[(grace, ""), (ada, "")])
    )
    elsewhere = aged(services.add_exhibitor(site, fields={"name": "C"}, participants=[(grace, "")]))

    cancel_user(ada)

    assert (staff(first), staff(second), staff(elsewhere)) == (
        [],
        [(grace.pk, "", 0)],
        [(grace.pk, "", 0)],
    )
    assert modified_at(first) > LONG_AGO
    assert modified_at(second) > LONG_AGO
    assert modified_at(elsewhere) == LONG_AGO


# --- files -------------------------------------------------------------------------------------


def test_set_files_replaces_the_set_and_moves_last_modified(site):
    exhibitor = aged(services.add_exhibitor(site, fields=ACME, files=[BROCHURE]))

    services.set_files(exhibitor, [LOGO])

    assert files(exhibitor) == [
        ("Logo", "png", 2048, "https://cdn.example.org/logo.png", "Square, 512 px", 0)
    ]
    assert modified_at(exhibitor) > LONG_AGO


def test_set_files_same_set_writes_nothing(site):
    exhibitor = aged(services.add_exhibitor(site, fields=ACME, files=[BROCHURE, LOGO]))
    ids = list(ExhibitorFile.objects.order_by("pk").values_list("pk", flat=True))

    services.set_files(exhibitor, [BROCHURE, LOGO])

    assert list(ExhibitorFile.objects.order_by("pk").values_list("pk", flat=True)) == ids
    assert modified_at(exhibitor) == LONG_AGO


def test_set_files_empty_list_removes_them(site):
    exhibitor = aged(services.add_exhibitor(site, fields=ACME, files=[BROCHURE]))

    services.set_files(exhibitor, [])

    assert files(exhibitor) == []
    assert modified_at(exhibitor) > LONG_AGO


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (FileSpec(display_name=" ", url="https://x.example/"), "a file needs a name"),
        (FileSpec(display_name="Deck", url=""), "file 'Deck' needs a url"),
        (
            FileSpec(display_name="Deck", url="https://x.example/", size=-1),
            "file 'Deck': size is not negative",
        ),
        (FileSpec(display_name="Deck", url="https://x.example/", type="t" * 101), None),
    ],
)
def test_set_files_with_a_file_that_cannot_be_stored_is_refused(site, spec, message):
    exhibitor = aged(services.add_exhibitor(site, fields=ACME, files=[BROCHURE]))

    with pytest.raises(ValidationFailed) as refused:
        services.set_files(exhibitor, [LOGO, spec])

    assert (refused.value.what, refused.value.message) == (
        "file",
        message or "at most 100 characters",
    )
    assert [f[0] for f in files(exhibitor)] == ["Brochure"]
    assert modified_at(exhibitor) == LONG_AGO
