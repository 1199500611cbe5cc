"""customFields.do through HTTP (contract §8.6): every custom field of the site with its values,
the built-in "External API Identifier" first; `event=all` across the account's events."""

import pytest

from confero.access.models import ApiCall
from confero.customfields.models import CustomField
from confero.customfields.services import ValueSpec, create_field
from tests.api.conftest import SiteApi
from tests.conftest import OpenSite
from tests.factories import AccountFactory, EventFactory, open_site

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


def builtin_xml(event) -> str:
    return (
        f"<customField><eventGUID>{event.guid_text}</eventGUID><code>clientID</code>"
        "<displayName>External API Identifier</displayName><elementName>externalRef</elementName>"
        "<recordType>user</recordType><type>text</type><builtIn>true</builtIn></customField>"
    )


def value_xml(value) -> str:
    constraint = (
        f"<constraint>{value.constraint}</constraint>" if value.constraint else "<constraint/>"
    )
    return (
        f"<value><id>{value.pk}</id><code>{value.code}</code><label>{value.label}</label>"
        f"<other>{'true' if value.is_other else 'false'}</other>{constraint}</value>"
    )


def field_xml(event, code, display_name, element, record_type, field_type, values=()) -> str:
    return (
        f"<customField><eventGUID>{event.guid_text}</eventGUID><code>{code}</code>"
        f"<displayName>{display_name}</displayName><elementName>{element}</elementName>"
        f"<recordType>{record_type}</recordType><type>{field_type}</type><builtIn>false</builtIn>"
        + "".join(value_xml(value) for value in values)
        + "</customField>"
    )


def ok_xml(*records: str) -> bytes:
    return (
        DECLARATION
        + ('<api><response code="0">Success</response>' + "".join(records) + "</api>").encode()
    )


def door(api, event, environment="production", *, account_level=False) -> SiteApi:
    site, token = open_site(event, environment, account_level=account_level)
    return SiteApi(api, OpenSite(event, site, token, environment))


def test_custom_fields_lists_every_field_with_its_values(live, live_site, fields):
    event = live_site.event

    def values(code):
        return list(fields[code].values.order_by("position"))

    result = live.call("customFields")

    assert (result.status, result.body) == (
        200,
        ok_xml(
            builtin_xml(event),
            field_xml(
                event,
                "type_business",
                "Type of business",
                "Type-of-business",
                "user",
                "choice",
                values("type_business"),
            ),
            field_xml(
                event,
                "dietary",
                "Dietary needs",
                "Dietary-needs",
                "user",
                "multichoice",
                values("dietary"),
            ),
            field_xml(
                event,
                "interests",
                "Interests",
                "Interests",
                "user",
                "multichoice",
                values("interests"),
            ),
            field_xml(
                event, "tshirt", "T-shirt size", "T-shirt-size", "user", "choice", values("tshirt")
            ),
            field_xml(event, "notes", "Notes", "Notes", "user", "text"),
            field_xml(
                event,
                "attendee_type",
                "Attendee type",
                "Attendee-type",
                "profile",
                "choice",
                values("attendee_type"),
            ),
            field_xml(
                event,
                "level",
                "Session level",
                "Session-level",
                "session",
                "choice",
                values("level"),
            ),
        ),
    )
    # The file's values, as the file gave them.
    assert [(v.code, v.label, v.is_other, v.constraint) for v in values("attendee_type")] == [
        ("vip", "VIP", False, "privateViewPrivateSchedule"),
        ("member", "Member", False, "publicViewPrivateSchedule"),
        ("press", "Press", False, "cannotViewOrSchedule"),
    ]
    assert [(v.code, v.is_other) for v in values("type_business")] == [
        ("govt", False),
        ("education", False),
        ("other", True),
    ]


def test_custom_fields_of_a_site_without_fields_is_the_built_in_field(live, live_site):
    result = live.call("customFields")

    assert (result.status, result.body) == (200, ok_xml(builtin_xml(live_site.event)))


def test_custom_fields_ids_are_the_ids_write_calls_answer_with(live, fields):
    """The `id` of a constraint value here is the `id` addUser.do answers with (rule 4)."""
    listed = {
        (field.findtext("code"), value.findtext("code")): value.findtext("id")
        for field in live.call("customFields").xml.findall("customField")
        for value in field.findall("value")
    }

    added = live.call(
        "addUser",
        {"firstName": "A", "lastName": "B", "email": "a@example.org", "attendee_type": "press"},
    )

    assert added.xml.find("customValue").get("id") == listed[("attendee_type", "press")]


def test_custom_fields_of_uat_and_production_are_separate(api, live, live_site, fields):
    uat = door(api, live_site.event, "uat")
    create_field(
        uat.site.site,
        record_type="user",
        code="uat_only",
        display_name="UAT only",
        field_type="choice",
        values=[ValueSpec("yes", "Yes")],
    )

    production = live.call("customFields")
    test = uat.call("customFields")

    assert [f.findtext("code") for f in production.xml.findall("customField")] == [
        "clientID",
        "type_business",
        "dietary",
        "interests",
        "tshirt",
        "notes",
        "attendee_type",
        "level",
    ]
    yes = CustomField.objects.get(code="uat_only").values.get()
    assert (test.status, test.body) == (
        200,
        ok_xml(
            builtin_xml(live_site.event),
            field_xml(live_site.event, "uat_only", "UAT only", "UAT-only", "user", "choice", [yes]),
        ),
    )


def test_custom_fields_event_all_lists_the_fields_of_every_event_of_the_account(api, db):
    acme, umbrella = AccountFactory(slug="acme"), AccountFactory(slug="umbrella")
    alpha = door(api, EventFactory(account=acme, code="alpha"), account_level=True)
    bravo = door(api, EventFactory(account=acme, code="bravo"))
    xray = door(api, EventFactory(account=umbrella, code="xray"))
    for site, code in ((alpha, "a_field"), (bravo, "b_field"), (xray, "x_field")):
        create_field(
            site.site.site,
            record_type="user",
            code=code,
            display_name=code.upper(),
            field_type="text",
        )
    create_field(
        door(api, alpha.site.event, "uat").site.site,
        record_type="user",
        code="uat_field",
        display_name="UAT",
        field_type="text",
    )

    result = alpha.call("customFields", {"event": "all"})

    a, b = alpha.site.event, bravo.site.event
    assert (result.status, result.body) == (
        200,
        ok_xml(
            builtin_xml(a),
            builtin_xml(b),
            field_xml(a, "a_field", "A_FIELD", "A-FIELD", "user", "text"),
            field_xml(b, "b_field", "B_FIELD", "B-FIELD", "user", "text"),
        ),
    )


def test_custom_fields_event_all_without_account_level_access_is_refused_with_110(live):
    result = live.call("customFields", {"event": "all"})

    assert (result.status, result.body) == (
        403,
        error_xml(110, "Account Level Access is off: 'event' may only name this event"),
    )


def test_custom_fields_ignores_parameters_it_does_not_declare(live, fields):
    """It writes nothing: a field code sent to it is ignored (contract §2), and named in the
    call log."""
    plain = live.call("customFields")

    result = live.call("customFields", {"type_business": "govt"})

    assert (result.status, result.body) == (200, plain.body)
    assert ApiCall.objects.order_by("-id").first().ignored_params == "type_business"


# --- Query counts: no N+1 --------------------------------------------------------------------

# The gate (site, profile, failed-auth counter, token), token counter, fields, their values,
# the call log.
CUSTOM_FIELDS_QUERIES = 5


@pytest.mark.parametrize("count", [1, 3])
def test_custom_fields_query_count_does_not_grow_with_fields(
    live, live_site, assert_api_queries, count
):
    for n in range(count):
        create_field(
            live_site.site,
            record_type="user",
            code=f"f{n}",
            display_name=f"Field {n}",
            field_type="choice",
            values=[ValueSpec("a", "A"), ValueSpec("b", "B")],
        )

    with assert_api_queries(CUSTOM_FIELDS_QUERIES):
        result = live.call("customFields")

    assert len(result.xml.findall("customField")) == 1 + count
    assert len(result.xml.findall("customField/value")) == 2 * count


@pytest.mark.parametrize("count", [1, 3])
def test_custom_fields_event_all_query_count_does_not_grow_with_fields(
    api, db, assert_api_queries, count
):
    acme = AccountFactory(slug="acme")
    doors = [
        door(api, EventFactory(account=acme, code=code), account_level=True)
        for code in ("alpha", "bravo", "charlie")
    ]
    for site in doors:
        for n in range(count):
            create_field(
                site.site.site,
                record_type="user",
                code=f"f{n}",
                display_name=f"Field {n}",
                field_type="choice",
                values=[ValueSpec("a", "A")],
            )

    with assert_api_queries(CUSTOM_FIELDS_QUERIES + 1):  # + the account's sites for event=all
        result = doors[0].call("customFields", {"event": "all"})

    assert len(result.xml.findall("customField")) == 3 * (1 + count)


def test_custom_fields_lists_the_fields_of_exhibitors(live, live_site, exhibitor_fields):
    event = live_site.event

    def values(code):
        return list(exhibitor_fields[code].values.order_by("position"))

    result = live.call("customFields")

    assert (result.status, result.body) == (
        200,
        ok_xml(
            builtin_xml(event),
            field_xml(
                event,
                "sponsor_level",
                "Sponsor level",
                "Sponsor-level",
                "exhibitor",
                "choice",
                values("sponsor_level"),
            ),
            field_xml(
                event,
                "sectors",
                "Sectors",
                "Sectors",
                "exhibitor",
                "multichoice",
                values("sectors"),
            ),
            field_xml(event, "hall", "Hall", "Hall", "exhibitor", "choice", values("hall")),
            field_xml(event, "tagline", "Tag line", "Tag-line", "exhibitor", "text"),
        ),
    )
