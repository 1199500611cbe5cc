"""Messages between the users of a site (contract §8.5). Never deleted."""

from django.db import models
from django.db.models.functions import Now

from confero.events.models import Site
from confero.people.models import User

SUBJECT_MAX = 200
BODY_MAX = 10_000


class Message(models.Model):
    """`messageID` on the API is the primary key. Subject and body are stored as sent: markup
    is text, and the faces escape it on output."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="messages")
    # Indexed with the primary key below (a user's messages, newest first), not on their own.
    sender = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="messages_sent", db_index=False
    )
    recipient = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="messages_received", db_index=False
    )
    subject = models.CharField(max_length=SUBJECT_MAX, blank=True)
    body = models.TextField(blank=True)
    # From the database clock: defaults in the database, returned by the INSERT.
    sent_at = models.DateTimeField(db_default=Now())
    read_at = models.DateTimeField(null=True, blank=True)
    # Moves when the message is read, so that a feed with `since` shows the read state change
    # to both sides.
    modified_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["sender", "id"], name="message_sender_newest"),
            models.Index(fields=["recipient", "id"], name="message_recipient_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.sender_id} → {self.recipient_id}: {self.subject[:40]}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
