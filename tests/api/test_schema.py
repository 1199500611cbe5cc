"""The XML Schemas of the responses (contract §6, issue 3: "every response validates against an XML
Schema shipped in docs/schema/").

src/confero/api/schema/ROOT.xsd is the source of truth (served at /docs/schema/ROOT.xsd);
docs/schema/ is its copy. Every XML response a test receives through the `api` fixture is
validated automatically (tests/conftest.py, `ApiResult.check_schema`); the tests here prove that
real responses of each resource validate, that the schemas refuse the regressions they exist to
catch, and that the schemas cannot drift from the code table and the reserved element names.
"""

import datetime as dt
import functools
from pathlib import Path
from types import SimpleNamespace

import pytest
from lxml import etree

from confero.api.codes import CODES
from confero.api.registry import REGISTRY, Resource
from confero.api.render import Document, E, Feed
from confero.api.views import SCHEMA_DIR
from confero.customfields.models import RecordType
from confero.customfields.services import (
    RESERVED_ELEMENTS,
    RESERVED_ROOTS,
    ValueSpec,
    create_field,
)
from confero.people.models import User
from tests.factories import EventFactory, open_site

XS = "{http://www.w3.org/2001/XMLSchema}"
DOCS_SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "schema"
RESPONSE_SCHEMAS = (
    *("api", "user-data", "exhibitors", "messages", "order-data"),
    *("session-data", "sessionCapacities", "speakers"),
)
# Included by the response schemas; the record files declare what a record's wildcard meets.
INCLUDED_SCHEMAS = ("common", "user-record", "exhibitor-record", "session-record")
CONSTRAINTS = ("publicViewPrivateSchedule", "privateViewPrivateSchedule", "cannotViewOrSchedule")


@functools.cache
def schema(root: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / f"{root}.xsd")))


def schema_errors(document: bytes | str) -> list[str]:
    """The validation errors of a document against the schema of its root element."""
    if isinstance(document, str):
        document = document.encode("utf-8")
    root = etree.fromstring(document)
    checker = schema(root.tag)
    if checker.validate(root):
        return []
    return [f"{error.path}: {error.message}" for error in checker.error_log]


def assert_valid(result) -> etree._Element:
    """Validates explicitly (the `api` fixture does too) and returns the parsed body."""
    assert result.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert schema_errors(result.body) == []
    return result.xml


# --- The schema files ------------------------------------------------------------------------


def test_every_schema_compiles_as_xml_schema_1_0():
    names = sorted(path.name for path in SCHEMA_DIR.glob("*.xsd"))
    assert names == sorted(f"{name}.xsd" for name in (*RESPONSE_SCHEMAS, *INCLUDED_SCHEMAS))
    for root in RESPONSE_SCHEMAS:
        tree = etree.parse(str(SCHEMA_DIR / f"{root}.xsd"))
        assert [e.get("name") for e in tree.getroot().iterchildren(f"{XS}element")] == [root]
        schema(root)  # raises XMLSchemaParseError (libxml2 checks determinism, i.e. UPA)


def test_docs_schema_is_a_copy_of_the_schemas_the_server_serves():
    served = {path.name: path.read_bytes() for path in SCHEMA_DIR.glob("*.xsd")}
    shipped = {path.name: path.read_bytes() for path in DOCS_SCHEMA_DIR.glob("*.xsd")}
    assert shipped == served, "docs/schema/ is stale: run `confero docs`"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", sorted(f"{name}.xsd" for name in (*RESPONSE_SCHEMAS, *INCLUDED_SCHEMAS))
)
def test_schemas_are_served_under_docs_schema(client, name):
    response = client.get(f"/docs/schema/{name}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert b"".join(response.streaming_content) == (SCHEMA_DIR / name).read_bytes()


def test_the_response_code_enumeration_is_the_code_table():
    common = etree.parse(str(SCHEMA_DIR / "common.xsd"))
    values = common.xpath(
        "//xs:simpleType[@name='ResponseCode']//xs:enumeration/@value", namespaces={"xs": XS[1:-1]}
    )
    assert [int(value) for value in values] == sorted(CODES)


def test_the_names_refused_after_the_fixed_user_elements_are_the_reserved_element_names():
    import confero.api.resources.users  # noqa: F401 - registers the user resources' reserved names

    record = etree.parse(str(SCHEMA_DIR / "user-record.xsd"))
    refused = record.xpath(
        "/xs:schema/xs:element[@type='MisplacedStandardElement']/@name", namespaces={"xs": XS[1:-1]}
    )
    assert len(refused) == len(set(refused))
    # Root names are reserved so that no custom element looks like a document; they are not
    # elements of a user record, so the schema has no reason to list them.
    # The constraint elements are fixed elements now (always there, §8.2): out of place after
    # the custom fields they are refused like every other standard element.
    assert set(refused) == RESERVED_ELEMENTS[RecordType.USER] - {"schedule"} - RESERVED_ROOTS


# --- Real responses of each resource validate ------------------------------------------------


@pytest.fixture
def site(db, live_site):
    """The live site with Account Level Access, a second event of the same account (with dates)
    and custom fields of every kind: text, choice with Other, multichoice, and profile fields
    whose values carry each constraint."""
    site, token = open_site(live_site.event, account_level=True, label="schema")
    live_site.token = token
    EventFactory(
        account=live_site.event.account,
        start_date=dt.date(2026, 11, 24),
        end_date=dt.date(2026, 11, 26),
        time_zone="America/Argentina/Buenos_Aires",
    )
    create_field(site, record_type="user", code="notes", display_name="Notes", field_type="text")
    create_field(
        site,
        record_type="user",
        code="type_business",
        display_name="Type of business",
        field_type="choice",
        values=[
            ValueSpec("govt", "Government"),
            ValueSpec("other", "Other: please specify", other=True),
        ],
    )
    create_field(
        site,
        record_type="user",
        code="dietary",
        display_name="Dietary needs",
        field_type="multichoice",
        values=[ValueSpec("veg"), ValueSpec("gf", "Gluten-free")],
    )
    create_field(
        site, record_type="user", code="size", display_name="Größe (EU)", field_type="text"
    )
    create_field(
        site,
        record_type="profile",
        code="attendee_type",
        display_name="Attendee type",
        field_type="choice",
        values=[
            ValueSpec("vip", "VIP", constraint="privateViewPrivateSchedule"),
            ValueSpec("member", "Member", constraint="publicViewPrivateSchedule"),
            ValueSpec("press", "Press", constraint="cannotViewOrSchedule"),
        ],
    )
    create_field(
        site,
        record_type="profile",
        code="groups",
        display_name="Groups",
        field_type="multichoice",
        values=[
            ValueSpec("a", "A", constraint="cannotViewOrSchedule"),
            ValueSpec("b", "B", constraint="publicViewPrivateSchedule"),
            ValueSpec("c", "C"),
        ],
    )
    return live_site


@pytest.fixture
def call(api, site):
    def call(resource, params=None, **kwargs):
        return api.call(site.url(resource), {"apiToken": site.token, **(params or {})}, **kwargs)

    return call


FULL_CUSTOM = {
    "notes": "line 1\nline 2 <&>",
    "type_business": "an NGO",
    "dietary": ["veg", "gf"],
    "size": "42",
    "attendee_type": "vip",
    "groups": ["a", "b", "c"],
}


def add(call, n: int, **params) -> etree._Element:
    result = call(
        "addUser",
        {"firstName": "Ada", "lastName": f"Lovelace {n}", "email": f"ada{n}@example.org", **params},
    )
    assert result.code == 0, result.body
    return assert_valid(result)


def test_event_do_validates(call, site):
    xml = assert_valid(call("event"))

    events = xml.findall("event")
    assert len(events) == 2
    assert sorted(e.findtext("startDate") or "" for e in events) == ["", "2026-11-24"]


def test_add_user_validates_with_custom_values_of_every_kind(call):
    xml = add(call, 1, clientID="CRM-1", **FULL_CUSTOM)

    reports = [dict(e.attrib) for e in xml.findall("customValue")]
    assert {"field": "type_business", "code": "other", "other": "an NGO"} in reports
    assert all(
        "id" in r for r in reports if r["field"] in ("attendee_type", "groups") and r["code"] != "c"
    )
    assert add(call, 2).findtext("clientID") == ""


def test_update_user_validates(call):
    user_key = add(call, 1, clientID="CRM-1").findtext("userKey")

    xml = assert_valid(
        call(
            "updateUser",
            {
                "userKey": user_key,
                "notes": "new",
                "dietary": ["gf"],
                "attendee_type": "press",
                "type_business": "a club",
                "registered": "true",
                "newClientID": "CRM-2",
            },
        )
    )
    assert xml.find("userKey") is None
    assert len(xml.findall("customValue")) == 4
    assert_valid(call("updateUser", {"clientID": "CRM-2", "newClientID": "", "email2": ""}))


def test_update_user_clearing_a_custom_field_validates(call):
    user_key = add(call, 1, notes="old", dietary="veg").findtext("userKey")

    xml = assert_valid(call("updateUser", {"userKey": user_key, "notes": "", "dietary": ""}))
    assert [dict(e.attrib) for e in xml.findall("customValue")] == [
        {"field": "notes", "code": ""},
        {"field": "dietary", "code": ""},
    ]


@pytest.mark.parametrize("by", ["userRef", "userKey", "clientID"])
def test_get_user_validates_by_each_identifier(call, by):
    added = add(call, 1, clientID="CRM-1", **FULL_CUSTOM)
    value = "CRM-1" if by == "clientID" else added.findtext(by)

    user = assert_valid(call("getUser", {by: value})).find("user")

    assert (user.find("userKey") is None) == (by == "userRef")
    assert_user_record_ends_with_one_schedule(user)


def test_cancel_user_validates(call):
    user_key = add(call, 1).findtext("userKey")

    assert assert_valid(call("cancelUser", {"userKey": user_key})).findtext("status") == "cancelled"


def test_user_data_validates_with_custom_fields_of_every_kind(call, site):
    add(call, 1, clientID="CRM-1", **FULL_CUSTOM)
    add(call, 2, type_business="govt", attendee_type="member", groups="a")
    add(call, 3)
    cancelled = add(call, 4, publicBio="x" * 10_000).findtext("userKey")
    call("cancelUser", {"userKey": cancelled})
    User.objects.filter(user_key=cancelled).update(registered=True, paid=True)

    for params in ({"event": "all"}, {"since": "0"}, {"since": "99999999999999"}, {}):
        xml = assert_valid(call("userData", params))
        for user in xml.findall("user"):
            assert_user_record_ends_with_one_schedule(user)
    users = {user.findtext("lastName"): user for user in xml.findall("user")}
    first = users["Lovelace 1"]
    assert first.find("Type-of-business").get("other") == "an NGO"
    assert [e.text for e in first.findall("Dietary-needs")] == ["veg", "gf"]
    assert first.findtext("Größe--EU-") == "42"
    assert len([e for e in first if e.tag in CONSTRAINTS]) == 3
    assert users["Lovelace 4"].findtext("status") == "cancelled"


def test_custom_fields_do_validates(call):
    # The built-in clientID field of each event, and the six fields of the fixture.
    for params, expected in (({}, 7), ({"event": "all"}, 8)):
        xml = assert_valid(call("customFields", params))
        assert len(xml.findall("customField")) == expected


def assert_user_record_ends_with_one_schedule(user: etree._Element) -> None:
    """What XML Schema 1.0 cannot say after a wildcard: <schedule> is there once, and last."""
    assert [child.tag for child in user].count("schedule") == 1
    assert user[-1].tag == "schedule"


def test_error_responses_of_every_kind_validate(api, call, site):
    user_key = add(call, 1).findtext("userKey")
    user_ref = add(call, 2).findtext("userRef")
    other_event = EventFactory()
    _, other_token = open_site(other_event)  # without Account Level Access
    url = site.url
    answers = [
        (100, api.call(url("event"))),
        (101, api.call(url("event"), {"apiToken": "cfo_live_" + "x" * 40})),
        (103, api.call(url("event"), {"apiToken": site.token}, remote_addr="192.0.2.7")),
        (
            110,
            api.call(
                f"/{other_event.code}/api/event.do",
                {"apiToken": other_token, "event": site.event.guid_text},
            ),
        ),
        (111, call("event", {"event": "00000000-0000-4000-8000-000000000000"})),
        (112, call("getUser", {"event": "all", "userRef": user_ref})),
        (121, api.call(url("event"), method="get")),
        (122, call("nothing")),
        (122, api.call(f"/{site.event.code}/api/not/a/resource", {"apiToken": site.token})),
        (200, call("addUser", {"firstName": "A", "lastName": "B"})),
        (201, call("event", {"event": "not-a-guid"})),
        (202, api.call(url("event"), {"apiToken": site.token, "x": "y" * (1024 * 1024 + 1)})),
        (210, call("getUser", {"userRef": "0" * 16})),
        (212, call("updateUser", {"userRef": user_ref})),
        (214, call("addUser", {"firstName": "A", "lastName": "B", "email": "ada1@example.org"})),
        (215, None),
        (300, call("addUser", {"firstName": "A", "lastName": "B", "email": "c@d.org", "x": "1"})),
        (301, call("updateUser", {"userKey": user_key, "dietary": "meat"})),
        (302, call("updateUser", {"userKey": user_key, "attendee_type": ["vip", "press"]})),
    ]
    call("cancelUser", {"userKey": user_key})
    answers[answers.index((215, None))] = (215, call("updateUser", {"userKey": user_key}))
    for expected, result in answers:
        xml = assert_valid(result)
        assert (expected, xml.find("response").get("code")) == (expected, str(expected))
        assert len(xml) == 1  # nothing after <response>


@pytest.fixture
def probe(monkeypatch):
    """Registers `probe.do`, answering whatever the test sets as `probe.answer`."""
    holder = SimpleNamespace(answer=Document())
    monkeypatch.setitem(
        REGISTRY,
        "probe",
        Resource(name="probe", summary="test only", handler=lambda call: holder.answer),
    )
    return holder


def test_the_api_fixture_fails_a_test_whose_response_does_not_validate(call, probe):
    probe.answer = Document(children=[E("userRef", "3A0398319D99F868"), E("status", "Cancelled")])

    with pytest.raises(pytest.fail.Exception, match=r"(?s)api\.xsd.*/api/status.*'Cancelled'"):
        call("probe")
    assert call("probe", validate=False).code == 0


def test_the_api_fixture_fails_on_a_root_without_schema_and_on_a_broken_off_feed(call, probe):
    probe.answer = Feed(root="mystery-data", record_tag="mystery", records=[])
    with pytest.raises(pytest.fail.Exception, match="no XML Schema for the response root"):
        call("probe")

    def records():
        yield E("user")
        raise RuntimeError("the database went away")

    probe.answer = Feed(root="user-data", record_tag="user", records=records(), attrs={"time": 0})
    with pytest.raises(pytest.fail.Exception, match="not well-formed"):
        call("probe")


def test_json_responses_are_not_checked_against_the_xml_schemas(call, probe):
    probe.answer = Document(children=[E("nonsense", True)])

    result = call("probe", {"format": "json"})

    assert result.headers["Content-Type"] == "application/json; charset=utf-8"
    expected = b'{"api": {"response": {"code": 0, "message": "Success"}, "nonsense": true}}'
    assert result.body == expected


# --- Hand-made documents the schemas must refuse ---------------------------------------------

GUID = "0B8E6B76-9D21-4A5E-8F55-3D0C5E2A9C41"
REF = "3A0398319D99F868"
KEY = "5F0C3A0398319D99F8685F0C3A039831"
FIXED = (
    f"<eventGUID>{GUID}</eventGUID><userRef>{REF}</userRef>"
    "<firstName>Ada</firstName><lastName>Lovelace</lastName><email>ada@example.org</email>"
    "<companyName/><jobTitle/><address1/><address2/><address3/><city/><stateID/><foreignState/>"
    "<zip/><countryID/><phoneNumber/><phone2Number/><middleInitial/><preferredName/><email2/>"
    "<faxNumber/><externalRef>CRM-1</externalRef><publicBio/><registered>true</registered>"
    "<paid>false</paid><status>active</status><create-date>2026-11-24T10:21:00Z</create-date>"
    "<last-modified-date>2026-11-24T10:21:00Z</last-modified-date><badgeID/>"
)
TAIL = (
    "<publicViewPrivateSchedule/><privateViewPrivateSchedule>7</privateViewPrivateSchedule>"
    "<cannotViewOrSchedule>9</cannotViewOrSchedule><cannotViewOrSchedule>10</cannotViewOrSchedule>"
    "<screenName>ada</screenName><report-classification/>"
    "<regcodes><regcode>EARLY</regcode><regcode>VIP-2026</regcode></regcodes>"
    '<Type-of-business other="an NGO">other</Type-of-business>'
    "<Dietary-needs>veg</Dietary-needs><Dietary-needs>gf</Dietary-needs>"
    "<schedule><session-time>12</session-time><session-time>13</session-time></schedule>"
)
USER = f"<user>{FIXED}{TAIL}</user>"
OK = '<response code="0">Success</response>'
FEED = f'<user-data time="1764000000000">{OK}{USER}{USER}</user-data>'
GET_USER = f"<api>{OK}{USER.replace('<userRef>', f'<userKey>{KEY}</userKey><userRef>')}</api>"
ADD_USER = (
    f"<api>{OK}<userKey>{KEY}</userKey><userRef>{REF}</userRef><clientID/>"
    '<customValue field="attendee_type" code="vip" id="7"/>'
    '<customValue field="type_business" code="other" other="an NGO"/></api>'
)
UPDATE_USER = (
    f"<api>{OK}<userRef>{REF}</userRef><clientID>X</clientID>"
    '<customValue field="notes" code=""/></api>'
)
CANCEL_USER = f"<api>{OK}<userRef>{REF}</userRef><status>cancelled</status></api>"
EVENT = (
    f"<event><eventGUID>{GUID}</eventGUID><code>demo-2026</code><name>Demo</name>"
    "<startDate>2026-11-24</startDate><endDate/><timeZone>Europe/Berlin</timeZone>"
    "<environment>production</environment></event>"
)
EVENTS = f"<api>{OK}{EVENT}{EVENT}</api>"
FIELD = (
    f"<customField><eventGUID>{GUID}</eventGUID><code>attendee_type</code>"
    "<displayName>Attendee type</displayName><elementName>Attendee-type</elementName>"
    "<recordType>profile</recordType><type>choice</type><builtIn>false</builtIn>"
    "<value><id>7</id><code>vip</code><label>VIP</label><other>false</other>"
    "<constraint>privateViewPrivateSchedule</constraint></value>"
    "<value><id>8</id><code>x</code><label>X</label><other>true</other><constraint/></value>"
    "</customField>"
)
FIELDS = f"<api>{OK}{FIELD}</api>"
ERROR = (
    "<api><response code=\"211\">clientID 'X-17' is already used by another user</response></api>"
)
ITEM = (
    "<orderItem><orderItemId>3</orderItemId><name>VIP pass</name><type>package</type>"
    "<orderDate>2026-11-24T10:21:00Z</orderDate><cancelDate/><price>-450.00</price>"
    "<basePrice>-400.00</basePrice><bookingFee>0.00</bookingFee><tax>-50.00</tax>"
    "<cancellationFee>0.00</cancellationFee><guestPackage>false</guestPackage><guestName/>"
    "</orderItem>"
)
ORDER = (
    "<order><orderId>17</orderId><orderType>Purchase</orderType>"
    "<orderDate>2026-11-24T10:21:00Z</orderDate><totalPrice>0.00</totalPrice>"
    "<basePrice>12345678.99</basePrice><bookingFee>0.00</bookingFee><tax>0.00</tax>"
    f"<paidInFull>true</paidInFull><guestPackage>false</guestPackage><orderItems>{ITEM}"
    "</orderItems></order>"
)
ORDER_DATA = (
    f"<api>{OK}<userRef>{REF}</userRef><accountBalance>-20.00</accountBalance>"
    f"<orderData>{ORDER}<order><orderId>17</orderId><orderType>Cancel</orderType>"
    "<orderDate>2026-11-24T10:21:00Z</orderDate><totalPrice>0.00</totalPrice>"
    "<basePrice>0.00</basePrice><bookingFee>0.00</bookingFee><tax>0.00</tax>"
    "<paidInFull>true</paidInFull><guestPackage>false</guestPackage><orderItems/></order>"
    "</orderData><invoiceData><invoice><invoiceNumber>17-1</invoiceNumber><orderId>17</orderId>"
    "<orderType>Purchase</orderType><invoiceDate>2026-11-24T10:21:00Z</invoiceDate>"
    "<amount>0.00</amount><tax>0.00</tax><amountDue>0.00</amountDue>"
    "<creditNote>false</creditNote></invoice></invoiceData><paymentData><payment>"
    "<paymentId>4</paymentId><orderId>17</orderId><amount>20.00</amount>"
    "<paymentDate>2026-11-24T10:21:00Z</paymentDate></payment></paymentData>"
    "<orderTransferHistory/></api>"
)
NO_ORDERS = (
    f"<api>{OK}<userRef>{REF}</userRef><accountBalance>0.00</accountBalance><orderData/>"
    "<invoiceData/><paymentData/><orderTransferHistory/></api>"
)
ORDER_ANSWER = (
    f"<api>{OK}<orderId>17</orderId><orderNumber>RS-1</orderNumber><userRef>{REF}</userRef>"
    "<orderStatus>active</orderStatus><totalPrice>450.00</totalPrice>"
    "<amountPaid>0.00</amountPaid><paidInFull>false</paidInFull></api>"
)
FEED_ORDER = ORDER.replace("</orderItems></order>", f"</orderItems><userRef>{REF}</userRef>"
                           f"<eventGUID>{GUID}</eventGUID></order>")  # fmt: skip
ORDER_FEED = f'<order-data time="1764000000000">{OK}{FEED_ORDER}{FEED_ORDER}</order-data>'
GOOD = {
    "orderData": ORDER_DATA,
    "no orders": NO_ORDERS,
    "addOrder": ORDER_ANSWER,
    "orderFeed": ORDER_FEED,
    "empty order feed": f'<order-data time="0">{OK}</order-data>',
    "feed": FEED,
    "getUser": GET_USER,
    "addUser": ADD_USER,
    "updateUser": UPDATE_USER,
    "cancelUser": CANCEL_USER,
    "event": EVENTS,
    "customFields": FIELDS,
    "error": ERROR,
    "empty feed": f'<user-data time="0">{OK}</user-data>',
}


@pytest.mark.parametrize("name", GOOD)
def test_the_hand_made_documents_are_valid_to_begin_with(name):
    assert schema_errors(GOOD[name]) == []


BAD = [
    # (good document, text replaced, replacement, an expected piece of the error)
    ("feed", "<userRef>", f"<userKey>{KEY}</userKey><userRef>", "userKey"),
    ("feed", "<schedule>", f"<userKey>{KEY}</userKey><schedule>", "userKey"),
    ("feed", "<badgeID/>", "<badgeID/><userKey/>", "userKey"),
    ("getUser", "<schedule>", f"<userKey>{KEY}</userKey><schedule>", "userKey"),
    ("feed", OK, "", "response"),
    ("feed", OK, OK + OK, "response"),
    ("feed", 'code="0"', 'code="201"', "code"),
    ("feed", ' time="1764000000000"', "", "time"),
    ("feed", 'time="1764000000000"', 'time="2026-11-24T10:21:00Z"', "time"),
    ("feed", "<registered>true</registered>", "<registered>True</registered>", "registered"),
    ("feed", "<paid>false</paid>", "<paid>0</paid>", "paid"),
    ("feed", "<paid>false</paid>", "<paid> false</paid>", "paid"),
    ("feed", "<paid>false</paid>", "<paid/>", "paid"),
    ("feed", "<badgeID/>", "<badgeID/><registered>true</registered>", "registered"),
    ("feed", "<status>active</status>", "<status>Active</status>", "status"),
    (
        "feed",
        "<create-date>2026-11-24T10:21:00Z",
        "<create-date>2026-11-24T10:21:00+00:00",
        "create-date",
    ),
    (
        "feed",
        "<create-date>2026-11-24T10:21:00Z",
        "<create-date>2026-11-24T10:21:00.123Z",
        "create-date",
    ),
    (
        "feed",
        "<last-modified-date>2026-11-24T10:21:00Z",
        "<last-modified-date>2026-11-24 10:21:00",
        "last-modified-date",
    ),
    ("feed", "<create-date>2026-11-24T10:21:00Z</create-date>", "<create-date/>", "create-date"),
    ("feed", GUID, GUID.lower(), "eventGUID"),
    ("feed", f"<eventGUID>{GUID}</eventGUID>", "", "eventGUID"),
    ("feed", f"<userRef>{REF}</userRef>", f"<userRef>{REF.lower()}</userRef>", "userRef"),
    ("feed", f"<userRef>{REF}</userRef>", f"<userRef>{REF}0</userRef>", "userRef"),
    ("feed", "<firstName>Ada</firstName>", "<firstName/>", "firstName"),
    ("feed", "<email>ada@example.org</email>", "<email>ada</email>", "email"),
    ("feed", "<companyName/><jobTitle/>", "<jobTitle/><companyName/>", "jobTitle"),
    ("feed", "<address2/>", "", "address3"),
    ("feed", "<cannotViewOrSchedule>9<", "<cannotViewOrSchedule>vip<", "cannotViewOrSchedule"),
    ("feed", "<publicViewPrivateSchedule/>", "", "publicViewPrivateSchedule"),
    ("feed", "<report-classification/>", "", "regcodes"),
    ("feed", "<regcode>EARLY</regcode>", "<regcode/>", "regcode"),
    ("feed", "<regcodes>", "<regcodes><code>X</code>", "code"),
    (
        "feed",
        "<regcodes><regcode>EARLY</regcode><regcode>VIP-2026</regcode></regcodes>",
        "",
        "regcodes",
    ),
    (
        "feed",
        "<schedule>",
        "<cannotViewOrSchedule>9</cannotViewOrSchedule><schedule>",
        "cannotViewOrSchedule",
    ),
    ("feed", "<schedule>", "<screenName>x</screenName><schedule>", "screenName"),
    ("orderData", "<accountBalance>-20.00<", "<accountBalance>-20<", "accountBalance"),
    ("orderData", "<accountBalance>-20.00<", "<accountBalance>-20.001<", "accountBalance"),
    (
        "orderData",
        "<orderType>Purchase</orderType>",
        "<orderType>purchase</orderType>",
        "orderType",
    ),
    ("orderData", "<paidInFull>true</paidInFull>", "<paidInFull>1</paidInFull>", "paidInFull"),
    (
        "orderData",
        "<guestPackage>false</guestPackage><orderItems>",
        "<orderItems>",
        "orderItems",
    ),
    ("orderData", f"<orderItems>{ITEM}</orderItems>", "", "Missing child"),
    ("orderData", "<cancelDate/>", "<cancelDate>2026-11-24</cancelDate>", "cancelDate"),
    ("orderData", "<type>package</type>", "<type>Package</type>", "type"),
    ("orderData", "<cancellationFee>0.00</cancellationFee>", "", "cancellationFee"),
    ("orderData", "<name>VIP pass</name>", "<name/>", "name"),
    ("orderData", "<invoiceNumber>17-1<", "<invoiceNumber>INV-1<", "invoiceNumber"),
    ("orderData", "<creditNote>false</creditNote>", "", "Missing child"),
    (
        "orderData",
        "<orderTransferHistory/>",
        "<orderTransferHistory><x/></orderTransferHistory>",
        "content is not allowed",
    ),
    ("orderData", "<orderTransferHistory/>", "", "Missing child"),
    ("orderData", "<paymentData>", "<paymentData><invoice/>", "invoice"),
    ("no orders", "<invoiceData/>", "", "invoiceData"),
    ("addOrder", "<orderStatus>active<", "<orderStatus>open<", "orderStatus"),
    ("addOrder", "<totalPrice>450.00<", "<totalPrice>450<", "totalPrice"),
    ("addOrder", "<orderNumber>RS-1</orderNumber>", "", "orderNumber"),
    ("orderFeed", f"<eventGUID>{GUID}</eventGUID>", "", "Missing child"),
    ("orderFeed", f"<userRef>{REF}</userRef><eventGUID>", "<eventGUID>", "eventGUID"),
    ("orderFeed", 'code="0"', 'code="250"', "code"),
    ("orderFeed", "<orderId>17</orderId>", "<orderId>0</orderId>", "orderId"),
    ("feed", "<session-time>12</session-time>", "<session>12</session>", "session"),
    ("feed", "<user>", '<user><response code="0">Success</response>', "response"),
    ("getUser", f"<userKey>{KEY}</userKey>", f"<userKey>{KEY[:16]}</userKey>", "userKey"),
    ("error", "<response", "<user/><response", "user"),
    ("error", 'code="211"', 'code="999"', "code"),
    ("error", 'code="211"', 'code="211.0"', "code"),
    ("error", 'code="211"', "", "code"),
    ("error", "clientID 'X-17' is already used by another user", "", "response"),
    ("error", "</response>", '</response><response code="0">Success</response>', "response"),
    ("error", "</response>", "</response><detail>x</detail>", "detail"),
    ("addUser", f"<userKey>{KEY}</userKey>", f"<userKey>{KEY.lower()}</userKey>", "userKey"),
    ("addUser", "<clientID/>", "", "clientID"),
    ("addUser", ' field="attendee_type"', "", "field"),
    ("addUser", 'id="7"', 'id="vip"', "id"),
    ("addUser", 'other="an NGO"', 'other=""', "other"),
    ("addUser", 'code="vip" id="7"/>', 'code="vip">vip</customValue>', "customValue"),
    ("updateUser", "<clientID>X</clientID>", "<status>cancelled</status>", "customValue"),
    ("cancelUser", "<status>cancelled</status>", "<status>active</status>", "status"),
    ("cancelUser", "<status>cancelled</status>", "", "Missing child"),
    (
        "event",
        "<environment>production</environment>",
        "<environment>prod</environment>",
        "environment",
    ),
    (
        "event",
        "<startDate>2026-11-24</startDate>",
        "<startDate>24.11.2026</startDate>",
        "startDate",
    ),
    ("event", "<code>demo-2026</code>", "<code>Demo</code>", "code"),
    ("event", "<timeZone>Europe/Berlin</timeZone>", "<timeZone/>", "timeZone"),
    ("event", "</event><event>", f"</event><user>{FIXED}<schedule/></user><event>", "user"),
    ("customFields", "<builtIn>false</builtIn>", "<builtIn>False</builtIn>", "builtIn"),
    ("customFields", "<recordType>profile", "<recordType>people", "recordType"),
    ("customFields", "<constraint>privateViewPrivateSchedule", "<constraint>private", "constraint"),
    ("customFields", "<elementName>Attendee-type", "<elementName>Attendee type", "elementName"),
    ("customFields", "<id>7</id>", "<id>0</id>", "id"),
]


@pytest.mark.parametrize(
    ("name", "old", "new", "where"),
    BAD,
    ids=[f"{b[0]}:{b[2][:40] or 'remove ' + b[1][:30]}" for b in BAD],
)
def test_the_schemas_refuse_documents_against_the_contract(name, old, new, where):
    document = GOOD[name]
    assert old in document
    errors = schema_errors(document.replace(old, new, 1))

    assert errors, "the schema accepted it"
    assert where in errors[0]
