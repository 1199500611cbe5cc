"""Sessions, exhibitors and orders in a real browser (Debian's chromium, Playwright, live
server; the machinery in tests/console/browser.py): what a planner does, checked in the pages
and, where the resource is served, in the API's answers. Marked `browser`, as test_browser.py."""

import datetime as dt
from decimal import Decimal

import pytest

from confero.api.registry import REGISTRY
from confero.exhibitors.models import Exhibitor
from confero.programme.models import Session, SessionTime
from confero.programme.services import schedule_session
from confero.registration.services import add_order, update_order
from tests.console.browser import api_document, log_in, shot
from tests.factories import (
    AccountFactory,
    EventFactory,
    PackageFactory,
    PlannerFactory,
    UserFactory,
    open_site,
    site_of,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def world(transactional_db):
    acme = AccountFactory(slug="acme", name="Acme")
    alpha = EventFactory(code="alpha", account=acme, name="Alpha Summit",
                         start_date=dt.date(2026, 6, 1))  # fmt: skip
    _, token = open_site(alpha)
    site = site_of(alpha)
    ada = UserFactory(site=site, first_name="Ada", last_name="Lovelace", email="ada@example.org")
    bob = UserFactory(site=site, first_name="Bob", last_name="Babbage", email="bob@example.org")
    PlannerFactory(username="planner", accounts=[acme])
    return {"alpha": alpha, "site": site, "token": token, "ada": ada, "bob": bob}


def cells(tab, table: str) -> list[list[str]]:
    rows = tab.locator(f"table.{table} tbody tr")
    return [
        [" ".join(text.split()) for text in rows.nth(n).locator("td").all_inner_texts()]
        for n in range(rows.count())
    ]


def test_session_created_with_a_time_then_scheduled_shows_attendees_and_waitlist(page, world):
    log_in(page, "planner")
    page.click("text=Alpha Summit")
    page.click("nav.side >> text=Sessions")
    page.click("text=Add a session")
    page.fill("#id_title", "Opening keynote")
    page.fill("#id_abbreviation", "KEY")
    page.fill("#id_track", "Main")
    page.click("form.record-form button[type=submit]")
    page.wait_for_selector("h1:has-text('Opening keynote')")
    page.click("text=Add a time")
    page.fill("#id_time", "09:30")
    page.fill("#id_length", "45")
    page.fill("#id_room", "Hall A")
    page.fill("#id_capacity", "1")
    page.check("#id_waitlist")
    page.click("form.record-form button[type=submit]")
    page.wait_for_selector("table.times td a")
    shot(page, "12-session")
    shown = cells(page, "times")

    session = Session.objects.get(abbreviation="KEY")
    time = SessionTime.objects.get(session=session)
    assert shown == [
        [str(time.pk), "2026-06-01", "09:30", "45", "Hall A", "1", "0", "0", "on", "active"]
    ]
    if "sessionData" in REGISTRY:  # the programme's resources, once they are served
        feed = api_document(page.base, "/alpha/api/sessionData.do", apiToken=world["token"])
        offered = feed.find("session/sessionTime")
        assert feed.findtext("session/abbreviation") == "KEY"
        assert [offered.findtext(n) for n in ("sessionTimeID", "room", "capacity")] == [
            str(time.pk), "Hall A", "1"]  # fmt: skip

    schedule_session(world["ada"], time)
    schedule_session(world["bob"], time)
    page.click(f"table.times >> text={time.pk}")
    page.wait_for_selector("table.attendees td a")
    shot(page, "13-session-time-attendees")
    before = (cells(page, "attendees")[0][0], cells(page, "waitlist")[0][:2])
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("table.attendees button:has-text('Unschedule')").click()
    page.wait_for_selector("ul.messages")
    after = (cells(page, "attendees")[0][0], cells(page, "waitlist"))

    assert before == ("Ada Lovelace", ["1", "Bob Babbage"])
    assert after == ("Bob Babbage", [["Nobody is waiting."]])


def test_exhibitor_added_with_staff_is_in_exhibitordata(page, world):
    log_in(page, "planner")
    page.goto(page.base + "/manage/events/alpha/production/exhibitors/")
    page.click("text=Add an exhibitor")
    page.fill("#id_name", "Acme Robotics")
    page.fill("#id_exhibitor_code", "ACME")
    page.fill("#id_booth", "B7")
    page.click("form.record-form button[type=submit]")
    page.wait_for_selector("h1:has-text('Acme Robotics')")
    page.click("text=Booth staff")
    page.fill("#id_people", f"ada@example.org | sales\n{world['bob'].user_ref} | demo")
    page.click("form.parts-form button[type=submit]")
    page.wait_for_selector("ul.messages")
    shot(page, "14-exhibitor")
    staff = [row[0] for row in cells(page, "staff")]

    feed = api_document(page.base, "/alpha/api/exhibitorData.do", apiToken=world["token"])
    exhibitor = feed.find("exhibitor")
    participants = [
        (p.findtext("role"), p.findtext("userRef")) for p in exhibitor.iter("participant")
    ]
    assert staff == ["Ada Lovelace", "Bob Babbage"]
    assert (exhibitor.findtext("exhibitorCode"), exhibitor.findtext("booth")) == ("ACME", "B7")
    assert participants == [("sales", world["ada"].user_ref), ("demo", world["bob"].user_ref)]
    assert Exhibitor.objects.get().exhibitor_code == "ACME"


def test_users_orders_shown_on_their_page(page, world):
    PackageFactory(site=world["site"], code="DINNER", name="Gala dinner", price=Decimal("120"))
    order = add_order(world["ada"], items=["DINNER", ("Workshop", "80.00")], order_number="W-1")
    update_order(order, amount_paid="150.00")
    log_in(page, "planner")

    page.goto(page.base + "/manage/events/alpha/production/orders/")
    shot(page, "15-orders")
    page.click("table.orders >> text=W-1")  # the order's number
    page.click("text=Ada Lovelace")
    page.wait_for_selector("section.user-orders")
    page.locator("section.user-orders").scroll_into_view_if_needed()
    shot(page, "16-user-orders")

    assert page.locator("#account-balance").inner_text() == "50.00"
    assert cells(page, "payments") == [[cells(page, "payments")[0][0], "150.00"]]
    items = page.locator("table.entries tr.item td:nth-child(3)").all_inner_texts()
    assert items == ["Gala dinner", "Workshop"]
