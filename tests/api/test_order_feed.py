"""orderFeed.do through HTTP (contract §6, §8, §8.7): the streamed `<order-data time>` feed, one
`<order>` per entry of each order as orderData.do shows it plus `userRef` and `eventGUID`,
`since` (an order changed comes again with all its entries, cancelled ones included),
`event=all`, and pinned query counts."""

import datetime as dt
import json
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from lxml import etree

from confero.access.models import ApiCall
from confero.api import feeds
from confero.api.feeds import epoch_millis
from confero.people.models import User
from confero.registration.models import ZERO, Order, OrderEntry, OrderItem
from tests.api.conftest import SiteApi
from tests.api.orders import DECLARATION, OK, Line, entries, items, order_xml
from tests.conftest import OpenSite
from tests.factories import AccountFactory, EventFactory, UserFactory, open_site

LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def feed_time(result) -> int:
    return int(result.xml.get("time"))


def listed(result) -> list[tuple[str, str, str]]:
    """(orderId, orderType, userRef) of each <order>, in the feed's order."""
    return [
        (o.findtext("orderId"), o.findtext("orderType"), o.findtext("userRef"))
        for o in result.xml.findall("order")
    ]


def set_modified(order: Order, moment: dt.datetime) -> None:
    Order.objects.filter(pk=order.pk).update(modified_at=moment)


@pytest.fixture
def kat(live) -> User:
    return live.add_user(email="kat@example.org")


def place(live, user, *items: str, **params) -> Order:
    result = live.call("addOrder", {"userKey": user.user_key, "item": list(items), **params})
    assert result.code == 0, result.body
    return Order.objects.get(pk=result.xml.findtext("orderId"))


# --- The document ------------------------------------------------------------------------------


def test_order_feed_is_a_streamed_feed_of_orders_with_user_ref_and_event_guid(
    live, live_site, kat, catalogue
):
    order = place(live, kat, "VIP", "DINNER|||4.00|Jane Doe", orderNumber="RS-1")
    [entry] = entries(order)
    vip, dinner = items(order)
    before = int(time.time() * 1000)

    result = live.call("orderFeed")

    after = int(time.time() * 1000)
    assert result.status == 200
    assert result.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert before - 1000 <= feed_time(result) <= after + 1000
    tail = f"<userRef>{kat.user_ref}</userRef><eventGUID>{live_site.event.guid_text}</eventGUID>"
    assert result.body == DECLARATION + (
        f'<order-data time="{feed_time(result)}">{OK}'
        + order_xml(
            entry, kind="Purchase", total="534.00", base="530.00", fee="0.00", tax="4.00",
            paid=False, guest=True, feed_tail=tail,
            lines=[
                Line(vip, "VIP pass", "package", "450.00", "450.00"),
                Line(dinner, "Guest dinner", "package", "84.00", "80.00", tax="4.00", guest=True,
                     guest_name="Jane Doe"),
            ],
        )
        + "</order-data>"
    ).encode()  # fmt: skip
    row = ApiCall.objects.order_by("-id").first()
    assert (row.resource, row.code, row.site_id) == ("orderFeed", 0, live_site.site.pk)


def test_order_feed_of_a_site_without_orders_is_an_empty_feed(live):
    result = live.call("orderFeed")

    assert (
        result.body
        == DECLARATION + (f'<order-data time="{feed_time(result)}">{OK}</order-data>').encode()
    )


def test_order_feed_lists_every_entry_in_the_order_written_cancelled_orders_included(
    live, kat, catalogue
):
    zed = live.add_user(email="zed@example.org")
    first = place(live, kat, "VIP")
    second = place(live, zed, "DINNER")
    live.call("updateOrder", {"orderId": str(first.pk), "item": "DINNER"})
    live.call("cancelOrder", {"orderId": str(second.pk)})

    result = live.call("orderFeed")

    assert listed(result) == [
        (str(first.pk), "Purchase", kat.user_ref),
        (str(second.pk), "Purchase", zed.user_ref),
        (str(first.pk), "Change", kat.user_ref),
        (str(second.pk), "Cancel", zed.user_ref),
    ]
    assert [o.findtext("paidInFull") for o in result.xml.findall("order")] == [
        "false",
        "true",  # cancelled: 0.00 owed
        "false",
        "true",
    ]


def test_order_feed_as_json_has_the_same_orders(live, kat, catalogue):
    order = place(live, kat, "VIP")

    result = live.call("orderFeed", {"format": "json"})

    document = json.loads(result.body)["order-data"]
    assert result.headers["Content-Type"] == "application/json; charset=utf-8"
    assert document["response"] == {"code": 0, "message": "Success"}
    [record] = document["order"]
    assert (record["orderId"], record["userRef"], record["totalPrice"]) == (
        order.pk,
        kat.user_ref,
        "450.00",
    )
    assert record["orderItems"]["orderItem"][0]["name"] == "VIP pass"


@pytest.mark.parametrize("params", [{}, {"format": "json"}, {"since": "0"}])
def test_order_feed_never_contains_a_user_key(live, kat, catalogue, params):
    place(live, kat, "VIP")

    result = live.call("orderFeed", params)

    assert kat.user_ref.encode() in result.body
    assert kat.user_key.encode() not in result.body
    assert b"userKey" not in result.body


def test_order_feed_ignores_what_real_clients_send_besides(live, live_site, kat, catalogue):
    place(live, kat, "VIP")
    body = f"apiToken={live_site.token}&sn=CRM&cn=Sync&locale=de_DE&caller=job&num=500"

    result = live.api.call(live_site.url("orderFeed"), body=body.encode(), content_type="text/xml")

    assert (result.code, len(listed(result))) == (0, 1)
    assert ApiCall.objects.order_by("-id").first().ignored_params == "sn, cn, locale, caller, num"


# --- since (§8): at or after, cancelled included, nothing missed -------------------------------


def test_since_leaves_out_orders_last_modified_before_it(live, kat, catalogue):
    old, new = place(live, kat, "VIP"), place(live, kat, "DINNER")
    set_modified(old, dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    set_modified(new, dt.datetime(2024, 6, 1, tzinfo=dt.UTC))

    result = live.call("orderFeed", {"since": epoch_millis(dt.datetime(2024, 3, 1, tzinfo=dt.UTC))})

    assert listed(result) == [(str(new.pk), "Purchase", kat.user_ref)]


def test_since_equal_to_last_modified_includes_the_order(live, kat, catalogue):
    order = place(live, kat, "VIP")
    moment = dt.datetime(2024, 6, 1, 12, 30, 15, 123000, tzinfo=dt.UTC)
    set_modified(order, moment)

    at = live.call("orderFeed", {"since": epoch_millis(moment)})
    after = live.call("orderFeed", {"since": epoch_millis(moment) + 1})

    assert (len(listed(at)), len(listed(after))) == (1, 0)


def test_since_an_order_changed_after_it_comes_again_with_every_entry(live, kat, catalogue):
    """An order is sent whole: a payment or a cancellation changes what every one of its
    entries shows (paidInFull, cancelDate), so all of them come again."""
    changed, untouched = place(live, kat, "VIP", orderNumber="RS-1"), place(live, kat, "DINNER")
    live.call("updateOrder", {"orderNumber": "RS-1", "item": ["VIP", "DINNER"]})
    first = live.call("orderFeed")
    assert len(listed(first)) == 3

    live.call("updateOrder", {"orderNumber": "RS-1", "amountPaid": "530.00"})
    second = live.call("orderFeed", {"since": feed_time(first)})
    live.call("cancelOrder", {"orderNumber": "RS-1"})
    third = live.call("orderFeed", {"since": feed_time(second)})

    assert listed(second) == [
        (str(changed.pk), "Purchase", kat.user_ref),
        (str(changed.pk), "Change", kat.user_ref),
    ]
    assert [o.findtext("paidInFull") for o in second.xml.findall("order")] == ["true", "true"]
    assert [kind for _, kind, _ in listed(third)] == ["Purchase", "Change", "Cancel"]
    assert str(untouched.pk) not in {order_id for order_id, _, _ in listed(third)}


def test_since_after_the_year_9999_is_refused_with_201(live):
    result = live.call("orderFeed", {"since": "253402300800000"})

    assert (result.status, result.code) == (400, 201)


# --- A change made while a feed streams shows up in the next call --------------------------------


def bulk_orders(site, count: int) -> list[Order]:
    """`count` Purchases of 1.00 (one item each) for two users, written straight to the
    database, last modified long ago: what the feed reads, without a thousand calls."""
    users = [UserFactory(site=site) for _ in range(2)]
    orders = Order.objects.bulk_create(
        Order(site=site, user=users[n % 2], total=Decimal("1.00"), created_at=LONG_AGO,
              modified_at=LONG_AGO)
        for n in range(count)
    )  # fmt: skip
    line = {"base_price": Decimal("1.00"), "booking_fee": ZERO, "tax": ZERO}
    purchases = OrderEntry.objects.bulk_create(
        OrderEntry(order=order, kind="Purchase", ordered_at=LONG_AGO, total_price=Decimal("1.00"),
                   guest_package=False, **line)
        for order in orders
    )  # fmt: skip
    OrderItem.objects.bulk_create(
        OrderItem(entry=entry, order_id=entry.order_id, type="item", name="Pass",
                  price=Decimal("1.00"), guest_package=False, ordered_at=LONG_AGO, **line)
        for entry in purchases
    )  # fmt: skip
    return list(Order.objects.filter(site=site).order_by("pk"))


def open_feed(client, site) -> StreamingHttpResponse:
    """orderFeed.do as the test client returns it: not read yet (see test_user_data_feed.py's
    open_feed for why it is read to its end and not closed)."""
    response = client.post(
        site.url("orderFeed"),
        f"apiToken={site.token}",
        content_type="application/x-www-form-urlencoded",
        REMOTE_ADDR="127.0.0.1",
    )
    assert isinstance(response, StreamingHttpResponse)
    return response


def test_change_made_while_a_feed_streams_is_in_the_next_feed_since_its_time(
    client, live, live_site
):
    """More entries than one database chunk: changes made to an order already sent and to one
    not read yet while the feed streams are both in the next call with `since` = its time."""
    orders = bulk_orders(live_site.site, feeds.CHUNK + 1)
    sent, unread = orders[0], orders[-1]

    response = open_feed(client, live_site)
    stream = iter(response.streaming_content)
    head = next(stream)
    assert f"<orderId>{sent.pk}</orderId>".encode() in head
    assert f"<orderId>{unread.pk}</orderId>".encode() not in head
    for order in (sent, unread):
        assert live.call("updateOrder", {"orderId": str(order.pk), "amountPaid": "1"}).code == 0
    first = etree.fromstring(head + b"".join(stream))

    assert len(first.findall("order")) == feeds.CHUNK + 1
    second = live.call("orderFeed", {"since": first.get("time")})
    assert [(order_id, kind) for order_id, kind, _ in listed(second)] == [
        (str(sent.pk), "Purchase"),
        (str(unread.pk), "Purchase"),
    ]
    assert [o.findtext("paidInFull") for o in second.xml.findall("order")] == ["true", "true"]


# --- event=all (§4): every event of the account, same environment, nothing else ---------------


def door(api, event, environment="production", *, account_level=False) -> SiteApi:
    site, token = open_site(event, environment, account_level=account_level)
    return SiteApi(api, OpenSite(event, site, token, environment))


def test_event_all_lists_the_orders_of_every_event_of_the_account_only(api, db):
    acme, umbrella = AccountFactory(slug="acme"), AccountFactory(slug="umbrella")
    alpha, bravo = (EventFactory(account=acme, code=code) for code in ("alpha", "bravo"))
    sites = {
        "alpha": door(api, alpha, account_level=True),
        "bravo": door(api, bravo),
        "uat": door(api, alpha, "uat"),
        "xray": door(api, EventFactory(account=umbrella, code="xray")),
    }
    placed = {}
    for name, site in sites.items():
        user = site.add_user(email=f"{name}@example.org")
        placed[name] = place(site, user, "Pass|1.00")

    result = sites["alpha"].call("orderFeed", {"event": "all"})

    assert [
        (o.findtext("eventGUID"), o.findtext("orderId")) for o in result.xml.findall("order")
    ] == [(alpha.guid_text, str(placed["alpha"].pk)), (bravo.guid_text, str(placed["bravo"].pk))]


# --- Query counts: no N+1 --------------------------------------------------------------------

# The gate (one statement), the token's rate-limit counter, the watermark (3 on SQLite:
# savepoint, clock, release; 1 on PostgreSQL), one chunk of entries, their items, the call log.
ORDER_FEED_QUERIES = 8


@pytest.mark.parametrize("count", [1, 3])
def test_order_feed_query_count_does_not_grow_with_orders(
    live, kat, catalogue, assert_api_queries, count
):
    for n in range(count):
        order = place(live, kat, "VIP", f"Extra {n}|10.00")
        live.call("updateOrder", {"orderId": str(order.pk), "item": "VIP", "amountPaid": "1"})

    expected = ORDER_FEED_QUERIES if connection.vendor == "sqlite" else ORDER_FEED_QUERIES - 2
    with assert_api_queries(expected):
        result = live.call("orderFeed")

    assert len(listed(result)) == 2 * count
    assert [len(o.findall("orderItems/orderItem")) for o in result.xml.findall("order")] == [
        2,
        1,
    ] * count


@pytest.mark.parametrize("count", [1, 3])
def test_order_feed_event_all_query_count_does_not_grow_with_orders(
    api, db, assert_api_queries, count
):
    acme = AccountFactory(slug="acme")
    doors = [
        door(api, EventFactory(account=acme, code=code), account_level=True)
        for code in ("alpha", "bravo", "charlie")
    ]
    for index, site in enumerate(doors):
        user = site.add_user(email=f"u{index}@example.org")
        for n in range(count):
            place(site, user, f"Pass {n}|1.00")

    # One more than a single site: the account's sites are looked up for event=all.
    expected = ORDER_FEED_QUERIES + 1 if connection.vendor == "sqlite" else ORDER_FEED_QUERIES - 1
    with assert_api_queries(expected):
        result = doors[0].call("orderFeed", {"event": "all"})

    assert len(listed(result)) == 3 * count
