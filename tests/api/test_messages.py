"""sendMessage.do and markMessageRead.do through HTTP (contract §5, §8.5): the caller acts as the
sender (userKey or clientID) and names the recipient by userRef; the per-sender limit; only the
recipient marks a message read. The feed: test_messages_feed.py."""

import pytest

from confero.access.models import ApiCall
from confero.messaging.models import Message
from tests.ratelimit_clock import NOW

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
NOT_RECIPIENT = "the recipient is not an active user of this site"


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


def sent_xml(message_id: int, *, read: bool = False) -> bytes:
    tail = "<read>true</read>" if read else ""
    ok = '<api><response code="0">Success</response>'
    return DECLARATION + f"{ok}<messageID>{message_id}</messageID>{tail}</api>".encode()


def stored() -> list[tuple]:
    return list(
        Message.objects.order_by("pk").values_list(
            "site_id", "sender_id", "recipient_id", "subject", "body"
        )
    )


def last_call() -> ApiCall:
    return ApiCall.objects.order_by("-id").first()


@pytest.fixture
def people(live):
    """Ada (clientID CRM-1), Grace and Alan: active users of the live site."""
    return [
        live.add_user(firstName=first, email=f"{first.lower()}@example.org", **extra)
        for first, extra in (("Ada", {"clientID": "CRM-1"}), ("Grace", {}), ("Alan", {}))
    ]


def send(live, sender, recipient, **params):
    return live.call(
        "sendMessage",
        {"userKey": sender.user_key, "toUserRef": recipient.user_ref, "subject": "Hi", **params},
    )


# --- sendMessage.do ------------------------------------------------------------------------------


def test_send_message_stores_it_and_answers_with_its_id(live, live_site, people):
    ada, grace, _ = people

    result = send(live, ada, grace, subject="Lunch?", body="Booth C3 at noon.")

    message = Message.objects.get()
    assert (result.status, result.body) == (200, sent_xml(message.pk))
    assert stored() == [(live_site.site.pk, ada.pk, grace.pk, "Lunch?", "Booth C3 at noon.")]
    assert message.read_at is None
    assert (last_call().resource, last_call().code) == ("sendMessage", 0)


def test_send_message_acting_by_client_id_with_a_lower_case_user_ref(live, people):
    ada, grace, _ = people

    result = live.call(
        "sendMessage", {"clientID": "CRM-1", "toUserRef": grace.user_ref.lower(), "body": "Hi"}
    )

    assert result.code == 0
    assert stored()[0][1:] == (ada.pk, grace.pk, "", "Hi")


def test_send_message_keeps_markup_as_text(live, people):
    ada, grace, _ = people
    body = "<script>alert('x')</script> & <b>bold</b>"

    send(live, ada, grace, subject="<i>Re</i>", body=body)

    assert stored()[0][3:] == ("<i>Re</i>", body)


@pytest.mark.parametrize(
    "to",
    ["0123456789ABCDEF", "not-a-ref", "cancelled", "other site"],
)
def test_send_message_to_no_active_user_of_the_site_is_refused_with_240(
    api, live, uat_site, people, to
):
    ada, grace, _ = people
    if to == "cancelled":
        live.call("cancelUser", {"userKey": grace.user_key})
        to = grace.user_ref
    elif to == "other site":
        to = api.call(
            uat_site.url("addUser"),
            {"apiToken": uat_site.token, "firstName": "T", "lastName": "T", "email": "t@x.org"},
        ).xml.findtext("userRef")

    result = live.call("sendMessage", {"userKey": ada.user_key, "toUserRef": to, "body": "Hi"})

    assert (result.status, result.body) == (404, error_xml(240, NOT_RECIPIENT))
    assert stored() == []
    assert (last_call().resource, last_call().code) == ("sendMessage", 240)


@pytest.mark.parametrize(
    ("params", "status", "code", "message"),
    [
        ({"toUserRef": None}, 400, 200, "parameter 'toUserRef' is required"),
        ({"toUserRef": ""}, 400, 200, "parameter 'toUserRef' is required (it is empty)"),
        (
            {"subject": "", "body": " "},
            400,
            201,
            "parameter 'body': a message needs a subject or a body",
        ),
        ({"subject": "s" * 201}, 400, 201, "parameter 'subject' must be at most 200 characters"),
        ({"body": "b" * 10_001}, 400, 201, "parameter 'body' must be at most 10000 characters"),
        (
            {"body": "\x07"},
            400,
            201,
            "parameter 'body' contains the character U+0007, which XML cannot carry",
        ),
        # sendMessage.do writes: an undeclared parameter is a custom field code, and messages
        # have none (contract §2 as amended for issue 16).
        (
            {"priority": "high"},
            400,
            300,
            "parameter 'priority' is not known to sendMessage.do (it takes no custom fields)",
        ),
    ],
)
def test_send_message_breaking_a_rule_is_refused(live, people, params, status, code, message):
    ada, grace, _ = people
    sent = {"userKey": ada.user_key, "toUserRef": grace.user_ref, "subject": "Hi", **params}

    result = live.call("sendMessage", {k: v for k, v in sent.items() if v is not None})

    assert (result.status, result.body) == (status, error_xml(code, message))
    assert stored() == []


def test_send_message_of_the_longest_subject_and_body(live, people):
    ada, grace, _ = people

    result = send(live, ada, grace, subject="s" * 200, body="b" * 10_000)

    assert result.code == 0


def test_send_message_to_oneself_is_refused_with_201(live, people):
    ada = people[0]

    result = send(live, ada, ada)

    assert (result.status, result.body) == (
        400,
        error_xml(201, "parameter 'toUserRef': a user cannot send a message to themselves"),
    )


@pytest.mark.parametrize(
    ("acting", "status", "code", "message"),
    [
        ("userRef", 400, 212, "userRef cannot act as the user: use userKey or clientID"),
        ("cancelled", 409, 215, "user is cancelled"),
        ("nobody", 404, 210, f"no user with userKey '{'0123456789ABCDEF' * 2}' on this site"),
        ("none", 400, 200, "parameter 'userKey' or 'clientID' is required"),
    ],
)  # fmt: skip
def test_send_message_needs_an_active_sender_named_by_user_key_or_client_id(
    live, people, acting, status, code, message
):
    ada, grace, _ = people
    params = {"toUserRef": grace.user_ref, "body": "Hi"}
    if acting == "userRef":
        params["userRef"] = ada.user_ref
    elif acting == "cancelled":
        live.call("cancelUser", {"userKey": ada.user_key})
        params["userKey"] = ada.user_key
    elif acting == "nobody":
        params["userKey"] = "0123456789ABCDEF" * 2

    result = live.call("sendMessage", params)

    assert (result.status, result.body) == (status, error_xml(code, message))
    assert stored() == []


# --- The per-sender limit (§8.5) -----------------------------------------------------------------


def test_send_message_over_the_per_sender_limit_is_refused_with_120_and_retry_after(
    live, people, settings, clock
):
    settings.CONFERO_MESSAGES_PER_MINUTE = 3
    ada, grace, alan = people
    for n in range(3):
        assert send(live, ada, grace, body=f"{n}").code == 0

    refused = send(live, ada, alan, body="one too many")

    assert (refused.status, refused.body) == (
        429,
        error_xml(120, "at most 3 messages a minute from one user; try again in 18 s"),
    )
    assert refused.headers["Retry-After"] == "18"
    assert [row[4] for row in stored()] == ["0", "1", "2"]
    assert (last_call().resource, last_call().code, last_call().http_status) == (
        "sendMessage",
        120,
        429,
    )
    # Another sender is not held back; the next minute, Ada may send again.
    assert send(live, grace, ada).code == 0
    clock.now = NOW + 18
    assert send(live, ada, alan, body="next minute").code == 0


def test_send_message_refused_calls_do_not_count_against_the_limit(live, people, settings, clock):
    settings.CONFERO_MESSAGES_PER_MINUTE = 2
    ada, grace, _ = people

    assert send(live, ada, grace, body="1").code == 0
    assert send(live, ada, ada, toUserRef="0" * 16).code == 240
    assert send(live, ada, ada).code == 201
    assert send(live, ada, grace, body="2").code == 0
    assert send(live, ada, grace, body="3").code == 120
    assert send(live, ada, grace, body="4").code == 120

    assert [row[4] for row in stored()] == ["1", "2"]


# --- markMessageRead.do --------------------------------------------------------------------------


@pytest.fixture
def message(live, people) -> Message:
    """Ada wrote to Grace."""
    ada, grace, _ = people
    assert send(live, ada, grace, body="Lunch?").code == 0
    return Message.objects.get()


def test_mark_message_read_by_its_recipient(live, people, message):
    grace = people[1]

    result = live.call("markMessageRead", {"userKey": grace.user_key, "messageID": message.pk})

    assert (result.status, result.body) == (200, sent_xml(message.pk, read=True))
    message.refresh_from_db()
    assert message.read_at is not None
    assert message.modified_at == message.read_at


def test_mark_message_read_again_keeps_the_first_read_time(live, people, message):
    grace = people[1]
    live.call("markMessageRead", {"userKey": grace.user_key, "messageID": message.pk})
    first = Message.objects.values_list("read_at", flat=True).get()

    again = live.call("markMessageRead", {"userKey": grace.user_key, "messageID": message.pk})

    assert again.body == sent_xml(message.pk, read=True)
    assert Message.objects.values_list("read_at", flat=True).get() == first


@pytest.mark.parametrize("who", ["sender", "another user"])
def test_mark_message_read_by_anyone_but_the_recipient_is_answered_as_no_such_message(
    live, people, message, who
):
    """A message that is not the caller's and one that does not exist get the same answer: the
    refusal tells nothing about other users' messages."""
    ada, _, alan = people
    caller = ada if who == "sender" else alan

    refused = live.call("markMessageRead", {"userKey": caller.user_key, "messageID": message.pk})
    nowhere = live.call("markMessageRead", {"userKey": caller.user_key, "messageID": 999999})

    assert (refused.status, refused.body) == (
        404,
        error_xml(240, f"no message {message.pk} to this user"),
    )
    assert refused.body.replace(f"message {message.pk} ".encode(), b"message 999999 ") == (
        nowhere.body
    )
    assert Message.objects.get().read_at is None


def test_mark_message_read_holding_only_the_recipients_user_ref_is_refused_with_212(
    live, people, message
):
    grace = people[1]

    result = live.call("markMessageRead", {"userRef": grace.user_ref, "messageID": message.pk})

    assert (result.status, result.body) == (
        400,
        error_xml(212, "userRef cannot act as the user: use userKey or clientID"),
    )
    assert Message.objects.get().read_at is None


@pytest.mark.parametrize(
    ("value", "code", "message_text"),
    [
        (None, 200, "parameter 'messageID' is required"),
        ("first", 201, "parameter 'messageID' must be a whole number"),
        ("0", 201, "parameter 'messageID' must be a whole number from 1 to 9007199254740992"),
    ],
)
def test_mark_message_read_without_a_message_id_is_refused(live, people, value, code, message_text):
    params = {"userKey": people[1].user_key}
    if value is not None:
        params["messageID"] = value

    result = live.call("markMessageRead", params)

    assert (result.status, result.body) == (400, error_xml(code, message_text))
