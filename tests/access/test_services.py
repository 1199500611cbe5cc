"""confero.access.services: the allow-list changed entry by entry, or replaced when asked."""

import pytest

from confero.access.models import ApiProfile
from confero.access.services import allow_networks, configure_profile, disallow_networks
from confero.errors import ValidationFailed
from tests.factories import EventFactory, site_of


@pytest.fixture
def profile(db) -> ApiProfile:
    profile = site_of(EventFactory()).api_profile
    configure_profile(profile, allowed_networks=["127.0.0.1"])
    return profile


def stored(profile: ApiProfile) -> list[str]:
    return ApiProfile.objects.get(pk=profile.pk).allowed_networks


def test_allow_networks_appends_new_entries_normalised_and_returns_them(profile):
    added = allow_networks(profile, ["10.0.0.0/8", " 127.0.0.1 ", "2001:DB8::1", "10.1.2.3/8"])

    assert added == ["10.0.0.0/8", "2001:db8::1/128"]
    assert (
        stored(profile)
        == profile.allowed_networks
        == [
            "127.0.0.1/32",
            "10.0.0.0/8",
            "2001:db8::1/128",
        ]
    )


def test_allow_networks_with_a_bad_entry_adds_nothing(profile):
    with pytest.raises(ValidationFailed) as refused:
        allow_networks(profile, ["10.0.0.1", "10.0.0.256"])

    assert (refused.value.what, refused.value.message) == (
        "allow",
        "'10.0.0.256' is not an IPv4/IPv6 address or CIDR range",
    )
    assert stored(profile) == ["127.0.0.1/32"]


def test_disallow_networks_takes_entries_out_named_either_way(profile):
    allow_networks(profile, ["10.0.0.1", "192.0.2.0/24"])

    removed = disallow_networks(profile, ["10.0.0.1/32", "127.0.0.1"])

    assert removed == ["10.0.0.1/32", "127.0.0.1/32"]
    assert stored(profile) == profile.allowed_networks == ["192.0.2.0/24"]


def test_disallow_networks_of_an_entry_not_in_the_list_takes_nothing_out(profile):
    with pytest.raises(ValidationFailed) as refused:
        disallow_networks(profile, ["127.0.0.1", "10.0.0.0/8"])

    assert refused.value.message == "'10.0.0.0/8' is not in the allow-list"
    assert stored(profile) == ["127.0.0.1/32"]


def test_allow_networks_sees_entries_added_since_the_profile_was_read(profile):
    stale = ApiProfile.objects.get(pk=profile.pk)
    allow_networks(profile, ["10.0.0.1"])

    allow_networks(stale, ["10.0.0.2"])

    assert stored(profile) == ["127.0.0.1/32", "10.0.0.1/32", "10.0.0.2/32"]
