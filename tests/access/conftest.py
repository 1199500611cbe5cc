"""Fixtures of the access tests."""

import pytest

from confero.access import gatecache


@pytest.fixture
def cached(settings, clock):
    """The cache of admissions on (the suite turns it off), its rows kept far longer than a
    test runs (60 s), empty at the start and at the end. The rate limiter's clock is frozen
    (tests.ratelimit_clock): a window turning mid-test would lease the token's units anew."""
    settings.CONFERO_GATE_CACHE_SECONDS = 60
    gatecache.reset()
    yield settings
    gatecache.reset()
