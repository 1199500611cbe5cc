"""people/status.py: the registration domain writes `registered` and `paid` through it."""

import datetime as dt

from confero.people.models import User
from confero.people.status import set_registration_status
from tests.factories import RegistrantFactory

LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def test_set_registration_status_writes_both_and_moves_last_modified(db):
    user = RegistrantFactory()
    User.objects.filter(pk=user.pk).update(modified_at=LONG_AGO)

    set_registration_status(user, registered=True, paid=True)

    stored = User.objects.get(pk=user.pk)
    assert (stored.registered, stored.paid, user.registered, user.paid) == (True, True, True, True)
    assert stored.modified_at > LONG_AGO


def test_set_registration_status_unchanged_still_moves_last_modified(db):
    user = RegistrantFactory()
    User.objects.filter(pk=user.pk).update(modified_at=LONG_AGO)

    set_registration_status(user, registered=False, paid=False)

    stored = User.objects.get(pk=user.pk)
    assert (stored.registered, stored.paid) == (False, False)
    assert stored.modified_at > LONG_AGO
