"""A session's times in the console: add, change, cancel and make active again; the attendees and
the waitlist in order; unscheduling someone moves the waitlist up, as unscheduleSession.do."""

import datetime as dt

import pytest
from lxml import html

from confero.programme.models import Seat, SessionTime
from confero.programme.services import schedule_session
from tests.console.conftest import manage
from tests.console.views.test_sessions import alerts, rows
from tests.factories import SessionTimeFactory, UserFactory


def time_url(world, path: str = "", *, time=None) -> str:
    pk = (time or world.time).pk
    return manage(world, f"sessions/{world.session.pk}/times/{pk}/{path}")


def seated(world, *names) -> list:
    """Users named `names` who schedule the world's time, in that order."""
    users = [UserFactory(site=world.production, first_name=name, last_name="X") for name in names]
    for user in users:
        schedule_session(user, world.time)
    return users


def messages_of(client, url) -> list[str]:
    page = html.fromstring(client.get(url).content)
    return [" ".join(li.text_content().split()) for li in page.xpath("//ul[@class='messages']/li")]


def test_time_added_in_the_console_is_offered(world, planner_client):
    response = planner_client.post(manage(world, f"sessions/{world.session.pk}/times/new/"), {
        "date": "2026-06-02", "time": "14:30", "length": "45", "room": "Hall B",
        "capacity": "30", "waitlist": "on",
    })  # fmt: skip

    time = SessionTime.objects.exclude(pk=world.time.pk).get()
    assert response["Location"] == manage(world, f"sessions/{world.session.pk}/")
    assert (time.date, time.time, time.length, time.room, time.capacity, time.waitlist) == (
        dt.date(2026, 6, 2), dt.time(14, 30), 45, "Hall B", 30, True)  # fmt: skip
    assert messages_of(planner_client, response["Location"]) == [
        f"Time 2026-06-02 14:30 Hall B added (sessionTimeID {time.pk})."
    ]


@pytest.mark.parametrize(
    ("data", "refused"),
    [
        (
            {"date": "2026-06-02", "time": "14:30", "length": "0", "capacity": "0"},
            ["Ensure this value is greater than or equal to 1."],
        ),
        (
            {"date": "2 June", "time": "14:30", "length": "30", "capacity": "0"},
            ["Enter a valid date."],
        ),
        (
            {"date": "2026-06-02", "time": "14:30", "length": "30", "capacity": "-1"},
            ["Ensure this value is greater than or equal to 0."],
        ),
    ],
    ids=["length 0", "no date", "negative capacity"],
)
def test_time_form_refuses_bad_values(world, planner_client, data, refused):
    response = planner_client.post(manage(world, f"sessions/{world.session.pk}/times/new/"), data)

    assert (response.status_code, alerts(response)) == (400, refused)
    assert SessionTime.objects.count() == 1


def test_time_page_lists_attendees_and_the_waitlist_in_order(world, planner_client):
    bea, cy, dan = seated(world, "Bea", "Cy", "Dan")

    response = planner_client.get(time_url(world))

    assert [row[:2] for row in rows(response, "attendees")] == [
        [f"Ada {world.person.last_name}", world.person.user_ref],
        ["Bea X", bea.user_ref],
    ]
    assert [row[:3] for row in rows(response, "waitlist")] == [
        ["1", "Cy X", cy.user_ref],
        ["2", "Dan X", dan.user_ref],
    ]
    facts = html.fromstring(response.content).xpath("//dl[contains(@class, 'time-facts')]/dd")
    assert " ".join(facts[4].text_content().split()) == "2 (0 seats remaining)"


def test_unscheduling_an_attendee_moves_the_first_waiting_up(world, planner_client):
    bea, cy, dan = seated(world, "Bea", "Cy", "Dan")

    response = planner_client.post(time_url(world, f"unschedule/{bea.user_ref}/"))

    page = planner_client.get(response["Location"])
    assert [row[1] for row in rows(page, "attendees")] == [world.person.user_ref, cy.user_ref]
    assert [row[:3] for row in rows(page, "waitlist")] == [["1", "Dan X", dan.user_ref]]
    assert Seat.objects.get(user=bea).freed_because == "unscheduled"
    assert messages_of(planner_client, time_url(world)) == []  # shown once, on `page`
    message = html.fromstring(page.content).xpath("string(//ul[@class='messages']/li)")
    assert message == "Bea X unscheduled: their seat is free (2 registered, 1 waitlisted now)."


def test_unscheduling_someone_without_a_seat_is_not_found(world, planner_client):
    stranger = UserFactory(site=world.production)

    response = planner_client.post(time_url(world, f"unschedule/{stranger.user_ref}/"))

    assert response.status_code == 404


def test_capacity_raised_seats_the_waitlist(world, planner_client):
    _, cy, dan = seated(world, "Bea", "Cy", "Dan")

    planner_client.post(time_url(world, "edit/"), {
        "date": "2026-06-01", "time": "10:00", "length": "60", "room": "Hall A",
        "capacity": "3", "waitlist": "on",
    })  # fmt: skip

    world.time.refresh_from_db()
    assert (world.time.capacity, world.time.registered, world.time.waitlisted) == (3, 3, 1)
    assert Seat.objects.get(user=cy).status == "scheduled"
    assert (Seat.objects.get(user=dan).status, Seat.objects.get(user=dan).position) == (
        "waitlisted", 1)  # fmt: skip


def test_time_cancelled_frees_its_seats_and_comes_back_empty(world, planner_client):
    seated(world, "Bea", "Cy")

    planner_client.post(time_url(world, "cancel/"))
    again = planner_client.post(time_url(world, "cancel/"), follow=True)
    cancelled = SessionTime.objects.get(pk=world.time.pk)
    planner_client.post(time_url(world, "reactivate/"))

    assert (cancelled.status, cancelled.registered, cancelled.waitlisted) == ("cancelled", 0, 0)
    assert set(Seat.objects.values_list("freed_because", flat=True)) == {"sessionTimeCancelled"}
    assert html.fromstring(again.content).xpath("//ul[@class='messages']/li/text()") == [
        "Time 2026-06-01 10:00 Hall A cancelled: its seats and waitlist are free.",
        f"session time {world.time.pk} is cancelled already",
    ]
    assert SessionTime.objects.get(pk=world.time.pk).status == "active"


@pytest.mark.parametrize("count", [1, 3])
def test_time_page_queries_do_not_grow_with_attendees(
    world, planner_client, django_assert_num_queries, count
):
    time = SessionTimeFactory(session=world.session, date=dt.date(2026, 6, 3), capacity=1,
                              waitlist=True)  # fmt: skip
    for n in range(count):
        schedule_session(UserFactory(site=world.production, first_name=f"U{n}"), time)

    # session, user, event, sites, session, time, attendees, waitlist
    with django_assert_num_queries(8):
        response = planner_client.get(time_url(world, time=time))
    page = html.fromstring(response.content)
    listed = [len(page.xpath(f"//table[contains(@class, '{name}')]//td/a")) for name in
              ("attendees", "waitlist")]  # fmt: skip
    assert listed == [1, count - 1]
