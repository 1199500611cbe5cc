"""The custom values records hold, read for rules of the domains above: which profile values a
user holds, which constraint values a session carries (contract §7, §8.3).

A profile field applies to users and to sessions alike; a user and a session *match* when they
hold the same custom value ID of one. The rule that decides what a match allows lives with the
records it governs (confero.programme.constraints); this module only reads.
"""

from collections.abc import Iterable

from confero.customfields.models import Answer, RecordType


def _profile_answers(record_type: str, record_ids: Iterable[int]):
    return Answer.objects.filter(
        record_type=record_type,
        record_id__in=list(record_ids),
        value__isnull=False,
        field__record_type=RecordType.PROFILE,
    )


def held_value_ids(record_type: str, record_ids: Iterable[int]) -> dict[int, set[int]]:
    """Per record (every id asked for, an empty set when it holds none): the custom value IDs
    of profile fields it holds, with or without a constraint."""
    ids = list(record_ids)
    held: dict[int, set[int]] = {pk: set() for pk in ids}
    for record_id, value_id in _profile_answers(record_type, ids).values_list(
        "record_id", "value_id"
    ):
        held[record_id].add(value_id)
    return held


def constraint_value_ids(
    record_type: str, record_ids: Iterable[int]
) -> dict[int, dict[str, set[int]]]:
    """Per record (every id asked for): the values it holds that carry a constraint, by
    constraint type (`publicViewPrivateSchedule`, …); a record with none has an empty dict."""
    ids = list(record_ids)
    out: dict[int, dict[str, set[int]]] = {pk: {} for pk in ids}
    rows = (
        _profile_answers(record_type, ids)
        .exclude(value__constraint="")
        .values_list("record_id", "value__constraint", "value_id")
    )
    for record_id, constraint, value_id in rows:
        out[record_id].setdefault(constraint, set()).add(value_id)
    return out
