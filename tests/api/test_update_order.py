"""updateOrder.do through HTTP (contract §8.7): items replaced (a Change entry), payments and
refunds, orders named by orderNumber or orderId (250), an optional user named as a check, and
`registered`/`paid` following orders where the site says so; one call, one transaction."""

import pytest

from confero.people.models import User
from confero.registration.models import Order, OrderEntry, Payment
from confero.registration.standing import set_status_from_orders
from tests.api.orders import entries, error_xml, items, order_answer


@pytest.fixture
def kat(live) -> User:
    return live.add_user(email="kat@example.org", clientID="CRM-17")


@pytest.fixture
def order(live, kat, catalogue) -> Order:
    result = live.call(
        "addOrder", {"userKey": kat.user_key, "item": ["VIP", "Workshop|120.00"],
                     "orderNumber": "RS-1"}
    )  # fmt: skip
    assert result.code == 0, result.body
    return Order.objects.get()


def state(order: Order) -> tuple:
    order.refresh_from_db()
    return (order.total, order.amount_paid, order.modified_at, OrderEntry.objects.count(),
            Payment.objects.count())  # fmt: skip


def test_update_order_items_replace_what_it_holds_in_one_change_entry(live, order):
    result = live.call("updateOrder", {"orderNumber": "RS-1", "item": ["VIP", "DINNER"]})

    order.refresh_from_db()
    assert (result.status, result.body) == (
        200,
        order_answer(order, status="active", total="530.00", paid="0.00", in_full=False),
    )
    _, change = entries(order)
    assert (change.kind, str(change.total_price)) == ("Change", "-40.00")
    assert [(i.entry_id, i.name, str(i.price), i.reverses_id) for i in items(order)[2:]] == [
        (change.pk, "Workshop", "-120.00", items(order)[1].pk),
        (change.pk, "Guest dinner", "80.00", None),
    ]


def test_update_order_with_the_items_it_holds_adds_no_entry_and_moves_nothing(live, order):
    before = state(order)

    result = live.call(
        "updateOrder", {"orderId": str(order.pk), "item": ["Workshop|120.00", "VIP"]}
    )

    assert result.body == order_answer(
        order, status="active", total="570.00", paid="0.00", in_full=False
    )
    assert state(order) == before


def test_update_order_amount_paid_records_a_payment_and_refunds_are_negative(live, order):
    first = live.call("updateOrder", {"orderNumber": "RS-1", "amountPaid": "570.00"})
    refund = live.call("updateOrder", {"orderNumber": "RS-1", "amountPaid": "-70.5"})

    assert first.body == order_answer(
        order, status="active", total="570.00", paid="570.00", in_full=True
    )
    assert refund.body == order_answer(
        order, status="active", total="570.00", paid="499.50", in_full=False
    )
    assert [str(p.amount) for p in Payment.objects.order_by("id")] == ["570.00", "-70.50"]
    assert [e.kind for e in entries(order)] == ["Purchase"]  # a payment is not an entry


def test_update_order_amount_paid_zero_records_nothing(live, order):
    before = state(order)

    result = live.call("updateOrder", {"orderNumber": "RS-1", "amountPaid": "0"})

    assert result.code == 0
    assert state(order) == before


def test_update_order_by_order_id_and_number_of_the_same_order(live, order):
    result = live.call(
        "updateOrder", {"orderId": str(order.pk), "orderNumber": "RS-1", "amountPaid": "1.00"}
    )

    assert result.xml.findtext("amountPaid") == "1.00"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"orderNumber": "RS-404"}, "no order with orderNumber 'RS-404' on this site"),
        ({"orderId": "987654"}, "no order with orderId 987654 on this site"),
        ({"orderId": "{pk}", "orderNumber": "RS-2"},
         "no order with orderId {pk} and orderNumber 'RS-2' on this site"),
    ],
)  # fmt: skip
def test_update_order_of_an_order_it_cannot_find_is_refused_with_250(live, order, params, message):
    before = state(order)
    params = {name: value.format(pk=order.pk) for name, value in params.items()}

    result = live.call("updateOrder", {**params, "amountPaid": "10.00"})

    assert (result.status, result.body) == (404, error_xml(250, message.format(pk=order.pk)))
    assert state(order) == before


def test_update_order_of_an_order_of_the_other_site_is_refused_with_250(api, order, uat_site):
    result = api.call(
        uat_site.url("updateOrder"),
        {"apiToken": uat_site.token, "orderId": str(order.pk), "amountPaid": "10.00"},
    )

    assert (result.status, result.code) == (404, 250)


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        ({"amountPaid": "10.00"}, 200, "parameter 'orderId' or 'orderNumber' is required"),
        ({"orderNumber": "RS-1"}, 200, "parameter 'item' or 'amountPaid' is required"),
        ({"orderId": "RS-1", "amountPaid": "1"}, 201,
         "parameter 'orderId' must be a whole number"),
        ({"orderId": "0", "amountPaid": "1"}, 201,
         "parameter 'orderId' must be a whole number from 1 to 9007199254740992"),
        ({"orderNumber": "RS-1", "amountPaid": "ten"}, 201,
         "parameter 'amountPaid' must be an amount as a decimal amount with at most 2 places, "
         "below 100000000"),
        ({"orderNumber": "RS-1", "amountPaid": ["1", "2"]}, 201,
         "parameter 'amountPaid' is repeated; send it once"),
        ({"orderNumber": "RS-1", "item": "NOPKG"}, 201,
         "parameter 'item': no package 'NOPKG' on this site"),
    ],
)  # fmt: skip
def test_update_order_with_parameters_not_valid_is_refused(live, order, params, code, message):
    before = state(order)

    result = live.call("updateOrder", params)

    assert (result.status, result.body) == (400, error_xml(code, message))
    assert state(order) == before


def test_update_order_items_of_a_cancelled_order_are_refused_its_payments_taken(live, order):
    live.call("cancelOrder", {"orderNumber": "RS-1"})
    before = state(order)

    refused = live.call("updateOrder", {"orderNumber": "RS-1", "item": "VIP"})
    refunded = live.call("updateOrder", {"orderNumber": "RS-1", "amountPaid": "-5.00"})

    assert (refused.status, refused.body) == (
        400,
        error_xml(
            201, f"parameter 'item': order {order.pk} is cancelled: its items stay as they were"
        ),
    )
    assert refunded.body == order_answer(
        order, status="cancelled", total="0.00", paid="-5.00", in_full=False
    )
    assert state(order)[3] == before[3]  # no entry added


def test_update_order_is_one_transaction_a_later_refusal_undoes_the_change(live, order):
    """The items are changed first, then the payment: a payment the order's sum cannot hold is
    refused, and the Change entry written before it goes too."""
    live.call("updateOrder", {"orderNumber": "RS-1", "amountPaid": "99999999.99"})
    before = state(order)

    result = live.call(
        "updateOrder", {"orderNumber": "RS-1", "item": "VIP", "amountPaid": "99999999.99"}
    )

    assert (result.status, result.code) == (400, 201)
    assert "amountPaid would reach" in result.message
    assert state(order) == before
    assert [e.kind for e in entries(order)] == ["Purchase"]


@pytest.mark.parametrize("kind", ["userKey", "clientID", "userRef"])
def test_update_order_with_its_user_named_succeeds(live, kat, order, kind):
    value = {"userKey": kat.user_key, "clientID": "CRM-17", "userRef": kat.user_ref}[kind]

    result = live.call("updateOrder", {"orderNumber": "RS-1", kind: value, "amountPaid": "1"})

    assert result.code == 0


def test_update_order_with_another_user_named_is_refused_as_not_found(live, order):
    other = live.add_user(email="other@example.org")
    before = state(order)

    result = live.call(
        "updateOrder", {"orderNumber": "RS-1", "userRef": other.user_ref, "amountPaid": "1"}
    )

    assert (result.status, result.body) == (
        404,
        error_xml(250, f"order {order.pk} is not an order of the user named by userRef"),
    )
    assert state(order) == before


def test_update_order_with_an_unknown_user_named_is_refused_with_210(live, order):
    result = live.call(
        "updateOrder", {"orderNumber": "RS-1", "userRef": "0" * 16, "amountPaid": "1"}
    )

    assert (result.status, result.code) == (404, 210)


def test_update_order_of_a_cancelled_users_order_records_a_refund(live, kat, order):
    live.call("updateOrder", {"orderNumber": "RS-1", "amountPaid": "100.00"})
    live.call("cancelUser", {"userKey": kat.user_key})

    result = live.call("updateOrder", {"orderNumber": "RS-1", "amountPaid": "-100.00"})

    assert result.xml.findtext("amountPaid") == "0.00"


def test_update_order_registered_and_paid_follow_where_the_site_says_so(
    live, kat, order, live_site
):
    set_status_from_orders(live_site.site, enabled=True)

    def status() -> tuple[str, str]:
        user = live.call("getUser", {"userRef": kat.user_ref}).xml.find("user")
        return user.findtext("registered"), user.findtext("paid")

    assert status() == ("true", "false")
    live.call("updateOrder", {"orderNumber": "RS-1", "amountPaid": "570.00"})
    assert status() == ("true", "true")
    live.call("updateOrder", {"orderNumber": "RS-1", "item": ["VIP", "Workshop|120", "DINNER"]})
    assert status() == ("true", "false")  # 80.00 more owed
    live.call("cancelOrder", {"orderNumber": "RS-1"})
    assert status() == ("false", "false")
