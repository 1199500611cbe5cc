"""A site's programme as a frab `schedule.xml`: the format Giggity, ConfClerk and c3nav read
(and pretalx and frab write). One `<event>` per active session time of a published, active
session, grouped by day (the session time's date) and room; times in the event's time zone
with their UTC offset.

Read in three queries (times with their sessions, speakers, files), whatever the programme's
size, and written with lxml. Decisions (docs/api.md, "Exports"): a session offered twice is
two events; an event's `id` is the sessionTimeID and its `guid` a UUID derived from the event's
GUID and that ID (stable across exports); speakers are `<person>`s by their full name, files
`<link>`s; a duration over 99:59 (no schedule app shows one) is written as 99:59.
"""

import datetime as dt
import uuid
from collections import defaultdict
from itertools import groupby
from zoneinfo import ZoneInfo

from django.db.models import Max
from django.utils.text import slugify
from lxml import etree

from confero.events.models import Site
from confero.programme.models import Session, SessionFile, SessionTime, Speaker, Status

VERSION_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _duration(minutes: int) -> str:
    minutes = min(minutes, 99 * 60 + 59)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _offset_time(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


_TIME_COLUMNS = (
    *("pk", "session_id", "date", "time", "length", "room"),
    *("session__title", "session__abstract", "session__track", "session__type"),
)


def _times(site: Site) -> list[tuple]:
    return list(
        SessionTime.objects.filter(
            site=site,
            status=Status.ACTIVE,
            session__status=Status.ACTIVE,
            session__published=True,
        )
        .order_by("date", "room", "time", "pk")
        .values_list(*_TIME_COLUMNS)
    )


def _by_session(rows) -> dict[int, list[tuple]]:
    out: dict[int, list[tuple]] = defaultdict(list)
    for session_id, *rest in rows:
        out[session_id].append(tuple(rest))
    return out


def schedule_element(site: Site) -> etree._Element:
    """The `<schedule>` document of the site's programme."""
    event = site.event
    zone = ZoneInfo(event.time_zone)
    times = _times(site)
    published = Session.objects.filter(site=site, status=Status.ACTIVE, published=True)
    speakers = _by_session(
        Speaker.objects.filter(session__in=published)
        .order_by("session_id", "position")
        .values_list("session_id", "user_id", "user__first_name", "user__last_name")
    )
    files = _by_session(
        SessionFile.objects.filter(session__in=published)
        .order_by("session_id", "position")
        .values_list("session_id", "name", "url")
    )
    changed = published.aggregate(last=Max("modified_at"))["last"]

    dates = sorted({row[2] for row in times} | set(_event_days(event)))
    if not dates:
        dates = [dt.datetime.now(zone).date()]
    root = etree.Element("schedule")
    sub = etree.SubElement
    sub(root, "version").text = changed.strftime(VERSION_FORMAT) if changed else "0"
    conference = sub(root, "conference")
    sub(conference, "acronym").text = event.code
    sub(conference, "title").text = event.name
    sub(conference, "start").text = dates[0].isoformat()
    sub(conference, "end").text = dates[-1].isoformat()
    sub(conference, "days").text = str(len(dates))
    sub(conference, "timeslot_duration").text = "00:05"

    by_date = {date: list(rows) for date, rows in groupby(times, key=lambda row: row[2])}
    namespace = event.guid
    for index, date in enumerate(dates, start=1):
        start = dt.datetime.combine(date, dt.time(0), tzinfo=zone)
        end = dt.datetime.combine(date, dt.time(23, 59, 59), tzinfo=zone)
        day = sub(root, "day", index=str(index), date=date.isoformat(),
                  start=_offset_time(start), end=_offset_time(end))  # fmt: skip
        for room, rows in groupby(by_date.get(date, ()), key=lambda row: row[5]):
            room_element = sub(day, "room", name=room)
            for row in rows:
                _event(room_element, row, zone, namespace, event.code, speakers, files)
    return root


def _event(parent, row, zone, namespace, code, speakers, files) -> None:
    time_id, session_id, date, start, length, room, title, abstract, track, kind = row
    sub = etree.SubElement
    element = sub(parent, "event", id=str(time_id),
                  guid=str(uuid.uuid5(namespace, f"session-time-{time_id}")))  # fmt: skip
    sub(element, "date").text = _offset_time(dt.datetime.combine(date, start, tzinfo=zone))
    sub(element, "start").text = start.strftime("%H:%M")
    sub(element, "duration").text = _duration(length)
    sub(element, "room").text = room or None
    sub(element, "slug").text = f"{code}-{time_id}-{slugify(title)[:40]}".rstrip("-")
    sub(element, "title").text = title
    sub(element, "subtitle")
    sub(element, "track").text = track or None
    sub(element, "type").text = kind or None
    sub(element, "language")
    sub(element, "abstract").text = abstract or None
    sub(element, "description")
    persons = sub(element, "persons")
    for user_id, first, last in speakers.get(session_id, ()):
        sub(persons, "person", id=str(user_id)).text = f"{first} {last}"
    links = sub(element, "links")
    for name, url in files.get(session_id, ()):
        sub(links, "link", href=url).text = name


def _event_days(event) -> list[dt.date]:
    if not event.start_date or not event.end_date or event.end_date < event.start_date:
        return []
    days = (event.end_date - event.start_date).days
    return [event.start_date + dt.timedelta(days=n) for n in range(min(days, 365) + 1)]


def schedule_xml(site: Site) -> bytes:
    """The whole file, with its XML declaration (what `confero programme export` writes)."""
    return etree.tostring(schedule_element(site), encoding="UTF-8", xml_declaration=True)
