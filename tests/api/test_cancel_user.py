"""cancelUser.do through HTTP (contract §5, §8.2): the status becomes cancelled, the record and
its history stay, and the user can no longer be acted as (215)."""

import datetime as dt

import pytest

from confero.access.models import ApiCall
from confero.customfields.models import Answer
from confero.people.models import User

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


def cancelled_xml(user: User) -> bytes:
    return (
        DECLARATION
        + (
            '<api><response code="0">Success</response>'
            f"<userRef>{user.user_ref}</userRef><status>cancelled</status></api>"
        ).encode()
    )


@pytest.fixture
def ada(ada_with, fields) -> User:
    """The suite's Ada, holding a business type and two dietary needs."""
    return ada_with(custom={"type_business": "govt", "dietary": ["veg", "gf"]})


def test_cancel_user_by_user_key_keeps_the_record(live, ada):
    before = User.objects.filter(pk=ada.pk).values().get()
    answers = list(
        Answer.objects.filter(record_id=ada.pk).values_list("field__code", "value__code")
    )

    result = live.call("cancelUser", {"userKey": ada.user_key})

    after = User.objects.filter(pk=ada.pk).values().get()
    assert (result.status, result.body) == (200, cancelled_xml(ada))
    assert after["modified_at"] > LONG_AGO
    assert after == {**before, "status": "cancelled", "modified_at": after["modified_at"]}
    assert (
        list(Answer.objects.filter(record_id=ada.pk).values_list("field__code", "value__code"))
        == answers
    )
    assert answers == [("type_business", "govt"), ("dietary", "veg"), ("dietary", "gf")]
    call = ApiCall.objects.order_by("-id").first()
    assert (call.resource, call.code, call.http_status) == ("cancelUser", 0, 200)


def test_cancel_user_by_client_id(live, ada):
    result = live.call("cancelUser", {"clientID": "CRM-1"})

    assert (result.status, result.body) == (200, cancelled_xml(ada))
    assert User.objects.get(pk=ada.pk).status == "cancelled"


def test_cancel_user_by_user_ref_is_refused_with_212(live, ada):
    result = live.call("cancelUser", {"userRef": ada.user_ref})

    assert (result.status, result.body) == (
        400,
        error_xml(212, "userRef cannot act as the user: use userKey or clientID"),
    )
    assert User.objects.get(pk=ada.pk).status == "active"


def test_cancel_user_twice_is_refused_with_215(live, ada):
    assert live.call("cancelUser", {"userKey": ada.user_key}).code == 0
    stamped = User.objects.get(pk=ada.pk).modified_at

    result = live.call("cancelUser", {"userKey": ada.user_key})

    assert (result.status, result.body) == (409, error_xml(215, "user is cancelled"))
    assert User.objects.get(pk=ada.pk).modified_at == stamped


def test_cancel_user_with_identifiers_of_different_users_is_refused_with_213(live, ada):
    grace = live.add_user(email="grace@example.org", clientID="CRM-2")

    result = live.call("cancelUser", {"userKey": ada.user_key, "clientID": "CRM-2"})

    assert (result.status, result.code) == (400, 213)
    assert list(
        User.objects.filter(pk__in=[ada.pk, grace.pk]).values_list("status", flat=True)
    ) == ["active", "active"]


def test_cancel_user_does_not_take_contact_or_custom_fields(live, ada):
    """cancelUser changes the status only: anything else sent is an error and nothing changes.
    It writes, so an undeclared parameter is a custom field code (§2), and it takes none: 300."""
    result = live.call("cancelUser", {"userKey": ada.user_key, "city": "London"})

    assert (result.status, result.body) == (
        400,
        error_xml(
            300, "parameter 'city' is not known to cancelUser.do (it takes no custom fields)"
        ),
    )
    assert User.objects.get(pk=ada.pk).status == "active"


@pytest.mark.parametrize(
    ("resource", "params"),
    [
        ("updateUser", {"city": "London"}),
        ("cancelUser", {}),
    ],
)
def test_cancelled_user_cannot_be_acted_as(live, ada, resource, params):
    assert live.call("cancelUser", {"clientID": "CRM-1"}).code == 0

    by_key = live.call(resource, {"userKey": ada.user_key, **params})
    by_client_id = live.call(resource, {"clientID": "CRM-1", **params})

    assert (by_key.status, by_key.code, by_client_id.status, by_client_id.code) == (
        409,
        215,
        409,
        215,
    )
    assert User.objects.get(pk=ada.pk).city == ""


def test_cancelled_user_is_still_read_by_get_user_and_the_feed(live, ada):
    assert live.call("cancelUser", {"userKey": ada.user_key}).code == 0

    got = live.call("getUser", {"userRef": ada.user_ref})
    fed = live.call("userData")

    assert (got.code, got.xml.findtext("user/status")) == (0, "cancelled")
    assert [(u.findtext("userRef"), u.findtext("status")) for u in fed.xml.findall("user")] == [
        (ada.user_ref, "cancelled")
    ]
