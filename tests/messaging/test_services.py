"""messaging/services.py: sending, the per-sender limit, reading and the list of a user's
messages, at service level (the API resources come with the record layer)."""

import datetime as dt

import pytest
from django.db import transaction

from confero.access.models import RateCounter
from confero.errors import NotFound, Throttled, ValidationFailed
from confero.messaging import services
from confero.messaging.models import Message
from confero.people.services import cancel_user
from tests.factories import MessageFactory, UserFactory, site_of
from tests.ratelimit_clock import WINDOW_START

LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
SCRIPT = "<script>alert('hi')</script> & <b>bold</b> ]]> &amp;"


@pytest.fixture
def grace(site):
    return UserFactory(site=site, first_name="Grace")


def aged(*messages: Message) -> None:
    Message.objects.filter(pk__in=[m.pk for m in messages]).update(modified_at=LONG_AGO)


def stored(message: Message) -> tuple:
    return (
        Message.objects.filter(pk=message.pk)
        .values_list("site_id", "sender_id", "recipient_id", "subject", "body", "read_at")
        .get()
    )


# --- send_message ------------------------------------------------------------------------------


def test_send_message_stores_the_text_as_sent_stamped_by_the_database_clock(site, ada, grace):
    message = services.send_message(ada, grace, subject="Lunch?", body=SCRIPT)

    assert stored(message) == (site.pk, ada.pk, grace.pk, "Lunch?", SCRIPT, None)
    row = Message.objects.get(pk=message.pk)
    assert (message.sent_at, message.modified_at) == (row.sent_at, row.sent_at)
    assert abs(row.sent_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert message.is_read is False


@pytest.mark.parametrize(("subject", "body"), [("Lunch?", ""), ("", "Lunch at noon?")])
def test_send_message_with_a_subject_or_a_body_only_is_sent(ada, grace, subject, body):
    message = services.send_message(ada, grace, subject=subject, body=body)

    assert stored(message)[3:5] == (subject, body)


@pytest.mark.parametrize(("subject", "body"), [("", ""), ("  ", "\n")])
def test_send_message_without_subject_and_body_is_refused(ada, grace, subject, body):
    with pytest.raises(ValidationFailed) as refused:
        services.send_message(ada, grace, subject=subject, body=body)

    assert (refused.value.what, refused.value.message) == (
        "body",
        "a message needs a subject or a body",
    )
    assert not Message.objects.exists()


def test_send_message_at_the_length_limits_is_sent(ada, grace):
    message = services.send_message(ada, grace, subject="s" * 200, body="b" * 10_000)

    assert [len(text) for text in stored(message)[3:5]] == [200, 10_000]


@pytest.mark.parametrize(
    ("subject", "body", "what", "message"),
    [
        ("s" * 201, "", "subject", "at most 200 characters"),
        ("", "b" * 10_001, "body", "at most 10,000 characters"),
        ("", "nul \x00", "body", "contains the character U+0000, which XML cannot carry"),
    ],
)
def test_send_message_text_over_the_limits_is_refused(ada, grace, subject, body, what, message):
    with pytest.raises(ValidationFailed) as refused:
        services.send_message(ada, grace, subject=subject, body=body)

    assert (refused.value.what, refused.value.message) == (what, message)
    assert not Message.objects.exists()


def test_send_message_to_nobody_is_recipient_not_found(ada):
    with pytest.raises(NotFound) as not_found:
        services.send_message(ada, None, subject="Hi", body="")

    assert (not_found.value.what, not_found.value.message) == (
        "recipient",
        "the recipient is not an active user of this site",
    )


def test_send_message_to_a_cancelled_user_is_recipient_not_found(ada, grace):
    cancel_user(grace)

    with pytest.raises(NotFound) as not_found:
        services.send_message(ada, grace, subject="Hi", body="")

    assert not_found.value.what == "recipient"
    assert not Message.objects.exists()


def test_send_message_to_a_user_of_another_site_is_recipient_not_found(site, ada):
    stranger = UserFactory(site=site_of(site.event, "uat"))

    with pytest.raises(NotFound) as not_found:
        services.send_message(ada, stranger, subject="Hi", body="")

    assert not_found.value.what == "recipient"
    assert not Message.objects.exists()


def test_send_message_to_oneself_is_refused(ada):
    with pytest.raises(ValidationFailed) as refused:
        services.send_message(ada, ada, subject="Note", body="")

    assert (refused.value.what, refused.value.message) == (
        "toUserRef",
        "a user cannot send a message to themselves",
    )


# --- the limit per sender ----------------------------------------------------------------------


@pytest.fixture
def three_a_minute(settings, clock):
    settings.CONFERO_MESSAGES_PER_MINUTE = 3
    return clock


def test_send_message_over_the_limit_is_throttled_until_the_window_ends(ada, grace, three_a_minute):
    for n in range(3):
        services.send_message(ada, grace, subject=f"#{n}", body="")

    with pytest.raises(Throttled) as throttled:
        services.send_message(ada, grace, subject="#3", body="")

    assert (throttled.value.what, throttled.value.message, throttled.value.retry_after) == (
        "messages",
        "at most 3 messages a minute from one user; try again in 18 s",
        18,
    )
    assert list(Message.objects.order_by("pk").values_list("subject", flat=True)) == [
        "#0",
        "#1",
        "#2",
    ]


def test_send_message_limit_counts_each_sender_alone(site, ada, grace, three_a_minute):
    for _ in range(3):
        services.send_message(ada, grace, subject="Hi", body="")

    services.send_message(grace, ada, subject="Hi back", body="")
    third = UserFactory(site=site)
    services.send_message(third, grace, subject="Me too", body="")

    assert Message.objects.count() == 5


def test_send_message_limit_starts_again_in_the_next_window(ada, grace, three_a_minute):
    for _ in range(3):
        services.send_message(ada, grace, subject="Hi", body="")
    three_a_minute.now = WINDOW_START + 60

    services.send_message(ada, grace, subject="Again", body="")

    assert Message.objects.count() == 4


def test_send_message_refused_does_not_count_against_the_limit(site, ada, grace, three_a_minute):
    gone = cancel_user(UserFactory(site=site))
    for _ in range(5):
        with pytest.raises(NotFound):
            services.send_message(ada, gone, subject="Hi", body="")
    with pytest.raises(ValidationFailed):
        services.send_message(ada, grace, subject="", body="")

    for _ in range(3):
        services.send_message(ada, grace, subject="Hi", body="")

    assert Message.objects.count() == 3
    assert list(RateCounter.objects.values_list("scope", "window_start", "count")) == [
        (f"messages:{ada.pk}", WINDOW_START, 3)
    ]


def test_send_message_throttled_in_a_transaction_rolled_back_is_not_counted(
    ada, grace, three_a_minute
):
    for _ in range(3):
        services.send_message(ada, grace, subject="Hi", body="")
    for _ in range(2):
        # As the API does with every call it refuses.
        with pytest.raises(Throttled), transaction.atomic():
            services.send_message(ada, grace, subject="Hi", body="")

    assert RateCounter.objects.get(scope=f"messages:{ada.pk}").count == 3


def test_send_message_limit_zero_is_no_limit(settings, ada, grace, clock):
    settings.CONFERO_MESSAGES_PER_MINUTE = 0

    for _ in range(40):
        services.send_message(ada, grace, subject="Hi", body="")

    assert Message.objects.count() == 40
    assert not RateCounter.objects.exists()


def test_send_message_default_limit_is_thirty_a_minute(ada, grace, clock):
    for _ in range(30):
        services.send_message(ada, grace, subject="Hi", body="")

    with pytest.raises(Throttled):
        services.send_message(ada, grace, subject="Hi", body="")


# --- mark_read ---------------------------------------------------------------------------------


def test_mark_read_by_the_recipient_moves_last_modified(ada, grace):
    message = services.send_message(ada, grace, subject="Hi", body="")
    aged(message)

    read = services.mark_read(grace, message.pk)

    row = Message.objects.get(pk=message.pk)
    assert row.read_at is not None
    assert row.modified_at == row.read_at > LONG_AGO
    assert (read.pk, read.read_at, read.modified_at) == (message.pk, row.read_at, row.read_at)


def test_mark_read_again_keeps_the_first_read(ada, grace):
    message = services.send_message(ada, grace, subject="Hi", body="")
    first = services.mark_read(grace, message.pk)
    aged(message)

    again = services.mark_read(grace, message.pk)

    assert again.read_at == first.read_at
    assert Message.objects.get(pk=message.pk).modified_at == LONG_AGO


@pytest.mark.parametrize("who", ["sender", "stranger"])
def test_mark_read_by_anyone_but_the_recipient_is_not_found(site, ada, grace, who):
    message = services.send_message(ada, grace, subject="Hi", body="")
    aged(message)
    caller = ada if who == "sender" else UserFactory(site=site)

    with pytest.raises(NotFound) as not_found:
        services.mark_read(caller, message.pk)

    assert (not_found.value.what, not_found.value.message) == (
        "message",
        f"no message {message.pk} to this user",
    )
    assert Message.objects.filter(pk=message.pk).values_list("read_at", "modified_at").get() == (
        None,
        LONG_AGO,
    )


def test_mark_read_unknown_message_is_not_found(grace):
    with pytest.raises(NotFound) as not_found:
        services.mark_read(grace, 987654)

    assert not_found.value.message == "no message 987654 to this user"


# --- messages_of -------------------------------------------------------------------------------


def listed(messages) -> list[tuple]:
    return [
        (m.pk, m.direction, m.from_user_ref, m.to_user_ref, m.subject, m.is_read) for m in messages
    ]


def test_messages_of_lists_received_and_sent_newest_first(site, ada, grace):
    kat = UserFactory(site=site)
    first = services.send_message(ada, grace, subject="1", body="")
    second = services.send_message(grace, ada, subject="2", body="")
    services.send_message(grace, kat, subject="not Ada's", body="")
    third = services.send_message(kat, ada, subject="3", body="")
    services.mark_read(grace, first.pk)

    assert listed(services.messages_of(ada)) == [
        (third.pk, "in", kat.user_ref, ada.user_ref, "3", False),
        (second.pk, "in", grace.user_ref, ada.user_ref, "2", False),
        (first.pk, "out", ada.user_ref, grace.user_ref, "1", True),
    ]


def test_messages_of_keeps_to_the_users_site(site, ada):
    MessageFactory(sender=UserFactory(site=site_of(site.event, "uat")))
    MessageFactory(sender=UserFactory(site=site))

    assert list(services.messages_of(ada)) == []


def test_messages_of_since_keeps_those_sent_or_read_at_or_after_it(ada, grace):
    old_unread = services.send_message(grace, ada, subject="old", body="")
    old_read = services.send_message(grace, ada, subject="read later", body="")
    aged(old_unread, old_read)
    services.mark_read(ada, old_read.pk)
    new = services.send_message(ada, grace, subject="new", body="")
    since = Message.objects.get(pk=old_read.pk).modified_at

    assert [m.pk for m in services.messages_of(ada, since=since)] == [new.pk, old_read.pk]
    assert [m.pk for m in services.messages_of(grace, since=since)] == [new.pk, old_read.pk]
    assert [m.pk for m in services.messages_of(ada, since=LONG_AGO)] == [
        new.pk,
        old_read.pk,
        old_unread.pk,
    ]


def test_messages_of_since_is_inclusive_to_the_microsecond(ada, grace):
    message = services.send_message(ada, grace, subject="Hi", body="")
    stamp = Message.objects.get(pk=message.pk).modified_at

    assert [m.pk for m in services.messages_of(ada, since=stamp)] == [message.pk]
    assert list(services.messages_of(ada, since=stamp + dt.timedelta(milliseconds=1))) == []


def test_messages_of_pages_by_message_id(settings, ada, grace):
    settings.CONFERO_MESSAGES_PER_MINUTE = 0
    sent = [services.send_message(ada, grace, subject=str(n), body="").pk for n in range(5)]

    pages, before = [], None
    while page := [m.pk for m in services.messages_of(grace, before_id=before)[:2]]:
        pages.append(page)
        before = page[-1]

    assert pages == [[sent[4], sent[3]], [sent[2], sent[1]], [sent[0]]]
