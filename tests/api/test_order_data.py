"""orderData.do through HTTP (contract §8.7): a user's orders in the recorded shape — `response`,
`userRef`, `accountBalance`, `<orderData>` of `<order>`, `<invoiceData>`, `<paymentData>`,
`<orderTransferHistory>` — every element of every order always there, money as `0.00`, by
userRef, userKey or clientID; and pinned query counts."""

import json

import pytest

from confero.people.models import User
from tests.api.orders import (
    DECLARATION,
    OK,
    Line,
    entries,
    error_xml,
    invoice_xml,
    items,
    order_xml,
    stamp,
)


@pytest.fixture
def kat(live) -> User:
    return live.add_user(firstName="Kat", lastName="Johnson", email="kat@example.org",
                         clientID="CRM-17")  # fmt: skip


def place(live, kat, **params):
    result = live.call("addOrder", {"userKey": kat.user_key, **params})
    assert result.code == 0, result.body
    return kat.orders.get(pk=result.xml.findtext("orderId"))


@pytest.fixture
def purchase(live, kat, catalogue):
    """A Purchase: the VIP pass (a package) and a workshop the registration system names and
    prices, with a booking fee and tax."""
    return place(live, kat, item=["VIP", "Workshop|120.00|5.00|22.80"], orderNumber="RS-1")


@pytest.fixture
def history(live, purchase):
    """The purchase, then a Change (the workshop taken back, a guest dinner added, 300.00 paid),
    then its cancellation."""
    changed = live.call(
        "updateOrder",
        {"orderNumber": "RS-1", "item": ["VIP", "DINNER||||Jane Doe"], "amountPaid": "300.00"},
    )
    assert changed.code == 0, changed.body
    assert live.call("cancelOrder", {"orderNumber": "RS-1"}).code == 0
    return purchase


def data_xml(user: User, *, balance: str, orders: str, invoices: str, payments: str) -> bytes:
    def listed(name: str, content: str) -> str:
        return f"<{name}>{content}</{name}>" if content else f"<{name}/>"

    return (
        DECLARATION
        + (
            f"<api>{OK}<userRef>{user.user_ref}</userRef><accountBalance>{balance}</accountBalance>"
            f"{listed('orderData', orders)}{listed('invoiceData', invoices)}"
            f"{listed('paymentData', payments)}<orderTransferHistory/></api>"
        ).encode()
    )


def test_order_data_of_a_purchase_has_every_element(live, kat, purchase):
    [entry] = entries(purchase)
    vip, workshop = items(purchase)

    result = live.call("orderData", {"userRef": kat.user_ref})

    assert (result.status, result.headers["Content-Type"]) == (
        200,
        "application/xml; charset=utf-8",
    )
    assert result.body == data_xml(
        kat,
        balance="597.80",
        orders=order_xml(
            entry, kind="Purchase", total="597.80", base="570.00", fee="5.00", tax="22.80",
            paid=False, guest=False,
            lines=[
                Line(vip, "VIP pass", "package", "450.00", "450.00"),
                Line(workshop, "Workshop", "item", "147.80", "120.00", "5.00", "22.80"),
            ],
        ),
        invoices=invoice_xml(entry, kind="Purchase", amount="597.80", tax="22.80", due="597.80"),
        payments="",
    )  # fmt: skip


def test_order_data_of_a_change_and_a_cancel_lists_every_entry_with_its_items(live, kat, history):
    """The Change takes the workshop back (negated, both lines dated by the Change) and adds
    the dinner; the Cancel takes back what was still held. The entries add up to what the
    order costs now (0.00); the 300.00 paid is owed back: the balance is -300.00."""
    purchase, change, cancel = entries(history)
    vip, workshop, workshop_back, dinner, vip_back, dinner_back = items(history)
    payment = history.payments.get()

    result = live.call("orderData", {"userRef": kat.user_ref})

    assert (stamp(workshop.cancelled_at), stamp(vip.cancelled_at)) == (
        stamp(change.ordered_at),
        stamp(cancel.ordered_at),
    )
    assert result.body == data_xml(
        kat,
        balance="-300.00",
        orders=order_xml(
            purchase, kind="Purchase", total="597.80", base="570.00", fee="5.00", tax="22.80",
            paid=True, guest=False,
            lines=[
                Line(vip, "VIP pass", "package", "450.00", "450.00"),
                Line(workshop, "Workshop", "item", "147.80", "120.00", "5.00", "22.80"),
            ],
        ) + order_xml(
            change, kind="Change", total="-67.80", base="-40.00", fee="-5.00", tax="-22.80",
            paid=True, guest=True,
            lines=[
                Line(workshop_back, "Workshop", "item", "-147.80", "-120.00", "-5.00", "-22.80"),
                Line(dinner, "Guest dinner", "package", "80.00", "80.00", guest=True,
                     guest_name="Jane Doe"),
            ],
        ) + order_xml(
            cancel, kind="Cancel", total="-530.00", base="-530.00", fee="0.00", tax="0.00",
            paid=True, guest=True,
            lines=[
                Line(vip_back, "VIP pass", "package", "-450.00", "-450.00"),
                Line(dinner_back, "Guest dinner", "package", "-80.00", "-80.00", guest=True,
                     guest_name="Jane Doe"),
            ],
        ),
        invoices=(
            invoice_xml(purchase, kind="Purchase", amount="597.80", tax="22.80", due="597.80")
            + invoice_xml(change, kind="Change", amount="-67.80", tax="-22.80", due="530.00")
            + invoice_xml(cancel, kind="Cancel", amount="-530.00", tax="0.00", due="-300.00")
        ),
        payments=(
            f"<payment><paymentId>{payment.pk}</paymentId><orderId>{history.pk}</orderId>"
            f"<amount>300.00</amount><paymentDate>{stamp(payment.paid_at)}</paymentDate>"
            "</payment>"
        ),
    )  # fmt: skip


def test_order_data_totals_of_the_entries_add_up_to_what_the_order_costs_now(live, kat, history):
    place(live, kat, item="Dinner for two|99.50")

    xml = live.call("orderData", {"userRef": kat.user_ref}).xml

    totals = [float(order.findtext("totalPrice")) for order in xml.iter("order")]
    assert totals == [597.80, -67.80, -530.00, 99.50]
    assert round(sum(totals), 2) == 99.50
    assert xml.findtext("accountBalance") == "-200.50"  # 99.50 owed, 300.00 to pay back


def test_order_data_of_several_orders_lists_entries_in_the_order_written(live, kat, catalogue):
    first = place(live, kat, item="VIP")
    second = place(live, kat, item="DINNER")
    live.call("updateOrder", {"orderId": str(first.pk), "item": ["VIP", "Parking|15.00"]})

    xml = live.call("orderData", {"userRef": kat.user_ref}).xml

    assert [(o.findtext("orderId"), o.findtext("orderType")) for o in xml.iter("order")] == [
        (str(first.pk), "Purchase"),
        (str(second.pk), "Purchase"),
        (str(first.pk), "Change"),
    ]
    assert [i.findtext("invoiceNumber") for i in xml.iter("invoice")] == [
        f"{first.pk}-1",
        f"{second.pk}-1",
        f"{first.pk}-2",
    ]


def test_order_data_of_a_user_without_orders_has_empty_lists_and_a_zero_balance(live, kat):
    result = live.call("orderData", {"userRef": kat.user_ref})

    assert result.body == data_xml(kat, balance="0.00", orders="", invoices="", payments="")


@pytest.mark.parametrize("by", ["userRef", "userKey", "clientID"])
def test_order_data_names_the_user_by_each_identifier(live, kat, purchase, by):
    by_ref = live.call("orderData", {"userRef": kat.user_ref})
    value = {"userRef": kat.user_ref, "userKey": kat.user_key, "clientID": "CRM-17"}[by]

    result = live.call("orderData", {by: value.lower() if by != "clientID" else value})

    assert (result.status, result.body) == (200, by_ref.body)
    assert kat.user_key.encode() not in result.body


def test_order_data_of_a_cancelled_user_is_still_answered(live, kat, purchase):
    live.call("cancelUser", {"userKey": kat.user_key})

    result = live.call("orderData", {"userRef": kat.user_ref})

    assert (result.code, len(result.xml.findall("orderData/order"))) == (0, 1)


@pytest.mark.parametrize(
    ("params", "code", "status", "message"),
    [
        ({}, 200, 400, "parameter 'userKey', 'clientID' or 'userRef' is required"),
        ({"userRef": "0" * 16}, 210, 404, f"no user with userRef '{'0' * 16}' on this site"),
        ({"clientID": "CRM-404"}, 210, 404, "no user with clientID 'CRM-404' on this site"),
        ({"userKey": "XYZ"}, 210, 404, "no user with userKey 'XYZ' on this site"),
    ],
)
def test_order_data_refuses_a_user_it_cannot_find(live, kat, params, code, status, message):
    result = live.call("orderData", params)

    assert (result.status, result.body) == (status, error_xml(code, message))


def test_order_data_refuses_identifiers_of_two_users_with_213(live, kat):
    other = live.add_user(email="other@example.org")

    result = live.call("orderData", {"userRef": kat.user_ref, "userKey": other.user_key})

    assert (result.status, result.body) == (
        400,
        error_xml(213, "userKey and userRef name different users"),
    )


def test_order_data_names_only_users_of_its_site(live, kat, purchase, api, uat_site):
    result = api.call(uat_site.url("orderData"), {"apiToken": uat_site.token,
                                                   "userRef": kat.user_ref})  # fmt: skip

    assert (result.status, result.code) == (404, 210)


def test_order_data_as_json_has_the_same_content(live, kat, purchase):
    [entry] = entries(purchase)
    vip, workshop = items(purchase)

    result = live.call("orderData", {"userRef": kat.user_ref, "format": "json"})

    assert result.headers["Content-Type"] == "application/json; charset=utf-8"
    document = json.loads(result.body)["api"]
    assert document["accountBalance"] == "597.80"
    assert document["paymentData"] == {}
    assert document["orderTransferHistory"] == {}
    [order] = document["orderData"]["order"]
    assert order == {
        "orderId": purchase.pk, "orderType": "Purchase", "orderDate": stamp(entry.ordered_at),
        "totalPrice": "597.80", "basePrice": "570.00", "bookingFee": "5.00", "tax": "22.80",
        "paidInFull": False, "guestPackage": False,
        "orderItems": {"orderItem": [
            {"orderItemId": vip.pk, "name": "VIP pass", "type": "package",
             "orderDate": stamp(vip.ordered_at), "cancelDate": None, "price": "450.00",
             "basePrice": "450.00", "bookingFee": "0.00", "tax": "0.00",
             "cancellationFee": "0.00", "guestPackage": False, "guestName": ""},
            {"orderItemId": workshop.pk, "name": "Workshop", "type": "item",
             "orderDate": stamp(workshop.ordered_at), "cancelDate": None, "price": "147.80",
             "basePrice": "120.00", "bookingFee": "5.00", "tax": "22.80",
             "cancellationFee": "0.00", "guestPackage": False, "guestName": ""},
        ]},
    }  # fmt: skip
    assert document["invoiceData"]["invoice"][0]["invoiceNumber"] == f"{purchase.pk}-1"


# --- Query counts: no N+1 --------------------------------------------------------------------

# The gate (site, profile and token in one statement), the token's rate-limit counter, the user,
# the balance, the entries, their items, the invoices, the payments, the call log: the same on
# SQLite and PostgreSQL (no watermark: orderData.do is not a feed).
ORDER_DATA_QUERIES = 9


@pytest.mark.parametrize("count", [1, 3])
def test_order_data_query_count_does_not_grow_with_orders(
    live, kat, catalogue, assert_api_queries, count
):
    for n in range(count):
        order = place(live, kat, item=["VIP", f"Extra {n}|10.00"])
        live.call("updateOrder", {"orderId": str(order.pk), "item": "VIP", "amountPaid": "1.00"})

    with assert_api_queries(ORDER_DATA_QUERIES):
        result = live.call("orderData", {"userRef": kat.user_ref})

    xml = result.xml
    assert [len(xml.findall(f"{name}/{child}")) for name, child in (
        ("orderData", "order"), ("invoiceData", "invoice"), ("paymentData", "payment")
    )] == [2 * count, 2 * count, count]  # fmt: skip
