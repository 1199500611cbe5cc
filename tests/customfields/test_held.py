"""customfields/held.py: the profile values records hold, and the constraint values among them."""

from confero.customfields.held import constraint_value_ids, held_value_ids
from confero.customfields.models import RecordType
from confero.customfields.services import Assignment, ValueSpec, create_field, set_answers
from tests.factories import EventFactory, site_of


def test_held_value_ids_reads_profile_values_only_for_every_record_asked(db):
    site = site_of(EventFactory())
    profile = create_field(site, record_type="profile", code="ticket", display_name="Ticket",
                           field_type="multichoice",
                           values=[ValueSpec("vip", constraint="privateViewPrivateSchedule"),
                                   ValueSpec("day")])  # fmt: skip
    user_only = create_field(site, record_type="user", code="diet", display_name="Diet",
                             field_type="choice", values=[ValueSpec("veg")])  # fmt: skip
    vip, day = profile.values.order_by("position")
    veg = user_only.values.get()
    set_answers(RecordType.USER, 1, [Assignment(profile, ((vip, ""), (day, ""))),
                                     Assignment(user_only, ((veg, ""),))])  # fmt: skip
    set_answers(RecordType.SESSION, 1, [Assignment(profile, ((day, ""),))])

    assert held_value_ids(RecordType.USER, [1, 2]) == {1: {vip.pk, day.pk}, 2: set()}
    assert held_value_ids(RecordType.SESSION, [1]) == {1: {day.pk}}
    assert constraint_value_ids(RecordType.USER, [1, 2]) == {
        1: {"privateViewPrivateSchedule": {vip.pk}},
        2: {},
    }
    assert constraint_value_ids(RecordType.SESSION, [1]) == {1: {}}
