"""The programme of a site: sessions offered at session times, their speakers and files, and the
seats users hold at session times (contract §8.3).

`sessionID` and `sessionTimeID` in the API are the primary keys. Dates and times of session times
are local to the event's time zone (`Event.time_zone`), stored without one, as the API shows them.
Writes go through `confero.programme.services`, which own the transactions and the locks.
"""

from django.db import models

from confero.events.models import Site
from confero.people.models import User


class Status(models.TextChoices):
    ACTIVE = "active", "Active"
    CANCELLED = "cancelled", "Cancelled"


# Session fields: API parameter / feed element name → model field (the standard ones of §8.3).
SESSION_FIELDS: dict[str, str] = {
    "abbreviation": "abbreviation",
    "title": "title",
    "abstract": "abstract",
    "type": "type",
    "track": "track",
    "status": "status",
    "published": "published",
}

SESSION_TIME_FIELDS: dict[str, str] = {
    "room": "room",
    "date": "date",
    "time": "time",
    "length": "length",
    "capacity": "capacity",
    "waitlist": "waitlist",
    "status": "status",
}


class Session(models.Model):
    # Indexed by (site, modified_at) below.
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="sessions", db_index=False
    )
    # The client ID. NULL, not "": unique per site only when set (a partial unique index), as
    # people.User.client_id.
    abbreviation = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    title = models.CharField(max_length=500)
    abstract = models.TextField(blank=True)
    type = models.CharField(max_length=100, blank=True)
    track = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    published = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    # From the database clock on every change of the session, its custom values, speakers,
    # files, times and their seat counts: sessionData.do's `since` relies on it.
    modified_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "abbreviation"],
                condition=models.Q(abbreviation__isnull=False),
                name="session_abbreviation_per_site",
            ),
        ]
        indexes = [models.Index(fields=["site", "modified_at"], name="session_site_modified")]

    def __str__(self) -> str:
        return f"{self.abbreviation} {self.title}" if self.abbreviation else self.title

    @property
    def is_active(self) -> bool:
        return self.status == Status.ACTIVE


class SessionTime(models.Model):
    """One offering of a session. `registered` and `waitlisted` count its seats; they change
    only under the row's lock, together with the seats (confero.programme.services.seats)."""

    # Both indexed by the composite indexes below.
    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, related_name="times", db_index=False
    )
    # The session's site, kept here so that feeds and scoping need no join.
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", db_index=False)
    room = models.CharField(max_length=200, blank=True)
    date = models.DateField()
    time = models.TimeField()
    length = models.PositiveIntegerField(help_text="Minutes")
    capacity = models.PositiveIntegerField(default=0, help_text="Seats; 0 = unlimited")
    waitlist = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    registered = models.PositiveIntegerField(default=0, editable=False)
    waitlisted = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField()
    modified_at = models.DateTimeField()

    class Meta:
        ordering = ["date", "time", "id"]
        indexes = [
            models.Index(fields=["site", "modified_at"], name="sessiontime_site_modified"),
            models.Index(fields=["session", "date", "time"], name="sessiontime_session_start"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.time:%H:%M} {self.room}".rstrip()

    @property
    def is_active(self) -> bool:
        return self.status == Status.ACTIVE

    @property
    def seats_remaining(self) -> int | None:
        """None when unlimited; never below 0 (capacity lowered under the seats taken)."""
        if self.capacity == 0:
            return None
        return max(self.capacity - self.registered, 0)


class Speaker(models.Model):
    """A user speaking at a session, with their `speakerRole`."""

    # Indexed by the unique (session, user) below.
    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, related_name="speakers", db_index=False
    )
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="speaking")
    role = models.CharField(max_length=100, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="speaker_once_per_session"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})" if self.role else str(self.user)


class SessionFile(models.Model):
    """A file attached to a session by reference: Confero stores no file bodies (§8.3)."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="files")
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(help_text="Bytes")
    url = models.CharField(max_length=2000)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["session", "position"]

    def __str__(self) -> str:
        return self.name


class SeatStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    WAITLISTED = "waitlisted", "Waitlisted"
    FREED = "freed", "Freed"


class FreedBecause(models.TextChoices):
    UNSCHEDULED = "unscheduled", "Unscheduled"
    USER_CANCELLED = "userCancelled", "User cancelled"
    SESSION_TIME_CANCELLED = "sessionTimeCancelled", "Session time cancelled"
    SESSION_CANCELLED = "sessionCancelled", "Session cancelled"


class Seat(models.Model):
    """A user's entry at a session time: a seat, a place on its waitlist, or, once freed, the
    history of one (kept, never deleted: docs/decisions/0016). A user holds at most one entry
    that is not freed per session time; `position` is the waitlist place, 1..n in first-come
    order without gaps, set only while waitlisted."""

    # Both indexed by the composite indexes below.
    session_time = models.ForeignKey(
        SessionTime, on_delete=models.PROTECT, related_name="seats", db_index=False
    )
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="seats", db_index=False)
    status = models.CharField(max_length=10, choices=SeatStatus.choices)
    position = models.PositiveIntegerField(null=True, blank=True)
    freed_because = models.CharField(max_length=20, choices=FreedBecause.choices, blank=True)
    created_at = models.DateTimeField()
    modified_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session_time", "user"],
                condition=~models.Q(status=SeatStatus.FREED),
                name="seat_one_entry_per_user_and_time",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status=SeatStatus.WAITLISTED, position__isnull=False)
                    | (~models.Q(status=SeatStatus.WAITLISTED) & models.Q(position__isnull=True))
                ),
                name="seat_position_iff_waitlisted",
            ),
            models.CheckConstraint(
                condition=(
                    (models.Q(status=SeatStatus.FREED) & ~models.Q(freed_because=""))
                    | (~models.Q(status=SeatStatus.FREED) & models.Q(freed_because=""))
                ),
                name="seat_freed_says_why",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "status"], name="seat_user_status"),
            models.Index(
                fields=["session_time", "status", "position"], name="seat_time_status_position"
            ),
        ]

    def __str__(self) -> str:
        where = f" #{self.position}" if self.position else ""
        return f"{self.user_id} @ {self.session_time_id}: {self.status}{where}"
