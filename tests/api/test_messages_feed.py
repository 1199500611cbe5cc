"""messages.do through HTTP (contract §5, §6, §8.5): the acting user's received and sent messages,
newest first, with read state, `since`; markup escaped; never another user's messages; pinned
query counts."""

import json

import pytest
from django.db import connection

from confero.api.feeds import epoch_millis
from confero.api.records import reading
from confero.messaging.models import Message

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


def feed_time(result) -> int:
    return int(result.xml.get("time"))


def stamp(message: Message) -> str:
    return message.sent_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def subjects(result) -> list[str]:
    return [m.findtext("subject") for m in result.xml.findall("message")]


@pytest.fixture
def people(live):
    """Ada, Grace and Alan: active users of the live site."""
    return [
        live.add_user(firstName=first, email=f"{first.lower()}@example.org")
        for first in ("Ada", "Grace", "Alan")
    ]


def send(live, sender, recipient, subject: str, body: str = "") -> Message:
    result = live.call(
        "sendMessage",
        {
            "userKey": sender.user_key,
            "toUserRef": recipient.user_ref,
            "subject": subject,
            "body": body,
        },
    )
    assert result.code == 0, result.body
    return Message.objects.get(pk=result.xml.findtext("messageID"))


def inbox(live, user, **params):
    return live.call("messages", {"userKey": user.user_key, **params})


def test_messages_lists_received_and_sent_newest_first_with_read_state(live, live_site, people):
    ada, grace, alan = people
    first = send(live, ada, grace, "Lunch?", "Booth C3 at noon.")
    second = send(live, grace, ada, "Re: Lunch?", "Yes!")
    send(live, grace, alan, "Not Ada's business")
    live.call("markMessageRead", {"userKey": grace.user_key, "messageID": first.pk})

    result = inbox(live, ada)

    guid = live_site.event.guid_text
    assert result.status == 200
    assert result.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert (
        result.body
        == DECLARATION
        + (
            f'<messages time="{feed_time(result)}"><response code="0">Success</response>'
            f"<message><messageID>{second.pk}</messageID><direction>in</direction>"
            f"<fromUserRef>{grace.user_ref}</fromUserRef><toUserRef>{ada.user_ref}</toUserRef>"
            f"<subject>Re: Lunch?</subject><body>Yes!</body><sent>{stamp(second)}</sent>"
            f"<read>false</read><eventGUID>{guid}</eventGUID></message>"
            f"<message><messageID>{first.pk}</messageID><direction>out</direction>"
            f"<fromUserRef>{ada.user_ref}</fromUserRef><toUserRef>{grace.user_ref}</toUserRef>"
            f"<subject>Lunch?</subject><body>Booth C3 at noon.</body><sent>{stamp(first)}</sent>"
            f"<read>true</read><eventGUID>{guid}</eventGUID></message></messages>"
        ).encode()
    )


def test_messages_of_a_user_without_messages_is_an_empty_feed(live, people):
    send(live, people[1], people[2], "Between others")

    result = inbox(live, people[0])

    assert (
        result.body
        == DECLARATION
        + (
            f'<messages time="{feed_time(result)}"><response code="0">Success</response></messages>'
        ).encode()
    )


def test_messages_markup_in_a_message_is_text_escaped_in_xml(live, people):
    ada, grace, _ = people
    body = "<script>alert('x')</script> & <b>bold</b>"
    send(live, ada, grace, "<i>Hi</i>", body)

    result = inbox(live, grace)

    assert (
        b"<subject>&lt;i&gt;Hi&lt;/i&gt;</subject>"
        b"<body>&lt;script&gt;alert('x')&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;</body>"
    ) in result.body
    record = result.xml.find("message")
    assert (record.findtext("subject"), record.findtext("body")) == ("<i>Hi</i>", body)
    assert [child.tag for child in record] == [
        "messageID", "direction", "fromUserRef", "toUserRef", "subject", "body", "sent", "read",
        "eventGUID",
    ]  # fmt: skip


def test_messages_as_json(live, live_site, people):
    ada, grace, _ = people
    message = send(live, ada, grace, "Hi", "<b>x</b>")

    result = live.call("messages", {"userKey": grace.user_key, "format": "json"})

    document = json.loads(result.body)["messages"]
    assert document["response"] == {"code": 0, "message": "Success"}
    assert document["message"] == [
        {
            "messageID": message.pk,
            "direction": "in",
            "fromUserRef": ada.user_ref,
            "toUserRef": grace.user_ref,
            "subject": "Hi",
            "body": "<b>x</b>",
            "sent": stamp(message),
            "read": False,
            "eventGUID": live_site.event.guid_text,
        }
    ]


def test_messages_newest_first_across_chunks(live, people, monkeypatch):
    """The feed reads by messageID, descending, a chunk at a time."""
    monkeypatch.setattr(reading, "CHUNK", 2)
    ada, grace, _ = people
    for n in range(5):
        send(live, ada if n % 2 else grace, grace if n % 2 else ada, f"m{n}")

    result = inbox(live, ada)

    assert subjects(result) == ["m4", "m3", "m2", "m1", "m0"]


def test_messages_of_the_other_site_are_not_listed(api, live, uat_site, people):
    ada = people[0]
    tester, other = (
        api.call(
            uat_site.url("addUser"),
            {"apiToken": uat_site.token, "firstName": n, "lastName": "T", "email": f"{n}@x.org"},
        ).xml
        for n in ("t", "u")
    )
    send_uat = api.call(
        uat_site.url("sendMessage"),
        {
            "apiToken": uat_site.token,
            "userKey": tester.findtext("userKey"),
            "toUserRef": other.findtext("userRef"),
            "subject": "UAT",
        },
    )
    assert send_uat.code == 0
    send(live, ada, people[1], "Production")

    assert subjects(inbox(live, ada)) == ["Production"]


# --- Only the user may read their messages (§5) --------------------------------------------------


def test_a_caller_holding_only_a_user_ref_can_write_to_the_user_but_never_read_their_messages(
    live, people
):
    ada, grace, alan = people
    send(live, ada, grace, "Private")
    assert subjects(inbox(live, grace)) == ["Private"]  # Grace has a message that could leak

    wrote = send(live, alan, grace, "Hello from Alan")
    by_ref = live.call("messages", {"userRef": grace.user_ref})
    ref_as_key = live.call("messages", {"userKey": grace.user_ref})
    ref_as_client_id = live.call("messages", {"clientID": grace.user_ref})

    assert wrote.recipient_id == grace.pk
    assert (by_ref.status, by_ref.body) == (
        400,
        error_xml(212, "userRef cannot act as the user: use userKey or clientID"),
    )
    assert (ref_as_key.status, ref_as_key.body) == (
        404,
        error_xml(210, f"no user with userKey '{grace.user_ref}' on this site"),
    )
    assert (ref_as_client_id.status, ref_as_client_id.body) == (
        404,
        error_xml(210, f"no user with clientID '{grace.user_ref}' on this site"),
    )


def test_messages_of_a_cancelled_user_are_refused_with_215_and_kept(live, people):
    ada, grace, _ = people
    send(live, ada, grace, "Kept")
    live.call("cancelUser", {"userKey": grace.user_key})

    refused = inbox(live, grace)

    assert (refused.status, refused.body) == (409, error_xml(215, "user is cancelled"))
    assert subjects(inbox(live, ada)) == ["Kept"]


# --- since (§8) ----------------------------------------------------------------------------------


def test_since_returns_messages_sent_or_read_after_the_last_feed(live, people):
    ada, grace, alan = people
    to_grace = send(live, ada, grace, "Will be read")
    send(live, alan, ada, "Stays unread")
    Message.objects.update(sent_at="2020-01-01T00:00:00Z", modified_at="2020-01-01T00:00:00Z")
    first = inbox(live, ada)

    live.call("markMessageRead", {"userKey": grace.user_key, "messageID": to_grace.pk})
    send(live, grace, ada, "New")
    second = inbox(live, ada, since=feed_time(first))

    assert subjects(first) == ["Stays unread", "Will be read"]
    assert [(m.findtext("subject"), m.findtext("read")) for m in second.xml.findall("message")] == [
        ("New", "false"),
        ("Will be read", "true"),
    ]


def test_since_equal_to_the_sent_time_includes_the_message(live, people):
    message = send(live, people[0], people[1], "Edge")
    stamped = epoch_millis(message.sent_at)

    at = inbox(live, people[0], since=stamped)
    after = inbox(live, people[0], since=stamped + 1)

    assert (subjects(at), subjects(after)) == (["Edge"], [])


# --- Query counts: no N+1 ------------------------------------------------------------------------

# The gate (one query), the token's rate-limit lease, the acting user, the watermark (3 on
# SQLite: savepoint, clock, release), one chunk of messages (both users' refs joined in), the
# call log.
MESSAGES_QUERIES = 8


@pytest.mark.parametrize("count", [1, 3])
def test_messages_query_count_does_not_grow_with_messages(live, people, assert_api_queries, count):
    ada, grace, alan = people
    for n in range(count):
        send(live, ada, grace, f"out {n}")
        send(live, alan, ada, f"in {n}")

    with assert_api_queries(
        MESSAGES_QUERIES if connection.vendor == "sqlite" else MESSAGES_QUERIES - 2
    ):
        result = inbox(live, ada)

    assert len(result.xml.findall("message")) == 2 * count
