"""Who may see and schedule a session: the constraint rule of contract §8.3.

A session carries constraint values (values of profile fields whose value has a constraint
type); a user holds values of the same fields. A session with none is public. Otherwise each
constraint type present on the session is a condition, and all of them must hold:

- `cannotViewOrSchedule` C: the user holds none of C — else they neither see nor schedule it;
- `privateViewPrivateSchedule` P: the user holds at least one of P — else they neither see nor
  schedule it;
- `publicViewPrivateSchedule` Q: the user holds at least one of Q — else they see it but may
  not schedule it.

So within one type, any value opens (a choice field gives a user one value: a session open to
"VIP" and "Press" is open to either); across types, every condition applies, and a `cannot`
match hides whatever else matches (docs/api.md, "Sessions and scheduling").
"""

from collections.abc import Iterable
from typing import NamedTuple

from confero.customfields import cache
from confero.customfields.held import constraint_value_ids, held_value_ids
from confero.customfields.models import Constraint, RecordType
from confero.customfields.services import fields_for

PUBLIC_VIEW = Constraint.PUBLIC_VIEW_PRIVATE_SCHEDULE.value
PRIVATE_VIEW = Constraint.PRIVATE_VIEW_PRIVATE_SCHEDULE.value
CANNOT = Constraint.CANNOT_VIEW_OR_SCHEDULE.value


class Access(NamedTuple):
    can_view: bool
    can_schedule: bool


PUBLIC = Access(can_view=True, can_schedule=True)


def access(held: set[int], constraints: dict[str, set[int]]) -> Access:
    """What a user holding the value IDs `held` may do with a session carrying `constraints`
    (constraint type → value IDs)."""
    if not constraints:
        return PUBLIC
    can_view = not (held & constraints.get(CANNOT, set()))
    if private := constraints.get(PRIVATE_VIEW):
        can_view = can_view and bool(held & private)
    can_schedule = can_view
    if public_view := constraints.get(PUBLIC_VIEW):
        can_schedule = can_schedule and bool(held & public_view)
    return Access(can_view=can_view, can_schedule=can_schedule)


def has_constraint_values(site) -> bool:
    """Whether any profile field of the site has a value with a constraint: without one, no
    session can carry a constraint. From the process's cache of the site's definitions (no
    query while its fields_version stays)."""

    def build() -> bool:
        return any(
            value.constraint
            for field in fields_for([site], RecordType.SESSION)
            if field.record_type == RecordType.PROFILE
            for value in field.values.all()
        )

    return cache.derived(site, "has constraint values", build)


def accesses(user_id: int, session_ids: Iterable[int], *, site=None) -> dict[int, Access]:
    """Per session: what the user may do with it. Two queries, the user's only when a session
    carries a constraint; none when `site` (the sessions' site) has no constraint values."""
    if site is not None and not has_constraint_values(site):
        return dict.fromkeys(session_ids, PUBLIC)
    by_session = constraint_value_ids(RecordType.SESSION, session_ids)
    held = (
        held_value_ids(RecordType.USER, [user_id])[user_id] if any(by_session.values()) else set()
    )
    return {pk: access(held, constraints) for pk, constraints in by_session.items()}
