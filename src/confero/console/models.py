"""What the console keeps between two pages of its own: an uploaded CSV of users between its
preview and its import. In the database, not on a server's disk: the import may be confirmed on
another application server than the one that took the upload. And the console's logins as
Django admin lists them (a proxy of Django's user)."""

import uuid

from django.conf import settings
from django.contrib.auth.models import User as AuthUser
from django.db import models

from confero.events.models import Site


class UserImport(models.Model):
    class State(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        IMPORTED = "imported", "Imported"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    planner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    filename = models.CharField(max_length=200)
    content = models.TextField(help_text="The file as uploaded, decoded")
    state = models.CharField(max_length=10, choices=State.choices, default=State.UPLOADED)
    imported = models.PositiveIntegerField(default=0)
    # The rows that were not imported, as CSV with the API's code and message of each.
    rejected = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_state_display()})"


class Planner(AuthUser):
    """Django's users as the admin lists them: the console's logins (planners and operators),
    not the attendees of confero.people, which are also called users."""

    class Meta:
        proxy = True
        verbose_name = "console login"
        verbose_name_plural = "console logins (planners and operators)"
