"""people/services.py: the one write path for users. What the API tests cannot reach: the
database's unique indexes as the last word when two calls race past the checks."""

import datetime as dt

import pytest

from confero.customfields.models import Answer
from confero.customfields.services import Assignment, create_field
from confero.errors import Conflict
from confero.people import services
from confero.people.models import User
from tests.factories import EventFactory, site_of

LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
ADA = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org"}


@pytest.fixture
def site(db):
    return site_of(EventFactory())


@pytest.fixture
def racing(monkeypatch):
    """The checks a concurrent call could slip past are skipped: only the indexes remain."""
    monkeypatch.setattr(services, "check_unique", lambda *args, **kwargs: None)


def aged(user: User) -> User:
    User.objects.filter(pk=user.pk).update(modified_at=LONG_AGO)
    return User.objects.get(pk=user.pk)


def test_add_user_stamps_created_and_modified_from_the_database_clock(site):
    user = services.add_user(site, fields=ADA)

    stored = User.objects.get(pk=user.pk)
    assert stored.created_at == stored.modified_at
    assert abs(stored.created_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


@pytest.mark.usefixtures("racing")
def test_add_user_email_index_catches_a_race_as_a_conflict(site):
    services.add_user(site, fields=ADA)

    with pytest.raises(Conflict) as conflict:
        services.add_user(site, fields={**ADA, "email": "ADA@example.org"})

    assert (conflict.value.field, conflict.value.message) == (
        "email",
        "email 'ADA@example.org' is already used by another active user",
    )
    assert User.objects.count() == 1


@pytest.mark.usefixtures("racing")
def test_add_user_client_id_index_catches_a_race_as_a_conflict(site):
    services.add_user(site, fields={**ADA, "client_id": "CRM-1"})

    with pytest.raises(Conflict) as conflict:
        services.add_user(site, fields={**ADA, "email": "b@example.org", "client_id": "CRM-1"})

    assert conflict.value.field == "clientID"
    assert User.objects.count() == 1


@pytest.mark.usefixtures("racing")
def test_update_user_email_index_catches_a_race_as_a_conflict(site):
    services.add_user(site, fields=ADA)
    grace = services.add_user(site, fields={**ADA, "email": "grace@example.org"})

    with pytest.raises(Conflict) as conflict:
        services.update_user(grace, fields={"email": "ada@example.org", "city": "London"})

    assert conflict.value.field == "email"
    assert User.objects.filter(pk=grace.pk).values_list("email", "city").get() == (
        "grace@example.org",
        "",
    )


def test_cancelled_users_do_not_hold_their_email_in_the_index(site):
    ada = services.add_user(site, fields=ADA)
    services.cancel_user(ada)

    again = services.add_user(site, fields=ADA)

    assert list(User.objects.order_by("pk").values_list("pk", "status")) == [
        (ada.pk, "cancelled"),
        (again.pk, "active"),
    ]


def test_update_user_with_custom_values_only_moves_last_modified(site):
    field = create_field(site, record_type="user", code="notes", display_name="Notes",
                         field_type="text")  # fmt: skip
    user = aged(services.add_user(site, fields=ADA))

    services.update_user(user, fields={}, assignments=[Assignment(field, ((None, "hi"),))])

    assert User.objects.get(pk=user.pk).modified_at > LONG_AGO
    assert list(Answer.objects.values_list("record_id", "text")) == [(user.pk, "hi")]


def test_update_user_with_the_same_values_leaves_last_modified(site):
    user = aged(services.add_user(site, fields={**ADA, "city": "London"}))

    services.update_user(user, fields={"city": "London", "first_name": "Ada"})

    assert User.objects.get(pk=user.pk).modified_at == LONG_AGO


def test_touch_user_moves_last_modified_only(site):
    user = aged(services.add_user(site, fields=ADA))
    before = User.objects.filter(pk=user.pk).values().get()

    services.touch_user(user.pk)

    after = User.objects.filter(pk=user.pk).values().get()
    assert after["modified_at"] > LONG_AGO
    assert after == {**before, "modified_at": after["modified_at"]}
