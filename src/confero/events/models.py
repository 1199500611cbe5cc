"""Accounts own events; every event has two sites (UAT and Production) whose data never mix."""

import secrets
import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

# "manage": the planners' console (issue 17), beside the contract's list (§1).
RESERVED_CODES = frozenset({"uat", "admin", "manage", "static", "api", "docs", "health"})
CODE_PATTERN = r"^[a-z0-9-]{3,40}$"


class Environment(models.TextChoices):
    UAT = "uat", "UAT"
    PRODUCTION = "production", "Production"


class Account(models.Model):
    """The organisation that owns events. Nothing ever crosses accounts."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    organizers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="confero_accounts"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class Event(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="events")
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(
        max_length=40,
        unique=True,
        validators=[RegexValidator(CODE_PATTERN, "3–40 lowercase letters, digits or '-'")],
        help_text="The URL code: /CODE/api/… and /uat/CODE/api/…",
    )
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="UTC")
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def guid_text(self) -> str:
        """GUIDs are shown upper-case, as the original service does, and accepted in any case."""
        return str(self.guid).upper()


def new_fields_version() -> int:
    return secrets.randbits(62)


class Site(models.Model):
    """One event in one environment: the scope of every record and every API profile."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="sites")
    environment = models.CharField(max_length=12, choices=Environment.choices)
    # Moves on every change of the site's custom fields or their values: server processes keep
    # the definitions in memory and reload them when it moves (confero.customfields.cache).
    fields_version = models.BigIntegerField(default=new_fields_version, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "environment"], name="one_site_per_env")
        ]
        ordering = ["event__code", "environment"]

    def __str__(self) -> str:
        return f"{self.event.code} · {self.get_environment_display()}"

    @property
    def is_uat(self) -> bool:
        return self.environment == Environment.UAT

    @property
    def api_base(self) -> str:
        prefix = "/uat" if self.is_uat else ""
        return f"{prefix}/{self.event.code}/api/"
