"""getUser.do through HTTP (contract §5, §8.2): the `<user>` record of userData.do, with userKey
only when the caller named the user by userKey or clientID."""

import json

import pytest
from lxml import etree

from confero.access.models import ApiCall
from confero.customfields.models import CustomValue
from confero.customfields.services import ValueSpec, create_field
from confero.people.models import User
from tests.factories import RegCodeFactory, open_site

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


def stamp(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# What follows badgeID in a record without constraint values, profile or orders (§8.2): the
# three constraint elements always there, empty; screenName, report-classification, regcodes.
UNHELD = (
    "<publicViewPrivateSchedule/><privateViewPrivateSchedule/><cannotViewOrSchedule/>"
    "<screenName/><report-classification/><regcodes/>"
)


def user_xml(user: User, *, user_key: bool, custom: str = "", middle: str = UNHELD) -> bytes:
    key = f"<userKey>{user.user_key}</userKey>" if user_key else ""
    return (
        f"<user><eventGUID>{user.site.event.guid_text}</eventGUID>{key}<userRef>{user.user_ref}</userRef>"
        f"<firstName>{user.first_name}</firstName><lastName>{user.last_name}</lastName>"
        f"<email>{user.email}</email><companyName>Analytical Engines</companyName><jobTitle/>"
        "<address1/><address2/><address3/><city>London</city><stateID/><foreignState/><zip/>"
        "<countryID>GB</countryID><phoneNumber/><phone2Number/><middleInitial/><preferredName/>"
        "<email2/><faxNumber/><externalRef>CRM-1</externalRef><publicBio/>"
        f"<registered>true</registered><paid>false</paid><status>{user.status}</status>"
        f"<create-date>{stamp(user.created_at)}</create-date>"
        f"<last-modified-date>{stamp(user.modified_at)}</last-modified-date><badgeID>B-1</badgeID>"
        f"{middle}{custom}<schedule/></user>"
    ).encode()


def ok_xml(record: bytes) -> bytes:
    return DECLARATION + b'<api><response code="0">Success</response>' + record + b"</api>"


@pytest.fixture
def ada(ada_with) -> User:
    """The suite's Ada, with a company, a city, a country, a badge, registered."""
    return ada_with(company_name="Analytical Engines", city="London", country_id="GB",
                    registered=True, badge_id="B-1")  # fmt: skip


def test_get_user_by_user_ref_has_no_user_key(live, ada):
    result = live.call("getUser", {"userRef": ada.user_ref})

    assert (result.status, result.body) == (200, ok_xml(user_xml(ada, user_key=False)))


def test_get_user_by_user_key_includes_it(live, ada):
    result = live.call("getUser", {"userKey": ada.user_key})

    assert (result.status, result.body) == (200, ok_xml(user_xml(ada, user_key=True)))


def test_get_user_by_client_id_includes_the_user_key(live, ada):
    result = live.call("getUser", {"clientID": "CRM-1"})

    assert (result.status, result.body) == (200, ok_xml(user_xml(ada, user_key=True)))


def test_get_user_by_user_key_and_user_ref_of_the_same_user_includes_the_user_key(live, ada):
    result = live.call("getUser", {"userRef": ada.user_ref, "userKey": ada.user_key})

    assert (result.status, result.body) == (200, ok_xml(user_xml(ada, user_key=True)))


def test_get_user_record_is_the_user_data_record(live, ada, fields):
    """One record shape for both resources: getUser.do by userRef is userData.do's `<user>`."""
    live.call(
        "updateUser",
        {
            "userKey": ada.user_key,
            "type_business": "govt",
            "dietary": ["veg", "gf"],
            "attendee_type": "vip",
        },
    )

    got = live.call("getUser", {"userRef": ada.user_ref}).xml.find("user")
    fed = live.call("userData").xml.find("user")

    assert etree.tostring(got) == etree.tostring(fed)
    vip = fields["attendee_type"].values.get(code="vip").pk
    assert etree.tostring(got).endswith(
        f"<badgeID>B-1</badgeID><publicViewPrivateSchedule/>"
        f"<privateViewPrivateSchedule>{vip}</privateViewPrivateSchedule><cannotViewOrSchedule/>"
        "<screenName/><report-classification/><regcodes/>"
        "<Type-of-business>govt</Type-of-business>"
        "<Dietary-needs>veg</Dietary-needs><Dietary-needs>gf</Dietary-needs>"
        "<Interests/><T-shirt-size/><Notes/><Attendee-type>vip</Attendee-type><schedule/></user>".encode()
    )


def test_get_user_cancelled_is_answered_with_its_status(live, ada):
    """getUser only refers to the user: a cancelled user is still there to be read."""
    assert live.call("cancelUser", {"userKey": ada.user_key}).code == 0
    ada.refresh_from_db()

    result = live.call("getUser", {"userRef": ada.user_ref})

    assert (result.status, result.body) == (200, ok_xml(user_xml(ada, user_key=False)))
    assert result.xml.findtext("user/status") == "cancelled"


def test_get_user_without_an_identifier_is_refused_with_200(live, ada):
    result = live.call("getUser")

    assert (result.status, result.body) == (
        400,
        error_xml(200, "parameter 'userKey', 'clientID' or 'userRef' is required"),
    )


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("userKey", "F" * 32),
        ("clientID", "CRM-404"),
        ("userRef", "F" * 16),
        ("userRef", "not hex"),
    ],
)
def test_get_user_unknown_is_refused_with_210(live, ada, kind, value):
    result = live.call("getUser", {kind: value})

    assert (result.status, result.body) == (
        404,
        error_xml(210, f"no user with {kind} '{value}' on this site"),
    )


def test_get_user_identifiers_of_different_users_are_refused_with_213(live, ada):
    grace = live.add_user(email="grace@example.org")

    result = live.call("getUser", {"userKey": grace.user_key, "userRef": ada.user_ref})

    assert (result.status, result.body) == (
        400,
        error_xml(213, "userKey and userRef name different users"),
    )


def test_get_user_of_the_other_site_is_not_found(live_site, api, ada):
    _, uat_token = open_site(live_site.event, "uat")

    result = api.call(
        f"/uat/{live_site.event.code}/api/getUser.do",
        {"apiToken": uat_token, "userRef": ada.user_ref},
    )

    assert (result.status, result.code) == (404, 210)


def test_get_user_ignores_parameters_it_does_not_declare(live, ada, fields):
    """getUser writes nothing: a parameter it does not declare is ignored (contract §2), not a
    field code, and the call log names it."""
    plain = live.call("getUser", {"userRef": ada.user_ref})

    result = live.call("getUser", {"userRef": ada.user_ref, "type_business": "govt"})

    assert (result.status, result.body) == (200, plain.body)
    assert ApiCall.objects.order_by("-id").first().ignored_params == "type_business"


def test_get_user_as_json_has_the_user_key_only_when_named_by_it(live, ada):
    by_ref = json.loads(live.call("getUser", {"userRef": ada.user_ref, "format": "json"}).body)
    by_key = json.loads(live.call("getUser", {"userKey": ada.user_key, "format": "json"}).body)

    # A record is always a list in JSON, as in the feed, even when there is one.
    [referred], [keyed] = by_ref["api"]["user"], by_key["api"]["user"]
    assert by_ref["api"]["response"] == {"code": 0, "message": "Success"}
    assert "userKey" not in referred
    assert keyed["userKey"] == ada.user_key
    assert {name: value for name, value in keyed.items() if name != "userKey"} == referred
    assert (referred["userRef"], referred["externalRef"]) == (ada.user_ref, "CRM-1")


def test_constraint_elements_come_grouped_in_the_order_of_the_contract(live, ada, fields):
    """Contract §8.2: `badgeID`, then the three constraint elements (§7's order:
    publicViewPrivateSchedule, privateViewPrivateSchedule, cannotViewOrSchedule), each repeated
    in the order its values were set, whatever the order of the parameters."""
    create_field(
        live.site.site,
        record_type="profile",
        code="tracks",
        display_name="Tracks",
        field_type="multichoice",
        values=[
            ValueSpec("p", "P", constraint="cannotViewOrSchedule"),
            ValueSpec("q", "Q", constraint="publicViewPrivateSchedule"),
            ValueSpec("r", "R", constraint="privateViewPrivateSchedule"),
            ValueSpec("s", "S", constraint="publicViewPrivateSchedule"),
        ],
    )
    ids = dict(CustomValue.objects.filter(field__code="tracks").values_list("code", "pk"))
    vip = fields["attendee_type"].values.get(code="vip").pk
    sent = {"userKey": ada.user_key, "tracks": ["p", "s", "r", "q"], "attendee_type": "vip"}
    assert live.call("updateUser", sent).code == 0

    xml = live.call("getUser", {"userRef": ada.user_ref}).xml.find("user")
    as_json = json.loads(live.call("getUser", {"userRef": ada.user_ref, "format": "json"}).body)
    fed = live.call("userData").xml.find("user")

    names = [child.tag for child in xml]
    after_badge = names.index("badgeID") + 1
    assert [(child.tag, child.text) for child in xml[after_badge : after_badge + 5]] == [
        ("publicViewPrivateSchedule", str(ids["s"])),
        ("publicViewPrivateSchedule", str(ids["q"])),
        ("privateViewPrivateSchedule", str(ids["r"])),
        ("privateViewPrivateSchedule", str(vip)),
        ("cannotViewOrSchedule", str(ids["p"])),
    ]
    assert etree.tostring(xml) == etree.tostring(fed)
    [record] = as_json["api"]["user"]
    constraints = [k for k in record if k.endswith("Schedule")]
    assert constraints == [
        "publicViewPrivateSchedule",
        "privateViewPrivateSchedule",
        "cannotViewOrSchedule",
    ]
    assert (
        record["publicViewPrivateSchedule"],
        record["privateViewPrivateSchedule"],
        record["cannotViewOrSchedule"],
    ) == ([ids["s"], ids["q"]], [ids["r"], vip], [ids["p"]])


# --- The elements of issue 16: constraint elements always there, regcodes ---------------------


def test_get_user_regcodes_are_those_of_live_orders_in_the_order_first_used(
    live, ada, catalogue, live_site
):
    for code in ("EARLY", "VIPFREE", "PRESS"):
        RegCodeFactory(site=live_site.site, code=code, package=catalogue.vip)

    def order(code: str) -> str:
        result = live.call("addOrder", {"userKey": ada.user_key, "item": "VIP", "regcode": code})
        assert result.code == 0, result.body
        return result.xml.findtext("orderId")

    first_vip, _, _, press = order("VIPFREE"), order("EARLY"), order("VIPFREE"), order("PRESS")
    live.call("cancelOrder", {"orderId": first_vip})  # VIPFREE is still used by another order
    live.call("cancelOrder", {"orderId": press})
    User.objects.filter(pk=ada.pk).update(registered=True)

    user = live.call("getUser", {"userRef": ada.user_ref}).xml.find("user")
    fed = live.call("userData").xml.find("user")

    assert etree.tostring(user.find("regcodes")) == (
        b"<regcodes><regcode>EARLY</regcode><regcode>VIPFREE</regcode></regcodes>"
    )
    assert etree.tostring(fed) == etree.tostring(user)


def test_get_user_as_json_has_every_constraint_element_and_the_new_elements(live, ada, fields):
    vip = fields["attendee_type"].values.get(code="vip").pk
    live.call("updateUser", {"userKey": ada.user_key, "attendee_type": "vip",
                             "screenName": "ada.l"})  # fmt: skip

    record = json.loads(live.call("getUser", {"userRef": ada.user_ref, "format": "json"}).body)

    [user] = record["api"]["user"]
    assert {name: user[name] for name in (
        "badgeID", "publicViewPrivateSchedule", "privateViewPrivateSchedule",
        "cannotViewOrSchedule", "screenName", "report-classification", "regcodes",
    )} == {
        "badgeID": "B-1", "publicViewPrivateSchedule": [], "privateViewPrivateSchedule": [vip],
        "cannotViewOrSchedule": [], "screenName": "ada.l", "report-classification": "",
        "regcodes": {},
    }  # fmt: skip
    keys = list(user)
    assert keys[keys.index("badgeID") : keys.index("badgeID") + 7] == [
        "badgeID", "publicViewPrivateSchedule", "privateViewPrivateSchedule",
        "cannotViewOrSchedule", "screenName", "report-classification", "regcodes",
    ]  # fmt: skip
