"""Orders in the console, read-only: the site's list (search, type, keyset paging) and a user's
orders on their page — entries, items, payments, invoices and the account balance — with the
user's schedule."""

import datetime as dt

import pytest
from lxml import html

from confero.programme.services import schedule_session
from confero.registration.services import cancel_order, update_order
from tests.console.conftest import manage
from tests.console.views.test_sessions import rows
from tests.factories import OrderFactory, SessionTimeFactory, UserFactory


def order_ids(response) -> list[str]:
    return [row[0] for row in rows(response, "orders") if len(row) > 1]


def test_orders_list_searches_number_order_id_and_user(world, planner_client):
    grace = UserFactory(site=world.production, first_name="Grace", last_name="Hopper",
                        email="grace@navy.mil")  # fmt: skip
    second = OrderFactory(user=grace, order_number="WEB-77")
    url = manage(world, "orders/")

    def search(text):
        return order_ids(planner_client.get(url, {"q": text}))

    assert search("web-7") == search("hopper") == search("NAVY.MIL") == [str(second.pk)]
    assert search(str(world.order.pk)) == [str(world.order.pk)]
    assert search(world.person.user_ref) == search("ORD-1") == [str(world.order.pk)]
    assert search("nobody") == []


def test_orders_list_filters_by_type(world, planner_client):
    changed = OrderFactory(user=world.person)
    update_order(changed, items=["DINNER"])
    cancelled = OrderFactory(user=world.person)
    cancel_order(cancelled)
    url = manage(world, "orders/")

    def of_type(kind):
        return order_ids(planner_client.get(url, {"type": kind}))

    assert of_type("Purchase") == [str(world.order.pk)]
    assert of_type("Change") == [str(changed.pk)]
    assert of_type("Cancel") == [str(cancelled.pk)]
    assert [row[3] for row in rows(planner_client.get(url), "orders")] == [
        "Cancel", "Change", "Purchase"]  # fmt: skip


def test_orders_list_pages_by_key_newest_first(world, planner_client, monkeypatch):
    from confero.console.views import orders

    monkeypatch.setattr(orders, "PAGE_SIZE", 2)
    more = [OrderFactory(user=world.person) for _ in range(2)]
    url = manage(world, "orders/")

    first = planner_client.get(url)
    older = html.fromstring(first.content).xpath("//nav[@class='pager']/a/@href")

    assert order_ids(first) == [str(more[1].pk), str(more[0].pk)]
    assert order_ids(planner_client.get(url + older[0])) == [str(world.order.pk)]


@pytest.mark.parametrize("count", [1, 3])
def test_orders_list_queries_do_not_grow_with_orders(
    world, planner_client, django_assert_num_queries, count
):
    for _ in range(count - 1):
        OrderFactory(user=UserFactory(site=world.production))

    # session, user, event, sites, orders (with their users, codes, and EXISTS of a change)
    with django_assert_num_queries(5):
        response = planner_client.get(manage(world, "orders/"))
    assert len(order_ids(response)) == count


def test_user_page_shows_orders_with_entries_items_payments_invoices_and_balance(
    world, planner_client
):
    update_order(world.order, amount_paid="100.00")
    update_order(world.order, items=["DINNER", ("Parking", "15.50")])

    response = planner_client.get(manage(world, f"users/{world.person.user_ref}/"))

    page = html.fromstring(response.content)
    order = page.xpath(f"//article[@id='order-{world.order.pk}']")[0]
    facts = [" ".join(dd.text_content().split()) for dd in order.xpath(".//dl/dd")]
    assert facts[1:] == ["135.50", "100.00", "35.50"]

    def cells(kind):
        found = order.xpath(f".//table[contains(@class, 'entries')]/tbody/tr[@class='{kind}']")
        return [[" ".join(c.text_content().split()) for c in tr.xpath("th|td")] for tr in found]

    assert [row[:5] for row in cells("entry")] == [
        ["Purchase", "120.00", "120.00", "0.00", "0.00"],
        ["Change", "15.50", "15.50", "0.00", "0.00"],
    ]
    assert [row[2:9] for row in cells("item")] == [
        ["Gala dinner", "package", "120.00", "120.00", "0.00", "0.00", ""],
        ["Parking", "item", "15.50", "15.50", "0.00", "0.00", ""],
    ]
    payments = order.xpath(".//table[contains(@class, 'payments')]/tbody/tr/td[2]/text()")
    invoices = [
        [" ".join(td.text_content().split()) for td in tr.xpath("td")]
        for tr in order.xpath(".//table[contains(@class, 'invoices')]/tbody/tr")
    ]
    assert payments == ["100.00"]
    assert [[row[0], *row[2:]] for row in invoices] == [
        [f"{world.order.pk}-1", "120.00", "0.00", "120.00"],
        [f"{world.order.pk}-2", "15.50", "0.00", "35.50"],
    ]
    assert page.xpath("string(//strong[@id='account-balance'])") == "35.50"


def test_user_page_shows_the_schedule_with_waitlist_positions(world, planner_client):
    later = SessionTimeFactory(session=world.session, time=dt.time(15), capacity=1, waitlist=True)
    schedule_session(UserFactory(site=world.production), later)
    schedule_session(world.person, later)

    response = planner_client.get(manage(world, f"users/{world.person.user_ref}/"))

    assert rows(response, "schedule") == [
        ["2026-06-01", "10:00", "60", "KEY Keynote", "Hall A", str(world.time.pk), "scheduled",
         ""],
        ["2026-06-01", "15:00", "60", "KEY Keynote", "–", str(later.pk), "waitlisted", "1"],
    ]  # fmt: skip


@pytest.mark.parametrize("count", [1, 3])
def test_user_page_queries_do_not_grow_with_orders_and_seats(
    world, planner_client, django_assert_num_queries, count
):
    for n in range(count - 1):
        OrderFactory(user=world.person)
        schedule_session(
            world.person, SessionTimeFactory(session=world.session, time=dt.time(12 + n))
        )
    planner_client.get(manage(world, f"users/{world.person.user_ref}/"))  # fields cached

    # session, user, event, sites, the user, their custom values, schedule, orders with their
    # entries, items, payments and invoices (5), balance
    with django_assert_num_queries(13):
        response = planner_client.get(manage(world, f"users/{world.person.user_ref}/"))
    page = html.fromstring(response.content)
    assert len(page.xpath("//article[contains(@class, 'order')]")) == count
    assert len(rows(response, "schedule")) == count
