"""Manage › Settings › APIs › API profile: access, Account Level Access, the allow-list, tokens
(created with a label and expiry, shown once; revoked by prefix) — each change seen by the API."""

import datetime as dt
import re

import pytest
from lxml import html

from confero.access.models import ApiProfile, ApiToken
from confero.access.services import allow_networks

PROFILE = "/manage/events/alpha/settings/apis/production/"


def form(client) -> dict[str, str]:
    page = html.fromstring(client.get(PROFILE).content)
    [profile_form] = page.xpath("//form[contains(@class, 'profile-form')]")
    return {k: v for k, v in profile_form.form_values() if k != "csrfmiddlewaretoken"}


def stored(world) -> ApiProfile:
    return ApiProfile.objects.get(pk=world.production.api_profile.pk)


def test_profile_page_shows_the_api_url_the_tokens_and_a_link_to_the_calls(world, planner_client):
    page = planner_client.get(PROFILE).content.decode()

    assert '<code class="api-url" id="api-url">http://testserver/alpha/api/</code>' in page
    assert f"<code>{world.token_row.prefix}…</code>" in page
    assert 'href="/manage/events/alpha/calls/?site=production"' in page
    assert world.token not in page


def test_account_level_access_switched_on_lets_a_call_name_another_event(
    world, planner_client, alpha_api
):
    from tests.factories import EventFactory

    sibling = EventFactory(code="sibling", account=world.alpha.account)
    before = alpha_api.call("event", {"event": sibling.guid_text})

    response = planner_client.post(PROFILE, {**form(planner_client), "account_level_access": "on"})

    after = alpha_api.call("event", {"event": sibling.guid_text})
    assert (response.status_code, before.code, after.code) == (302, 110, 0)
    assert after.xml.findtext("event/eventGUID") == sibling.guid_text


def test_allow_list_entry_added_lets_that_address_call(world, planner_client, alpha_api):
    refused = alpha_api.call("event", remote_addr="198.51.100.7")
    data = form(planner_client)

    planner_client.post(PROFILE, {**data, "allowed_networks": data["allowed_networks"] +
                                  "\n198.51.100.0/24\n"})  # fmt: skip

    assert stored(world).allowed_networks == ["127.0.0.1/32", "::1/128", "198.51.100.0/24"]
    assert (refused.code, alpha_api.call("event", remote_addr="198.51.100.7").code) == (103, 0)


def test_allow_list_entry_taken_out_refuses_that_address(world, planner_client, alpha_api):
    planner_client.post(PROFILE, {**form(planner_client), "allowed_networks": "::1"})

    assert stored(world).allowed_networks == ["::1/128"]
    assert alpha_api.call("event").code == 103
    assert alpha_api.call("event", remote_addr="::1").code == 0


def test_allow_list_keeps_an_entry_another_planner_added_meanwhile(world, planner_client):
    data = form(planner_client)
    allow_networks(world.production.api_profile, ["203.0.113.9"])  # while the page was open

    planner_client.post(PROFILE, {**data, "allowed_networks": "127.0.0.1\n10.0.0.0/8"})

    assert stored(world).allowed_networks == ["127.0.0.1/32", "203.0.113.9/32", "10.0.0.0/8"]


def test_allow_list_with_bad_lines_names_each_and_changes_nothing(world, planner_client):
    data = {**form(planner_client), "allowed_networks": "127.0.0.1\n10.0.0.300\n\nexample.org",
            "account_level_access": "on"}  # fmt: skip

    response = planner_client.post(PROFILE, data)

    errors = html.fromstring(response.content).xpath("//p[@class='error']/text()")
    assert response.status_code == 400
    assert errors == [
        "line 2: '10.0.0.300' is not an IPv4/IPv6 address or a CIDR range "
        "(e.g. 203.0.113.7, 2001:db8::1, 198.51.100.0/24)",
        "line 4: 'example.org' is not an IPv4/IPv6 address or a CIDR range "
        "(e.g. 203.0.113.7, 2001:db8::1, 198.51.100.0/24)",
    ]
    profile = stored(world)
    assert (profile.allowed_networks, profile.account_level_access) == (
        ["127.0.0.1/32", "::1/128"],
        False,
    )


def test_api_access_switched_off_answers_104(world, planner_client, alpha_api):
    data = form(planner_client)
    data.pop("enabled")

    planner_client.post(PROFILE, data)

    assert alpha_api.call("event").code == 104
    assert ApiToken.objects.get(pk=world.token_row.pk).revoked_at is None


def test_token_created_is_shown_once_works_and_is_stored_hashed(world, planner_client, api):
    response = planner_client.post(PROFILE + "tokens/", {"label": "badge printer"})

    page = response.content.decode()
    [plain] = re.findall(r'<code id="new-token" class="token">(cfo_live_\w+)</code>', page)
    token = ApiToken.objects.get(label="badge printer")
    assert (response.status_code, response["Cache-Control"]) == (
        200,
        "max-age=0, no-cache, no-store, must-revalidate, private",
    )
    assert plain.startswith(token.prefix)
    assert plain not in str(token.__dict__)
    assert api.call("/alpha/api/event.do", {"apiToken": plain}).code == 0
    assert plain not in planner_client.get(PROFILE).content.decode()


def test_token_with_an_expiry_stops_working_that_day(world, planner_client):
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)

    planner_client.post(PROFILE + "tokens/", {"label": "temp", "expires": tomorrow.isoformat()})

    expires = ApiToken.objects.get(label="temp").expires_at
    assert expires == dt.datetime.combine(tomorrow, dt.time(), tzinfo=dt.UTC)


@pytest.mark.parametrize("day", [0, -3])
def test_token_expiry_today_or_past_is_refused(world, planner_client, day):
    when = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=day)

    response = planner_client.post(PROFILE + "tokens/", {"expires": when.isoformat()})

    assert response.status_code == 400
    assert "a day after today" in response.content.decode()
    assert ApiToken.objects.count() == 1


def test_token_revoked_answers_101(world, planner_client, alpha_api):
    response = planner_client.post(PROFILE + f"tokens/{world.token_row.prefix}/revoke/")

    assert response.status_code == 302
    assert alpha_api.call("event").code == 101
    assert "revoked" in planner_client.get(PROFILE).content.decode()


def test_token_of_the_other_site_cannot_be_revoked_here(world, planner_client):
    response = planner_client.post(
        f"/manage/events/alpha/settings/apis/uat/tokens/{world.token_row.prefix}/revoke/"
    )

    assert response.status_code == 404
    assert ApiToken.objects.get(pk=world.token_row.pk).revoked_at is None


@pytest.mark.parametrize("count", [1, 3])
def test_profile_page_queries_do_not_grow_with_tokens(
    world, planner_client, django_assert_num_queries, count
):
    from confero.access.tokens import issue_token

    for _ in range(count - 1):
        issue_token(world.production.api_profile, label="more")

    # session, user, event, sites, tokens
    with django_assert_num_queries(5):
        planner_client.get(PROFILE)


def test_apis_page_shows_both_sites_side_by_side_with_their_urls(world, planner_client):
    page = html.fromstring(planner_client.get("/manage/events/alpha/settings/apis/").content)

    cards = page.xpath("//section[contains(@class, 'site-card')]")
    assert [card.xpath("string(.//code[@class='api-url'])") for card in cards] == [
        "http://testserver/uat/alpha/api/",
        "http://testserver/alpha/api/",
    ]
    assert [card.xpath("string(.//a[@class='button'])") for card in cards] == ["API profile"] * 2
    assert [card.xpath(".//dt/text()") for card in cards] == [
        ["API access", "Account Level Access", "IP allow-list", "Active tokens"]
    ] * 2
