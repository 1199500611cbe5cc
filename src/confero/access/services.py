"""Changing API profiles: the allow-list, Account Level Access, enabling and disabling."""

from collections.abc import Iterable

from confero.access.models import ApiProfile
from confero.access.networks import normalise_networks
from confero.events.models import Site


def give_site_a_profile(sender, instance: Site, created: bool, raw: bool = False, **kwargs) -> None:
    """Every new site gets its API profile, enabled, with an empty allow-list (post_save of
    Site: events, below access, does not know profiles)."""
    if created and not raw:
        ApiProfile.objects.create(site=instance)


def configure_profile(
    profile: ApiProfile,
    *,
    account_level_access: bool | None = None,
    enabled: bool | None = None,
    allowed_networks: Iterable[str] | None = None,
    rate_limit_per_minute: int | None = None,
) -> ApiProfile:
    """Changes what is given; `allowed_networks` replaces the whole allow-list."""
    fields = ["updated_at"]
    if account_level_access is not None:
        profile.account_level_access = account_level_access
        fields.append("account_level_access")
    if enabled is not None:
        profile.enabled = enabled
        fields.append("enabled")
    if allowed_networks is not None:
        profile.allowed_networks = normalise_networks(allowed_networks)
        fields.append("allowed_networks")
    if rate_limit_per_minute is not None:
        profile.rate_limit_per_minute = rate_limit_per_minute or None
        fields.append("rate_limit_per_minute")
    profile.save(update_fields=fields)
    return profile
