"""cancelOrder.do through HTTP (contract §8.7): the order stays and a Cancel entry takes back
every item it still held, with negated amounts; its registration code gets its use back;
cancelling again changes nothing; an order it cannot find is 250."""

import pytest
from lxml import etree

from confero.people.models import User
from confero.registration.models import Order, OrderEntry, RegCode
from tests.api.orders import entries, error_xml, items, order_answer
from tests.factories import RegCodeFactory


@pytest.fixture
def kat(live) -> User:
    return live.add_user(email="kat@example.org")


@pytest.fixture
def order(live, kat, catalogue, live_site) -> Order:
    RegCodeFactory(site=live_site.site, code="VIPFREE", package=catalogue.vip, uses=1)
    result = live.call(
        "addOrder",
        {"userKey": kat.user_key, "item": ["VIP", "DINNER||||Jane"], "regcode": "VIPFREE",
         "orderNumber": "RS-1"},
    )  # fmt: skip
    assert result.code == 0, result.body
    live.call("updateOrder", {"orderNumber": "RS-1", "amountPaid": "80.00"})
    return Order.objects.get()


def test_cancel_order_adds_a_cancel_entry_taking_back_what_it_held(live, order):
    result = live.call("cancelOrder", {"orderNumber": "RS-1"})

    order.refresh_from_db()
    assert (result.status, result.body) == (
        200,
        order_answer(order, status="cancelled", total="0.00", paid="80.00", in_full=True),
    )
    _, cancel = entries(order)
    assert (cancel.kind, str(cancel.total_price), cancel.guest_package) == (
        "Cancel",
        "-80.00",
        True,
    )
    vip, dinner = items(order)[:2]
    taken_back = [(i.name, str(i.price), i.reverses_id, i.cancelled_at) for i in items(order)[2:]]
    assert taken_back == [
        ("VIP pass", "0.00", vip.pk, cancel.ordered_at),
        ("Guest dinner", "-80.00", dinner.pk, cancel.ordered_at),
    ]
    assert order.cancelled_at == cancel.ordered_at


def test_cancel_order_gives_its_registration_code_its_use_back(live, kat, order):
    assert RegCode.objects.get().uses_left == 0
    held = live.call("getUser", {"userRef": kat.user_ref}).xml.iterfind("user/regcodes/regcode")
    assert [code.text for code in held] == ["VIPFREE"]

    live.call("cancelOrder", {"orderId": str(order.pk)})

    assert RegCode.objects.get().uses_left == 1
    user = live.call("getUser", {"userRef": kat.user_ref}).xml.find("user")
    assert etree.tostring(user.find("regcodes")) == b"<regcodes/>"


def test_cancel_order_again_succeeds_and_changes_nothing(live, order):
    first = live.call("cancelOrder", {"orderNumber": "RS-1"})
    order.refresh_from_db()
    before = (order.modified_at, OrderEntry.objects.count(), RegCode.objects.get().uses_left)

    again = live.call("cancelOrder", {"orderNumber": "RS-1"})

    order.refresh_from_db()
    assert (again.status, again.body) == (200, first.body)
    assert (
        order.modified_at,
        OrderEntry.objects.count(),
        RegCode.objects.get().uses_left,
    ) == before


@pytest.mark.parametrize(
    ("params", "status", "code", "message"),
    [
        ({"orderNumber": "RS-404"}, 404, 250, "no order with orderNumber 'RS-404' on this site"),
        ({"orderId": "4040"}, 404, 250, "no order with orderId 4040 on this site"),
        ({}, 400, 200, "parameter 'orderId' or 'orderNumber' is required"),
    ],
)
def test_cancel_order_of_an_order_it_cannot_find_is_refused(
    live, order, params, status, code, message
):
    result = live.call("cancelOrder", params)

    assert (result.status, result.body) == (status, error_xml(code, message))
    order.refresh_from_db()
    assert (order.cancelled_at, OrderEntry.objects.count()) == (None, 1)


def test_cancel_order_of_another_users_order_is_refused_as_not_found(live, order):
    other = live.add_user(email="other@example.org")

    result = live.call("cancelOrder", {"orderNumber": "RS-1", "userKey": other.user_key})

    assert (result.status, result.code) == (404, 250)
    assert Order.objects.get().cancelled_at is None
