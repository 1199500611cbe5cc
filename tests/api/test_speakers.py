"""The speakerData.do feed through HTTP (contract §8.3): the users who speak, each with the
sessions they speak at, `since` following the sessions too, and pinned query counts."""

import datetime as dt

import pytest
from django.db import connection

from confero.people.models import User
from confero.programme.models import Session

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def ada(live):
    return live.add_user(firstName="Ada", lastName="Lovelace", email="ada@example.org",
                         publicBio="Poet of science.", companyName="Analytical",
                         jobTitle="Countess")  # fmt: skip


def test_speaker_data_lists_speakers_with_their_sessions(live, programme, ada):
    live.add_user(email="listener@example.org")  # speaks nowhere: not in the feed
    keynote = programme.session(abbreviation="KEY", speaker=ada.user_ref, speakerRole="host")
    panel = programme.session(title="Panel", speaker=ada.user_ref, published="false")

    result = live.call("speakerData")

    assert (
        result.body
        == DECLARATION
        + (
            f'<speakers time="{result.xml.get("time")}"><response code="0">Success</response>'
            f"<speaker><userRef>{ada.user_ref}</userRef><firstName>Ada</firstName>"
            "<lastName>Lovelace</lastName><email>ada@example.org</email><bio>Poet of science.</bio>"
            "<companyName>Analytical</companyName><jobTitle>Countess</jobTitle><photoURL/><thumbURL/>"
            f"<session><sessionID>{keynote}</sessionID><abbreviation>KEY</abbreviation>"
            "<title>Keynote</title><published>true</published><speakerRole>host</speakerRole>"
            f"</session><session><sessionID>{panel}</sessionID><abbreviation/><title>Panel</title>"
            "<published>false</published><speakerRole/></session>"
            f"<eventGUID>{live.site.event.guid_text}</eventGUID></speaker></speakers>"
        ).encode()
    )


def test_speaker_data_since_follows_the_sessions_spoken_at(live, programme, ada):
    grace = live.add_user(firstName="Grace", email="grace@example.org")
    programme.session(abbreviation="KEY", speaker=ada.user_ref)
    programme.session(abbreviation="OTHER", speaker=grace.user_ref)
    User.objects.update(modified_at=LONG_AGO)
    Session.objects.update(modified_at=LONG_AGO)
    before = live.call("speakerData", {"since": "1577836800001"})

    live.call("updateSession", {"abbreviation": "KEY", "title": "Opening keynote"})
    after = live.call("speakerData", {"since": before.xml.get("time")})

    assert before.xml.findall("speaker") == []
    assert [(s.findtext("userRef"), s.findtext("session/title")) for s in after.xml.iter("speaker")
            ] == [(ada.user_ref, "Opening keynote")]  # fmt: skip


# The gate, the token's counter, the watermark (3 on SQLite), one chunk of speakers, their
# sessions, the call log.
SPEAKER_DATA_QUERIES = 8


@pytest.mark.parametrize("count", [1, 3])
def test_speaker_data_query_count_does_not_grow_with_speakers(
    live, programme, assert_api_queries, count
):
    speakers = [live.add_user(email=f"s{n}@example.org") for n in range(count)]
    for n in range(2):
        programme.session(abbreviation=f"S{n}", speaker=[s.user_ref for s in speakers])

    queries = SPEAKER_DATA_QUERIES
    with assert_api_queries(queries if connection.vendor == "sqlite" else queries - 2):
        result = live.call("speakerData")

    assert [len(s.findall("session")) for s in result.xml.iter("speaker")] == [2] * count
