"""Rate limits (contract §3): every call per token, failed authentication per client address.
Over the limit → HTTP 429, code 120, with Retry-After. The counters live in the database so
that every server process shares them."""

import threading

import pytest
from django.db import connections

from confero.access import ratelimit
from confero.access.models import ApiCall, ApiToken, RateCounter
from confero.access.services import configure_profile
from confero.access.tokens import issue_token, public_prefix
from tests.ratelimit_clock import NOW, WINDOW_START, error_xml


@pytest.fixture
def limits(settings):
    settings.CONFERO_RATE_LIMIT_PER_TOKEN = 3
    settings.CONFERO_AUTH_FAILURE_LIMIT = 2
    settings.CONFERO_RATE_WINDOW_SECONDS = 60
    return settings


def call(api, site, token=None, **kwargs):
    return api.call(site.url("event"), {"apiToken": token or site.token}, **kwargs)


def last_call() -> ApiCall:
    return ApiCall.objects.order_by("-id").first()


# --- Per token -------------------------------------------------------------------------------


def test_token_over_its_limit_is_refused_with_429_and_retry_after(api, live_site, limits, clock):
    codes = [call(api, live_site).code for _ in range(3)]

    result = call(api, live_site)

    assert codes == [0, 0, 0]
    assert result.status == 429
    assert result.headers["Retry-After"] == "18"
    assert result.body == error_xml(120, "rate limit of 3 calls per 60 s exceeded")
    row = last_call()
    assert (row.code, row.http_status, row.token_prefix, row.site_id, row.resource) == (
        120,
        429,
        public_prefix(live_site.token),
        live_site.site.pk,
        "event",
    )


def test_token_limit_starts_again_in_the_next_window(api, live_site, limits, clock):
    for _ in range(4):
        call(api, live_site)
    clock.now = WINDOW_START + 60

    result = call(api, live_site)

    assert (result.status, result.code) == (200, 0)


def test_token_limit_counts_each_token_on_its_own(api, live_site, limits, clock):
    other = issue_token(live_site.site.api_profile, label="second").plain
    for _ in range(3):
        call(api, live_site)
    assert call(api, live_site).code == 120

    result = call(api, live_site, token=other)

    assert (result.status, result.code) == (200, 0)


def test_token_limit_of_the_api_profile_overrides_the_default(api, live_site, limits, clock):
    configure_profile(live_site.site.api_profile, rate_limit_per_minute=1)

    first, second = call(api, live_site), call(api, live_site)

    assert (first.code, second.status) == (0, 429)
    assert second.body == error_xml(120, "rate limit of 1 calls per 60 s exceeded")


def test_token_limit_of_the_api_profile_may_be_above_the_default(api, live_site, limits, clock):
    configure_profile(live_site.site.api_profile, rate_limit_per_minute=5)

    codes = [call(api, live_site).code for _ in range(6)]

    assert codes == [0, 0, 0, 0, 0, 120]


def test_token_limit_refusals_are_counted_too(api, live_site, limits, clock):
    """A client hammering past the limit keeps being refused for the rest of the window."""
    for _ in range(10):
        call(api, live_site)

    counter = RateCounter.objects.get(scope=f"token:{ApiToken.objects.get().pk}")

    assert (counter.window_start, counter.count) == (WINDOW_START, 10)


# --- Failed authentication per client address --------------------------------------------------


WRONG = "cfo_live_" + "x" * 40


def test_failed_authentications_over_the_limit_are_refused_with_120(api, live_site, limits, clock):
    failures = [call(api, live_site, token=WRONG).code for _ in range(2)]

    result = call(api, live_site, token=WRONG)  # the third failure from this address

    assert failures == [101, 101]
    assert result.status == 429
    assert result.headers["Retry-After"] == "18"
    assert result.body == error_xml(120, "too many failed authentications from this address")
    row = last_call()
    assert (row.code, row.http_status, row.client_ip, row.token_prefix) == (
        120,
        429,
        "127.0.0.1",
        "",
    )


def test_failed_authentications_over_the_limit_never_hold_back_a_valid_token(
    api, live_site, limits, clock
):
    """Contract §3 (amended): one broken client behind a shared address (a NAT) must not lock
    out every integration there; the limit slows failures only."""
    for _ in range(3):
        call(api, live_site, token=WRONG)

    result = call(api, live_site)  # a valid token, from the same address

    assert (result.status, result.code) == (200, 0)
    assert last_call().token_prefix == public_prefix(live_site.token)


def test_failed_authentications_are_counted_per_client_address(api, live_site, limits, clock):
    for _ in range(2):
        call(api, live_site, token=WRONG)
    assert call(api, live_site, token=WRONG).code == 120

    result = call(api, live_site, token=WRONG, remote_addr="::1")

    assert (result.status, result.code) == (401, 101)


def test_failed_authentications_count_a_token_of_another_site(
    api, live_site, uat_site, limits, clock
):
    """A valid token on the wrong site is a failed authentication like any other."""
    assert [call(api, live_site, token=uat_site.token).code for _ in range(2)] == [101, 101]

    assert call(api, live_site, token=uat_site.token).code == 120


def test_failed_authentications_limit_ends_with_the_window(api, live_site, limits, clock):
    for _ in range(3):
        call(api, live_site, token=WRONG)
    clock.now = WINDOW_START + 60

    assert call(api, live_site, token=WRONG).code == 101


def test_failed_authentications_behind_a_trusted_proxy_count_the_client(
    api, live_site, limits, clock
):
    """Behind a proxy, one client's failures must not slow down every client of the proxy."""
    limits.CONFERO_TRUSTED_PROXIES = ["10.0.0.0/8"]
    proxy = {"remote_addr": "10.0.0.2"}
    for _ in range(2):
        call(api, live_site, token=WRONG, HTTP_X_FORWARDED_FOR="::1", **proxy)

    blocked = call(api, live_site, token=WRONG, HTTP_X_FORWARDED_FOR="::1", **proxy)
    other = call(api, live_site, token=WRONG, HTTP_X_FORWARDED_FOR="127.0.0.1", **proxy)

    assert (blocked.code, other.code) == (120, 101)


# --- Shared through the database -------------------------------------------------------------


def test_token_limit_counts_calls_recorded_by_another_process(api, live_site, limits, clock):
    """Another server process counts through ratelimit.hit into the same table."""
    key = f"token:{ApiToken.objects.get().pk}"
    for _ in range(3):
        ratelimit.hit(key, limit=3, window_seconds=60)

    result = call(api, live_site)

    assert (result.status, result.code) == (429, 120)


def test_failed_authentication_limit_counts_failures_seen_by_another_process(
    api, live_site, limits, clock
):
    for _ in range(2):
        ratelimit.hit("authfail:127.0.0.1", limit=2, window_seconds=60)

    assert call(api, live_site, token=WRONG).code == 120
    assert call(api, live_site).code == 0


@pytest.mark.django_db(transaction=True)
def test_token_limit_is_shared_between_database_connections(api, live_site, limits, clock):
    """Another thread has its own database connection, as another server process would."""
    key = f"token:{ApiToken.objects.get().pk}"
    seen = []

    def other_process():
        try:
            seen.extend(ratelimit.hit(key, limit=3, window_seconds=60).count for _ in range(3))
            seen.append(id(connections["default"]))
        finally:
            connections["default"].close()

    worker = threading.Thread(target=other_process)
    worker.start()
    worker.join()

    assert seen[:3] == [1, 2, 3]
    assert seen[3] != id(connections["default"])
    result = call(api, live_site)
    assert (result.status, result.code) == (429, 120)
    assert RateCounter.objects.get(scope=key).count == 4


def test_hit_counts_atomically_and_tells_the_retry_time(db):
    verdicts = [ratelimit.hit("k", limit=2, window_seconds=60, now=NOW) for _ in range(3)]

    assert [(v.allowed, v.count, v.retry_after) for v in verdicts] == [
        (True, 1, 18),
        (True, 2, 18),
        (False, 3, 18),
    ]
    assert ratelimit.peek("k", limit=2, window_seconds=60, now=NOW).allowed is False
    assert ratelimit.peek("k", limit=2, window_seconds=60, now=WINDOW_START + 60).allowed is True
