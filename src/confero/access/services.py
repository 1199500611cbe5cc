"""Changing API profiles: the allow-list, Account Level Access, enabling and disabling.

The allow-list is changed entry by entry (`allow_networks`, `disallow_networks`); replacing it
whole is a separate, explicit verb (`configure_profile(allowed_networks=…)`), so that adding an
address can never lock out the clients already allowed (issue 17)."""

from collections.abc import Iterable

from django.db import transaction

from confero.access.models import ApiProfile
from confero.access.networks import normalise_networks
from confero.errors import ValidationFailed
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


def _locked(profile: ApiProfile) -> ApiProfile:
    """The profile's row as it stands, locked to the end of the transaction: two planners adding
    entries at once must both find their entry afterwards."""
    return ApiProfile.objects.select_for_update().get(pk=profile.pk)


def allow_networks(profile: ApiProfile, entries: Iterable[str]) -> list[str]:
    """Adds entries (addresses or CIDR ranges, validated) to the allow-list; those already in it
    stay where they are. Returns the entries that were new, normalised."""
    wanted = normalise_networks(entries)
    with transaction.atomic():
        current = _locked(profile)
        added = [entry for entry in wanted if entry not in current.allowed_networks]
        if added:
            current.allowed_networks = [*current.allowed_networks, *added]
            current.save(update_fields=["allowed_networks", "updated_at"])
    profile.allowed_networks, profile.updated_at = current.allowed_networks, current.updated_at
    return added


def disallow_networks(profile: ApiProfile, entries: Iterable[str]) -> list[str]:
    """Takes entries out of the allow-list, each named as it was added or in its normalised form
    ("10.0.0.1" takes out "10.0.0.1/32"). An entry that is not in the list is refused, and then
    nothing is taken out: a typo must not look like a removal."""
    unwanted = normalise_networks(entries)
    with transaction.atomic():
        current = _locked(profile)
        missing = [entry for entry in unwanted if entry not in current.allowed_networks]
        if missing:
            raise ValidationFailed("allow", f"'{missing[0]}' is not in the allow-list")
        if unwanted:
            current.allowed_networks = [
                entry for entry in current.allowed_networks if entry not in unwanted
            ]
            current.save(update_fields=["allowed_networks", "updated_at"])
    profile.allowed_networks, profile.updated_at = current.allowed_networks, current.updated_at
    return unwanted
