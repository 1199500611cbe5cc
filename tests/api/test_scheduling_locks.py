"""The lock order of scheduling (session times → users → sessions, decision 0016) holds through
the API too (decision 0020): the pipeline does not lock the acting user of scheduleSession.do,
unscheduleSession.do and cancelUser.do before their services lock the session time, and
cancel_user locks the user's session times before the user's row.

Before that, a waitlisted user scheduling again (user locked by the pipeline, then the time)
or being cancelled (user locked, then their times), while someone leaving the time promoted
them (time locked, then the user), made a cycle: PostgreSQL aborted one of the two calls as a
deadlock, a 500 with code 1. Each call here runs on a thread of its own, so on a database
connection of its own, committing, as calls on several server processes do.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from confero.programme.models import Seat
from confero.programme.services import schedule_session
from tests.conftest import ApiClient
from tests.factories import EventFactory, SessionFactory, SessionTimeFactory, UserFactory, open_site

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


def test_leaving_rescheduling_and_cancelling_at_once_through_the_api_never_deadlock():
    event = EventFactory()
    site, token = open_site(event)
    time = SessionTimeFactory(session=SessionFactory(site=site), capacity=10, waitlist=True)
    users = [UserFactory(site=site) for _ in range(50)]
    for user in users:
        schedule_session(user, time)  # u0–u9 seated, u10–u49 waiting 1..40
    url = f"/{event.code}/api/%s.do"
    calls = (
        [("unscheduleSession", user) for user in users[:10]]
        + [("cancelUser", user) for user in users[10:20]]
        + [("scheduleSession", user) for user in users[20:30]]
    )
    start = threading.Barrier(len(calls))

    def call(resource, user):
        api = ApiClient(Client())
        params = {"apiToken": token, "userKey": user.user_key}
        if resource != "cancelUser":
            params["sessionTimeID"] = time.pk
        start.wait()
        try:
            result = api.call(url % resource, params)
            return resource, result.status, result.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        answers = list(pool.map(lambda c: call(*c), calls))

    assert answers == [(resource, 200, 0) for resource, _ in calls]
    # Whatever the order: the ten who left and the ten cancelled are out, the next ten seated,
    # the rest waiting in their order.
    ids = [user.pk for user in users]
    seated = Seat.objects.filter(session_time=time, status="scheduled")
    assert sorted(seated.values_list("user_id", flat=True)) == ids[20:30]
    waiting = Seat.objects.filter(session_time=time, status="waitlisted").order_by("position")
    assert list(waiting.values_list("position", "user_id")) == list(enumerate(ids[30:], start=1))
    time.refresh_from_db()
    assert (time.registered, time.waitlisted) == (10, 20)
