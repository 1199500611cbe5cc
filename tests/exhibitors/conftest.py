import pytest

from tests.factories import EventFactory, site_of


@pytest.fixture
def site(db):
    return site_of(EventFactory())
