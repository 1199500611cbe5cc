"""The per-token rate limit leases its units in blocks (confero.access.ratelimit.take): a process
adds `lease_size(limit)` units to the shared counter at once and hands them out from memory
(the module-global `_leases`) until they run out, the window turns or the limit changes.

Through HTTP: what the counter holds, when a call writes to it, when a call is refused. Several
server processes are simulated by giving each its own `_leases` dict and calling `take` directly
against the real database, as each process would."""

import itertools
import random
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from confero.access import ratelimit
from confero.access.models import ApiCall, ApiToken, RateCounter
from confero.access.services import configure_profile
from confero.access.tokens import issue_token
from tests.ratelimit_clock import NOW, WINDOW_START, error_xml

COUNTER_TABLE = RateCounter._meta.db_table


@pytest.fixture(autouse=True)
def _no_pruning(monkeypatch):
    """The counter rows of past windows stay: pruning (1 write in 1,000) is not under test."""
    monkeypatch.setattr(ratelimit, "random", SimpleNamespace(random=lambda: 1.0))


@pytest.fixture
def window(settings):
    settings.CONFERO_RATE_WINDOW_SECONDS = 60
    return settings


def call(api, site, token=None):
    return api.call(site.url("event"), {"apiToken": token or site.token})


def token_key(token: ApiToken | None = None) -> str:
    """The counter key of `token` (default: the site's one token)."""
    return f"token:{(token or ApiToken.objects.get()).pk}"


def counter(key: str, window_start: int = WINDOW_START) -> int | None:
    row = RateCounter.objects.filter(scope=key, window_start=window_start).first()
    return None if row is None else row.count


def counter_writes(queries) -> int:
    return sum(COUNTER_TABLE in q["sql"] and q["sql"].startswith("INSERT") for q in queries)


# --- lease_size --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "block"),
    [(1, 1), (3, 1), (399, 1), (400, 2), (401, 2), (1200, 6), (2000, 10), (9999, 49),
     (10_000, 50), (10_200, 50), (1_000_000, 50)],
)  # fmt: skip
def test_lease_size_is_a_two_hundredth_of_the_limit_between_1_and_50(limit, block):
    assert ratelimit.lease_size(limit) == block


# --- Through HTTP --------------------------------------------------------------------------------


def test_calls_lease_units_in_blocks_of_a_two_hundredth_of_the_limit(api, live_site, window, clock):
    configure_profile(live_site.site.api_profile, rate_limit_per_minute=2000)  # block 10

    codes = [call(api, live_site).code for _ in range(25)]

    assert codes == [0] * 25
    assert counter(token_key()) == 30  # three leases of 10: 25 calls made, 5 units in hand
    assert list(ApiCall.objects.values_list("code", flat=True)) == [0] * 25


def test_only_the_call_that_leases_a_block_writes_to_the_counter(api, live_site, window, clock):
    configure_profile(live_site.site.api_profile, rate_limit_per_minute=2000)  # block 10

    writes = []
    for _ in range(12):
        with CaptureQueriesContext(connection) as queries:
            assert call(api, live_site).code == 0
        writes.append(counter_writes(queries.captured_queries))

    assert writes == [1] + [0] * 9 + [1, 0]
    assert counter(token_key()) == 20


def test_the_last_units_up_to_the_limit_are_granted_and_the_next_call_refused(
    api, live_site, window, clock
):
    """Limit 400, block 2. Other processes have leased 395 units: this one gets 2, 2, then the
    single unit left of its third block (397, 399, 401 on the counter), then nothing."""
    configure_profile(live_site.site.api_profile, rate_limit_per_minute=400)
    key = token_key()
    RateCounter.objects.create(scope=key, window_start=WINDOW_START, count=395)

    allowed = [call(api, live_site) for _ in range(5)]
    refused = call(api, live_site)

    assert [(r.status, r.code) for r in allowed] == [(200, 0)] * 5  # 395 + 5 = 400
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "18"
    assert refused.body == error_xml(120, "rate limit of 400 calls per 60 s exceeded")
    assert counter(key) == 403
    assert list(ApiCall.objects.order_by("id").values_list("code", "http_status")) == [
        (0, 200),
    ] * 5 + [(120, 429)]


def test_a_lease_is_dropped_when_the_window_turns(api, live_site, window, clock):
    configure_profile(live_site.site.api_profile, rate_limit_per_minute=2000)  # block 10
    key = token_key()
    for _ in range(25):
        call(api, live_site)  # 5 units of this window left in hand
    clock.now = WINDOW_START + 60

    result = call(api, live_site)

    assert (result.status, result.code) == (200, 0)
    assert (counter(key), counter(key, WINDOW_START + 60)) == (30, 10)  # a new block was leased


def test_units_left_from_the_last_window_do_not_pass_a_full_new_window(
    api, live_site, window, clock
):
    """Other processes have used the whole limit of the new window; this process still holds
    units leased in the window before. They must not be handed out."""
    configure_profile(live_site.site.api_profile, rate_limit_per_minute=2000)  # block 10
    key = token_key()
    assert call(api, live_site).code == 0  # 9 units of the first window left in hand
    clock.now = WINDOW_START + 60
    RateCounter.objects.create(scope=key, window_start=WINDOW_START + 60, count=2000)

    result = call(api, live_site)

    assert (result.status, result.code) == (429, 120)
    assert result.headers["Retry-After"] == "60"
    assert (counter(key), counter(key, WINDOW_START + 60)) == (10, 2010)


def test_a_lowered_limit_refuses_at_once_the_units_in_hand(api, live_site, window, clock):
    configure_profile(live_site.site.api_profile, rate_limit_per_minute=2000)  # block 10
    key = token_key()
    for _ in range(25):
        assert call(api, live_site).code == 0  # 5 units left in hand
    configure_profile(live_site.site.api_profile, rate_limit_per_minute=20)

    result = call(api, live_site)

    assert (result.status, result.code) == (429, 120)
    assert result.body == error_xml(120, "rate limit of 20 calls per 60 s exceeded")
    assert counter(key) == 31  # asked the database: a block of the new size, 1


def test_a_lowered_limit_is_obeyed_within_one_block_of_the_old_size(api, live_site, window, clock):
    """Limit 2000 (block 10): 25 calls, 30 units leased. Lowered to 40 (block 1): the 5 units in
    hand are lost, so 10 more calls pass (35 in all, 5 fewer than the limit, less than one old
    block) and the next is refused; 40 are never passed."""
    configure_profile(live_site.site.api_profile, rate_limit_per_minute=2000)
    key = token_key()
    for _ in range(25):
        call(api, live_site)
    configure_profile(live_site.site.api_profile, rate_limit_per_minute=40)

    codes = [call(api, live_site).code for _ in range(11)]

    assert codes == [0] * 10 + [120]
    assert counter(key) == 41
    assert ApiCall.objects.filter(code=0).count() == 35


def test_a_raised_limit_leases_a_block_of_the_new_size(api, live_site, window, clock):
    """The lease taken under the old limit is not used once the limit has changed."""
    configure_profile(live_site.site.api_profile, rate_limit_per_minute=400)  # block 2
    key = token_key()
    for _ in range(3):
        call(api, live_site)  # 4 units leased, 1 in hand
    configure_profile(live_site.site.api_profile, rate_limit_per_minute=2000)  # block 10

    with CaptureQueriesContext(connection) as queries:
        result = call(api, live_site)

    assert result.code == 0
    assert counter_writes(queries.captured_queries) == 1
    assert counter(key) == 14


def test_one_tokens_lease_never_serves_another_token(api, live_site, window, clock):
    """Two tokens of one profile. The first holds 9 units; the second has used its whole limit
    (counted by other processes): it is refused, and the first keeps its units."""
    configure_profile(live_site.site.api_profile, rate_limit_per_minute=2000)  # block 10
    first = token_key()
    second_plain = issue_token(live_site.site.api_profile, label="second").plain
    second = token_key(ApiToken.objects.get(label="second"))
    assert call(api, live_site).code == 0
    RateCounter.objects.create(scope=second, window_start=WINDOW_START, count=2000)

    refused = call(api, live_site, token=second_plain)
    again = call(api, live_site)

    assert (refused.status, refused.code) == (429, 120)
    assert again.code == 0
    assert (counter(first), counter(second)) == (10, 2010)


def test_each_token_leases_its_own_block(api, live_site, window, clock):
    configure_profile(live_site.site.api_profile, rate_limit_per_minute=2000)  # block 10
    second_plain = issue_token(live_site.site.api_profile, label="second").plain

    codes = [call(api, live_site).code, call(api, live_site, token=second_plain).code]

    assert codes == [0, 0]
    assert sorted(RateCounter.objects.filter(scope__startswith="token:").values_list("count")) == [
        (10,),
        (10,),
    ]


# --- take() directly, one process -----------------------------------------------------------------


def test_take_leases_from_the_database_only_when_its_block_is_used_up(db):
    verdicts = [ratelimit.take("k", limit=1000, window_seconds=60, now=NOW) for _ in range(11)]

    # The shared count when the database was asked, 0 when the call was served from the lease.
    assert [(v.allowed, v.count) for v in verdicts] == [(True, 5)] + [(True, 0)] * 4 + [
        (True, 10)
    ] + [(True, 0)] * 4 + [(True, 15)]
    assert counter("k") == 15


def test_take_keeps_leases_per_key(db):
    for key in ("token:1", "token:2", "token:1"):
        ratelimit.take(key, limit=1000, window_seconds=60, now=NOW)

    assert (counter("token:1"), counter("token:2")) == (5, 5)


def test_take_refuses_with_the_shared_count_and_the_retry_time(db):
    RateCounter.objects.create(scope="k", window_start=WINDOW_START, count=1000)

    verdict = ratelimit.take("k", limit=1000, window_seconds=60, now=NOW)

    assert verdict == ratelimit.Verdict(False, 1005, 18)


# --- take() directly, several processes -------------------------------------------------------


class Processes:
    """Server processes, each with its own leases, sharing the database's counters."""

    def __init__(self, monkeypatch, number: int):
        self.monkeypatch = monkeypatch
        self.leases = [{} for _ in range(number)]

    def take(self, process: int, key: str, limit: int, now: float = NOW) -> ratelimit.Verdict:
        self.monkeypatch.setattr(ratelimit, "_leases", self.leases[process])
        return ratelimit.take(key, limit=limit, window_seconds=60, now=now)

    def restart(self, process: int) -> None:
        """The process ends (its leased units are lost) and a new one takes its place."""
        self.leases[process] = {}


def test_processes_each_lease_their_own_block(db, monkeypatch):
    processes = Processes(monkeypatch, 2)

    counts = [processes.take(p, "k", 1000).count for p in (0, 1, 0, 1)]

    assert counts == [5, 10, 0, 0]
    assert counter("k") == 10


def test_processes_share_the_last_units_and_none_passes_the_limit(db, monkeypatch):
    """Limit 400 (block 2), 397 units leased elsewhere: process 0 gets 2 units (399), process 1
    the last one (401), process 0 nothing more."""
    RateCounter.objects.create(scope="k", window_start=WINDOW_START, count=397)
    processes = Processes(monkeypatch, 2)

    verdicts = [processes.take(p, "k", 400) for p in (0, 1, 0, 1, 0)]

    assert [v.allowed for v in verdicts] == [True, True, True, False, False]
    assert counter("k") == 405


_keys = itertools.count()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    limit=st.integers(1, 1000),
    number=st.integers(1, 6),
    restarts=st.integers(0, 6),
    schedule=st.randoms(use_true_random=False),
)
@example(limit=1000, number=6, restarts=6, schedule=random.Random(0))
@example(limit=401, number=6, restarts=0, schedule=random.Random(1))
def test_processes_never_pass_the_limit_and_lose_at_most_a_block_each(
    db, monkeypatch, limit, number, restarts, schedule
):
    """Processes call in a random interleaving until each is refused; up to `min(restarts,
    number)` of them end on the way and are replaced (their leased units are lost). The calls
    allowed never exceed the limit, and fall short of it by at most `lease_size − 1` units per
    process that ended: a process that keeps calling uses up every unit it leased."""
    key = f"sim:{next(_keys)}"
    block = ratelimit.lease_size(limit)
    restarts = min(restarts, number)
    processes = Processes(monkeypatch, number)
    running = list(range(number))
    allowed = ended = 0
    for _ in range(limit + number * (block + 1) + restarts + 10):  # more than enough
        if not running:
            break
        process = schedule.choice(running)
        if ended < restarts and schedule.random() < 0.02:
            processes.restart(process)
            ended += 1
            continue
        verdict = processes.take(process, key, limit)
        if verdict.allowed:
            allowed += 1
        else:
            assert verdict.count > limit
            running.remove(process)
    else:
        pytest.fail(f"{allowed} calls allowed and processes {running} still not refused")

    assert allowed <= limit
    assert allowed >= limit - ended * (block - 1)
    assert allowed >= limit - number * (block - 1)
    assert counter(key) >= allowed  # the shared count runs ahead of the calls, never behind
