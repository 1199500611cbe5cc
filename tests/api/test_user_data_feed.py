"""userData.do through HTTP (contract §6, §8, §8.2): the streamed `<user-data time>` feed, `since`,
changes made while a feed streams, `event=all`, no userKey anywhere, and pinned query counts."""

import datetime as dt
import json
import time

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.utils import timezone
from lxml import etree

from confero.access.models import ApiCall
from confero.api import feeds
from confero.api.feeds import epoch_millis
from confero.customfields.services import ValueSpec, add_value, create_field
from confero.people.models import User
from tests.api.conftest import SiteApi, import_test_fields
from tests.conftest import OpenSite
from tests.factories import AccountFactory, EventFactory, open_site

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


def ms(moment: dt.datetime) -> int:
    return epoch_millis(moment)


def refs(result) -> list[str]:
    return [user.findtext("userRef") for user in result.xml.findall("user")]


def feed_time(result) -> int:
    return int(result.xml.get("time"))


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def set_modified(user: User, moment: dt.datetime) -> None:
    User.objects.filter(pk=user.pk).update(modified_at=moment)


def bulk_users(site, count: int, *, start: int = 0) -> list[User]:
    """`count` users created straight in the database, last modified long ago."""
    User.objects.bulk_create(
        User(
            site=site,
            first_name=f"User{n}",
            last_name="Bulk",
            email=f"bulk{n}@example.org",
            created_at=LONG_AGO,
            modified_at=LONG_AGO,
        )
        for n in range(start, start + count)
    )
    return list(User.objects.filter(site=site).order_by("pk"))


# --- The document ------------------------------------------------------------------------------


def test_user_data_is_a_streamed_feed_of_every_user_record(live, live_site):
    user = live.add_user(
        firstName="Ada",
        lastName="Lovelace",
        email="ada@example.org",
        clientID="CRM-1",
        registered="true",
        paid="true",
        badgeID="B-7",
        publicBio="Poet of science.",
        middleInitial="A",
        screenName="ada",
        **{"report-classification": "speaker"},
    )
    user.refresh_from_db()
    before = int(time.time() * 1000)

    result = live.call("userData")

    after = int(time.time() * 1000)
    assert result.status == 200
    assert result.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert before - 1000 <= feed_time(result) <= after + 1000
    assert (
        result.body
        == DECLARATION
        + (
            f'<user-data time="{feed_time(result)}"><response code="0">Success</response>'
            f"<user><eventGUID>{live_site.event.guid_text}</eventGUID><userRef>{user.user_ref}</userRef>"
            "<firstName>Ada</firstName><lastName>Lovelace</lastName><email>ada@example.org</email>"
            "<companyName/><jobTitle/><address1/><address2/><address3/><city/><stateID/><foreignState/>"
            "<zip/><countryID/><phoneNumber/><phone2Number/><middleInitial>A</middleInitial>"
            "<preferredName/><email2/><faxNumber/><externalRef>CRM-1</externalRef>"
            "<publicBio>Poet of science.</publicBio><registered>true</registered><paid>true</paid>"
            f"<status>active</status><create-date>{stamp(user.created_at)}</create-date>"
            f"<last-modified-date>{stamp(user.modified_at)}</last-modified-date><badgeID>B-7</badgeID>"
            "<publicViewPrivateSchedule/><privateViewPrivateSchedule/><cannotViewOrSchedule/>"
            "<screenName>ada</screenName><report-classification>speaker</report-classification>"
            "<regcodes/><schedule/></user></user-data>"
        ).encode()
    )
    call = ApiCall.objects.order_by("-id").first()
    assert (call.resource, call.code, call.http_status, call.site_id) == (
        "userData",
        0,
        200,
        live_site.site.pk,
    )


def test_user_data_of_a_site_without_users_is_an_empty_feed(live):
    result = live.call("userData")

    assert (
        result.body
        == DECLARATION
        + (
            f'<user-data time="{feed_time(result)}">'
            '<response code="0">Success</response></user-data>'
        ).encode()
    )


def test_user_data_lists_users_in_creation_order_cancelled_ones_included(live):
    ada = live.add_user(email="ada@example.org")
    grace = live.add_user(email="grace@example.org")
    alan = live.add_user(email="alan@example.org")
    live.call("cancelUser", {"userKey": grace.user_key})

    result = live.call("userData")

    assert [(u.findtext("userRef"), u.findtext("status")) for u in result.xml.findall("user")] == [
        (ada.user_ref, "active"),
        (grace.user_ref, "cancelled"),
        (alan.user_ref, "active"),
    ]


def test_user_data_as_json_has_the_same_users(live):
    ada = live.add_user(email="ada@example.org", clientID="CRM-1")
    grace = live.add_user(email="grace@example.org")

    result = live.call("userData", {"format": "json"})

    document = json.loads(result.body)["user-data"]
    assert result.headers["Content-Type"] == "application/json; charset=utf-8"
    assert document["response"] == {"code": 0, "message": "Success"}
    assert [(u["userRef"], u["externalRef"]) for u in document["user"]] == [
        (ada.user_ref, "CRM-1"),
        (grace.user_ref, None),
    ]


def test_user_data_ignores_what_real_clients_send_besides_and_logs_the_names(
    live, live_site, fields
):
    """Contract §2: a real client of the original sends `sn`, `cn`, `locale`, `caller` and `num`
    on every feed call, in a form body declared `text/xml`. userData.do writes nothing: it
    ignores them (a custom field code too) and its call-log row names them, never their
    values."""
    user = live.add_user(email="ada@example.org")
    body = (
        f"apiToken={live_site.token}&sn=Confero&cn=CRM%20Sync&locale=en_US&caller=nightly"
        "&num=1000&type_business=govt"
    )

    result = live.api.call(live_site.url("userData"), body=body.encode(), content_type="text/xml")

    assert (result.status, result.code, refs(result)) == (200, 0, [user.user_ref])
    row = ApiCall.objects.order_by("-id").values().first()
    assert (row["resource"], row["code"], row["ignored_params"]) == (
        "userData",
        0,
        "sn, cn, locale, caller, num, type_business",
    )
    for value in ("Confero", "CRM Sync", "en_US", "nightly", "1000", "govt"):
        assert value not in repr(row)


# --- userKey never appears in a feed (§5) ---------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"format": "json"}, {"since": "0"}, {"event": "all"}])
def test_user_data_never_contains_a_user_key(live, live_site, fields, params):
    open_site(live_site.event, account_level=True)
    users = [
        live.add_user(email=f"u{n}@example.org", clientID=f"CRM-{n}", type_business="govt")
        for n in range(3)
    ]
    live.call("cancelUser", {"userKey": users[1].user_key})

    result = live.call("userData", params)

    assert (result.status, result.code if "format" not in params else 0) == (200, 0)
    assert b"userKey" not in result.body
    for user in users:
        assert user.user_ref.encode() in result.body
        assert user.user_key.encode() not in result.body
        assert user.user_key.lower().encode() not in result.body


# --- since (§8): at or after, cancelled included, nothing missed -------------------------------


def test_since_leaves_out_users_last_modified_before_it(live):
    old = live.add_user(email="old@example.org")
    new = live.add_user(email="new@example.org")
    set_modified(old, dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    set_modified(new, dt.datetime(2024, 6, 1, tzinfo=dt.UTC))

    result = live.call("userData", {"since": ms(dt.datetime(2024, 3, 1, tzinfo=dt.UTC))})

    assert refs(result) == [new.user_ref]


def test_since_equal_to_last_modified_includes_the_user(live):
    """Inclusive to the millisecond, with the timestamp as the database clock wrote it."""
    user = live.add_user()
    user.refresh_from_db()
    stamped = ms(user.modified_at)

    at = live.call("userData", {"since": stamped})
    after = live.call("userData", {"since": stamped + 1})

    assert (refs(at), refs(after)) == ([user.user_ref], [])


def test_since_includes_users_cancelled_after_it(live):
    user = live.add_user()
    set_modified(user, LONG_AGO)
    since = ms(timezone.now()) - 1000

    live.call("cancelUser", {"userKey": user.user_key})
    result = live.call("userData", {"since": since})

    assert [(u.findtext("userRef"), u.findtext("status")) for u in result.xml.findall("user")] == [
        (user.user_ref, "cancelled")
    ]


def test_since_includes_users_whose_custom_values_changed(live, fields):
    user = live.add_user(tshirt="s")
    other = live.add_user(email="other@example.org")
    set_modified(user, LONG_AGO)
    set_modified(other, LONG_AGO)
    first = live.call("userData")

    live.call("updateUser", {"userKey": user.user_key, "tshirt": "l"})
    second = live.call("userData", {"since": feed_time(first)})

    assert refs(second) == [user.user_ref]
    assert second.xml.findtext("user/T-shirt-size") == "l"


def test_since_gives_each_user_its_own_values_when_users_between_are_left_out(live, fields):
    """The feed reads the values of a chunk's id range at once (ids are dense): the values of a
    user left out by `since`, between two users in the feed, must go to neither."""
    first, between, last = (
        live.add_user(email=f"u{n}@example.org", tshirt=size, notes=f"note {n}")
        for n, size in ((1, "s"), (2, "m"), (3, "l"))
    )
    set_modified(first, dt.datetime(2024, 6, 1, tzinfo=dt.UTC))
    set_modified(between, dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    set_modified(last, dt.datetime(2024, 6, 1, tzinfo=dt.UTC))

    result = live.call("userData", {"since": ms(dt.datetime(2024, 3, 1, tzinfo=dt.UTC))})

    assert [
        (u.findtext("userRef"), u.findtext("T-shirt-size"), u.findtext("Notes"))
        for u in result.xml.findall("user")
    ] == [(first.user_ref, "s", "note 1"), (last.user_ref, "l", "note 3")]


def test_since_with_the_time_of_the_last_feed_returns_only_later_changes(live):
    users = [live.add_user(email=f"u{n}@example.org") for n in range(3)]
    for user in users:
        set_modified(user, LONG_AGO)
    first = live.call("userData")

    live.call("updateUser", {"userKey": users[2].user_key, "city": "Paris"})
    second = live.call("userData", {"since": feed_time(first)})

    assert refs(first) == [user.user_ref for user in users]
    assert refs(second) == [users[2].user_ref]
    assert second.xml.findtext("user/city") == "Paris"


@pytest.mark.parametrize("since", ["yesterday", "-5", "1.5", "1" * 16, "\u0661\u0662\u0663"])
def test_since_not_epoch_milliseconds_is_refused_with_201(live, since):
    result = live.call("userData", {"since": since})

    assert (result.status, result.body) == (
        400,
        error_xml(201, "parameter 'since' must be epoch milliseconds (a whole number)"),
    )


@pytest.mark.parametrize("since", ["253402300800000", "999999999999999"])
def test_since_after_the_year_9999_is_refused_with_201(live, since):
    """A datetime ends with the year 9999: a later `since` once overflowed into a 500."""
    live.add_user()

    result = live.call("userData", {"since": since})

    assert (result.status, result.body) == (
        400,
        error_xml(
            201,
            "parameter 'since' must be epoch milliseconds no later than 253402300799999 "
            "(the end of the year 9999)",
        ),
    )
    assert ApiCall.objects.filter(resource="userData").values_list("code", flat=True)[0] == 201


def test_since_at_the_end_of_the_year_9999_is_an_empty_feed(live):
    live.add_user()

    result = live.call("userData", {"since": "253402300799999"})

    assert (result.status, result.code, refs(result)) == (200, 0, [])


# --- A change made while a feed streams shows up in the next call --------------------------------


def open_feed(client, site) -> StreamingHttpResponse:
    """userData.do as the test client returns it: not read yet. Read it to its end and do not
    close() it: the test client closes it when the content is exhausted, with Django's
    close_old_connections unhooked; close() would run that hook, which drops the connection of
    the test's transaction on PostgreSQL."""
    response = client.post(
        site.url("userData"),
        f"apiToken={site.token}",
        content_type="application/x-www-form-urlencoded",
        REMOTE_ADDR="127.0.0.1",
    )
    assert isinstance(response, StreamingHttpResponse)
    return response


def test_change_made_while_a_feed_streams_is_in_the_next_feed_since_its_time(
    client, live, live_site
):
    """More users than one database chunk: the feed has sent the first records before it reads
    the last one. Changes made then, to a record already sent and to one not read yet, are both
    in the next call with `since` = the first feed's `time`; untouched records are not."""
    users = bulk_users(live_site.site, feeds.CHUNK + 1)
    sent, unread, untouched = users[0], users[-1], users[1]

    response = open_feed(client, live_site)
    stream = iter(response.streaming_content)
    head = next(stream)
    assert sent.user_ref.encode() in head
    assert unread.user_ref.encode() not in head
    assert live.call("updateUser", {"userKey": sent.user_key, "city": "Changed"}).code == 0
    assert live.call("updateUser", {"userKey": unread.user_key, "city": "Changed"}).code == 0
    assert live.call("cancelUser", {"userKey": untouched.user_key}).code == 0
    body = head + b"".join(stream)

    first = etree.fromstring(body)
    cities = {u.findtext("userRef"): u.findtext("city") for u in first.findall("user")}
    assert len(cities) == feeds.CHUNK + 1
    assert (cities[sent.user_ref], cities[unread.user_ref]) == ("", "Changed")  # sent before
    second = live.call("userData", {"since": first.get("time")})
    assert [
        (u.findtext("userRef"), u.findtext("city"), u.findtext("status"))
        for u in second.xml.findall("user")
    ] == [
        (sent.user_ref, "Changed", "active"),
        (untouched.user_ref, "", "cancelled"),
        (unread.user_ref, "Changed", "active"),
    ]
    assert ApiCall.objects.filter(resource="userData", code=0).count() == 2


def test_a_value_defined_while_a_feed_streams_is_in_the_next_feed(client, live, live_site, fields):
    """The feed reads the site's custom fields once, at its start. A value a planner adds while
    it streams, set on a user the feed has not read yet, is not in those definitions: the feed
    goes on (it broke off) and shows the field empty; the user's last-modified moved, so the
    next feed with `since` shows the value."""
    users = bulk_users(live_site.site, feeds.CHUNK + 1)
    unread = users[-1]

    response = open_feed(client, live_site)
    stream = iter(response.streaming_content)
    head = next(stream)
    add_value(fields["tshirt"], ValueSpec("xl", "XL"))
    assert live.call("updateUser", {"userKey": unread.user_key, "tshirt": "xl"}).code == 0
    first = etree.fromstring(head + b"".join(stream))

    assert len(first.findall("user")) == feeds.CHUNK + 1
    last = first.findall("user")[-1]
    assert (last.findtext("userRef"), last.find("T-shirt-size").text) == (unread.user_ref, None)
    second = live.call("userData", {"since": first.get("time")})
    assert [
        (u.findtext("userRef"), u.findtext("T-shirt-size")) for u in second.xml.findall("user")
    ] == [(unread.user_ref, "xl")]


def test_a_character_xml_cannot_carry_stored_outside_the_api_does_not_break_the_feed(live, caplog):
    """The API refuses such characters (201), the database does not: a value stored another way
    (a script, the database shell) is sent with U+FFFD in their place, and logged, instead of
    ending the feed at that record for every record after it."""
    broken, after = (live.add_user(email=f"u{n}@example.org") for n in (1, 2))
    User.objects.filter(pk=broken.pk).update(first_name="A\x0bB\x0c", city="Bad\x1f")

    feed = live.call("userData")
    got = live.call("getUser", {"userRef": broken.user_ref})

    assert (feed.status, feed.code, refs(feed)) == (200, 0, [broken.user_ref, after.user_ref])
    record = feed.xml.find("user")
    assert (record.findtext("firstName"), record.findtext("city")) == (
        "A\ufffdB\ufffd",
        "Bad\ufffd",
    )
    assert etree.tostring(got.xml.find("user")) == etree.tostring(record)
    assert f"user {broken.user_ref} holds a character XML cannot carry" in caplog.text


def test_feed_time_is_taken_before_the_first_record_is_read(client, live, live_site):
    """A change committed before the feed starts may be repeated by the next call; one made
    after its first bytes never falls before its `time`."""
    [user] = bulk_users(live_site.site, 1)

    response = open_feed(client, live_site)
    stream = iter(response.streaming_content)
    head = next(stream)
    live.call("updateUser", {"userKey": user.user_key, "city": "Later"})
    b"".join(stream)

    feed_started = int(head.split(b'time="')[1].split(b'"')[0])
    assert ms(User.objects.get(pk=user.pk).modified_at) >= feed_started


# --- event=all (§4): every event of the account, same environment, nothing else ---------------


def door(api, event, environment="production", *, account_level=False) -> SiteApi:
    site, token = open_site(event, environment, account_level=account_level)
    return SiteApi(api, OpenSite(event, site, token, environment))


def test_event_all_lists_the_users_of_every_event_of_the_account_only(api, db):
    acme, umbrella = AccountFactory(slug="acme"), AccountFactory(slug="umbrella")
    events = [EventFactory(account=acme, code=code) for code in ("alpha", "bravo", "charlie")]
    xray = EventFactory(account=umbrella, code="xray")
    sites = {event.code: door(api, event, account_level=True) for event in [*events, xray]}
    import_test_fields(sites["alpha"].site.site)
    create_field(
        sites["bravo"].site.site,
        record_type="user",
        code="room",
        display_name="Hotel room",
        field_type="text",
    )
    uat = door(api, events[0], "uat", account_level=True)

    alpha = sites["alpha"].add_user(email="a@example.org", tshirt="m")
    bravo = sites["bravo"].add_user(email="b@example.org", room="101")
    charlie = sites["charlie"].add_user(email="c@example.org")
    alpha_2 = sites["alpha"].add_user(email="a2@example.org")
    sites["xray"].add_user(email="x@example.org")
    uat.add_user(email="u@example.org")

    result = sites["alpha"].call("userData", {"event": "all"})

    records = result.xml.findall("user")
    assert [(u.findtext("eventGUID"), u.findtext("userRef")) for u in records] == [
        (events[0].guid_text, alpha.user_ref),
        (events[1].guid_text, bravo.user_ref),
        (events[2].guid_text, charlie.user_ref),
        (events[0].guid_text, alpha_2.user_ref),
    ]
    # Each record carries its own site's custom fields.
    assert (records[0].findtext("T-shirt-size"), records[0].find("Hotel-room")) == ("m", None)
    assert (records[1].findtext("Hotel-room"), records[1].find("T-shirt-size")) == ("101", None)
    assert [child.tag for child in records[2]][-1:] == ["schedule"]
    assert ApiCall.objects.order_by("-id").first().event_param == "all"


def test_event_all_with_since(api, db):
    acme = AccountFactory(slug="acme")
    alpha = door(api, EventFactory(account=acme, code="alpha"), account_level=True)
    bravo = door(api, EventFactory(account=acme, code="bravo"))
    old = alpha.add_user(email="old@example.org")
    set_modified(old, LONG_AGO)
    new = bravo.add_user(email="new@example.org")

    result = alpha.call("userData", {"event": "all", "since": ms(LONG_AGO) + 1})

    assert refs(result) == [new.user_ref]


# --- Query counts: no N+1 --------------------------------------------------------------------


# The gate (site, profile, token), token counter, the watermark (3 on SQLite: savepoint, clock,
# release), custom fields, their values, one chunk of users, their custom values, their
# registration codes, their schedules, the call log.
USER_DATA_QUERIES = 12


@pytest.mark.parametrize("count", [1, 3])
def test_user_data_query_count_does_not_grow_with_users(live, fields, assert_api_queries, count):
    for n in range(count):
        live.add_user(
            email=f"u{n}@example.org",
            type_business="govt",
            dietary=["veg", "gf"],
            notes="text",
            attendee_type="vip",
        )

    with assert_api_queries(
        USER_DATA_QUERIES if connection.vendor == "sqlite" else USER_DATA_QUERIES - 2
    ):
        result = live.call("userData")

    assert len(result.xml.findall("user")) == count
    assert [len(user.findall("Dietary-needs")) for user in result.xml.findall("user")] == [
        2
    ] * count


@pytest.mark.parametrize("count", [1, 3])
def test_user_data_event_all_query_count_does_not_grow_with_users(
    api, db, assert_api_queries, count
):
    acme = AccountFactory(slug="acme")
    doors = [
        door(api, EventFactory(account=acme, code=code), account_level=True)
        for code in ("alpha", "bravo", "charlie")
    ]
    for index, site in enumerate(doors):
        import_test_fields(site.site.site)
        for n in range(count):
            site.add_user(email=f"u{index}-{n}@example.org", type_business="govt", tshirt="s")

    # One more than a single site: the account's sites are looked up for event=all.
    expected = USER_DATA_QUERIES + 1 if connection.vendor == "sqlite" else USER_DATA_QUERIES - 1
    with assert_api_queries(expected):
        result = doors[0].call("userData", {"event": "all"})

    assert len(result.xml.findall("user")) == 3 * count
