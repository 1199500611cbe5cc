"""Who may call a site's API: profiles, tokens (hashed), the call log and rate-limit counters."""

from django.db import models

from confero.events.models import Site


class ApiProfile(models.Model):
    """One per site. Holds the IP allow-list and Account Level Access (contract §3, §4)."""

    site = models.OneToOneField(Site, on_delete=models.PROTECT, related_name="api_profile")
    enabled = models.BooleanField(default=True)
    account_level_access = models.BooleanField(default=False)
    # Normalised network strings ("127.0.0.1/32", "::1/128", "10.0.0.0/8"); empty admits nobody.
    allowed_networks = models.JSONField(default=list, blank=True)
    # Calls per token per rate window; None takes CONFERO_RATE_LIMIT_PER_TOKEN.
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "API profile"

    def __str__(self) -> str:
        return f"API profile of {self.site}"


class ApiToken(models.Model):
    """A token is stored as its SHA-256 digest; the plain text is shown once and never again."""

    profile = models.ForeignKey(ApiProfile, on_delete=models.PROTECT, related_name="tokens")
    prefix = models.CharField(max_length=32, unique=True, help_text="Public part, safe to log")
    token_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.label})" if self.label else f"{self.prefix}…"


class ApiCall(models.Model):
    """The API call log (contract §10). Parameters and tokens are never stored."""

    time = models.DateTimeField(db_index=True)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT)
    profile = models.ForeignKey(ApiProfile, null=True, blank=True, on_delete=models.PROTECT)
    token_prefix = models.CharField(max_length=32, blank=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=200)
    resource = models.CharField(max_length=60, blank=True)
    event_param = models.CharField(max_length=60, blank=True)
    client_ip = models.CharField(max_length=45)
    code = models.PositiveSmallIntegerField()
    http_status = models.PositiveSmallIntegerField()
    duration_ms = models.FloatField()
    incident = models.CharField(max_length=32, blank=True)
    # The names (never the values) of the parameters a resource that writes nothing ignored
    # (contract §2), ", "-separated in the order sent; cut to fit (confero.api.calllog).
    ignored_params = models.CharField(max_length=500, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-time", "-id"]
        verbose_name = "API call"
        indexes = [models.Index(fields=["site", "-time"], name="apicall_site_time")]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.resource} → {self.code}"


class RateCounter(models.Model):
    """Fixed-window counters shared by every server process through the database."""

    scope = models.CharField(max_length=80, help_text="What is counted, e.g. token:PREFIX")
    window_start = models.BigIntegerField(help_text="Start of the window, epoch seconds")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "window_start"], name="ratecounter_scope_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} @ {self.window_start}: {self.count}"
