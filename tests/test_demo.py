"""demo.py: the demo event's exhibitors with staff, its conversation, its catalogue and orders,
and custom fields named as real clients read them, seen through the API with the tokens
`confero demo` prints, and kept as they are when it runs again. The event, its tokens and its
login: tests/cli/test_cli.py."""

import pytest

from confero.customfields.models import CustomField
from confero.demo import ensure_demo
from confero.events.models import Site
from confero.exhibitors.models import Exhibitor
from confero.messaging.models import Message
from confero.people.models import User
from confero.registration.models import Order, OrderEntry, Package, RegCode, RegistrationType


def test_demo_has_exhibitors_with_staff_and_a_conversation_on_each_site(api, db):
    info = ensure_demo()
    ada = User.objects.get(site__environment="production", email="ada@example.org")

    for environment, prefix in (("production", "/"), ("uat", "/uat/")):
        token = info.tokens[environment]
        exhibitors = api.call(f"{prefix}demo/api/exhibitorData.do", {"apiToken": token}).xml
        messages = api.call(
            f"{prefix}demo/api/messages.do", {"apiToken": token, "clientID": "CRM-1001"}
        ).xml

        assert [
            (
                e.findtext("exhibitorCode"),
                e.findtext("booth"),
                e.find("Sponsor-level").text,
                e.find("Sponsor-level").get("other"),
                [(p.findtext("firstName"), p.findtext("role")) for p in e.findall("participant")],
                [f.findtext("displayName") for f in e.findall("exhibitorFile")],
            )
            for e in exhibitors.findall("exhibitor")
        ] == [
            ("EXH-AE", "A1", "gold", None, [("Ada", "Lead"), ("Alan", "Engineer")], ["Brochure"]),
            ("EXH-CW", "B7", "other", "Community partner", [("Grace", "Sales")], []),
        ]
        assert [
            (m.findtext("direction"), m.findtext("subject"), m.findtext("read"))
            for m in messages.findall("message")
        ] == [
            ("out", "Re: Coffee at booth A1?", "false"),
            ("in", "Coffee at booth A1?", "true"),
        ]
    assert messages.find("message/fromUserRef").text != ada.user_ref  # UAT's Ada is another user


def test_demo_again_keeps_exhibitors_and_messages_as_they_are(api, db):
    first = ensure_demo()
    api.call(
        "/demo/api/updateExhibitor.do",
        {"apiToken": first.tokens["production"], "exhibitorCode": "EXH-CW", "booth": "C9"},
    )

    ensure_demo()

    assert Exhibitor.objects.count() == 4
    assert Message.objects.count() == 4
    assert Exhibitor.objects.get(site__environment="production", exhibitor_code="EXH-CW").booth == (
        "C9"
    )


# --- The catalogue and orders (issue 16) ----------------------------------------------------


@pytest.fixture
def demo(db):
    return ensure_demo()


def call(api, resource: str, token: str, **params):
    return api.call(f"/demo/api/{resource}.do", {"apiToken": token, **params})


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (User, CustomField, RegistrationType, Package, RegCode, Order, OrderEntry)
    )


def test_demo_seeds_each_site_once_however_often_it_runs(demo):
    first = counts()

    ensure_demo()

    assert counts() == first == (6, 12, 4, 6, 4, 6, 10)
    for site in Site.objects.all():
        assert sorted(Order.objects.filter(site=site).values_list("order_number", flat=True)) == [
            "RS-1001",
            "RS-1002",
            "RS-1003",
        ]


def test_demo_orders_show_a_purchase_a_change_and_a_cancel(api, demo):
    token = demo.tokens["production"]

    feed = call(api, "orderFeed", token)

    users = {u.user_ref: u.first_name for u in User.objects.filter(site__environment="production")}
    listed = [
        (users[o.findtext("userRef")], o.findtext("orderType")) for o in feed.xml.iter("order")
    ]
    assert listed == [
        ("Ada", "Purchase"),
        ("Grace", "Purchase"),
        ("Grace", "Change"),
        ("Alan", "Purchase"),
        ("Alan", "Cancel"),
    ]


def test_demo_order_data_of_ada_by_user_ref_is_paid_in_full_with_her_code(api, demo):
    token = demo.tokens["production"]
    user_ref = call(api, "getUser", token, clientID="CRM-1001").xml.findtext("user/userRef")

    result = call(api, "orderData", token, userRef=user_ref)

    xml = result.xml
    assert (result.code, xml.findtext("accountBalance")) == (0, "0.00")
    assert [i.findtext("name") for i in xml.iter("orderItem")] == [
        "Conference pass",
        "Workshop day",
    ]
    assert xml.findtext("orderData/order/paidInFull") == "true"
    user = call(api, "getUser", token, userRef=user_ref).xml.find("user")
    assert [code.text for code in user.find("regcodes")] == ["EARLYBIRD"]


def test_demo_custom_fields_are_named_as_real_clients_read_them(api, demo):
    record = call(api, "getUser", demo.tokens["production"], clientID="CRM-1002").xml.find("user")

    assert [
        (child.tag, child.text)
        for child in record
        if child.tag in ("Type-of-Business", "T-Shirt-Size", "Attendee-Type")
    ] == [("Type-of-Business", "govt"), ("T-Shirt-Size", "m"), ("Attendee-Type", "member")]


def test_demo_renames_the_fields_of_a_site_seeded_before(db):
    ensure_demo()
    CustomField.objects.filter(code="attendee_type").update(
        display_name="Attendee type", element_name="Attendee-type"
    )

    ensure_demo()

    assert set(
        CustomField.objects.filter(code="attendee_type").values_list("element_name", flat=True)
    ) == {"Attendee-Type"}
