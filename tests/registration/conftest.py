"""Fixtures of the registration tests: a site, a user of it, a package."""

import pytest

from tests.factories import EventFactory, PackageFactory, RegistrantFactory, site_of


@pytest.fixture
def site(db):
    return site_of(EventFactory())


@pytest.fixture
def kat(site):
    return RegistrantFactory(site=site)


@pytest.fixture
def vip(site):
    return PackageFactory(site=site, code="VIP", name="VIP pass", price="450.00")
