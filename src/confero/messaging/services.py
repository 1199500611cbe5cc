"""Sending and reading messages between the users of a site (contract §8.5).

Messages are never deleted. Who may act as the sender (an active user named by userKey or
clientID) is the face's check; the recipient is checked here. A sender may send at most
`CONFERO_MESSAGES_PER_MINUTE` messages a minute, counted in the database (confero.access.
ratelimit) so that every server process shares the count. The count is taken inside the
sending transaction: a call rolled back is not counted (the API rolls back every call it
refuses, so only messages sent count there).
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.functions import Now

from confero.access import ratelimit
from confero.errors import NotFound, Throttled, ValidationFailed
from confero.messaging.models import BODY_MAX, SUBJECT_MAX, Message
from confero.people.models import User
from confero.xmltext import not_xml

LIMIT_WINDOW_SECONDS = 60  # the limit is "per minute" (CONFERO_MESSAGES_PER_MINUTE)


def send_message(sender: User, recipient: User | None, *, subject: str, body: str) -> Message:
    """Stores a message from `sender` to `recipient` (None when the face found no user for the
    name it was given). Either the subject or the body may be empty, not both."""
    _check_text("subject", subject, SUBJECT_MAX)
    _check_text("body", body, BODY_MAX)
    if not subject.strip() and not body.strip():
        raise ValidationFailed("body", "a message needs a subject or a body")
    if recipient is None or recipient.site_id != sender.site_id or not recipient.is_active:
        raise NotFound("recipient", "the recipient is not an active user of this site")
    if recipient.pk == sender.pk:
        raise ValidationFailed("toUserRef", "a user cannot send a message to themselves")
    # No savepoint: inside the API's transaction this is two statements, no more. The refusal
    # is raised after the block, so it never leaves a caller's transaction marked for rollback.
    with transaction.atomic(savepoint=False):
        verdict = _count_against_limit(sender)
        if verdict is None or verdict.allowed:
            # The INSERT returns sent_at and modified_at, the database's defaults (its clock).
            return Message.objects.create(
                site_id=sender.site_id,
                sender=sender,
                recipient=recipient,
                subject=subject,
                body=body,
            )
    limit = settings.CONFERO_MESSAGES_PER_MINUTE
    raise Throttled(
        "messages",
        f"at most {limit} messages a minute from one user; try again in {verdict.retry_after} s",
        retry_after=verdict.retry_after,
    )


def mark_read(recipient: User, message_id: int) -> Message:
    """Marks a message read by its recipient; reading it again changes nothing (the first
    read_at stays). A message that is not to `recipient` — another user's, or one they sent —
    is not found, whether it exists or not."""
    mine = Message.objects.filter(pk=message_id, site_id=recipient.site_id, recipient=recipient)
    with transaction.atomic(savepoint=False):
        mine.filter(read_at__isnull=True).update(read_at=Now(), modified_at=Now())
        message = mine.first()
    if message is None:
        raise NotFound("message", f"no message {message_id} to this user")
    return message


def messages_of(
    user: User, *, since: dt.datetime | None = None, before_id: int | None = None
) -> QuerySet[Message]:
    """The messages `user` received and sent, newest first, each annotated with `direction`
    ("in" or "out"), `from_user_ref` and `to_user_ref`.

    Newest first is by messageID, descending: IDs are handed out in the order messages are
    stored, and the ID is a stable key to page by — a feed reads a chunk, then the next one
    with `before_id` = the last ID it read. (Sent times of messages stored at the same moment
    by concurrent calls may be out of order by that moment.) `since` keeps the messages sent or
    read at or after it."""
    messages = Message.objects.filter(
        Q(sender=user) | Q(recipient=user), site_id=user.site_id
    ).annotate(
        direction=Case(When(sender_id=user.pk, then=Value("out")), default=Value("in")),
        from_user_ref=F("sender__user_ref"),
        to_user_ref=F("recipient__user_ref"),
    )
    if since is not None:
        # "After since minus one microsecond": on SQLite the database clock stores '….954' and
        # a parameter reads '….954000', so `>=` would miss the message stamped at `since`
        # (as confero.api.feeds.changed_since, which this layer may not import).
        messages = messages.filter(modified_at__gt=since - dt.timedelta(microseconds=1))
    if before_id is not None:
        messages = messages.filter(pk__lt=before_id)
    return messages.order_by("-pk")


def _check_text(what: str, value: str, max_length: int) -> None:
    if len(value) > max_length:
        raise ValidationFailed(what, f"at most {max_length:,} characters")
    if problem := not_xml(value):
        raise ValidationFailed(what, problem)


def _count_against_limit(sender: User) -> ratelimit.Verdict | None:
    """Counts one message of `sender`; None when there is no limit."""
    limit = settings.CONFERO_MESSAGES_PER_MINUTE
    if limit <= 0:  # 0 turns the limit off
        return None
    return ratelimit.hit(f"messages:{sender.pk}", limit=limit, window_seconds=LIMIT_WINDOW_SECONDS)
