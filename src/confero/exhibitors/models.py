"""Exhibitors of a site, the files they show and their booth staff (contract §8.4).

An exhibitor is a record (it is cancelled, never deleted); its files and participants are parts
of it, replaced as a set, and every change to them moves the exhibitor's last-modified.
"""

from django.db import models
from django.db.models.functions import Now

from confero.events.models import Site
from confero.people.models import User


class ExhibitorStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CANCELLED = "cancelled", "Cancelled"


# API parameter / feed element name → model field, in feed order (contract §8.4).
EXHIBITOR_FIELDS: dict[str, str] = {
    "exhibitorCode": "exhibitor_code",
    "name": "name",
    "status": "status",
    "type": "type",
    "description": "description",
    "url": "url",
    "email": "email",
    "booth": "booth",
}


class Exhibitor(models.Model):
    """`exhibitorID` on the API is the primary key."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="exhibitors")
    # exhibitorCode, the client's ID. NULL, not "": unique per site only when set (a partial
    # unique index), as people.User.client_id.
    exhibitor_code = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=ExhibitorStatus.choices, default=ExhibitorStatus.ACTIVE
    )
    type = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    url = models.CharField(max_length=2000, blank=True)
    email = models.CharField(max_length=254, blank=True)
    booth = models.CharField(max_length=100, blank=True)
    # From the database clock. A default in the database, so that the INSERT returns both
    # (RETURNING) and no face can stamp the application server's clock; every later change sets
    # modified_at = Now() itself (feeds with `since` rely on it: confero.api.feeds).
    created_at = models.DateTimeField(db_default=Now())
    modified_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "exhibitor_code"],
                condition=models.Q(exhibitor_code__isnull=False),
                name="exhibitor_code_per_site",
            ),
        ]
        indexes = [models.Index(fields=["site", "modified_at"], name="exhibitor_site_modified")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == ExhibitorStatus.ACTIVE


class ExhibitorFile(models.Model):
    """A reference by URL (Confero stores no file bodies, contract §8.3). On the API, `file` is
    `name|type|size|url[|description]`: name is the display name (docs/api.md, Exhibitors and
    messages)."""

    exhibitor = models.ForeignKey(Exhibitor, on_delete=models.CASCADE, related_name="files")
    type = models.CharField(max_length=100, blank=True)
    display_name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    url = models.CharField(max_length=2000)
    size = models.PositiveBigIntegerField(default=0, help_text="Bytes")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["exhibitor", "position", "id"]

    def __str__(self) -> str:
        return self.display_name


class Participant(models.Model):
    """A member of an exhibitor's booth staff. Only active users are listed: cancelling a user
    takes them off every booth (confero.exhibitors.services.user_cancelled_receiver)."""

    exhibitor = models.ForeignKey(Exhibitor, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="booth_roles")
    role = models.CharField(max_length=100, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["exhibitor", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["exhibitor", "user"], name="participant_once_per_booth")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})" if self.role else str(self.user)
