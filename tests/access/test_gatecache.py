"""Admissions kept in memory (confero.access.gatecache, decision 0012), PostgreSQL only.

A call admitted a moment ago is admitted again without the gate's query. Every change to what the
gate reads ends that at once, in every process, as its notification arrives: a revoked token, a
disabled profile, a narrowed allow-list, a new custom
field. Each test first shows the cache serving (the call read no gate), so the refusal after it
is the notification's doing: the rows are kept far longer than the tests run (60 s).

The tests commit for real (`transaction=True`): notifications are sent at commit."""

import datetime as dt
import time
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from confero.access import gatecache
from confero.access.models import ApiCall
from confero.access.tokens import issue_token, public_prefix
from confero.api import pipeline
from confero.cli import main
from confero.customfields.models import CustomField
from tests.api.conftest import import_test_fields

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

GATE_SQL = "LEFT JOIN access_apitoken t ON t.token_hash"


def event_do(api, site, token=None, resource="event"):
    """The answer and how many times the call read the gate."""
    with CaptureQueriesContext(connection) as queries:
        result = api.call(site.url(resource), {"apiToken": token or site.token})
    return result, sum(GATE_SQL in query["sql"] for query in queries)


def warm(api, site, token=None, resource="event") -> None:
    """The first call of a token records its first use (a write to the token, at most once a
    minute, which notifies like any other change); the second is kept."""
    for _ in range(2):
        assert event_do(api, site, token, resource)[0].code == 0


@contextmanager
def notified():
    """After the block, waits until the notification of the change it committed has arrived
    and emptied the cache (polling, 5 s at most): the next call then sees the change."""
    gatecache.begin()  # what had arrived before the block is read first
    before = gatecache._cache.generation
    yield
    deadline = time.monotonic() + 5
    while gatecache._cache.generation == before:
        assert time.monotonic() < deadline, "no notification arrived within 5 s"
        time.sleep(0.005)
        gatecache.begin()


@pytest.fixture
def later(monkeypatch):
    """Moves the clocks the cache and the pipeline read (`later(seconds)`) instead of waiting."""
    moved = [0.0]
    monkeypatch.setattr(
        gatecache, "time", SimpleNamespace(monotonic=lambda: time.monotonic() + moved[0],
                                           sleep=time.sleep)
    )  # fmt: skip
    monkeypatch.setattr(
        pipeline, "timezone", SimpleNamespace(now=lambda: timezone.now() + dt.timedelta(
            seconds=moved[0]))
    )  # fmt: skip

    def move(seconds: float) -> None:
        moved[0] += seconds

    return move


def last_logged() -> tuple:
    return ApiCall.objects.order_by("-id").values_list("resource", "code", "http_status")[0]


def test_an_admission_is_answered_from_memory_with_the_same_answer(api, live_site, cached):
    warm(api, live_site)
    first, first_reads = event_do(api, live_site)
    second, second_reads = event_do(api, live_site)

    assert (first.status, first.code, first_reads) == (200, 0, 0)
    assert (second.status, second.code, second_reads) == (200, 0, 0)
    assert second.body == first.body
    assert last_logged() == ("event", 0, 200)


def test_a_revoked_token_is_refused_by_the_next_call(api, live_site, cached, capsys):
    warm(api, live_site)
    served, reads = event_do(api, live_site)

    with notified():
        main(["token", "revoke", public_prefix(live_site.token)])
    refused, refused_reads = event_do(api, live_site)

    assert (served.code, reads) == (0, 0)
    assert (refused.status, refused.code, refused_reads) == (401, 101, 1)
    assert last_logged() == ("event", 101, 401)


@pytest.mark.parametrize(
    ("change", "code", "status"),
    [(["--enabled", "off"], 104, 403), (["--allow-replace", "10.0.0.0/8"], 103, 403)],
)
def test_a_profile_change_is_honoured_by_the_next_call(
    api, live_site, cached, capsys, change, code, status
):
    warm(api, live_site)
    served, reads = event_do(api, live_site)

    with notified():
        main(["profile", "--event", live_site.event.code, "--site", "production", *change])
    refused, refused_reads = event_do(api, live_site)

    assert (served.code, reads) == (0, 0)
    assert (refused.status, refused.code, refused_reads) == (status, code, 1)


def test_a_token_expires_on_time_without_a_change_to_notify(api, live_site, cached, later):
    plain = issue_token(
        live_site.site.api_profile, expires_at=timezone.now() + dt.timedelta(seconds=30)
    ).plain
    warm(api, live_site, plain)
    served, reads = event_do(api, live_site, plain)

    later(31)
    expired, _ = event_do(api, live_site, plain)

    assert (served.code, reads) == (0, 0)
    assert (expired.status, expired.code) == (401, 101)


def test_an_address_over_its_failure_limit_keeps_its_kept_admission_of_a_valid_token(
    api, live_site, cached
):
    """Contract §3 (amended): the failure limit holds back failures only. A valid token kept in
    memory is still admitted from memory; a further guess is refused with 120."""
    cached.CONFERO_AUTH_FAILURE_LIMIT = 3
    warm(api, live_site)
    served, reads = event_do(api, live_site)

    guesses = [event_do(api, live_site, "cfo_live_" + str(n) * 40)[0].code for n in range(4)]
    still, still_reads = event_do(api, live_site)

    assert (served.code, reads) == (0, 0)
    assert guesses == [101, 101, 101, 120]
    assert (still.status, still.code, still_reads) == (200, 0, 0)


def test_a_new_custom_field_shows_in_the_next_call(api, live_site, cached):
    warm(api, live_site, resource="customFields")
    before, reads = event_do(api, live_site, resource="customFields")
    defined_before = CustomField.objects.count()

    with notified():
        import_test_fields(live_site.site)
    after, _ = event_do(api, live_site, resource="customFields")

    assert (before.code, reads, defined_before) == (0, 0, 0)
    assert [field.findtext("code") for field in before.xml.iter("customField")] == ["clientID"]
    assert after.code == 0
    assert len(after.xml.findall(".//customField")) == 1 + CustomField.objects.count() > 1


def test_rows_are_kept_no_longer_than_the_setting(api, live_site, cached, later):
    cached.CONFERO_GATE_CACHE_SECONDS = 5
    warm(api, live_site)
    _, soon = event_do(api, live_site)
    later(4.9)
    _, still = event_do(api, live_site)
    later(0.2)
    _, past = event_do(api, live_site)

    assert (soon, still, past) == (0, 0, 1)


def test_refusals_are_never_kept(api, live_site, cached):
    wrong = "cfo_live_" + "x" * 40
    warm(api, live_site)
    _, kept = event_do(api, live_site)  # the cache works here
    reads = [event_do(api, live_site, wrong)[1] for _ in range(2)]

    assert kept == 0
    assert reads == [1, 1]


def test_a_kept_admission_is_for_its_address_only(api, live_site, cached):
    """The address is checked against the kept profile's allow-list on every call: another
    address is refused without reading the gate again."""
    warm(api, live_site)
    _, kept = event_do(api, live_site)
    with CaptureQueriesContext(connection) as queries:
        other = api.call(
            live_site.url("event"), {"apiToken": live_site.token}, remote_addr="198.51.100.7"
        )

    assert kept == 0
    assert (other.status, other.code) == (403, 103)
    assert other.message == "client address 198.51.100.7 is not allowed"
    assert sum(GATE_SQL in query["sql"] for query in queries) == 0


def test_nothing_is_kept_or_used_inside_a_transaction(api, live_site, cached):
    warm(api, live_site)  # the token's last use is written: nothing below writes to the token
    gatecache.reset()  # nothing kept
    with transaction.atomic():
        reads = [event_do(api, live_site)[1] for _ in range(2)]
    _, after = event_do(api, live_site)
    _, then = event_do(api, live_site)

    assert reads == [1, 1]
    assert after == 1  # nothing was kept from inside the transaction
    assert then == 0  # outside, as usual


def test_a_lost_listening_connection_turns_the_cache_off_until_it_listens_again(
    api, live_site, cached, monkeypatch, later
):
    warm(api, live_site)
    _, kept = event_do(api, live_site)
    listener_pid = gatecache._cache.listener.connection.info.backend_pid
    monkeypatch.setattr(gatecache, "RETRY_SECONDS", 0.5)

    with connection.cursor() as cursor, notified():
        cursor.execute("SELECT pg_terminate_backend(%s)", [listener_pid])
    answers = [event_do(api, live_site) for _ in range(2)]
    later(0.6)
    again = [event_do(api, live_site)[1] for _ in range(2)]

    assert kept == 0
    assert [(result.code, reads) for result, reads in answers] == [(0, 1), (0, 1)]
    assert again == [1, 0]  # listening again: the first call reads, the next is kept


def test_a_row_read_while_a_change_arrived_is_not_kept(live_site, cached):
    ticket = gatecache.begin()
    with notified():
        main(["token", "revoke", public_prefix(live_site.token)])  # commits while "reading"
    gatecache.put(("key",), ("row",), ticket)
    unchanged = gatecache.begin()
    gatecache.put(("other",), ("row",), unchanged)

    assert ticket is not None
    assert gatecache.get(("key",), gatecache.begin()) is None
    assert gatecache.get(("other",), gatecache.begin()) == ("row",)  # kept when nothing came


def test_an_idle_process_still_reads_what_arrives(live_site, cached):
    """The process's own thread reads the listening connection every second: a process that
    answers no calls does not leave notifications waiting on the server."""
    gatecache.begin()  # listening
    generation = gatecache._cache.generation
    main(["token", "revoke", public_prefix(live_site.token)])
    deadline = time.monotonic() + gatecache.DRAIN_SECONDS * 5
    while gatecache._cache.generation == generation and time.monotonic() < deadline:
        time.sleep(0.01)  # no call: only the process's own thread can read it

    assert gatecache._cache.generation > generation  # emptied, without a call
