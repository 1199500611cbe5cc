"""The demo data (confero.demo): what the README's tour reads — custom fields named as real
clients read them, a catalogue, and orders of each kind — made once, whatever the number of runs.
(The CLI's `confero demo`, its tokens and login: tests/cli/test_cli.py.)"""

import pytest

from confero.customfields.models import CustomField
from confero.demo import ensure_demo
from confero.events.models import Site
from confero.people.models import User
from confero.registration.models import Order, OrderEntry, Package, RegCode, RegistrationType


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

    assert counts() == first == (6, 10, 4, 6, 4, 6, 10)
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
