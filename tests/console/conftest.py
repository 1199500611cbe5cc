"""The console's world: two accounts, each with a planner and an event, and a superuser. The
alpha event's sites have the custom fields of tests/api/custom_fields.json; its production site
a user, a token, a call in the log, an uploaded CSV, a session with a time the user holds a
seat at, an exhibitor the user staffs, a catalogue and an order of the user."""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.test import Client

from confero.access.models import ApiCall, ApiToken
from confero.console.models import UserImport
from confero.customfields.models import CustomField
from confero.events.models import Event, Site
from confero.exhibitors.models import Exhibitor
from confero.people.models import User
from confero.programme.models import Session, SessionTime
from confero.programme.services import schedule_session
from confero.registration.models import Order
from tests.api.conftest import SiteApi, import_test_fields
from tests.conftest import OpenSite
from tests.console.browser import chromium, page  # noqa: F401 (the browser tests' fixtures)
from tests.factories import (
    AccountFactory,
    EventFactory,
    ExhibitorFactory,
    OrderFactory,
    PackageFactory,
    PlannerFactory,
    RegistrationTypeFactory,
    SessionFactory,
    SessionTimeFactory,
    UserFactory,
    open_site,
    site_of,
)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Logins made per test: a slow password hash would cost a quarter second each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    alpha: Event
    beta: Event
    production: Site  # alpha's
    uat: Site  # alpha's
    token: str  # alpha production's plain token
    token_row: ApiToken
    field: CustomField  # alpha production's `type_business`
    person: User  # on alpha production
    call: ApiCall
    upload: UserImport
    session: Session  # on alpha production, abbreviation KEY
    time: SessionTime  # of the session: 2 seats, a waitlist; `person` holds a seat
    exhibitor: Exhibitor  # on alpha production, `person` on its staff
    order: Order  # of `person`
    planner: object  # of alpha's account
    other: object  # a planner of beta's account only
    superuser: object


@pytest.fixture
def world(db) -> World:
    acme, globex = AccountFactory(slug="acme"), AccountFactory(slug="globex")
    alpha = EventFactory(code="alpha", account=acme, name="Alpha Summit")
    beta = EventFactory(code="beta", account=globex, name="Beta Expo")
    production, token = open_site(alpha)
    uat = site_of(alpha, "uat")
    fields = import_test_fields(production)
    import_test_fields(uat)
    person = UserFactory(site=production, email="ada@example.org", client_id="CRM-1")
    planner = PlannerFactory(username="planner", accounts=[acme])
    other = PlannerFactory(username="other", accounts=[globex])
    superuser = PlannerFactory(username="root", is_superuser=True, is_staff=True)
    call = ApiCall.objects.create(
        time=dt.datetime(2026, 3, 1, 10, 20, 30, 456000, tzinfo=dt.UTC), site=production,
        profile=production.api_profile, token_prefix="cfo_live_ABCDEFGH", method="POST",
        path="/alpha/api/event.do", resource="event", client_ip="192.0.2.7", code=103,
        http_status=403, duration_ms=1.5,
    )  # fmt: skip
    upload = UserImport.objects.create(
        site=production, planner=planner, filename="people.csv",
        content="firstName,lastName,email\nGrace,Hopper,grace@example.org\n",
    )  # fmt: skip
    session = SessionFactory(site=production, abbreviation="KEY", title="Keynote", track="Main")
    time = SessionTimeFactory(session=session, room="Hall A", capacity=2, waitlist=True)
    schedule_session(person, time)
    exhibitor = ExhibitorFactory(site=production, exhibitor_code="ACME", name="Acme Robotics",
                                 participants=[(person, "host")])  # fmt: skip
    RegistrationTypeFactory(site=production, code="FULL", name="Full pass")
    PackageFactory(site=production, code="DINNER", name="Gala dinner")
    order = OrderFactory(user=person, items=["DINNER"], order_number="ORD-1")
    return World(
        alpha=alpha, beta=beta, production=production, uat=uat, token=token,
        token_row=ApiToken.objects.get(profile=production.api_profile),
        field=fields["type_business"], person=person, call=call, upload=upload,
        session=session, time=time, exhibitor=exhibitor, order=order,
        planner=planner, other=other, superuser=superuser,
    )  # fmt: skip


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def planner_client(world) -> Client:
    return logged_in(world.planner)


@pytest.fixture
def other_client(world) -> Client:
    return logged_in(world.other)


@pytest.fixture
def super_client(world) -> Client:
    return logged_in(world.superuser)


@pytest.fixture
def alpha_api(api, world) -> SiteApi:
    return SiteApi(api, OpenSite(world.alpha, world.production, world.token, "production"))


def manage(world, path: str = "", *, env: str = "production") -> str:
    """/manage/events/alpha/ENV/PATH"""
    return f"/manage/events/{world.alpha.code}/{env}/{path}"
