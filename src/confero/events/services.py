"""Creating accounts, events and their sites."""

import datetime as dt
import re
import zoneinfo

from django.db import transaction

from confero.errors import ValidationFailed
from confero.events.models import CODE_PATTERN, RESERVED_CODES, Account, Environment, Event, Site


def validate_event_code(code: str) -> str:
    if not re.fullmatch(CODE_PATTERN, code):
        raise ValidationFailed("code", "3–40 lowercase letters, digits or '-'")
    if code in RESERVED_CODES:
        raise ValidationFailed("code", f"'{code}' is reserved")
    return code


def validate_time_zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed("timezone", f"unknown time zone '{name}'") from exc
    return name


def get_or_create_account(slug: str, *, name: str | None = None) -> Account:
    account, _ = Account.objects.get_or_create(slug=slug, defaults={"name": name or slug})
    return account


@transaction.atomic
def create_event(
    *,
    account: Account,
    code: str,
    name: str,
    time_zone: str = "UTC",
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
) -> Event:
    """Creates the event with its UAT and Production sites. Each site gets an enabled API
    profile whose allow-list is empty (confero.access, which hears of each new site): nobody
    can call it until an organizer allows an address."""
    validate_event_code(code)
    validate_time_zone(time_zone)
    if not name.strip():
        raise ValidationFailed("name", "must not be empty")
    if start_date and end_date and end_date < start_date:
        raise ValidationFailed("end", "the end date is before the start date")
    if Event.objects.filter(code=code).exists():
        raise ValidationFailed("code", f"an event with code '{code}' exists already")
    event = Event.objects.create(
        account=account,
        code=code,
        name=name.strip(),
        time_zone=time_zone,
        start_date=start_date,
        end_date=end_date,
    )
    for environment in Environment.values:
        Site.objects.create(event=event, environment=environment)
    return event


def get_site(code: str, environment: str) -> Site:
    try:
        return Site.objects.select_related("event__account").get(
            event__code=code, environment=environment
        )
    except Site.DoesNotExist as exc:
        raise ValidationFailed("event", f"no event with code '{code}'") from exc
