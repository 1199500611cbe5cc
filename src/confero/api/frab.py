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
import hashlib
import uuid
from itertools import groupby
from operator import itemgetter
from zoneinfo import ZoneInfo

from django.db.models import CharField, Max
from django.db.models.functions import Cast
from django.utils.text import slugify
from lxml import etree

from confero.events.models import Site
from confero.programme.models import Session, SessionFile, SessionTime, Speaker, Status
from confero.xmltext import writable

VERSION_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _duration(minutes: int) -> str:
    minutes = min(minutes, 99 * 60 + 59)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _offset_time(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


_TIME_COLUMNS = ("pk", "session_id", "day", "start", "length", "room")


def _times(site: Site) -> list[tuple]:
    """The active times of published, active sessions, by date, room and time. Date and time
    as text ('YYYY-MM-DD', 'HH:MM:SS'): the few distinct ones are parsed once each
    (_EventWriter.starts), not every row by the driver's converters."""
    return list(
        SessionTime.objects.filter(
            site=site,
            status=Status.ACTIVE,
            session__status=Status.ACTIVE,
            session__published=True,
        )
        .annotate(day=Cast("date", CharField()), start=Cast("time", CharField()))
        .order_by("date", "room", "time", "pk")
        .values_list(*_TIME_COLUMNS)
    )


def _by_session(rows) -> dict[int, list[tuple]]:
    """Rows sorted by session id (their first column), grouped by it."""
    return {session_id: list(group) for session_id, group in groupby(rows, itemgetter(0))}


def schedule_text(site: Site) -> str:
    """The `<schedule>` document of the site's programme, as text (without a declaration).

    Written as text rather than as an lxml tree: this export is read whole by apps and
    conference sites, and strings joined are about three times faster than elements made one by
    one (issue 14's target: ten times pretalx's rate). Every value goes through `_escape`, and a
    character XML cannot carry (stored some other way than the API) becomes U+FFFD.
    Four queries: times, their sessions, speakers, files (and the sessions' last change).
    """
    event = site.event
    zone = ZoneInfo(event.time_zone)
    times = _times(site)
    published = Session.objects.filter(site=site, status=Status.ACTIVE, published=True)
    sessions = {
        row[0]: row for row in published.values_list("pk", "title", "abstract", "track", "type")
    }
    on_offer = {"session__site": site, "session__status": Status.ACTIVE,
                "session__published": True}  # fmt: skip
    speakers = _by_session(
        Speaker.objects.filter(**on_offer)
        .order_by("session_id", "position")
        .values_list("session_id", "user_id", "user__first_name", "user__last_name")
    )
    files = _by_session(
        SessionFile.objects.filter(**on_offer)
        .order_by("session_id", "position")
        .values_list("session_id", "name", "url")
    )
    changed = published.aggregate(last=Max("modified_at"))["last"]

    dates = sorted({dt.date.fromisoformat(day) for day in {row[2] for row in times}}
                   | set(_event_days(event)))  # fmt: skip
    if not dates:
        dates = [dt.datetime.now(zone).date()]
    out = [
        "<schedule><version>",
        changed.strftime(VERSION_FORMAT) if changed else "0",
        "</version><conference><acronym>", _escape(event.code),
        "</acronym><title>", writable(_escape(event.name)),
        f"</title><start>{dates[0].isoformat()}</start><end>{dates[-1].isoformat()}</end>"
        f"<days>{len(dates)}</days><timeslot_duration>00:05</timeslot_duration></conference>",
    ]  # fmt: skip
    by_date = {
        dt.date.fromisoformat(day): list(rows) for day, rows in groupby(times, key=itemgetter(2))
    }
    writer = _EventWriter(zone, event.guid, event.code, sessions, speakers, files)
    for index, date in enumerate(dates, start=1):
        start = _offset_time(dt.datetime.combine(date, dt.time(0), tzinfo=zone))
        end = _offset_time(dt.datetime.combine(date, dt.time(23, 59, 59), tzinfo=zone))
        out.append(f'<day index="{index}" date="{date.isoformat()}" start="{start}" end="{end}">')
        for room, rows in groupby(by_date.get(date, ()), key=lambda row: row[5]):
            out.append(f'<room name="{writable(_escape(room, quote=True))}">')
            room_element = writable(_element("room", room))
            out.extend(writer.event(row, room_element) for row in rows)
            out.append("</room>")
        out.append("</day>")
    out.append("</schedule>")
    return "".join(out)


def _escape(text: str, *, quote: bool = False) -> str:
    """As lxml writes text and attribute values (so the API's copy, re-serialised by lxml, is
    byte for byte the CLI's file)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\r", "&#13;")
    if quote:
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    return text


def _element(tag: str, text: str) -> str:
    return f"<{tag}>{_escape(text)}</{tag}>" if text else f"<{tag}/>"


class _EventWriter:
    """One `<event>` per session time; what its session's times share is made once."""

    def __init__(self, zone, namespace: uuid.UUID, code: str, sessions, speakers, files):
        self.zone, self.namespace, self.code = zone, namespace.bytes, code
        self.sessions, self.speakers, self.files = sessions, speakers, files
        self.shared: dict[int, tuple[str, str]] = {}  # session id → see _session
        self.starts: dict[tuple, str] = {}  # (date, time, length) → <date>, <start>, <duration>

    def guid(self, time_id: int) -> str:
        """uuid.uuid5(event GUID, "session-time-ID"), without building UUID objects."""
        digest = bytearray(
            hashlib.sha1(
                self.namespace + b"session-time-%d" % time_id, usedforsecurity=False
            ).digest()
        )
        digest[6] = (digest[6] & 0x0F) | 0x50
        digest[8] = (digest[8] & 0x3F) | 0x80
        h = digest[:16].hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def event(self, row, room_element: str) -> str:
        time_id, session_id, date, start, length, _ = row
        when = self.starts.get((date, start, length))
        if when is None:  # date and start as text: 'YYYY-MM-DD', 'HH:MM:SS'
            moment = dt.datetime.fromisoformat(f"{date}T{start[:5]}").replace(tzinfo=self.zone)
            when = self.starts[(date, start, length)] = (
                f"<date>{_offset_time(moment)}</date><start>{start[:5]}</start>"
                f"<duration>{_duration(length)}</duration>"
            )
        shared = self.shared.get(session_id)
        if shared is None:
            shared = self.shared[session_id] = self._session(session_id)
        slug, rest = shared
        return (
            f'<event id="{time_id}" guid="{self.guid(time_id)}">{when}{room_element}'
            f"<slug>{self.code}-{time_id}{slug}</slug>{rest}</event>"
        )

    def _session(self, session_id: int) -> tuple[str, str]:
        """What an event takes from its session: the end of its slug ("-title", or "") and its
        elements after the slug; characters XML cannot carry (stored some other way than the
        API) become U+FFFD."""
        _, title, abstract, track, kind = self.sessions[session_id]
        slug = slugify(title)[:40].rstrip("-")
        persons = "".join(
            f'<person id="{user_id}">{_escape(f"{first} {last}")}</person>'
            for _, user_id, first, last in self.speakers.get(session_id, ())
        )
        links = "".join(
            f'<link href="{_escape(url, quote=True)}">{_escape(name)}</link>'
            for _, name, url in self.files.get(session_id, ())
        )
        return f"-{slug}" if slug else "", writable(
            f"{_element('title', title)}<subtitle/>{_element('track', track)}"
            f"{_element('type', kind)}<language/>{_element('abstract', abstract)}<description/>"
            + (f"<persons>{persons}</persons>" if persons else "<persons/>")
            + (f"<links>{links}</links>" if links else "<links/>")
        )


def schedule_element(site: Site) -> etree._Element:
    """The document as an element, to sit inside the API's envelope."""
    return etree.fromstring(schedule_text(site))


def _event_days(event) -> list[dt.date]:
    if not event.start_date or not event.end_date or event.end_date < event.start_date:
        return []
    days = (event.end_date - event.start_date).days
    return [event.start_date + dt.timedelta(days=n) for n in range(min(days, 365) + 1)]


def schedule_xml(site: Site) -> bytes:
    """The whole file, with its XML declaration (what `confero programme export` writes)."""
    return b"<?xml version='1.0' encoding='UTF-8'?>\n" + schedule_text(site).encode("utf-8")
