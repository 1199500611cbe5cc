"""The API call log of an event: filtered by site, resource, code (with its meaning), client
address and time to the second; another account's calls never shown."""

import datetime as dt

import pytest
from lxml import html

from confero.access.models import ApiCall

CALLS = "/manage/events/alpha/calls/"


def rows(response) -> list[list[str]]:
    page = html.fromstring(response.content)
    return [
        [" ".join(td.text_content().split()) for td in tr.xpath("td")]
        for tr in page.xpath("//table[contains(@class, 'calls')]/tbody/tr")
    ]


def log(world, site, *, second: int, code: int = 0, ip: str = "127.0.0.1", resource="userData"):
    return ApiCall.objects.create(
        time=dt.datetime(2026, 3, 1, 10, 20, second, tzinfo=dt.UTC), site=site,
        profile=site.api_profile, method="POST", path="/", resource=resource, client_ip=ip,
        code=code, http_status=200, duration_ms=2.0,
    )  # fmt: skip


def test_call_log_shows_time_to_the_second_and_the_codes_meaning(world, planner_client):
    assert rows(planner_client.get(CALLS)) == [
        ["2026-03-01 10:20:30.456", "Production", "event",
         "103 client IP address not allowed (message names the address)", "192.0.2.7",
         "cfo_live_ABCDEFGH…", "", "1.5"],
    ]  # fmt: skip


def test_call_log_filters_by_site_resource_code_address_and_time(world, planner_client):
    log(world, world.uat, second=31, code=101, ip="10.0.0.1")
    log(world, world.production, second=32, code=0, resource="addUser")
    log(world, world.production, second=33, code=301, resource="addUser")

    def times(**query):
        return [row[0][-12:-4] for row in rows(planner_client.get(CALLS, query))]

    assert times() == ["10:20:33", "10:20:32", "10:20:31", "10:20:30"]
    assert times(site="uat") == ["10:20:31"]
    assert times(resource="addUser") == ["10:20:33", "10:20:32"]
    assert times(code="301") == ["10:20:33"]
    assert times(ip="10.0.0.1") == ["10:20:31"]
    assert times(**{"from": "2026-03-01T10:20:31", "to": "2026-03-01T10:20:32"}) == [
        "10:20:32",
        "10:20:31",
    ]


def test_call_log_names_the_parameters_a_reading_resource_ignored(world, planner_client, alpha_api):
    # Contract §2: a resource that writes nothing ignores what it does not declare; the planner
    # sees which names an integration sent in vain (names only: a value never reaches the log).
    answer = alpha_api.call("userData", {"colour": "blue", "sinse": "1"})
    assert answer.code == 0

    [row] = [r for r in rows(planner_client.get(CALLS)) if r[2] == "userData"]
    assert row[3] == "0 Success ignored: colour, sinse"
    assert "blue" not in planner_client.get(CALLS).content.decode()


def test_call_log_never_shows_another_events_calls(world, planner_client, super_client):
    from tests.factories import site_of

    log(world, site_of(world.beta), second=40, ip="203.0.113.99")

    assert "203.0.113.99" not in planner_client.get(CALLS).content.decode()
    assert "203.0.113.99" not in super_client.get(CALLS).content.decode()  # another event's
    assert "203.0.113.99" in super_client.get("/manage/events/beta/calls/").content.decode()


def test_call_log_refuses_a_bad_time_or_code_saying_why(world, planner_client):
    response = planner_client.get(CALLS, {"from": "yesterday", "code": "999"})

    problems = html.fromstring(response.content).xpath("//ul[@class='errorlist']/li/text()")
    assert problems == [
        "code: '999' is not a code of the API",
        "from: 'yesterday' is not a time as YYYY-MM-DDTHH:MM:SS (UTC)",
    ]


def test_call_log_pages_by_time_then_id(world, planner_client, monkeypatch):
    from confero.console.views import calls

    monkeypatch.setattr(calls, "PAGE_SIZE", 2)
    for second in (31, 31, 32):
        log(world, world.production, second=second)

    first = planner_client.get(CALLS)
    older = html.fromstring(first.content).xpath("//nav[@class='pager']/a/@href")
    second = planner_client.get(CALLS + older[-1])

    assert [row[0][-12:-4] for row in rows(first)] == ["10:20:32", "10:20:31"]
    assert [row[0][-12:-4] for row in rows(second)] == ["10:20:31", "10:20:30"]


@pytest.mark.parametrize("count", [1, 3])
def test_call_log_queries_do_not_grow_with_calls(
    world, planner_client, django_assert_num_queries, count
):
    for second in range(count - 1):
        log(world, world.production, second=second)

    # session, user, event, sites, calls
    with django_assert_num_queries(5):
        response = planner_client.get(CALLS)
    assert len(rows(response)) == count
