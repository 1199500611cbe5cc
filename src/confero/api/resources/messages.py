"""sendMessage, messages and markMessageRead (contract §8.5): messages between the users of a
site. The caller acts as a user (userKey or clientID) and names the other one by userRef, which
never lets it act as them: holding a user's userRef is enough to write to them, never to read
what they received."""

from django.db.models import BooleanField, ExpressionWrapper, Q

from confero.api import records
from confero.api.call import Call
from confero.api.params import Param, integer, text
from confero.api.params import epoch_millis as since_param
from confero.api.registry import resource
from confero.api.render import Document, E, Feed
from confero.messaging import services
from confero.messaging.models import BODY_MAX, SUBJECT_MAX, Message
from confero.people.identity import find_user

# The <message> record of messages.do (contract §8.5), seen from the acting user: `direction`,
# `fromUserRef` and `toUserRef` are annotations of messaging.services.messages_of.
MESSAGE = records.RecordType(
    tag="message",
    root="messages",
    model=Message,
    newest_first=True,
    parts=(
        records.Column("messageID", "id", records.INT),
        records.Column("direction", "direction"),
        records.Column("fromUserRef", "from_user_ref"),
        records.Column("toUserRef", "to_user_ref"),
        records.Column("subject", "subject"),
        records.Column("body", "body"),
        records.Column("sent", "sent_at", records.TIME),
        records.Column("read", "read_state", records.BOOL),
        records.EVENT_GUID,  # every record of a feed carries it (contract §6)
    ),
)

_IS_READ = ExpressionWrapper(Q(read_at__isnull=False), output_field=BooleanField())


@resource(
    "sendMessage",
    summary="Sends a message from the acting user to another user of the site.",
    params=(
        Param("toUserRef", text(16), required=True, doc="the recipient's userRef"),
        Param("subject", text(SUBJECT_MAX), doc="the subject (a subject or a body is needed)"),
        Param("body", text(BODY_MAX), doc="the text, stored as sent (markup is text)"),
    ),
    writes=True,
    acts_as_user=True,
)
def send_message(call: Call) -> Document:
    """The recipient must be an active user of the site (else 240). A sender may send
    CONFERO_MESSAGES_PER_MINUTE messages a minute (30); beyond, 120 with Retry-After.
    Returns messageID."""
    # Not locked: two users writing to each other would otherwise each hold their own row
    # and wait for the other's. A recipient cancelled at this very moment may get the message;
    # messages of cancelled users are kept anyway.
    recipient = find_user(call.target, "userRef", call.params["toUserRef"])
    message = services.send_message(
        call.acting_user,
        recipient,
        subject=call.params["subject"] or "",
        body=call.params["body"] or "",
    )
    return Document(children=[E("messageID", message.pk)])


@resource(
    "messages",
    summary="Feed of the messages the acting user received and sent, newest first.",
    params=(Param("since", since_param, doc="only messages sent or read at or after it"),),
    acts_as_user=True,
    is_feed=True,
)
def messages(call: Call) -> Feed:
    """Newest first by messageID. `direction` is `in` for a message received, `out` for one
    sent; `read` tells whether its recipient marked it read (a message read moves, so `since`
    shows the change to both sides)."""
    mine = services.messages_of(call.acting_user).annotate(read_state=_IS_READ)
    return records.feed(MESSAGE, call, mine)


@resource(
    "markMessageRead",
    summary="Marks a message read by its recipient, the acting user.",
    params=(Param("messageID", integer(1), required=True, doc="the message"),),
    writes=True,
    acts_as_user=True,
)
def mark_message_read(call: Call) -> Document:
    """Only the recipient may: a message the acting user sent, another user's or none is not
    found (240), alike. Marking it again changes nothing."""
    message = services.mark_read(call.acting_user, call.params["messageID"])
    return Document(children=[E("messageID", message.pk), E("read", message.is_read)])
