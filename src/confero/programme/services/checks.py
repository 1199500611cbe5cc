"""Checks of values the programme's services take (the API checks its parameters first, with
its codes; the console and the CLI come here directly)."""

import datetime as dt
from typing import Any

from confero.errors import ValidationFailed
from confero.xmltext import not_xml


def text(what: str, value: Any, *, max_length: int, required: bool = False) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(what, "text")
    if problem := not_xml(value):
        raise ValidationFailed(what, problem)
    if required and not value.strip():
        raise ValidationFailed(what, "must not be empty")
    if len(value) > max_length:
        raise ValidationFailed(what, f"at most {max_length:,} characters")
    return value


def whole(what: str, value: Any, *, low: int, high: int, rule: str) -> int:
    # bool is an int to Python; true is not a number of minutes.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(what, rule)
    return value


def flag(what: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed(what, "true or false")
    return value


def day(what: str, value: Any) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise ValidationFailed(what, "a date (YYYY-MM-DD)")
    return value


def time_of_day(what: str, value: Any) -> dt.time:
    """To the minute, without a time zone: times are local to the event (HH:MM)."""
    if not isinstance(value, dt.time):
        raise ValidationFailed(what, "a time of day (HH:MM)")
    return value.replace(second=0, microsecond=0, tzinfo=None)


def choice(what: str, value: Any, choices: list[str]) -> str:
    if value not in choices:
        raise ValidationFailed(what, " or ".join(choices))
    return value
