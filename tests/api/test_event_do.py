"""event.do (contract §8.1): the events a token may name in `event`."""

import datetime as dt
import json
from types import SimpleNamespace
from xml.sax.saxutils import escape

import pytest

from confero.access import ratelimit
from confero.access.models import ApiCall
from tests.factories import AccountFactory, EventFactory, open_site

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def event_xml(event, environment: str) -> str:
    def date(value):
        return f"<{{0}}>{value.isoformat()}</{{0}}>" if value else "<{0}/>"

    return (
        f"<event><eventGUID>{event.guid_text}</eventGUID><code>{event.code}</code>"
        f"<name>{escape(event.name)}</name>{date(event.start_date).format('startDate')}"
        f"{date(event.end_date).format('endDate')}<timeZone>{event.time_zone}</timeZone>"
        f"<environment>{environment}</environment></event>"
    )


def success_xml(*events, environment: str) -> bytes:
    records = "".join(event_xml(event, environment) for event in events)
    return DECLARATION + f'<api><response code="0">Success</response>{records}</api>'.encode()


@pytest.fixture
def account_events(db):
    """Account acme: charlie, alpha, bravo (made in that order); account umbrella: xray."""
    acme = AccountFactory(slug="acme")
    charlie = EventFactory(
        account=acme, code="charlie", name="Charlie Days", time_zone="Asia/Tokyo"
    )
    alpha = EventFactory(
        account=acme,
        code="alpha",
        name="Alpha Summit",
        start_date=dt.date(2026, 11, 24),
        end_date=dt.date(2026, 11, 26),
    )
    bravo = EventFactory(
        account=acme,
        code="bravo",
        name="Bravo & <Forum>",
        start_date=dt.date(2027, 3, 1),
        end_date=dt.date(2027, 3, 1),
    )
    xray = EventFactory(account=AccountFactory(slug="umbrella"), code="xray", name="Xray Expo")
    return SimpleNamespace(alpha=alpha, bravo=bravo, charlie=charlie, xray=xray)


def test_event_do_lists_the_calling_event(api, live_site):
    result = api.call(live_site.url("event"), {"apiToken": live_site.token})

    assert result.status == 200
    assert result.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert result.body == success_xml(live_site.event, environment="production")
    call = ApiCall.objects.get()
    assert (call.resource, call.code, call.http_status, call.site_id, call.event_param) == (
        "event",
        0,
        200,
        live_site.site.pk,
        "",
    )


def test_event_do_answers_a_changed_event_as_it_is_now(api, live_site):
    """Each process keeps event.do's rendered answers by what they show: a change shows at once."""
    event = live_site.event
    before = api.call(live_site.url("event"), {"apiToken": live_site.token})
    event.name, event.time_zone, event.end_date = "Renamed & <Moved>", "Asia/Tokyo", None
    event.save()
    after = api.call(live_site.url("event"), {"apiToken": live_site.token})
    again = api.call(live_site.url("event"), {"apiToken": live_site.token})

    assert before.body != after.body
    assert after.body == again.body == success_xml(event, environment="production")
    assert "Renamed &amp; &lt;Moved&gt;" in after.body.decode()
    assert result_length(after) == len(after.body)


def result_length(result) -> int:
    return int(result.headers["Content-Length"])


def test_event_do_without_account_level_lists_only_the_calling_event(api, account_events):
    _, token = open_site(account_events.alpha)

    result = api.call("/alpha/api/event.do", {"apiToken": token})

    assert result.body == success_xml(account_events.alpha, environment="production")


def test_event_do_with_account_level_lists_every_event_of_the_account(api, account_events):
    e = account_events
    _, token = open_site(e.alpha, account_level=True)
    _, xray_token = open_site(e.xray, account_level=True)
    assert api.call("/xray/api/event.do", {"apiToken": xray_token}).body == success_xml(
        e.xray, environment="production"
    )  # the other account's event is there, and is listed to its own token

    result = api.call("/alpha/api/event.do", {"apiToken": token})

    assert result.status == 200
    assert result.body == success_xml(e.alpha, e.bravo, e.charlie, environment="production")
    assert b"<name>Bravo &amp; &lt;Forum&gt;</name>" in result.body


def test_event_do_on_uat_lists_environment_uat(api, account_events):
    e = account_events
    _, token = open_site(e.bravo, "uat", account_level=True)

    result = api.call("/uat/bravo/api/event.do", {"apiToken": token})

    assert result.body == success_xml(e.alpha, e.bravo, e.charlie, environment="uat")


def test_event_do_on_uat_without_account_level_lists_environment_uat(api, uat_site):
    result = api.call(uat_site.url("event"), {"apiToken": uat_site.token})

    assert result.body == success_xml(uat_site.event, environment="uat")


def test_event_do_with_account_level_and_event_lists_that_event(api, account_events):
    e = account_events
    _, token = open_site(e.alpha, account_level=True)

    result = api.call("/alpha/api/event.do", {"apiToken": token, "event": e.charlie.guid_text})

    assert result.body == success_xml(e.charlie, environment="production")
    assert ApiCall.objects.get().event_param == e.charlie.guid_text


def test_event_do_naming_its_own_event_lists_it(api, account_events):
    _, token = open_site(account_events.alpha)

    result = api.call(
        "/alpha/api/event.do", {"apiToken": token, "event": str(account_events.alpha.guid)}
    )

    assert result.body == success_xml(account_events.alpha, environment="production")


def test_event_do_in_json_has_the_same_content(api, account_events):
    e = account_events
    _, token = open_site(e.alpha, "uat", account_level=True)

    result = api.call("/uat/alpha/api/event.do", {"apiToken": token, "format": "json"})

    assert result.headers["Content-Type"] == "application/json; charset=utf-8"

    def record(event, start, end):
        return {
            "eventGUID": event.guid_text,
            "code": event.code,
            "name": event.name,
            "startDate": start,
            "endDate": end,
            "timeZone": event.time_zone,
            "environment": "uat",
        }

    assert json.loads(result.body) == {
        "api": {
            "response": {"code": 0, "message": "Success"},
            "event": [
                record(e.alpha, "2026-11-24", "2026-11-26"),
                record(e.bravo, "2027-03-01", "2027-03-01"),
                record(e.charlie, None, None),
            ],
        }
    }


def test_event_do_in_json_with_one_event_is_still_a_list(api, live_site):
    result = api.call(live_site.url("event"), {"apiToken": live_site.token, "format": "json"})

    assert isinstance(json.loads(result.body)["api"]["event"], list)


@pytest.mark.parametrize("count", [1, 3])
def test_event_do_with_account_level_query_count_is_the_same_for_1_and_3_events(
    api, db, monkeypatch, django_assert_num_queries, count
):
    # The rate limiter prunes old windows at random (1 call in 1000): not in a counted call.
    monkeypatch.setattr(ratelimit, "random", SimpleNamespace(random=lambda: 1.0))
    account = AccountFactory(slug="acme")
    events = [EventFactory(account=account) for _ in range(count)]
    _, token = open_site(events[0], account_level=True)
    url = f"/{events[0].code}/api/event.do"
    # The first call records the token's first use (a write once a minute) and leases a block of
    # rate-limit units (default limit 1200 per minute: 6 units), so the next one writes no count.
    api.call(url, {"apiToken": token})

    # the gate (site, profile, failed-auth counter, token), events, call log
    with django_assert_num_queries(3):
        result = api.call(url, {"apiToken": token})

    by_code = sorted(events, key=lambda event: event.code)
    assert result.body == success_xml(*by_code, environment="production")
