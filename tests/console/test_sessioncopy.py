"""Copy configuration, sessions (confero.console.sessioncopy), through the console's page: the
same session by abbreviation, the same time by date, time and room; seats, speakers and status
never copied; the preview is exactly what applying does."""

import datetime as dt

from lxml import html

from confero.customfields import editing
from confero.customfields.models import Answer
from confero.customfields.services import Assignment, ValueSpec
from confero.programme.models import Seat, Session, SessionFile, SessionTime, Speaker
from confero.programme.services import FileSpec, set_files, set_speakers, update_session
from tests.factories import SessionFactory, SessionTimeFactory, UserFactory

COPY = "/manage/events/alpha/settings/copy/"


def listed(response, kind: str) -> list[str]:
    page = html.fromstring(response.content)
    return [" ".join(li.text_content().split()) for li in page.xpath(f"//ul[@class='{kind}']/li")]


def fingerprint(response) -> str:
    return html.fromstring(response.content).xpath("//input[@name='fingerprint']/@value")[0]


def uat_programme(world) -> Session:
    """UAT: the keynote retitled with a bigger room and a second time, a new workshop with a
    file, and a session without an abbreviation."""
    keynote = SessionFactory(site=world.uat, abbreviation="KEY", title="Opening keynote",
                             track="Main")  # fmt: skip
    SessionTimeFactory(session=keynote, room="Hall A", capacity=5, waitlist=True)
    SessionTimeFactory(session=keynote, date=dt.date(2026, 6, 2), room="Hall A", capacity=5)
    workshop = SessionFactory(site=world.uat, abbreviation="WS", title="Workshop",
                              published=False)  # fmt: skip
    SessionTimeFactory(session=workshop, time=dt.time(14), length=90, room="Lab", capacity=12)
    set_files(workshop, [FileSpec("handout.pdf", "application/pdf", 10, "https://x.org/h.pdf")])
    SessionFactory(site=world.uat, abbreviation=None, title="Untitled")
    set_speakers(keynote, [(UserFactory(site=world.uat), "chair")])
    return keynote


def test_copy_previews_sessions_and_times_then_applies_them(world, planner_client):
    uat_programme(world)

    preview = planner_client.get(COPY, {"from": "uat"})
    applied = planner_client.post(COPY, {"from": "uat", "fingerprint": fingerprint(preview)})

    assert listed(preview, "changes sessions") == [
        "session 'KEY': title 'Keynote' → 'Opening keynote'",
        "session 'KEY': time 2026-06-01 10:00 Hall A: capacity 2 → 5",
        "session 'KEY': add time 2026-06-02 10:00 Hall A",
        "create session 'WS' \"Workshop\"",
        "session 'WS': files replaced (1)",
        "session 'WS': add time 2026-06-01 14:00 Lab",
    ]
    assert listed(preview, "notes") == [
        "1 session without an abbreviation: not copied (the abbreviation names the same "
        "session on both sites)"
    ]
    assert applied.status_code == 302
    keynote = Session.objects.get(site=world.production, abbreviation="KEY")
    assert (keynote.pk, keynote.title) == (world.session.pk, "Opening keynote")
    times = SessionTime.objects.filter(session=keynote).order_by("date")
    assert [(t.date, t.capacity, t.registered) for t in times] == [
        (dt.date(2026, 6, 1), 5, 1), (dt.date(2026, 6, 2), 5, 0)]  # fmt: skip
    workshop = Session.objects.get(site=world.production, abbreviation="WS")
    assert workshop.published is False
    assert list(SessionFile.objects.filter(session=workshop).values_list("name", flat=True)) == [
        "handout.pdf"
    ]
    assert not Speaker.objects.filter(session__site=world.production).exists()
    assert Seat.objects.filter(session_time__site=world.production).count() == 1
    assert not Session.objects.filter(site=world.production, title="Untitled").exists()
    assert listed(planner_client.get(COPY, {"from": "uat"}), "changes sessions") == [
        "No change: the sessions already agree."
    ]


def test_copy_takes_session_values_on_fields_it_creates_in_the_same_run(world, planner_client):
    editing.define_field(world.uat, record_type="session", code="room_setup",
                         display_name="Room setup", field_type="choice",
                         values=[ValueSpec("theatre", "Theatre")])  # fmt: skip
    keynote = SessionFactory(site=world.uat, abbreviation="KEY", title="Keynote", track="Main")
    update_session(
        keynote, fields={}, assignments=[_assignment(world.uat, "room_setup", "theatre")]
    )

    preview = planner_client.get(COPY, {"from": "uat"})
    planner_client.post(COPY, {"from": "uat", "fingerprint": fingerprint(preview)})

    assert listed(preview, "changes") == ["create field 'room_setup' (choice, 1 values)"]
    assert listed(preview, "changes sessions") == [
        "session 'KEY': custom field 'room_setup' → theatre"
    ]
    held = Answer.objects.filter(record_type="session", record_id=world.session.pk)
    assert [(a.field.code, a.field.site_id, a.value.code) for a in held] == [
        ("room_setup", world.production.pk, "theatre")
    ]


def test_copy_never_changes_a_status(world, planner_client):
    keynote = SessionFactory(site=world.uat, abbreviation="KEY", title="Keynote", track="Main")
    SessionTimeFactory(session=keynote, room="Hall A", capacity=2, waitlist=True)
    update_session(keynote, fields={"status": "cancelled"})

    preview = planner_client.get(COPY, {"from": "uat"})

    assert listed(preview, "changes sessions") == ["No change: the sessions already agree."]
    assert listed(preview, "notes") == [
        "session 'KEY' is cancelled on UAT and active on Production: a copy never changes a status"
    ]
    assert html.fromstring(preview.content).xpath("//input[@name='fingerprint']") == []


def test_copy_back_keeps_what_the_other_site_lacks(world, planner_client):
    SessionFactory(site=world.uat, abbreviation="ONLY-UAT", title="Rehearsal")

    preview = planner_client.get(COPY, {"from": "production"})

    assert listed(preview, "changes sessions") == [
        "create session 'KEY' \"Keynote\"",
        "session 'KEY': add time 2026-06-01 10:00 Hall A",
    ]
    assert listed(preview, "notes") == [
        "1 session of UAT not on this site, kept as they are: 'ONLY-UAT'"
    ]


def test_copy_with_a_stale_preview_applies_nothing(world, planner_client):
    uat_programme(world)
    preview = planner_client.get(COPY, {"from": "uat"})
    SessionFactory(site=world.uat, abbreviation="LATE", title="Late addition")

    response = planner_client.post(COPY, {"from": "uat", "fingerprint": fingerprint(preview)})

    assert response.status_code == 200
    assert not Session.objects.filter(site=world.production, abbreviation="WS").exists()
    assert "create session 'LATE' \"Late addition\"" in listed(response, "changes sessions")
    assert html.fromstring(response.content).xpath("string(//ul[@class='messages']/li)") == (
        "The configuration changed since the preview: check it again."
    )


def _assignment(site, code: str, value: str) -> Assignment:
    field = site.custom_fields.get(code=code)
    return Assignment(field, ((field.values.get(code=value), ""),))
