"""programme/constraints.py: who may see and schedule a session (contract §8.3), through the
services that apply it: user_sessions (seeing, canSchedule) and schedule_session (224)."""

import pytest

from confero.customfields.models import RecordType
from confero.customfields.services import ValueSpec, create_field
from confero.errors import Cancelled, Refused
from confero.programme.constraints import Access, access
from confero.programme.models import Seat
from confero.programme.services import schedule_session, update_session, user_sessions
from tests.factories import SessionFactory, SessionTimeFactory
from tests.programme.conftest import give, holding


def sees_and_schedules(user, time) -> tuple[bool, bool]:
    """(the session is among the user's sessions, scheduling it succeeds); a refusal other
    than the constraint's fails the test."""
    seen = {a.session.pk: a.can_schedule for a in user_sessions(user)}
    refusal = None
    try:
        schedule_session(user, time)
    except Refused as refused:
        refusal = (refused.what, refused.message)
    scheduled = refusal is None
    if refusal is not None:
        assert refusal == (
            "constraint",
            f"user {user.user_ref} may not schedule session '{time.session.abbreviation}'",
        )
    if time.session.pk in seen:
        assert seen[time.session.pk] == scheduled  # canSchedule says what scheduling does
    return time.session.pk in seen, scheduled


def constrained(site, field, *codes):
    session = SessionFactory(site=site, abbreviation="C", assignments=holding(field, *codes))
    return SessionTimeFactory(session=session)


# The matrix: each constraint type × the user holds the value or not → (sees, schedules).
@pytest.mark.parametrize(
    ("code", "holds", "expected"),
    [
        ("pv", True, (True, True)),
        ("pv", False, (True, False)),
        ("pp", True, (True, True)),
        ("pp", False, (False, False)),
        ("cn", True, (False, False)),
        ("cn", False, (True, True)),
    ],
    ids=lambda v: str(v),
)
def test_constraint_matrix(site, access_field, ada, code, holds, expected):
    time = constrained(site, access_field, code)
    give(ada, access_field, *([code] if holds else ["plain"]))

    assert sees_and_schedules(ada, time) == expected
    assert Seat.objects.filter(user=ada).count() == (1 if expected[1] else 0)


def test_a_session_without_constraint_values_is_public(site, access_field, ada):
    plain = SessionFactory(site=site, abbreviation="P", assignments=holding(access_field, "plain"))
    give(ada, access_field, "cn", "pp", "pv")

    assert sees_and_schedules(ada, SessionTimeFactory(session=plain)) == (True, True)


def test_any_private_value_held_opens_the_session(site, access_field, attendees):
    time = constrained(site, access_field, "pp", "pp2")
    first, second, neither = attendees(3)
    give(first, access_field, "pp")
    give(second, access_field, "pp2")

    assert [sees_and_schedules(u, time) for u in (first, second, neither)] == [
        (True, True),
        (True, True),
        (False, False),
    ]


def test_a_cannot_value_held_hides_what_a_private_value_would_open(site, access_field, ada):
    time = constrained(site, access_field, "pp", "cn")
    give(ada, access_field, "pp", "cn")

    assert sees_and_schedules(ada, time) == (False, False)


def test_private_and_public_view_values_must_both_be_met_to_schedule(site, access_field, attendees):
    time = constrained(site, access_field, "pp", "pv")
    both, private_only, public_only = attendees(3)
    give(both, access_field, "pp", "pv")
    give(private_only, access_field, "pp")
    give(public_only, access_field, "pv")

    assert [sees_and_schedules(u, time) for u in (both, private_only, public_only)] == [
        (True, True),
        (True, False),
        (False, False),
    ]


def test_a_value_of_another_profile_field_does_not_match(site, access_field, ada):
    other = create_field(
        site,
        record_type=RecordType.PROFILE,
        code="other",
        display_name="Other",
        field_type="choice",
        values=[ValueSpec("pp", constraint="privateViewPrivateSchedule")],
    )
    time = constrained(site, access_field, "pp")
    give(ada, other, "pp")  # the same value code, another custom value ID

    assert sees_and_schedules(ada, time) == (False, False)


@pytest.mark.parametrize(
    ("held", "constraints", "expected"),
    [
        (set(), {}, Access(True, True)),
        ({1}, {"cannotViewOrSchedule": {2}}, Access(True, True)),
        ({2}, {"cannotViewOrSchedule": {2, 3}}, Access(False, False)),
        ({5}, {"publicViewPrivateSchedule": {4, 5}}, Access(True, True)),
        ({6}, {"publicViewPrivateSchedule": {4, 5}}, Access(True, False)),
        ({7}, {"privateViewPrivateSchedule": {7}, "publicViewPrivateSchedule": {8}},
         Access(True, False)),
    ],
)  # fmt: skip
def test_access_combines_the_constraint_types(held, constraints, expected):
    assert access(held, constraints) == expected


def test_schedule_session_refuses_on_constraints_before_looking_at_overlaps(
    site, access_field, ada
):
    time = constrained(site, access_field, "pp")
    schedule_session(ada, SessionTimeFactory(session=SessionFactory(site=site)))  # same hour

    with pytest.raises(Refused) as refused:
        schedule_session(ada, time)

    assert refused.value.what == "constraint"


def test_schedule_session_refuses_a_cancelled_session_before_its_constraints(
    site, access_field, ada
):
    time = constrained(site, access_field, "pp")
    update_session(time.session, fields={"status": "cancelled"})

    with pytest.raises(Cancelled) as cancelled:
        schedule_session(ada, time)

    assert cancelled.value.what == "session"
