"""people/profile.py: screenName and report-classification (contract §8.2)."""

import datetime as dt

import pytest

from confero.errors import ValidationFailed
from confero.people.models import User
from confero.people.profile import set_profile
from tests.factories import RegistrantFactory

LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def user(db):
    user = RegistrantFactory()
    User.objects.filter(pk=user.pk).update(modified_at=LONG_AGO)
    return User.objects.get(pk=user.pk)


def stored(user: User) -> tuple:
    return User.objects.values_list("screen_name", "report_classification").get(pk=user.pk)


def test_new_user_has_empty_screen_name_and_report_classification(user):
    assert stored(user) == ("", "")


def test_set_profile_sets_what_is_given_trimmed_and_moves_last_modified(user):
    set_profile(user, screen_name="  kat_j ")
    set_profile(user, report_classification="Press")

    assert stored(user) == ("kat_j", "Press")
    assert (user.screen_name, user.report_classification) == ("kat_j", "Press")
    assert User.objects.get(pk=user.pk).modified_at == user.modified_at > LONG_AGO


def test_set_profile_empty_clears(user):
    set_profile(user, screen_name="kat_j", report_classification="Press")

    set_profile(user, screen_name="")

    assert stored(user) == ("", "Press")


def test_set_profile_unchanged_moves_nothing(user):
    set_profile(user, screen_name="", report_classification=None)

    assert User.objects.get(pk=user.pk).modified_at == LONG_AGO


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"screen_name": "k" * 101}, "screenName takes at most 100 characters"),
        (
            {"screen_name": "ok", "report_classification": "r" * 101},
            "report-classification takes at most 100 characters",
        ),
    ],
)
def test_set_profile_too_long_is_refused_and_nothing_changes(user, given, message):
    with pytest.raises(ValidationFailed) as refused:
        set_profile(user, **given)

    assert refused.value.message == message
    assert stored(user) == ("", "")
