"""The planner's events, an event's Manage page (both sites side by side) and Settings."""

import pytest
from lxml import html

from tests.factories import EventFactory, UserFactory


def test_event_page_shows_the_guid_both_api_urls_and_user_counts(world, planner_client):
    UserFactory(site=world.uat)

    page = html.fromstring(planner_client.get("/manage/events/alpha/").content)

    assert page.xpath("string(//code[@id='event-guid'])") == world.alpha.guid_text
    cards = page.xpath("//section[contains(@class, 'site-card')]")
    assert [c.xpath("string(.//code[@class='api-url'])") for c in cards] == [
        "http://testserver/uat/alpha/api/",
        "http://testserver/alpha/api/",
    ]
    users = [" ".join(c.xpath("string(.//dt[.='Users']/following-sibling::dd[1])").split())
             for c in cards]  # fmt: skip
    assert users == ["1 active", "1 active"]


def test_event_navigation_links_every_section_of_the_site(world, planner_client):
    page = html.fromstring(planner_client.get("/manage/events/alpha/").content)

    links = [(a.text, a.get("href")) for a in page.xpath("//nav[@class='side']//a")]
    assert links == [
        ("Manage", "/manage/events/alpha/"),
        ("Users", "/manage/events/alpha/production/users/"),
        ("Sessions", "/manage/events/alpha/production/sessions/"),
        ("Exhibitors", "/manage/events/alpha/production/exhibitors/"),
        ("Orders", "/manage/events/alpha/production/orders/"),
        ("Custom fields", "/manage/events/alpha/production/fields/"),
        ("API call log", "/manage/events/alpha/calls/"),
        ("Settings", "/manage/events/alpha/settings/"),
    ]
    assert page.xpath("//nav[@class='side']//li[not(a)]") == []


@pytest.mark.parametrize("count", [1, 3])
def test_events_list_queries_do_not_grow_with_events(
    world, planner_client, django_assert_num_queries, count
):
    for n in range(count - 1):
        EventFactory(code=f"more-{n}", account=world.alpha.account)

    # session, user, events (with their accounts)
    with django_assert_num_queries(3):
        response = planner_client.get("/manage/")
    assert len(html.fromstring(response.content).xpath("//table/tbody/tr")) == count
