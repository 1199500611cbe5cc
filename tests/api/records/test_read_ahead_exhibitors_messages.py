"""PostgreSQL only, outside a test transaction (as a server runs): exhibitorData.do and messages.do
read their next chunk on a connection of the feed's own while the current one streams
(confero.api.records.reading), and the feed is the one read chunk by chunk on the call's own
connection. The chunk size is cut to 2 so that a few records make several chunks. userData.do's:
test_reading.py."""

import re

import pytest
from django.db import transaction

from confero.api.records import reading
from tests.api.conftest import EXHIBITOR_FIELDS_FILE, import_test_fields

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

TIME = re.compile(rb' time="\d+"')


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(reading, "CHUNK", 2)


@pytest.fixture
def people(live):
    return [live.add_user(firstName=f"P{n}", email=f"p{n}@example.org") for n in range(3)]


def feed(live, resource, **params):
    result = live.call(resource, params)
    assert (result.status, result.code) == (200, 0), result.body
    return result


def test_exhibitor_data_read_ahead_is_the_feed_read_chunk_by_chunk(
    api, live, live_site, uat_site, people
):
    import_test_fields(live_site.site, EXHIBITOR_FIELDS_FILE)
    for n in range(7):
        staff = [people[(n + k) % 3].user_ref for k in range(n % 3)]
        params = {
            "name": f"E{n}",
            "hall": "h1" if n % 2 else "",
            "sectors": ["space", "food"][: n % 3],
        }
        result = live.call(
            "addExhibitor",
            {**params, "participant": staff or "", "file": f"F{n}|pdf|{n}|https://x.org/{n}"},
        )
        assert result.code == 0, result.body
        if n == 3:  # an exhibitor of the other site: an id in the range, not in the feed
            api.call(uat_site.url("addExhibitor"), {"apiToken": uat_site.token, "name": "UAT"})
    since = feed(live, "exhibitorData").xml.get("time")
    for code in ("E1", "E4", "E6"):
        exhibitor_id = next(
            e.findtext("exhibitorID")
            for e in feed(live, "exhibitorData").xml.findall("exhibitor")
            if e.findtext("name") == code
        )
        assert (
            live.call("updateExhibitor", {"exhibitorID": exhibitor_id, "booth": "Later"}).code == 0
        )

    ahead, ahead_since = feed(live, "exhibitorData"), feed(live, "exhibitorData", since=since)
    with transaction.atomic():  # inside a transaction: on the call's own connection
        plain = feed(live, "exhibitorData")
        plain_since = feed(live, "exhibitorData", since=since)

    assert [e.findtext("name") for e in ahead.xml.findall("exhibitor")] == [
        f"E{n}" for n in range(7)
    ]
    assert [e.findtext("name") for e in ahead_since.xml.findall("exhibitor")] == ["E1", "E4", "E6"]
    assert TIME.sub(b"", ahead.body) == TIME.sub(b"", plain.body)
    assert TIME.sub(b"", ahead_since.body) == TIME.sub(b"", plain_since.body)
    assert ahead.body.count(b"<participant>") == 6


def test_messages_read_ahead_is_newest_first_as_read_chunk_by_chunk(live, people):
    """messages.do reads without a transaction around it: its acting user is looked up without
    a lock (a lock needs a transaction to hold it in)."""
    ada, grace, alan = people
    for n in range(7):
        sender, recipient = [(ada, grace), (grace, ada), (alan, grace)][n % 3]
        result = live.call(
            "sendMessage",
            {"userKey": sender.user_key, "toUserRef": recipient.user_ref, "subject": f"m{n}"},
        )
        assert result.code == 0, result.body

    ahead = feed(live, "messages", userKey=ada.user_key)
    with transaction.atomic():
        plain = feed(live, "messages", userKey=ada.user_key)

    assert [m.findtext("subject") for m in ahead.xml.findall("message")] == [
        "m6", "m4", "m3", "m1", "m0",
    ]  # fmt: skip
    assert TIME.sub(b"", ahead.body) == TIME.sub(b"", plain.body)
