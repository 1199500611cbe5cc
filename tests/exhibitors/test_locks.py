"""exhibitors/services.py's locks on PostgreSQL (its module docstring gives their order): another
connection holds what a concurrent call would hold, and the service waits for it, then sees what
it committed. These tests commit for real (`transaction=True`)."""

import threading

import pytest

from confero.errors import Cancelled
from confero.exhibitors import services
from confero.exhibitors.models import ExhibitorFile, Participant
from confero.exhibitors.services import FileSpec
from tests.access.test_gate_connection import other_connection
from tests.factories import EventFactory, UserFactory, site_of

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site():
    return site_of(EventFactory())


def hold(statements: list[tuple[str, list]], then: list[tuple[str, list]], seconds: float = 0.3):
    """Another connection runs `statements` and holds their locks, uncommitted, for `seconds`;
    then it runs `then` and commits."""
    other = other_connection()
    other.execute("BEGIN")
    for sql, values in statements:
        other.execute(sql, values)

    def finish():
        for sql, values in then:
            other.execute(sql, values)
        other.commit()
        other.close()

    timer = threading.Timer(seconds, finish)
    timer.start()
    return timer


def test_a_user_being_cancelled_is_not_put_on_a_booth(site):
    """The other connection does what cancel_user does, in its order: the user's row, then the
    exhibitors the user staffs. set_participants takes the user's row first too, so it waits
    (no deadlock), then finds the user cancelled."""
    ada = UserFactory(site=site)
    exhibitor = services.add_exhibitor(site, fields={"name": "Acme"})
    timer = hold(
        [("UPDATE people_user SET status = 'cancelled' WHERE id = %s", [ada.pk])],
        then=[("SELECT id FROM exhibitors_exhibitor WHERE id = %s FOR UPDATE", [exhibitor.pk])],
    )
    try:
        with pytest.raises(Cancelled) as cancelled:
            services.set_participants(exhibitor, [(ada, "Lead")])
    finally:
        timer.join()

    assert cancelled.value.what == "user"
    assert not Participant.objects.exists()


def test_a_replacement_of_the_files_compares_with_the_set_committed_before_it(site):
    """The other connection replaces the files under the exhibitor's lock; set_files waits for
    it, then compares with what it committed: sending back the set that was there before is a
    change, and the set is exactly the one sent last."""
    ours = FileSpec(display_name="Ours", url="https://x.example/o")
    exhibitor = services.add_exhibitor(site, fields={"name": "Acme"}, files=[ours])
    timer = hold(
        [("SELECT id FROM exhibitors_exhibitor WHERE id = %s FOR UPDATE", [exhibitor.pk])],
        then=[
            ("DELETE FROM exhibitors_exhibitorfile WHERE exhibitor_id = %s", [exhibitor.pk]),
            (
                "INSERT INTO exhibitors_exhibitorfile (exhibitor_id, type, display_name,"
                " description, url, size, position)"
                " VALUES (%s, 'pdf', 'Theirs', '', 'https://x.example/t', 1, 0)",
                [exhibitor.pk],
            ),
        ],
    )
    try:
        services.set_files(exhibitor, [ours])
    finally:
        timer.join()

    assert list(ExhibitorFile.objects.values_list("display_name", flat=True)) == ["Ours"]
