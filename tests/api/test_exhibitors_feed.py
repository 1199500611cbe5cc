"""exhibitorData.do through HTTP (contract §6, §8, §8.4): the streamed `<exhibitors time>` feed in
§8.4's element order, cancelled exhibitors included, `since`, `event=all`, JSON, pinned query
counts."""

import datetime as dt
import json

import pytest
from django.db import connection

from confero.access.models import ApiCall
from confero.api.feeds import epoch_millis
from confero.customfields.services import create_field
from confero.exhibitors.models import Exhibitor
from tests.api.conftest import EXHIBITOR_FIELDS_FILE, SiteApi, import_test_fields
from tests.conftest import OpenSite
from tests.factories import AccountFactory, EventFactory, open_site

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


def feed_time(result) -> int:
    return int(result.xml.get("time"))


def listed(result) -> list[tuple[str, str]]:
    return [
        (e.findtext("exhibitorCode"), e.findtext("status")) for e in result.xml.findall("exhibitor")
    ]


def add(site: SiteApi, **params) -> Exhibitor:
    result = site.call("addExhibitor", params)
    assert result.code == 0, result.body
    return Exhibitor.objects.get(pk=result.xml.findtext("exhibitorID"))


def set_modified(exhibitor: Exhibitor, moment: dt.datetime) -> None:
    Exhibitor.objects.filter(pk=exhibitor.pk).update(modified_at=moment)


@pytest.fixture
def staff(live):
    return [
        live.add_user(firstName=first, lastName=last, email=f"{first.lower()}@example.org")
        for first, last in (("Ada", "Lovelace"), ("Grace", "Hopper"))
    ]


def test_exhibitor_data_is_a_streamed_feed_in_the_contracts_order(
    live, live_site, exhibitor_fields, staff
):
    ada, grace = staff
    acme = add(
        live,
        exhibitorCode="ACME-1",
        name="Acme & Sons",
        type="Gold sponsor",
        description="Rockets <b>and</b> anvils",
        url="https://acme.example.org/",
        email="booth@acme.example.org",
        booth="H2-114",
        participant=[grace.user_ref, ada.user_ref],
        participantRole=["Sales", "Lead"],
        file=[
            "Logo|image/png|2048|https://cdn.example.org/logo.png|Square",
            "Brochure|application/pdf|48213|https://cdn.example.org/b.pdf",
        ],
        sponsor_level="Platinum",
        sectors=["space", "tools"],
    )

    result = live.call("exhibitorData")

    assert result.status == 200
    assert result.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert (
        result.body
        == DECLARATION
        + (
            f'<exhibitors time="{feed_time(result)}"><response code="0">Success</response>'
            f"<exhibitor><exhibitorID>{acme.pk}</exhibitorID><exhibitorCode>ACME-1</exhibitorCode>"
            "<name>Acme &amp; Sons</name><status>active</status><type>Gold sponsor</type>"
            "<description>Rockets &lt;b&gt;and&lt;/b&gt; anvils</description>"
            "<url>https://acme.example.org/</url><email>booth@acme.example.org</email>"
            "<booth>H2-114</booth>"
            "<exhibitorFile><type>image/png</type><displayName>Logo</displayName>"
            "<description>Square</description><url>https://cdn.example.org/logo.png</url>"
            "</exhibitorFile>"
            "<exhibitorFile><type>application/pdf</type><displayName>Brochure</displayName>"
            "<description/><url>https://cdn.example.org/b.pdf</url></exhibitorFile>"
            '<Sponsor-level other="Platinum">other</Sponsor-level>'
            "<Sectors>space</Sectors><Sectors>tools</Sectors><Hall/><Tag-line/>"
            f"<participant><role>Sales</role><userRef>{grace.user_ref}</userRef>"
            "<firstName>Grace</firstName><lastName>Hopper</lastName>"
            "<participantEmail>grace@example.org</participantEmail></participant>"
            f"<participant><role>Lead</role><userRef>{ada.user_ref}</userRef>"
            "<firstName>Ada</firstName><lastName>Lovelace</lastName>"
            "<participantEmail>ada@example.org</participantEmail></participant>"
            f"<eventGUID>{live_site.event.guid_text}</eventGUID></exhibitor></exhibitors>"
        ).encode()
    )


def test_exhibitor_data_without_fields_files_or_staff_ends_with_the_event_guid(live, live_site):
    acme = add(live, name="Acme")

    result = live.call("exhibitorData")

    assert (
        result.body
        == DECLARATION
        + (
            f'<exhibitors time="{feed_time(result)}"><response code="0">Success</response>'
            f"<exhibitor><exhibitorID>{acme.pk}</exhibitorID><exhibitorCode/><name>Acme</name>"
            "<status>active</status><type/><description/><url/><email/><booth/>"
            f"<eventGUID>{live_site.event.guid_text}</eventGUID></exhibitor></exhibitors>"
        ).encode()
    )


def test_exhibitor_data_of_a_site_without_exhibitors_is_an_empty_feed(live):
    result = live.call("exhibitorData")

    assert (
        result.body
        == DECLARATION
        + (
            f'<exhibitors time="{feed_time(result)}"><response code="0">Success</response>'
            "</exhibitors>"
        ).encode()
    )


def test_exhibitor_data_lists_exhibitors_in_creation_order_cancelled_ones_included(live):
    for code in ("A", "B", "C"):
        add(live, name=code, exhibitorCode=code)
    live.call("updateExhibitor", {"exhibitorCode": "B", "status": "cancelled"})

    result = live.call("exhibitorData")

    assert listed(result) == [("A", "active"), ("B", "cancelled"), ("C", "active")]


def test_exhibitor_data_as_json(live, live_site, staff):
    ada, _ = staff
    acme = add(live, name="Acme", participant=ada.user_ref, file="Map||0|https://x.org/m")

    result = live.call("exhibitorData", {"format": "json"})

    document = json.loads(result.body)["exhibitors"]
    assert document["response"] == {"code": 0, "message": "Success"}
    assert document["exhibitor"] == [
        {
            "exhibitorID": acme.pk,
            "exhibitorCode": None,
            "name": "Acme",
            "status": "active",
            "type": "",
            "description": "",
            "url": "",
            "email": "",
            "booth": "",
            "exhibitorFile": [
                {"type": "", "displayName": "Map", "description": "", "url": "https://x.org/m"}
            ],
            "participant": [
                {
                    "role": "",
                    "userRef": ada.user_ref,
                    "firstName": "Ada",
                    "lastName": "Lovelace",
                    "participantEmail": "ada@example.org",
                }
            ],
            "eventGUID": live_site.event.guid_text,
        }
    ]


def test_exhibitor_data_ignores_custom_field_codes_and_logs_their_names(live, exhibitor_fields):
    """It writes nothing: a parameter it does not declare is ignored (contract §2, issue 16),
    and the call log names it."""
    plain = live.call("exhibitorData")

    result = live.call("exhibitorData", {"hall": "h1"})

    assert (result.status, result.code) == (200, 0)
    assert result.body.split(b">", 2)[2] == plain.body.split(b">", 2)[2]  # but the root's time
    assert ApiCall.objects.order_by("-id").first().ignored_params == "hall"


# --- since (§8) ------------------------------------------------------------------------------


def test_since_with_the_time_of_the_last_feed_returns_only_later_changes(live):
    exhibitors = [add(live, name=code, exhibitorCode=code) for code in ("A", "B", "C", "D")]
    for exhibitor in exhibitors:
        set_modified(exhibitor, LONG_AGO)
    first = live.call("exhibitorData")

    live.call("updateExhibitor", {"exhibitorCode": "B", "booth": "B2"})
    live.call("updateExhibitor", {"exhibitorCode": "D", "status": "cancelled"})
    second = live.call("exhibitorData", {"since": feed_time(first)})

    assert len(first.xml.findall("exhibitor")) == 4
    assert listed(second) == [("B", "active"), ("D", "cancelled")]
    assert second.xml.findtext("exhibitor/booth") == "B2"


def test_since_equal_to_last_modified_includes_the_exhibitor(live):
    acme = add(live, name="Acme")
    stamped = epoch_millis(Exhibitor.objects.get(pk=acme.pk).modified_at)

    at = live.call("exhibitorData", {"since": stamped})
    after = live.call("exhibitorData", {"since": stamped + 1})

    assert (len(at.xml.findall("exhibitor")), len(after.xml.findall("exhibitor"))) == (1, 0)


def test_since_shows_an_exhibitor_whose_staff_member_was_cancelled(live, staff):
    """A cancelled user leaves every booth; the exhibitor moves, so `since` sends the shorter
    list."""
    ada, grace = staff
    acme = add(live, name="Acme", participant=[ada.user_ref, grace.user_ref])
    add(live, name="Other")
    Exhibitor.objects.update(modified_at=LONG_AGO)
    first = live.call("exhibitorData")

    live.call("cancelUser", {"userKey": ada.user_key})
    second = live.call("exhibitorData", {"since": feed_time(first)})

    assert [e.findtext("exhibitorID") for e in second.xml.findall("exhibitor")] == [str(acme.pk)]
    assert [p.findtext("userRef") for p in second.xml.iter("participant")] == [grace.user_ref]


def test_since_not_epoch_milliseconds_is_refused_with_201(live):
    result = live.call("exhibitorData", {"since": "yesterday"})

    assert (result.status, result.body) == (
        400,
        error_xml(201, "parameter 'since' must be epoch milliseconds (a whole number)"),
    )


# --- event=all (§4) --------------------------------------------------------------------------


def door(api, event, environment="production", *, account_level=False) -> SiteApi:
    site, token = open_site(event, environment, account_level=account_level)
    return SiteApi(api, OpenSite(event, site, token, environment))


def test_event_all_lists_the_exhibitors_of_every_event_of_the_account_only(api, db):
    acme, umbrella = AccountFactory(slug="acme"), AccountFactory(slug="umbrella")
    alpha_event, bravo_event = (EventFactory(account=acme, code=c) for c in ("alpha", "bravo"))
    alpha = door(api, alpha_event, account_level=True)
    bravo = door(api, bravo_event)
    xray = door(api, EventFactory(account=umbrella, code="xray"))
    uat = door(api, alpha_event, "uat", account_level=True)
    import_test_fields(alpha.site.site, EXHIBITOR_FIELDS_FILE)
    create_field(bravo.site.site, record_type="exhibitor", code="stand", display_name="Stand",
                 field_type="text")  # fmt: skip
    first = add(alpha, name="Alpha 1", hall="h1")
    second = add(bravo, name="Bravo 1", stand="S-9")
    third = add(alpha, name="Alpha 2")
    add(xray, name="Xray")
    add(uat, name="Alpha (test)")

    result = alpha.call("exhibitorData", {"event": "all"})

    records = result.xml.findall("exhibitor")
    assert [(e.findtext("eventGUID"), e.findtext("exhibitorID")) for e in records] == [
        (alpha_event.guid_text, str(first.pk)),
        (bravo_event.guid_text, str(second.pk)),
        (alpha_event.guid_text, str(third.pk)),
    ]
    # Each record carries its own site's custom fields.
    assert (records[0].findtext("Hall"), records[0].find("Stand")) == ("h1", None)
    assert (records[1].findtext("Stand"), records[1].find("Hall")) == ("S-9", None)


def test_event_all_without_account_level_access_is_refused_with_110(live):
    result = live.call("exhibitorData", {"event": "all"})

    assert (result.status, result.body) == (
        403,
        error_xml(110, "Account Level Access is off: 'event' may only name this event"),
    )


# --- Query counts: no N+1 --------------------------------------------------------------------

# The gate (one query), the token's rate-limit lease, the watermark (3 on SQLite: savepoint,
# clock, release), the custom fields and their values, one chunk of exhibitors, their custom
# values, their files, their staff (the users' names joined in), the call log.
EXHIBITOR_DATA_QUERIES = 12


@pytest.mark.parametrize("count", [1, 3])
def test_exhibitor_data_query_count_does_not_grow_with_exhibitors(
    live, exhibitor_fields, staff, assert_api_queries, count
):
    ada, grace = staff
    for n in range(count):
        add(
            live,
            name=f"E{n}",
            participant=[ada.user_ref, grace.user_ref],
            file=["A|pdf|1|https://x.org/a", "B|pdf|2|https://x.org/b"],
            sectors=["space", "food"],
            hall="h1",
        )

    with assert_api_queries(
        EXHIBITOR_DATA_QUERIES if connection.vendor == "sqlite" else EXHIBITOR_DATA_QUERIES - 2
    ):
        result = live.call("exhibitorData")

    assert [
        (len(e.findall("participant")), len(e.findall("exhibitorFile")), len(e.findall("Sectors")))
        for e in result.xml.findall("exhibitor")
    ] == [(2, 2, 2)] * count


@pytest.mark.parametrize("count", [1, 3])
def test_exhibitor_data_event_all_query_count_does_not_grow_with_exhibitors(
    api, db, assert_api_queries, count
):
    acme = AccountFactory(slug="acme")
    doors = [
        door(api, EventFactory(account=acme, code=code), account_level=True)
        for code in ("alpha", "bravo", "charlie")
    ]
    for index, site in enumerate(doors):
        import_test_fields(site.site.site, EXHIBITOR_FIELDS_FILE)
        user = site.add_user(email=f"staff{index}@example.org")
        for n in range(count):
            add(site, name=f"E{index}-{n}", participant=user.user_ref, hall="h2")

    # One more than a single site: the account's sites are looked up for event=all.
    expected = (
        EXHIBITOR_DATA_QUERIES + 1 if connection.vendor == "sqlite" else EXHIBITOR_DATA_QUERIES - 1
    )
    with assert_api_queries(expected):
        result = doors[0].call("exhibitorData", {"event": "all"})

    assert len(result.xml.findall("exhibitor")) == 3 * count
