"""programme/services/sessions.py: sessions, their abbreviation (the client ID), speakers and
files; cancelling a session frees its seats."""

import pytest

from confero.customfields.models import Answer
from confero.errors import Cancelled, Conflict, ValidationFailed
from confero.people.models import User
from confero.people.services import cancel_user
from confero.programme.models import Seat, Session, SessionFile, SessionTime, Speaker
from confero.programme.services import (
    FileSpec,
    add_session,
    schedule_session,
    set_files,
    set_speakers,
    update_session,
)
from confero.programme.services import sessions as services
from tests.factories import (
    EventFactory,
    SessionFactory,
    SessionTimeFactory,
    UserFactory,
    site_of,
)
from tests.programme.conftest import LONG_AGO, aged, counters, holding, modified

SLIDES = FileSpec("Slides", "application/pdf", 1_048_576, "https://cdn.example.org/k.pdf")
LOGO = FileSpec("Logo", "image/png", 2048, "https://cdn.example.org/logo.png")


# --- Adding and changing ---------------------------------------------------------------------


def test_add_session_stores_it_published_and_active(site):
    session = add_session(
        site,
        fields={"title": "Keynote", "abbreviation": "KEY", "abstract": "Why.", "type": "talk",
                "track": "Main"},
    )  # fmt: skip

    stored = Session.objects.filter(pk=session.pk).values().get()
    assert {k: v for k, v in stored.items() if k not in ("id", "created_at", "modified_at")} == {
        "site_id": site.pk,
        "abbreviation": "KEY",
        "title": "Keynote",
        "abstract": "Why.",
        "type": "talk",
        "track": "Main",
        "status": "active",
        "published": True,
    }
    assert stored["created_at"] == stored["modified_at"] == session.modified_at


def test_add_session_without_abbreviation_stores_none(site):
    first = add_session(site, fields={"title": "One", "abbreviation": ""})
    second = add_session(site, fields={"title": "Two"})

    assert list(Session.objects.values_list("pk", "abbreviation")) == [
        (first.pk, None),
        (second.pk, None),
    ]


def test_add_session_abbreviation_taken_is_a_conflict(site, session):
    with pytest.raises(Conflict) as conflict:
        add_session(site, fields={"title": "Other", "abbreviation": "KEY"})

    assert (conflict.value.what, conflict.value.message) == (
        "abbreviation",
        "abbreviation 'KEY' is already used by another session",
    )
    assert Session.objects.count() == 1


def test_add_session_abbreviation_of_another_site_is_free(session):
    other = add_session(site_of(EventFactory()), fields={"title": "K", "abbreviation": "KEY"})

    assert other.abbreviation == "KEY"


def test_add_session_abbreviation_index_catches_a_race_as_a_conflict(site, session, monkeypatch):
    monkeypatch.setattr(services, "_check_abbreviation", lambda *args, **kwargs: None)

    with pytest.raises(Conflict) as conflict:
        add_session(site, fields={"title": "Other", "abbreviation": "KEY"})

    assert conflict.value.what == "abbreviation"
    assert Session.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "what", "message"),
    [
        ({}, "title", "must not be empty"),
        ({"title": "  "}, "title", "must not be empty"),
        ({"title": "T" * 501}, "title", "at most 500 characters"),
        ({"title": "T", "abbreviation": "A" * 101}, "abbreviation", "at most 100 characters"),
        ({"title": "T", "published": "no"}, "published", "true or false"),
        ({"title": "T", "track": "\ufffe"}, "track",
         "contains the character U+FFFE, which XML cannot carry"),
        ({"title": "T", "status": "cancelled"}, "status", "a session is added active"),
    ],
)  # fmt: skip
def test_add_session_refuses_bad_values(site, fields, what, message):
    with pytest.raises(ValidationFailed) as failed:
        add_session(site, fields=fields)

    assert (failed.value.what, failed.value.message) == (what, message)
    assert Session.objects.count() == 0


def test_add_session_stores_its_custom_values(site, access_field):
    session = add_session(site, fields={"title": "T"}, assignments=holding(access_field, "pp"))

    assert list(
        Answer.objects.filter(record_type="session").values_list("record_id", "value__code")
    ) == [(session.pk, "pp")]


def test_update_session_changes_only_what_is_given(session):
    aged(session)

    updated = update_session(session, fields={"title": "Opening keynote", "published": False})

    assert (updated.title, updated.abbreviation, updated.published) == (
        "Opening keynote",
        "KEY",
        False,
    )
    assert updated.modified_at > LONG_AGO


def test_update_session_with_the_same_values_writes_nothing(session):
    aged(session)

    update_session(session, fields={"title": "Keynote", "abbreviation": "KEY"})

    assert modified(session) == LONG_AGO


def test_update_session_custom_values_alone_move_last_modified(session, access_field):
    aged(session)

    update_session(session, fields={}, assignments=holding(access_field, "cn"))

    assert modified(session) > LONG_AGO


def test_update_session_abbreviation_taken_is_a_conflict(site, session):
    other = SessionFactory(site=site, abbreviation="OTHER")

    with pytest.raises(Conflict) as conflict:
        update_session(other, fields={"abbreviation": "KEY", "title": "Changed"})

    assert conflict.value.what == "abbreviation"
    assert Session.objects.get(pk=other.pk).title == other.title


def test_update_session_cancelled_frees_the_seats_of_every_time(session, attendees):
    first = SessionTimeFactory(session=session, capacity=1, waitlist=True)
    second = SessionTimeFactory(session=session, date=first.date.replace(day=2))
    users = attendees(2)
    for user in users:
        schedule_session(user, first)
        schedule_session(user, second)
    aged(*users)

    update_session(session, fields={"status": "cancelled"})

    assert (counters(first), counters(second)) == ((0, 0), (0, 0))
    assert set(Seat.objects.values_list("status", "freed_because")) == {
        ("freed", "sessionCancelled")
    }
    assert [modified(user) > LONG_AGO for user in users] == [True, True]
    # The times stay as they were: the session can be made active again.
    assert [t.status for t in SessionTime.objects.order_by("pk")] == ["active", "active"]


def test_update_session_made_active_again_is_schedulable_with_empty_times(session, ada):
    time = SessionTimeFactory(session=session)
    schedule_session(ada, time)
    update_session(session, fields={"status": "cancelled"})

    update_session(session, fields={"status": "active"})

    assert schedule_session(ada, time).status == "scheduled"
    assert counters(time) == (1, 0)


def test_update_session_unpublished_keeps_the_seats(session, ada):
    time = SessionTimeFactory(session=session)
    schedule_session(ada, time)

    update_session(session, fields={"published": False})

    assert counters(time) == (1, 0)


# --- Speakers --------------------------------------------------------------------------------


def speakers_of(session) -> list[tuple[int, str, int]]:
    return list(
        Speaker.objects.filter(session=session)
        .order_by("position")
        .values_list("user_id", "role", "position")
    )


def test_set_speakers_replaces_the_set_in_order(session, attendees):
    ada, grace, alan = attendees(3)
    set_speakers(session, [(ada, "Moderator"), (grace, "Speaker")])

    set_speakers(session, [(alan, "Speaker"), (ada, "")])

    assert speakers_of(session) == [(alan.pk, "Speaker", 0), (ada.pk, "", 1)]


def test_set_speakers_moves_the_users_whose_part_changed_and_the_session(session, attendees):
    kept, dropped, recast, added = attendees(4)
    set_speakers(session, [(kept, "Speaker"), (dropped, "Speaker"), (recast, "Speaker")])
    aged(kept, dropped, recast, added, session)

    set_speakers(session, [(kept, "Speaker"), (recast, "Moderator"), (added, "Panelist")])

    # `recast` changed role; `added` joined; `dropped` left; `kept` kept role and place.
    assert [modified(user) > LONG_AGO for user in (kept, dropped, recast, added)] == [
        False,
        True,
        True,
        True,
    ]
    assert modified(session) > LONG_AGO


def test_set_speakers_the_same_writes_nothing(session, attendees):
    ada, grace = attendees(2)
    set_speakers(session, [(ada, "Moderator"), (grace, "Speaker")])
    aged(ada, grace, session)

    set_speakers(session, [(ada, "Moderator"), (grace, "Speaker")])

    assert [modified(r) for r in (ada, grace, session)] == [LONG_AGO] * 3


def test_set_speakers_of_another_site_is_refused(session):
    stranger = UserFactory(site=site_of(EventFactory()))

    with pytest.raises(ValidationFailed) as failed:
        set_speakers(session, [(stranger, "Speaker")])

    assert (failed.value.what, failed.value.message) == (
        "speaker",
        f"user {stranger.user_ref} is not a user of this site",
    )


def test_set_speakers_listing_a_user_twice_is_refused(session, ada):
    with pytest.raises(ValidationFailed) as failed:
        set_speakers(session, [(ada, "Speaker"), (ada, "Moderator")])

    assert failed.value.message == f"user {ada.user_ref} is listed twice"
    assert speakers_of(session) == []


def test_set_speakers_a_cancelled_user_cannot_become_one(session, attendees):
    ada, grace = attendees(2)
    cancel_user(grace)

    with pytest.raises(Cancelled) as cancelled:
        set_speakers(session, [(ada, "Speaker"), (User.objects.get(pk=grace.pk), "Speaker")])

    assert (cancelled.value.what, cancelled.value.message) == (
        "user",
        f"user {grace.user_ref} is cancelled",
    )
    assert speakers_of(session) == []


def test_set_speakers_a_cancelled_speaker_stays_one(session, attendees):
    ada, grace = attendees(2)
    set_speakers(session, [(grace, "Speaker")])
    cancel_user(grace)

    set_speakers(session, [(User.objects.get(pk=grace.pk), "Speaker"), (ada, "Moderator")])

    assert speakers_of(session) == [(grace.pk, "Speaker", 0), (ada.pk, "Moderator", 1)]


# --- Files -----------------------------------------------------------------------------------


def files_of(session) -> list[tuple]:
    return list(
        SessionFile.objects.filter(session=session)
        .order_by("position")
        .values_list("name", "type", "size", "url", "position")
    )


def test_set_files_replaces_the_set_in_order(session):
    set_files(session, [SLIDES])
    aged(session)

    set_files(session, [LOGO, SLIDES])

    assert files_of(session) == [
        ("Logo", "image/png", 2048, "https://cdn.example.org/logo.png", 0),
        ("Slides", "application/pdf", 1_048_576, "https://cdn.example.org/k.pdf", 1),
    ]
    assert modified(session) > LONG_AGO


def test_set_files_empty_clears_them(session):
    set_files(session, [SLIDES])

    set_files(session, [])

    assert files_of(session) == []


def test_set_files_the_same_writes_nothing(session):
    set_files(session, [SLIDES, LOGO])
    aged(session)

    set_files(session, [SLIDES, LOGO])

    assert modified(session) == LONG_AGO


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (FileSpec("Slides", "pdf", 1, "ftp://example.org/s.pdf"),
         "'ftp://example.org/s.pdf' is not an http(s) URL"),
        (FileSpec("Slides", "pdf", 1, "slides.pdf"), "'slides.pdf' is not an http(s) URL"),
        (FileSpec("Slides", "pdf", -1, "https://example.org/s.pdf"), "size: a number of bytes"),
        (FileSpec("", "pdf", 1, "https://example.org/s.pdf"), "must not be empty"),
        (FileSpec("Slides", "pdf", 1, ""), "must not be empty"),
    ],
)  # fmt: skip
def test_set_files_refuses_bad_files(session, spec, message):
    set_files(session, [SLIDES])

    with pytest.raises(ValidationFailed) as failed:
        set_files(session, [LOGO, spec])

    assert (failed.value.what, failed.value.message) == ("file", message)
    assert [row[0] for row in files_of(session)] == ["Slides"]
