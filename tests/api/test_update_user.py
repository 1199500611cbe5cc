"""updateUser.do through HTTP (contract §5, §8.2): who may be named, what changes, what is
refused."""

import datetime as dt

import pytest

from confero.access.models import ApiCall
from confero.people.models import User
from confero.registration.standing import set_status_from_orders
from tests.factories import open_site

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


def ok_xml(user: User, *extra: str) -> bytes:
    client_id = f"<clientID>{user.client_id}</clientID>" if user.client_id else "<clientID/>"
    return (
        DECLARATION
        + (
            '<api><response code="0">Success</response>'
            f"<userRef>{user.user_ref}</userRef>{client_id}{''.join(extra)}</api>"
        ).encode()
    )


def columns(user: User) -> dict:
    return User.objects.filter(pk=user.pk).values().get()


def age(user: User) -> None:
    """Moves the user's timestamps into the past, so that any change shows as a later stamp."""
    User.objects.filter(pk=user.pk).update(created_at=LONG_AGO, modified_at=LONG_AGO)


@pytest.fixture
def ada(ada_with) -> User:
    """The suite's Ada, with a company and a second email address."""
    return ada_with(company_name="Analytical Engines", email2="ada@analytical.example")


# --- Only what is sent changes ------------------------------------------------------------------


def test_update_user_changes_only_what_is_sent(live, ada):
    before = columns(ada)

    result = live.call(
        "updateUser", {"userKey": ada.user_key, "jobTitle": "Analyst", "registered": "true"}
    )

    after = columns(ada)
    assert (result.status, result.body) == (200, ok_xml(ada))
    assert after["modified_at"] > LONG_AGO
    assert after == {
        **before,
        "job_title": "Analyst",
        "registered": True,
        "modified_at": after["modified_at"],
    }
    call = ApiCall.objects.order_by("-id").first()
    assert (call.resource, call.code, call.http_status, call.site_id) == (
        "updateUser",
        0,
        200,
        ada.site_id,
    )


def test_update_user_by_client_id(live, ada):
    result = live.call("updateUser", {"clientID": "CRM-1", "city": "London"})

    assert (result.status, result.body) == (200, ok_xml(ada))
    assert columns(ada)["city"] == "London"


def test_update_user_by_user_key_and_client_id_of_the_same_user(live, ada):
    result = live.call(
        "updateUser", {"userKey": ada.user_key, "clientID": "CRM-1", "city": "Paris"}
    )

    assert (result.status, result.code) == (200, 0)
    assert columns(ada)["city"] == "Paris"


def test_update_user_never_answers_with_the_user_key(live, ada):
    result = live.call("updateUser", {"userKey": ada.user_key, "city": "London"})

    assert result.xml.find("userKey") is None
    assert ada.user_key.encode() not in result.body


def test_update_user_with_nothing_to_change_leaves_last_modified(live, ada):
    result = live.call("updateUser", {"userKey": ada.user_key, "firstName": "Ada", "city": ""})

    assert (result.status, result.code) == (200, 0)
    assert columns(ada)["modified_at"] == LONG_AGO


def test_update_user_empty_value_clears_an_optional_field(live, ada):
    result = live.call("updateUser", {"userKey": ada.user_key, "companyName": ""})

    assert (result.status, result.code) == (200, 0)
    assert columns(ada)["company_name"] == ""
    assert columns(ada)["modified_at"] > LONG_AGO


def test_update_user_empty_email2_clears_it(live, ada):
    result = live.call("updateUser", {"userKey": ada.user_key, "email2": ""})

    assert (result.status, result.code) == (200, 0)
    assert columns(ada)["email2"] == ""


@pytest.mark.parametrize("name", ["firstName", "lastName", "email"])
def test_update_user_cannot_empty_a_required_field(live, ada, name):
    before = columns(ada)

    result = live.call("updateUser", {"userKey": ada.user_key, name: "", "city": "London"})

    assert (result.status, result.body) == (
        400,
        error_xml(201, f"parameter '{name}' cannot be empty"),
    )
    assert columns(ada) == before


def test_update_user_with_a_value_breaking_its_rule_changes_nothing(live, ada):
    before = columns(ada)

    result = live.call("updateUser", {"userKey": ada.user_key, "city": "London", "email": "nope"})

    assert (result.status, result.body) == (
        400,
        error_xml(201, "parameter 'email' must be an email address"),
    )
    assert columns(ada) == before


# --- Who is named (§5) ----------------------------------------------------------------------


def test_update_user_by_user_ref_is_refused_with_212(live, ada):
    before = columns(ada)

    result = live.call("updateUser", {"userRef": ada.user_ref, "city": "London"})

    assert (result.status, result.body) == (
        400,
        error_xml(212, "userRef cannot act as the user: use userKey or clientID"),
    )
    assert columns(ada) == before


def test_update_user_by_user_ref_next_to_user_key_is_refused_with_212(live, ada):
    result = live.call(
        "updateUser", {"userKey": ada.user_key, "userRef": ada.user_ref, "city": "X"}
    )

    assert (result.status, result.code) == (400, 212)
    assert columns(ada)["city"] == ""


def test_update_user_without_an_identifier_is_refused_with_200(live, ada):
    result = live.call("updateUser", {"city": "London"})

    assert (result.status, result.body) == (
        400,
        error_xml(200, "parameter 'userKey' or 'clientID' is required"),
    )


def test_update_user_with_an_unknown_user_key_is_refused_with_210(live, ada):
    result = live.call("updateUser", {"userKey": "0" * 32, "city": "London"})

    assert (result.status, result.body) == (
        404,
        error_xml(210, f"no user with userKey '{'0' * 32}' on this site"),
    )
    assert columns(ada)["city"] == ""


def test_update_user_with_an_unknown_client_id_is_refused_with_210(live, ada):
    result = live.call("updateUser", {"clientID": "CRM-404", "city": "London"})

    assert (result.status, result.body) == (
        404,
        error_xml(210, "no user with clientID 'CRM-404' on this site"),
    )


def test_update_user_with_user_key_and_client_id_of_different_users_is_refused_with_213(live, ada):
    grace = live.add_user(firstName="Grace", email="grace@example.org", clientID="CRM-2")
    before = (columns(ada), columns(grace))

    result = live.call(
        "updateUser", {"userKey": ada.user_key, "clientID": "CRM-2", "city": "London"}
    )

    assert (result.status, result.body) == (
        400,
        error_xml(213, "userKey and clientID name different users"),
    )
    assert (columns(ada), columns(grace)) == before


def test_update_user_of_the_other_site_is_not_found(live, live_site, api, ada):
    """A userKey is good on its own site only: UAT and Production hold separate data."""
    _, uat_token = open_site(live_site.event, "uat")

    result = api.call(
        f"/uat/{live_site.event.code}/api/updateUser.do",
        {"apiToken": uat_token, "userKey": ada.user_key, "city": "London"},
    )

    assert (result.status, result.code) == (404, 210)
    assert columns(ada)["city"] == ""


def test_update_user_cancelled_is_refused_with_215(live, ada):
    assert live.call("cancelUser", {"userKey": ada.user_key}).code == 0
    before = columns(ada)

    result = live.call("updateUser", {"userKey": ada.user_key, "city": "London"})

    assert (result.status, result.body) == (409, error_xml(215, "user is cancelled"))
    assert columns(ada) == before


# --- clientID and newClientID ----------------------------------------------------------------


def test_update_user_new_client_id_sets_a_first_client_id(live):
    user = live.add_user()

    result = live.call("updateUser", {"userKey": user.user_key, "newClientID": "CRM-9"})

    user.refresh_from_db()
    assert (result.status, result.body) == (200, ok_xml(user))
    assert user.client_id == "CRM-9"


def test_update_user_new_client_id_changes_it_and_the_old_one_stops_working(live, ada):
    result = live.call("updateUser", {"clientID": "CRM-1", "newClientID": "CRM-100"})

    ada.refresh_from_db()
    assert (result.status, result.body) == (200, ok_xml(ada))
    assert ada.client_id == "CRM-100"
    assert live.call("updateUser", {"clientID": "CRM-1", "city": "X"}).code == 210
    assert live.call("updateUser", {"clientID": "CRM-100", "city": "X"}).code == 0


def test_update_user_new_client_id_empty_clears_it(live, ada):
    result = live.call("updateUser", {"userKey": ada.user_key, "newClientID": ""})

    ada.refresh_from_db()
    assert (result.status, result.body) == (200, ok_xml(ada))
    assert ada.client_id is None
    assert b"<clientID/>" in result.body


def test_update_user_new_client_id_of_another_user_is_refused_with_211(live, ada):
    live.add_user(email="grace@example.org", clientID="CRM-2")
    before = columns(ada)

    result = live.call("updateUser", {"userKey": ada.user_key, "newClientID": "CRM-2", "city": "X"})

    assert (result.status, result.body) == (
        409,
        error_xml(211, "clientID 'CRM-2' is already used by another user"),
    )
    assert columns(ada) == before


def test_update_user_new_client_id_same_as_its_own_succeeds(live, ada):
    result = live.call("updateUser", {"userKey": ada.user_key, "newClientID": "CRM-1"})

    assert (result.status, result.code) == (200, 0)
    assert columns(ada)["modified_at"] == LONG_AGO


# --- Email (214) ------------------------------------------------------------------------------


def test_update_user_email_of_another_active_user_is_refused_with_214(live, ada):
    live.add_user(email="grace@example.org")
    before = columns(ada)

    result = live.call(
        "updateUser", {"userKey": ada.user_key, "email": "GRACE@example.org", "city": "X"}
    )

    assert (result.status, result.body) == (
        409,
        error_xml(214, "email 'GRACE@example.org' is already used by another active user"),
    )
    assert columns(ada) == before


def test_update_user_email_of_a_cancelled_user_is_free(live, ada):
    gone = live.add_user(email="grace@example.org")
    assert live.call("cancelUser", {"userKey": gone.user_key}).code == 0

    result = live.call("updateUser", {"userKey": ada.user_key, "email": "grace@example.org"})

    assert (result.status, result.code) == (200, 0)
    assert columns(ada)["email"] == "grace@example.org"


def test_update_user_own_email_in_another_case_is_accepted(live, ada):
    result = live.call("updateUser", {"userKey": ada.user_key, "email": "Ada@Example.org"})

    assert (result.status, result.code) == (200, 0)
    assert columns(ada)["email"] == "Ada@Example.org"


# --- screenName and report-classification (§8.2), registered and paid following orders -----------


def test_update_user_sets_and_clears_screen_name_and_report_classification(live, ada):
    set_both = live.call(
        "updateUser",
        {"userKey": ada.user_key, "screenName": " ada.l ", "report-classification": "Speaker"},
    )
    after_set = columns(ada)
    cleared = live.call("updateUser", {"userKey": ada.user_key, "screenName": ""})

    assert (set_both.body, cleared.body) == (ok_xml(ada), ok_xml(ada))
    assert (after_set["screen_name"], after_set["report_classification"]) == ("ada.l", "Speaker")
    assert after_set["modified_at"] > LONG_AGO
    assert (columns(ada)["screen_name"], columns(ada)["report_classification"]) == ("", "Speaker")
    user = live.call("getUser", {"userRef": ada.user_ref}).xml.find("user")
    assert (user.findtext("screenName"), user.findtext("report-classification")) == (
        "",
        "Speaker",
    )


def test_update_user_with_the_same_screen_name_leaves_last_modified(live, ada):
    User.objects.filter(pk=ada.pk).update(screen_name="ada.l")

    result = live.call("updateUser", {"userKey": ada.user_key, "screenName": "ada.l"})

    assert result.code == 0
    assert columns(ada)["modified_at"] == LONG_AGO


def test_update_user_screen_name_over_100_characters_is_refused_with_201(live, ada):
    result = live.call("updateUser", {"userKey": ada.user_key, "screenName": "x" * 101})

    assert (result.status, result.body) == (
        400,
        error_xml(201, "parameter 'screenName' must be at most 100 characters"),
    )


@pytest.mark.parametrize("name", ["registered", "paid"])
def test_update_user_registered_or_paid_where_they_follow_orders_is_refused_with_201(
    live, live_site, ada, name
):
    """Where the site derives them from orders, the next order change would overwrite what the
    registration system sent: refused, and nothing of the call is written."""
    set_status_from_orders(live_site.site, enabled=True)
    before = columns(ada)

    result = live.call("updateUser", {"userKey": ada.user_key, name: "true", "city": "Paris"})

    assert (result.status, result.body) == (
        400,
        error_xml(
            201,
            f"parameter '{name}' is not accepted on this site: registered and paid follow "
            "from the user's orders",
        ),
    )
    assert columns(ada) == before


def test_update_user_registered_is_taken_where_the_site_leaves_it_to_the_client(live, ada):
    result = live.call("updateUser", {"userKey": ada.user_key, "registered": "true"})

    assert result.code == 0
    assert columns(ada)["registered"] is True
