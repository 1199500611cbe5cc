"""Sessions in the console: a list with search, filters and keyset paging; the detail page; add,
change, cancel and make active again through the programme's services, custom values checked
by the API's rules."""

import pytest
from lxml import html

from confero.customfields.models import Answer
from confero.programme.models import Seat, Session
from confero.programme.services import FileSpec, set_files, set_speakers
from tests.console.conftest import manage
from tests.factories import SessionFactory, SessionTimeFactory, UserFactory


def titles(response) -> list[str]:
    page = html.fromstring(response.content)
    return [a.text for a in page.xpath("//table[contains(@class, 'sessions')]//td[1]/a")]


def rows(response, table: str) -> list[list[str]]:
    page = html.fromstring(response.content)
    return [
        [" ".join(cell.text_content().split()) for cell in row.xpath("td")]
        for row in page.xpath(f"//table[contains(@class, '{table}')]/tbody/tr")
    ]


def alerts(response) -> list[str]:
    page = html.fromstring(response.content)
    found = page.xpath(
        "//div[@role='alert']//li | //ul[@class='errorlist']/li | //p[@class='error']"
    )
    return [" ".join(item.text_content().split()) for item in found]


def test_sessions_list_searches_title_abbreviation_and_track(world, planner_client):
    SessionFactory(site=world.production, abbreviation="WS-1", title="Django workshop",
                   track="Hands-on")  # fmt: skip
    SessionFactory(site=world.uat, abbreviation="WS-2", title="Django on UAT")

    def search(text):
        return titles(planner_client.get(manage(world, "sessions/"), {"q": text}))

    assert search("django") == search("ws-1") == search("HANDS") == ["Django workshop"]
    assert search("key") == ["Keynote"]
    assert search("nothing") == []


def test_sessions_list_filters_by_status_published_and_track(world, planner_client):
    SessionFactory(site=world.production, title="Hidden", published=False, track="Side")
    gone = SessionFactory(site=world.production, title="Gone", track="Side")
    planner_client.post(manage(world, f"sessions/{gone.pk}/cancel/"))
    url = manage(world, "sessions/")

    assert titles(planner_client.get(url, {"status": "cancelled"})) == ["Gone"]
    assert titles(planner_client.get(url, {"published": "no"})) == ["Hidden"]
    assert titles(planner_client.get(url, {"track": "Side"})) == ["Gone", "Hidden"]
    assert titles(planner_client.get(url, {"track": "Main", "status": "active"})) == ["Keynote"]
    tracks = html.fromstring(planner_client.get(url).content).xpath("//select[@id='track']/option")
    assert [option.text for option in tracks] == ["any", "Main", "Side"]


def test_sessions_list_pages_by_key_newest_first(world, planner_client, monkeypatch):
    from confero.console.views import sessions

    monkeypatch.setattr(sessions, "PAGE_SIZE", 2)
    for n in range(3):
        SessionFactory(site=world.production, title=f"Talk {n}")
    url = manage(world, "sessions/")

    first = planner_client.get(url)
    older = html.fromstring(first.content).xpath("//nav[@class='pager']/a/@href")
    second = planner_client.get(url + older[0])
    back = html.fromstring(second.content).xpath("//nav[@class='pager']/a/@href")

    assert titles(first) == ["Talk 2", "Talk 1"]
    assert titles(second) == ["Talk 0", "Keynote"]
    assert titles(planner_client.get(url + back[0])) == ["Talk 2", "Talk 1"]


@pytest.mark.parametrize("count", [1, 3])
def test_sessions_list_queries_do_not_grow_with_sessions(
    world, planner_client, django_assert_num_queries, count
):
    for _ in range(count - 1):
        SessionTimeFactory(session=SessionFactory(site=world.production, track="Side"))

    # session, user, event, sites, tracks, sessions (their times counted in a subquery)
    with django_assert_num_queries(6):
        response = planner_client.get(manage(world, "sessions/"))
    assert len(titles(response)) == count
    assert [row[5] for row in rows(response, "sessions")] == ["1"] * count


def test_session_page_shows_times_speakers_files_and_custom_values(world, planner_client):
    vip = world.production.custom_fields.get(code="attendee_type").values.get(code="vip")
    session = SessionFactory(
        site=world.production, abbreviation="DEEP", title="Deep dive", track="Main",
        assignments=[], abstract="Below the surface.",
    )  # fmt: skip
    planner_client.post(manage(world, f"sessions/{session.pk}/edit/"), {
        "title": "Deep dive", "abbreviation": "DEEP", "track": "Main", "published": "on",
        "abstract": "Below the surface.", "cf:level": "intro", "cf:attendee_type": "vip",
    })  # fmt: skip
    time = SessionTimeFactory(session=session, room="Room 2", capacity=10)
    set_speakers(session, [(world.person, "chair")])
    set_files(session, [FileSpec("slides.pdf", "application/pdf", 2048, "https://x.org/s.pdf")])

    response = planner_client.get(manage(world, f"sessions/{session.pk}/"))

    page = html.fromstring(response.content)
    assert page.xpath("string(//code[@id='session-id'])") == str(session.pk)
    assert rows(response, "times") == [
        [str(time.pk), "2026-06-01", "10:00", "60", "Room 2", "10", "0", "0", "off", "active"]
    ]
    assert rows(response, "speakers") == [
        [f"Ada {world.person.last_name}", world.person.user_ref, "chair"]
    ]
    assert rows(response, "files") == [
        ["slides.pdf", "application/pdf", "2048", "https://x.org/s.pdf"]
    ]
    assert rows(response, "constraints") == [
        ["attendee_type", "VIP", str(vip.pk), "privateViewPrivateSchedule"]
    ]
    custom = page.xpath("//dl[contains(@class, 'custom-values')]/dd")
    assert [" ".join(dd.text_content().split()) for dd in custom] == ["Introductory"]


def test_session_added_in_the_console_is_stored_with_its_custom_values(world, planner_client):
    response = planner_client.post(manage(world, "sessions/new/"), {
        "title": " Lightning talks ", "abbreviation": "LT", "type": "talk", "published": "on",
        "cf:level": "intro", "cf:attendee_type": "member",
    })  # fmt: skip

    session = Session.objects.get(abbreviation="LT")
    assert response["Location"] == manage(world, f"sessions/{session.pk}/")
    assert (session.title, session.type, session.published, session.status) == (
        "Lightning talks", "talk", True, "active")  # fmt: skip
    held = Answer.objects.filter(record_type="session", record_id=session.pk)
    assert sorted((a.field.code, a.value.code) for a in held) == [
        ("attendee_type", "member"), ("level", "intro")]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "refused"),
    [
        (
            {"title": "Dup", "abbreviation": "KEY"},
            ["abbreviation 'KEY' is already used by another session"],
        ),
        ({"title": ""}, ["This field is required."]),
        (
            {"title": "Bad value", "cf:level": "expert"},
            [
                "301 value 'expert' is not a value of custom field 'level' (custom field value not "
                "recognised)",
                "301: value 'expert' is not a value of custom field 'level'",
            ],
        ),
        ({"title": "Bad\x01title"}, ["contains the character U+0001, which XML cannot carry"]),
    ],
    ids=["abbreviation taken", "no title", "unknown value", "not XML"],
)
def test_session_form_refuses_what_the_api_would(world, planner_client, data, refused):
    before = Session.objects.count()

    response = planner_client.post(manage(world, "sessions/new/"), data)

    assert response.status_code == 400
    assert alerts(response) == refused
    assert Session.objects.count() == before


def test_session_changed_keeps_what_was_not_changed(world, planner_client):
    url = manage(world, f"sessions/{world.session.pk}/edit/")
    planner_client.post(url, {"title": "Keynote", "abbreviation": "KEY", "track": "Main",
                              "published": "on", "cf:level": "intro"})  # fmt: skip
    before = Session.objects.get(pk=world.session.pk).modified_at

    response = planner_client.post(url, {"title": "Opening keynote", "abbreviation": "KEY",
                                         "track": "Main", "published": "on",
                                         "cf:level": "intro"})  # fmt: skip

    session = Session.objects.get(pk=world.session.pk)
    assert response.status_code == 302
    assert (session.title, session.track, session.published) == ("Opening keynote", "Main", True)
    assert session.modified_at > before
    held = Answer.objects.filter(record_type="session", record_id=session.pk)
    assert [(a.field.code, a.value.code) for a in held] == [("level", "intro")]


def test_session_cancelled_frees_its_seats_and_comes_back_with_empty_times(world, planner_client):
    confirm = planner_client.get(manage(world, f"sessions/{world.session.pk}/cancel/"))
    planner_client.post(manage(world, f"sessions/{world.session.pk}/cancel/"))
    cancelled = Session.objects.get(pk=world.session.pk)
    world.time.refresh_from_db()
    registered = world.time.registered
    planner_client.post(manage(world, f"sessions/{world.session.pk}/reactivate/"))

    text = " ".join(html.fromstring(confirm.content).xpath("string(//main//p)").split())
    assert "1 seat and 0 waitlist places" in text
    assert (cancelled.status, registered) == ("cancelled", 0)
    assert list(Seat.objects.values_list("status", "freed_because")) == [
        ("freed", "sessionCancelled")
    ]
    assert Session.objects.get(pk=world.session.pk).status == "active"


def test_session_of_the_other_site_is_not_found(world, planner_client):
    uat_session = SessionFactory(site=world.uat)
    UserFactory(site=world.uat)

    response = planner_client.get(manage(world, f"sessions/{uat_session.pk}/"))
    there = planner_client.get(manage(world, f"sessions/{uat_session.pk}/", env="uat"))

    assert (response.status_code, there.status_code) == (404, 200)
