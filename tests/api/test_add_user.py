"""addUser.do through HTTP (contract §5, §8.2): what it stores, what it answers, what it refuses."""

import re

import pytest

from confero.access.models import ApiCall
from confero.access.tokens import public_prefix
from confero.customfields.models import Answer
from confero.people.models import User, UserStatus
from confero.registration.standing import set_status_from_orders
from tests.factories import open_site

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
ADA = {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.org"}


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


def last_call() -> ApiCall:
    return ApiCall.objects.order_by("-id").first()


def test_add_user_stores_every_field_and_answers_with_its_identifiers(live, live_site):
    params = {
        **ADA,
        "companyName": "Analytical Engines Ltd",
        "jobTitle": "Analyst",
        "address1": "1 St James's Sq",
        "address2": "Floor 2",
        "address3": "Room 3",
        "city": "London",
        "stateID": "LND",
        "foreignState": "Greater London",
        "zip": "SW1Y 4JH",
        "countryID": "GB",
        "phoneNumber": "+44 20 7946 0000",
        "phone2Number": "+44 20 7946 0001",
        "middleInitial": "A",
        "preferredName": "Countess",
        "email2": "ada@analytical.example",
        "faxNumber": "+44 20 7946 0002",
        "publicBio": "Wrote the first program.",
        "registered": "true",
        "paid": "false",
        "badgeID": "B-0001",
        "clientID": "CRM-1001",
    }

    result = live.call("addUser", params)

    user = User.objects.get()
    assert result.status == 200
    assert result.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert (
        result.body
        == DECLARATION
        + (
            '<api><response code="0">Success</response>'
            f"<userKey>{user.user_key}</userKey><userRef>{user.user_ref}</userRef>"
            "<clientID>CRM-1001</clientID></api>"
        ).encode()
    )
    assert re.fullmatch(r"[0-9A-F]{32}", user.user_key)
    assert re.fullmatch(r"[0-9A-F]{16}", user.user_ref)
    stored = (
        User.objects.filter(pk=user.pk)
        .values(
            "site_id",
            "client_id",
            "first_name",
            "last_name",
            "email",
            "company_name",
            "job_title",
            "address1",
            "address2",
            "address3",
            "city",
            "state_id",
            "foreign_state",
            "zip",
            "country_id",
            "phone_number",
            "phone2_number",
            "middle_initial",
            "preferred_name",
            "email2",
            "fax_number",
            "public_bio",
            "registered",
            "paid",
            "badge_id",
            "status",
        )
        .get()
    )
    assert stored == {
        "site_id": live_site.site.pk,
        "client_id": "CRM-1001",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.org",
        "company_name": "Analytical Engines Ltd",
        "job_title": "Analyst",
        "address1": "1 St James's Sq",
        "address2": "Floor 2",
        "address3": "Room 3",
        "city": "London",
        "state_id": "LND",
        "foreign_state": "Greater London",
        "zip": "SW1Y 4JH",
        "country_id": "GB",
        "phone_number": "+44 20 7946 0000",
        "phone2_number": "+44 20 7946 0001",
        "middle_initial": "A",
        "preferred_name": "Countess",
        "email2": "ada@analytical.example",
        "fax_number": "+44 20 7946 0002",
        "public_bio": "Wrote the first program.",
        "registered": True,
        "paid": False,
        "badge_id": "B-0001",
        "status": UserStatus.ACTIVE,
    }
    assert user.created_at == user.modified_at
    call = last_call()
    assert (call.resource, call.code, call.http_status, call.site_id, call.token_prefix) == (
        "addUser",
        0,
        200,
        live_site.site.pk,
        public_prefix(live_site.token),
    )


def test_add_user_without_client_id_answers_an_empty_client_id(live):
    result = live.call("addUser", ADA)

    user = User.objects.get()
    assert (
        result.body
        == DECLARATION
        + (
            '<api><response code="0">Success</response>'
            f"<userKey>{user.user_key}</userKey><userRef>{user.user_ref}</userRef><clientID/></api>"
        ).encode()
    )
    assert (user.client_id, user.registered, user.paid, user.company_name) == (
        None,
        False,
        False,
        "",
    )


def test_add_user_gives_every_user_its_own_keys(live):
    first = live.add_user(email="one@example.org")
    second = live.add_user(email="two@example.org")

    assert first.user_key != second.user_key
    assert first.user_ref != second.user_ref


@pytest.mark.parametrize("missing", ["firstName", "lastName", "email"])
def test_add_user_without_a_required_field_is_refused_with_200(live, missing):
    params = {name: value for name, value in ADA.items() if name != missing}

    result = live.call("addUser", params)

    assert (result.status, result.body) == (
        400,
        error_xml(200, f"parameter '{missing}' is required"),
    )
    assert User.objects.count() == 0
    assert (last_call().resource, last_call().code) == ("addUser", 200)


@pytest.mark.parametrize("empty", ["firstName", "lastName", "email"])
def test_add_user_with_a_required_field_empty_is_refused_with_200(live, empty):
    result = live.call("addUser", {**ADA, empty: "  "})

    assert (result.status, result.body) == (
        400,
        error_xml(200, f"parameter '{empty}' is required (it is empty)"),
    )
    assert User.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("email", "not-an-address", "an email address"),
        ("email2", "two@@example.org", "an email address"),
        ("firstName", "x" * 101, "at most 100 characters"),
        ("zip", "1" * 21, "at most 20 characters"),
        ("registered", "maybe", "true or false"),
        ("paid", "2", "true or false"),
    ],
)
def test_add_user_with_a_value_breaking_its_rule_is_refused_with_201(live, name, value, rule):
    result = live.call("addUser", {**ADA, name: value})

    assert (result.status, result.body) == (
        400,
        error_xml(201, f"parameter '{name}' must be {rule}"),
    )
    assert User.objects.count() == 0


def test_add_user_with_a_contact_field_repeated_is_refused_with_201(live):
    result = live.call("addUser", {**ADA, "firstName": ["Ada", "Augusta"]})

    assert (result.status, result.body) == (
        400,
        error_xml(201, "parameter 'firstName' is repeated; send it once"),
    )
    assert User.objects.count() == 0


def test_add_user_trims_white_space_around_values(live):
    user = live.add_user(firstName="  Ada ", email=" ada@example.org\t", clientID=" CRM-7 ")

    assert (user.first_name, user.email, user.client_id) == ("Ada", "ada@example.org", "CRM-7")


# --- Email: unique among the site's active users (214) -------------------------------------------


def test_add_user_with_the_email_of_an_active_user_is_refused_with_214(live):
    live.add_user(**ADA)

    result = live.call("addUser", {**ADA, "firstName": "Augusta"})

    assert (result.status, result.body) == (
        409,
        error_xml(214, "email 'ada@example.org' is already used by another active user"),
    )
    assert list(User.objects.values_list("first_name", flat=True)) == ["Ada"]
    assert (last_call().resource, last_call().code, last_call().http_status) == (
        "addUser",
        214,
        409,
    )


def test_add_user_email_uniqueness_ignores_case(live):
    live.add_user(**ADA)

    result = live.call("addUser", {**ADA, "email": "ADA@Example.ORG"})

    assert (result.status, result.code) == (409, 214)
    assert User.objects.count() == 1


def test_add_user_may_reuse_the_email_of_a_cancelled_user(live):
    cancelled = live.add_user(**ADA)
    assert live.call("cancelUser", {"userKey": cancelled.user_key}).code == 0

    result = live.call("addUser", {**ADA, "email": "Ada@example.org"})

    assert (result.status, result.code) == (200, 0)
    assert sorted(User.objects.values_list("email", "status")) == [
        ("Ada@example.org", "active"),
        ("ada@example.org", "cancelled"),
    ]


def test_add_user_email_of_a_user_on_the_other_site_is_free(live, api, live_site):
    uat_site, uat_token = open_site(live_site.event, "uat")
    live.add_user(**ADA)

    result = api.call(f"/uat/{live_site.event.code}/api/addUser.do", {"apiToken": uat_token, **ADA})

    assert (result.status, result.code) == (200, 0)
    assert sorted(User.objects.values_list("site_id", flat=True)) == sorted(
        [live_site.site.pk, uat_site.pk]
    )


# --- clientID: unique per site when set (211) ----------------------------------------------------


def test_add_user_with_a_client_id_in_use_is_refused_with_211(live):
    live.add_user(clientID="X-17")

    result = live.call("addUser", {**ADA, "email": "other@example.org", "clientID": "X-17"})

    # The message as in the contract's own example (§6).
    assert (result.status, result.body) == (
        409,
        error_xml(211, "clientID 'X-17' is already used by another user"),
    )
    assert User.objects.count() == 1


def test_add_user_with_the_client_id_of_a_cancelled_user_is_refused_with_211(live):
    """clientID stays unique among all of a site's users, cancelled ones too: it names the
    record, and a cancelled record keeps its history."""
    cancelled = live.add_user(clientID="X-17")
    assert live.call("cancelUser", {"clientID": "X-17"}).code == 0

    result = live.call("addUser", {**ADA, "email": "other@example.org", "clientID": "X-17"})

    assert (result.status, result.code) == (409, 211)
    assert list(User.objects.values_list("pk", flat=True)) == [cancelled.pk]


def test_add_user_client_id_of_a_user_on_the_other_site_is_free(live, api, live_site):
    _, uat_token = open_site(live_site.event, "uat")
    live.add_user(clientID="X-17")

    result = api.call(
        f"/uat/{live_site.event.code}/api/addUser.do",
        {"apiToken": uat_token, **ADA, "clientID": "X-17"},
    )

    assert (result.status, result.code) == (200, 0)
    assert User.objects.filter(client_id="X-17").count() == 2


def test_add_user_with_an_empty_client_id_stores_none(live):
    user = live.add_user(clientID="")
    other = live.add_user(clientID="")

    assert (user.client_id, other.client_id) == (None, None)


# --- What addUser does not take ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["userKey", "userRef", "newClientID", "since"])
def test_add_user_with_a_parameter_of_other_user_resources_is_refused_with_300(live, name):
    """Every parameter that is not addUser's own is a custom field code (§7); these names can
    never become one (they are reserved), so they are always unknown codes."""
    result = live.call("addUser", {**ADA, name: "0123456789ABCDEF"})

    assert (result.status, result.body) == (
        400,
        error_xml(300, f"unknown custom field code '{name}'"),
    )
    assert (User.objects.count(), Answer.objects.count()) == (0, 0)


def test_add_user_with_a_character_xml_cannot_carry_is_refused_with_201(live):
    """It could be stored but never answered: getUser.do and userData.do could not write it."""
    result = live.call("addUser", {**ADA, "firstName": "Ada\x01"})

    assert (result.status, result.body) == (
        400,
        error_xml(
            201, "parameter 'firstName' contains the character U+0001, which XML cannot carry"
        ),
    )
    assert User.objects.count() == 0


# --- screenName and report-classification (§8.2), registered and paid following orders -----------


def test_add_user_stores_screen_name_and_report_classification(live):
    result = live.call(
        "addUser",
        {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.org",
         "screenName": "ada.l", "report-classification": "Press"},
    )  # fmt: skip

    assert result.code == 0
    user = User.objects.get()
    assert (user.screen_name, user.report_classification) == ("ada.l", "Press")
    record = live.call("getUser", {"userRef": user.user_ref}).xml.find("user")
    assert (record.findtext("screenName"), record.findtext("report-classification")) == (
        "ada.l",
        "Press",
    )


@pytest.mark.parametrize("name", ["screenName", "report-classification", "regcodes"])
def test_add_user_new_standard_names_cannot_be_custom_field_codes(live_site, name):
    from confero.customfields.services import create_field
    from confero.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        create_field(live_site.site, record_type="user", code=name, display_name=name,
                     field_type="text")  # fmt: skip


@pytest.mark.parametrize("name", ["registered", "paid"])
def test_add_user_registered_or_paid_where_they_follow_orders_is_refused_with_201(
    live, live_site, name
):
    set_status_from_orders(live_site.site, enabled=True)

    result = live.call(
        "addUser",
        {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.org", name: "false"},
    )

    assert (result.status, result.code) == (400, 201)
    assert result.message == (
        f"parameter '{name}' is not accepted on this site: registered and paid follow from "
        "the user's orders"
    )
    assert User.objects.count() == 0
