"""addSession.do, updateSession.do and the sessionData.do feed through HTTP (contract §7,
§8.3): exact answers, speakers and files, custom fields, 220 and 227, `since` (a cancelled time
shows), event=all and pinned query counts."""

import datetime as dt
import json
from xml.sax.saxutils import escape

import pytest
from django.db import connection

from confero.customfields.services import ValueSpec, create_field
from confero.errors import ValidationFailed
from confero.programme.models import Session, SessionFile, SessionTime, Speaker
from tests.api.conftest import SiteApi
from tests.conftest import OpenSite
from tests.factories import EventFactory, open_site

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def api_xml(inner: str) -> bytes:
    return DECLARATION + f'<api><response code="0">Success</response>{inner}</api>'.encode()


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{escape(message)}</response></api>'.encode()


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def ada(live):
    return live.add_user(firstName="Ada", lastName="Lovelace", email="ada@example.org",
                         companyName="Analytical", jobTitle="Poet")  # fmt: skip


@pytest.fixture
def grace(live):
    return live.add_user(firstName="Grace", lastName="Hopper", email="grace@example.org")


# --- addSession.do and updateSession.do ------------------------------------------------------


def test_add_session_answers_its_id_and_abbreviation(live):
    result = live.call("addSession", {"title": "Keynote", "abbreviation": "KEY"})

    session = Session.objects.get()
    assert result.body == api_xml(
        f"<sessionID>{session.pk}</sessionID><abbreviation>KEY</abbreviation>"
    )
    assert (session.title, session.status, session.published) == ("Keynote", "active", True)


def test_add_session_with_speakers_files_and_custom_fields(live, ada, grace, access_field):
    create_field(live.site.site, record_type="session", code="level", display_name="Level",
                 field_type="choice", values=[ValueSpec("intro"), ValueSpec("deep")])  # fmt: skip

    result = live.call(
        "addSession",
        {
            "title": "Engines",
            "speaker": [ada.user_ref, grace.user_ref],
            "speakerRole": ["speaker", "moderator"],
            "file": ["Slides|application/pdf|1234|https://x.org/s.pdf?a=1|b"],
            "level": "deep",
            "access": "pv",
            "published": "false",
        },
    )

    session = Session.objects.get()
    pv = access_field.values.get(code="pv")
    assert result.body == api_xml(
        f"<sessionID>{session.pk}</sessionID><abbreviation/>"
        '<customValue field="level" code="deep"/>'
        f'<customValue field="access" code="pv" id="{pv.pk}"/>'
    )
    assert list(Speaker.objects.values_list("user_id", "role", "position")) == [
        (ada.pk, "speaker", 0),
        (grace.pk, "moderator", 1),
    ]
    assert list(SessionFile.objects.values_list("name", "type", "size", "url")) == [
        ("Slides", "application/pdf", 1234, "https://x.org/s.pdf?a=1|b")
    ]
    assert session.published is False


def test_add_session_with_an_abbreviation_taken_is_227(live):
    live.call("addSession", {"title": "Keynote", "abbreviation": "KEY"})

    result = live.call("addSession", {"title": "Other", "abbreviation": "KEY"})

    assert (result.status, result.body) == (
        409,
        error_xml(227, "abbreviation 'KEY' is already used by another session"),
    )
    assert Session.objects.count() == 1


def test_add_session_without_title_is_200(live):
    result = live.call("addSession", {"abbreviation": "KEY"})

    assert (result.status, result.body) == (400, error_xml(200, "parameter 'title' is required"))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"file": "Slides|pdf|12"}, "parameter 'file' must be name|type|size|url"),
        ({"file": "Slides|pdf|big|https://x.org"},
         "parameter 'file' must be name|type|size|url, the size a number of bytes"),
        ({"speakerRole": "host"}, "parameter 'speakerRole' needs 'speaker'"),
        ({"published": "maybe"}, "parameter 'published' must be true or false"),
    ],
)  # fmt: skip
def test_add_session_with_bad_values_is_201_and_writes_nothing(live, params, message):
    result = live.call("addSession", {"title": "Keynote", **params})

    assert (result.status, result.body) == (400, error_xml(201, message))
    assert Session.objects.count() == 0


def test_add_session_with_an_unknown_speaker_is_210_and_writes_nothing(live):
    result = live.call("addSession", {"title": "Keynote", "speaker": "0123456789ABCDEF"})

    assert (result.status, result.body) == (
        404,
        error_xml(210, "no user with userRef '0123456789ABCDEF' on this site"),
    )
    assert Session.objects.count() == 0


def test_add_session_with_a_cancelled_speaker_is_215(live, ada):
    live.call("cancelUser", {"userKey": ada.user_key})

    result = live.call("addSession", {"title": "Keynote", "speaker": ada.user_ref})

    assert (result.status, result.code) == (409, 215)
    assert Session.objects.count() == 0


def test_update_session_by_abbreviation_changes_only_what_is_sent(live, ada):
    live.call("addSession", {"title": "Keynote", "abbreviation": "KEY", "track": "Main",
                             "speaker": ada.user_ref})  # fmt: skip

    result = live.call(
        "updateSession", {"abbreviation": "KEY", "newAbbreviation": "OPEN", "title": "Opening"}
    )

    session = Session.objects.get()
    assert result.body == api_xml(
        f"<sessionID>{session.pk}</sessionID><abbreviation>OPEN</abbreviation>"
    )
    assert (session.abbreviation, session.title, session.track) == ("OPEN", "Opening", "Main")
    assert Speaker.objects.count() == 1


def test_update_session_empty_speaker_and_file_clear_them(live, ada):
    live.call("addSession", {"title": "K", "abbreviation": "KEY", "speaker": ada.user_ref,
                             "file": "a|b|1|https://x.org"})  # fmt: skip

    assert live.call("updateSession", {"abbreviation": "KEY", "speaker": "", "file": ""}).code == 0

    assert (Speaker.objects.count(), SessionFile.objects.count()) == (0, 0)


def test_update_session_unknown_is_220_and_disagreeing_identifiers_201(live):
    session = int(live.call("addSession", {"title": "K", "abbreviation": "KEY"}).xml[1].text)
    live.call("addSession", {"title": "L", "abbreviation": "LOW"})

    unknown = live.call("updateSession", {"sessionID": "999", "title": "x"})
    both = live.call("updateSession", {"sessionID": session, "abbreviation": "LOW"})

    assert (unknown.status, unknown.body) == (404, error_xml(220, "no session with sessionID 999"))
    assert (both.status, both.body) == (
        400,
        error_xml(201, "sessionID and abbreviation name different sessions"),
    )


def test_update_session_new_abbreviation_taken_is_227(live):
    live.call("addSession", {"title": "K", "abbreviation": "KEY"})
    live.call("addSession", {"title": "L", "abbreviation": "LOW"})

    result = live.call("updateSession", {"abbreviation": "LOW", "newAbbreviation": "KEY"})

    assert (result.status, result.code) == (409, 227)


@pytest.mark.parametrize(
    "code",
    ["sessionID", "abbreviation", "title", "speaker", "speakerRole", "file", "newAbbreviation",
     "sessionTimeID", "room", "date", "time", "length", "capacity", "waitlist", "status"],
)  # fmt: skip
def test_a_session_field_named_like_a_standard_parameter_is_refused(live, code):
    with pytest.raises(ValidationFailed, match=f"'{code}' is a standard parameter of session"):
        create_field(live.site.site, record_type="session", code=code, display_name="X",
                     field_type="text")  # fmt: skip


@pytest.mark.parametrize(
    "name",
    ["sessionID", "timesOffered", "sessionTime", "registered", "seatsRemaining", "fullName",
     "roles", "filename", "speakerRole", "bio", "photoURL", "waitlist", "position",
     "canSchedule", "cannotViewOrSchedule"],
)  # fmt: skip
def test_a_session_field_whose_element_is_a_standard_element_is_refused(live, name):
    with pytest.raises(ValidationFailed, match=f"<{name}> is a standard element of sessions"):
        create_field(live.site.site, record_type="session", code="x", display_name=name,
                     field_type="text")  # fmt: skip


# --- sessionData.do ----------------------------------------------------------------------------


def test_session_data_record_has_the_contract_s_elements_in_order(
    live, programme, ada, grace, access_field
):
    create_field(live.site.site, record_type="session", code="level", display_name="Level",
                 field_type="text")  # fmt: skip
    session = programme.session(
        abbreviation="KEY", abstract="A <b>talk</b>", type="talk", track="Main", level="deep",
        access=["pv", "cn"], speaker=[grace.user_ref, ada.user_ref], speakerRole="speaker",
        file=["Slides|application/pdf|1234|https://x.org/s.pdf"],
    )  # fmt: skip
    late = programme.time(session, date="2026-06-02", time="14:00", length="45", capacity="30",
                          room="Hall A")  # fmt: skip
    early = programme.time(session, time="09:30", length="90", capacity="20", waitlist="true")
    stored = Session.objects.get()
    pv, cn = (access_field.values.get(code=code).pk for code in ("pv", "cn"))

    result = live.call("sessionData")

    guid = live.site.event.guid_text
    expected = (
        f'<session-data time="{result.xml.get("time")}">'
        '<response code="0">Success</response>'
        f"<session><sessionID>{session}</sessionID><abbreviation>KEY</abbreviation>"
        "<title>Keynote</title><abstract>A &lt;b&gt;talk&lt;/b&gt;</abstract>"
        "<timesOffered>2</timesOffered><capacity>50</capacity><type>talk</type>"
        "<track>Main</track><status>active</status><length>90</length>"
        f"<created>{stamp(stored.created_at)}</created>"
        f"<modified>{stamp(stored.modified_at)}</modified><published>true</published>"
        f"<publicViewPrivateSchedule>{pv}</publicViewPrivateSchedule>"
        "<privateViewPrivateSchedule/>"  # always there, empty when none is held (§8.2, §8.3)
        f"<cannotViewOrSchedule>{cn}</cannotViewOrSchedule>"
        f"<sessionTime><sessionTimeID>{early}</sessionTimeID><room/><date>2026-06-01</date>"
        "<time>09:30</time><length>90</length><capacity>20</capacity><registered>0</registered>"
        "<waitlisted>0</waitlisted><status>active</status></sessionTime>"
        f"<sessionTime><sessionTimeID>{late}</sessionTimeID><room>Hall A</room>"
        "<date>2026-06-02</date><time>14:00</time><length>45</length><capacity>30</capacity>"
        "<registered>0</registered><waitlisted>0</waitlisted><status>active</status>"
        "</sessionTime><Access>pv</Access><Access>cn</Access><Level>deep</Level>"
        f"<speaker><userRef>{grace.user_ref}</userRef><fullName>Grace Hopper</fullName>"
        "<jobTitle/><company/><roles>speaker</roles></speaker>"
        f"<speaker><userRef>{ada.user_ref}</userRef><fullName>Ada Lovelace</fullName>"
        "<jobTitle>Poet</jobTitle><company>Analytical</company><roles>speaker</roles></speaker>"
        "<file><filename>Slides</filename><size>1234</size>"
        "<url>https://x.org/s.pdf</url></file>"
        f"<eventGUID>{guid}</eventGUID></session></session-data>"
    ).encode()
    assert result.body == DECLARATION + expected


def test_session_data_capacity_is_zero_when_any_time_is_unlimited(live, programme):
    session = programme.session()
    programme.time(session, capacity="20")
    programme.time(session, time="14:00")
    cancelled = programme.time(session, time="16:00", capacity="5", length="30")
    live.call("cancelSessionTime", {"sessionTimeID": cancelled})
    bare = programme.session(title="No times yet")

    records = live.call("sessionData").xml.findall("session")

    assert [(r.findtext("timesOffered"), r.findtext("capacity"), r.findtext("length"))
            for r in records] == [("2", "0", "60"), ("0", "0", "")]  # fmt: skip
    assert records[1].findtext("sessionID") == str(bare)


def test_session_data_since_shows_a_cancelled_time_and_nothing_unchanged(live, programme):
    moved = programme.session(abbreviation="A")
    time = programme.time(moved)
    programme.time(programme.session(abbreviation="B"))
    Session.objects.update(modified_at=LONG_AGO)
    SessionTime.objects.update(modified_at=LONG_AGO)
    before = live.call("sessionData", {"since": "1577836800001"})

    live.call("cancelSessionTime", {"sessionTimeID": time})
    after = live.call("sessionData", {"since": before.xml.get("time")})

    assert before.xml.findall("session") == []
    [record] = after.xml.findall("session")
    assert (record.findtext("abbreviation"), record.findtext("sessionTime/status")) == (
        "A",
        "cancelled",
    )
    assert record.findtext("timesOffered") == "0"


def test_session_data_event_all_spans_the_account(api, live, programme):
    set_site = live.site
    from confero.access.services import configure_profile

    configure_profile(set_site.site.api_profile, account_level_access=True)
    other = EventFactory(account=set_site.event.account, code="other-event")
    other_site, other_token = open_site(other)
    programme.session(title="Here")
    SiteApi(api, OpenSite(other, other_site, other_token, "production")).call(
        "addSession", {"title": "There"}
    )

    result = live.call("sessionData", {"event": "all"})

    assert [(r.findtext("title"), r.findtext("eventGUID")) for r in result.xml.iter("session")] == [
        ("Here", set_site.event.guid_text),
        ("There", other.guid_text),
    ]


# The gate, the token's counter, the watermark (3 on SQLite: savepoint, clock, release), custom
# fields, their values, one chunk of sessions, their custom values, times, speakers, files, the
# call log.
SESSION_DATA_QUERIES = 13


@pytest.mark.parametrize("count", [1, 3])
def test_session_data_query_count_does_not_grow_with_sessions(
    live, programme, ada, access_field, assert_api_queries, count
):
    for n in range(count):
        files = ["a|b|1|https://x.org", "c|d|2|https://y.org"]
        session = programme.session(
            abbreviation=f"S{n}", access="pv", speaker=ada.user_ref, file=files
        )
        programme.time(session)
        programme.time(session, time="14:00")

    expected = SESSION_DATA_QUERIES if connection.vendor == "sqlite" else SESSION_DATA_QUERIES - 2
    with assert_api_queries(expected):
        result = live.call("sessionData")

    assert [len(r.findall("sessionTime")) for r in result.xml.iter("session")] == [2] * count


def test_session_data_in_json_has_lists_for_times_speakers_and_files(live, programme, ada):
    session = programme.session(abbreviation="KEY", speaker=ada.user_ref)
    programme.time(session)

    body = live.call("sessionData", {"format": "json"}).body

    [record] = json.loads(body)["session-data"]["session"]
    assert (record["sessionID"], record["timesOffered"], record["published"]) == (session, 1, True)
    assert [t["time"] for t in record["sessionTime"]] == ["10:00"]
    speaker = {"userRef": ada.user_ref, "fullName": "Ada Lovelace", "jobTitle": "Poet",
               "company": "Analytical", "roles": ""}  # fmt: skip
    assert record["speaker"] == [speaker]
    assert record["file"] == []
