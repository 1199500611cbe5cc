"""scheduleXml.do and userAgenda.do through HTTP, and `confero programme export|agenda`: the
programme as frab schedule.xml and a user's agenda as iCalendar.

The frab document is checked against the rules of the c3voc schedule validator (the schema
c3voc's `validate_schedule_xml.sh` runs xmllint with: the elements an event must have and may
have, and nothing else; the lexical forms of dates, start times and durations; event ids,
guids and slugs unique). The `c3voc-schedule-tools` package itself is not used: its wheel does
not ship that schema (its validation shells out to xmllint with a path the package lacks), and
it pins lxml < 5, icalendar < 6 and pytz < 2023, which Confero cannot install beside its own
lxml (docs/decisions/0020-acting-user-lock-and-exports.md, "Exports").
"""

import datetime as dt
import re
import uuid

import icalendar
import pytest
from lxml import etree

from confero import cli
from confero.api.frab import schedule_xml

DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
DATETIME = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([+-][0-9]{2}:[0-9]{2}|Z)?$"
)
START = re.compile(r"^([0-2][0-9]:[0-5][0-9])(:[0-5][0-9])?$")
DURATION = re.compile(r"^[0-9]{1,2}:[0-9]{2}(:[0-9]{1,2})?$")
CONFERENCE = {"title", "acronym", "start", "end", "days", "timeslot_duration"}
EVENT_REQUIRED = {"room", "title", "type", "date", "start", "duration", "abstract", "slug",
                  "subtitle", "track"}  # fmt: skip
EVENT_OPTIONAL = {"persons", "language", "description", "recording", "links"}


def frab_problems(document: bytes) -> list[str]:
    """What the c3voc schedule validator's rules refuse in a schedule.xml ([] when valid)."""
    problems = []
    root = etree.fromstring(document)
    if root.tag != "schedule":
        return [f"root <{root.tag}>"]
    tags = [child.tag for child in root]
    if tags[:1] == ["version"]:
        tags = tags[1:]
    if tags[:1] != ["conference"] or not tags[1:] or set(tags[1:]) != {"day"}:
        problems.append(f"schedule holds {tags}")
    conference = root.find("conference")
    names = [child.tag for child in conference]
    if (
        set(names) - CONFERENCE
        or len(names) != len(set(names))
        or not {"title", "acronym"} <= set(names)
    ):
        problems.append(f"conference holds {names}")
    for name, form in (("start", DATE), ("end", DATE)):
        if conference.find(name) is not None and not form.match(conference.findtext(name)):
            problems.append(f"conference/{name} {conference.findtext(name)!r}")
    ids, guids, slugs = [], [], []
    for day in root.iter("day"):
        if (
            not DATE.match(day.get("date", ""))
            or not all(DATETIME.match(day.get(a, "")) for a in ("start", "end"))
            or not day.get("index", "").isdigit()
        ):
            problems.append(f"day attributes {dict(day.attrib)}")
        for room in day:
            if room.tag != "room":
                problems.append(f"day holds <{room.tag}>")
            for event in room:
                problems += _event_problems(event)
                ids.append(event.get("id"))
                guids.append(event.get("guid"))
                slugs.append(event.findtext("slug"))
    for what, values in (("id", ids), ("guid", guids), ("slug", slugs)):
        if len(values) != len(set(values)):
            problems.append(f"event {what}s repeat")
    return problems


def _event_problems(event) -> list[str]:
    names = [child.tag for child in event]
    where = f"event {event.get('id')}"
    problems = []
    if event.tag != "event" or not (event.get("id") or "").isdigit() or event.get("id") == "0":
        problems.append(f"{where}: <{event.tag} id={event.get('id')!r}>")
    if len(names) != len(set(names)) or set(names) - EVENT_REQUIRED - EVENT_OPTIONAL:
        problems.append(f"{where} holds {names}")
    if missing := EVENT_REQUIRED - set(names):
        problems.append(f"{where} lacks {sorted(missing)}")
    for name, form in (("date", DATETIME), ("start", START), ("duration", DURATION)):
        if not form.match(event.findtext(name) or ""):
            problems.append(f"{where}: {name} {event.findtext(name)!r}")
    for person in event.iterfind("persons/*"):
        if person.tag != "person" or not (person.get("id") or "1").isdigit():
            problems.append(f"{where}: persons holds <{person.tag}>")
    for link in event.iterfind("links/*"):
        if link.tag != "link":
            problems.append(f"{where}: links holds <{link.tag}>")
    return problems


@pytest.fixture
def timetable(live, programme):
    """Two days in Europe/Berlin (the event's zone; summer time, +02:00), two rooms, speakers,
    a file, a session offered twice, an unpublished session and a cancelled time."""
    ada = live.add_user(firstName="Ada", lastName="Lovelace", email="ada@example.org")
    keynote = programme.session(abbreviation="KEY", title="Opening keynote", track="Main",
                                type="keynote", abstract="Welcome & more", speaker=ada.user_ref,
                                file="Slides|application/pdf|10|https://x.org/s.pdf")  # fmt: skip
    programme.time(keynote, time="09:00", length="60", room="Hall A")
    panel = programme.session(abbreviation="PANEL", title="Panel")
    programme.time(panel, date="2026-06-02", time="16:00", room="Hall A")
    programme.time(panel, date="2026-06-02", time="17:30", room="Hall A", length="6000")
    gone = programme.time(panel, date="2026-06-02", time="20:00", room="Hall B")
    live.call("cancelSessionTime", {"sessionTimeID": gone})
    hidden = programme.session(title="Secret", published="false")
    programme.time(hidden, room="Room 101")
    return ada


def test_schedule_xml_follows_the_c3voc_validator_s_rules(live, timetable):
    result = live.call("scheduleXml")

    schedule = result.xml.find("schedule")
    document = etree.tostring(schedule)
    assert frab_problems(document) == []
    assert document == schedule_xml(live.site.site).split(b"?>\n", 1)[-1].strip()
    days = [(d.get("date"), [(r.get("name"), [e.findtext("title") for e in r]) for r in d])
            for d in schedule.iter("day")]  # fmt: skip
    assert days == [
        ("2026-06-01", [("Hall A", ["Opening keynote"])]),
        ("2026-06-02", [("Hall A", ["Panel", "Panel"])]),
    ]
    first = schedule.find("day/room/event")
    assert [(child.tag, child.text, dict(child.attrib)) for child in first.iter()][1:] == [
        ("date", "2026-06-01T09:00:00+02:00", {}),
        ("start", "09:00", {}),
        ("duration", "01:00", {}),
        ("room", "Hall A", {}),
        ("slug", f"{live.site.event.code}-{first.get('id')}-opening-keynote", {}),
        ("title", "Opening keynote", {}),
        ("subtitle", None, {}),
        ("track", "Main", {}),
        ("type", "keynote", {}),
        ("language", None, {}),
        ("abstract", "Welcome & more", {}),
        ("description", None, {}),
        ("persons", None, {}),
        ("person", "Ada Lovelace", {"id": str(timetable.pk)}),
        ("links", None, {}),
        ("link", "Slides", {"href": "https://x.org/s.pdf"}),
    ]
    assert schedule.findall("day/room/event")[-1].findtext("duration") == "99:59"
    # Stable across exports: a UUID5 of the event's GUID and the sessionTimeID.
    assert first.get("guid") == str(
        uuid.uuid5(live.site.event.guid, f"session-time-{first.get('id')}")
    )


def test_schedule_xml_of_an_empty_programme_is_still_a_valid_schedule(live):
    result = live.call("scheduleXml")

    assert frab_problems(etree.tostring(result.xml.find("schedule"))) == []


def test_the_frab_check_refuses_what_the_validator_refuses(live, timetable):
    good = etree.tostring(live.call("scheduleXml").xml.find("schedule")).decode()

    for old, new in (
        ("<subtitle/>", ""),
        ("<start>09:00</start>", "<start>9h</start>"),
        ("<duration>01:00</duration>", "<duration>60</duration>"),
        ("<language/>", "<language/><url>x</url>"),
        ("<abstract>", "<abstract>x</abstract><abstract>"),
    ):
        assert frab_problems(good.replace(old, new, 1).encode()) != [], old


def test_user_agenda_is_an_icalendar_of_the_user_s_times(live, programme, timetable):
    time = live.call("sessionData").xml.find("session/sessionTime/sessionTimeID").text
    programme.schedule(timetable, int(time))

    result = live.call("userAgenda", {"userKey": timetable.user_key})

    agenda = result.xml.find("agenda")
    assert agenda.findtext("userRef") == timetable.user_ref
    calendar = icalendar.Calendar.from_ical(agenda.findtext("calendar"))
    [entry] = calendar.walk("VEVENT")
    assert (str(entry["summary"]), str(entry["location"]), str(entry["status"])) == (
        "Opening keynote",
        "Hall A",
        "CONFIRMED",
    )
    assert entry.decoded("dtstart") == dt.datetime(2026, 6, 1, 7, 0, tzinfo=dt.UTC)
    assert entry.decoded("dtend") - entry.decoded("dtstart") == dt.timedelta(hours=1)
    assert str(entry["uid"]) == f"session-time-{time}@{live.site.event.guid_text.lower()}"
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]


def test_cli_writes_the_schedule_and_an_agenda(live, timetable, tmp_path, capsys):
    out = tmp_path / "schedule.xml"
    code = live.site.event.code

    cli.main(["programme", "export", "--event", code, "--site", "production", "--out", str(out)])
    cli.main(["programme", "agenda", "--event", code, "--site", "production",
              "--user-ref", timetable.user_ref])  # fmt: skip

    assert frab_problems(out.read_bytes()) == []
    assert out.read_bytes() == schedule_xml(live.site.site)
    printed = capsys.readouterr().out
    assert printed.startswith(f"wrote {out}\nBEGIN:VCALENDAR")


def test_cli_agenda_of_an_unknown_user_fails_with_a_message(live, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["programme", "agenda", "--event", live.site.event.code, "--site", "production",
                  "--user-ref", "0123456789ABCDEF"])  # fmt: skip

    assert exit_.value.code == 2
    assert "no user with userRef '0123456789ABCDEF'" in capsys.readouterr().err
