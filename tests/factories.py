"""factory_boy factories. Events are made through the service, so they get both sites and
their API profiles exactly as in production."""

import datetime as dt

import factory

from confero.access.services import configure_profile
from confero.access.tokens import issue_token
from confero.events.models import Account, Event, Site
from confero.events.services import create_event
from confero.people.models import User
from confero.people.services import add_user
from confero.programme.models import Session, SessionTime
from confero.programme.services import add_session, add_session_time


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"account-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    account = factory.SubFactory(AccountFactory)
    code = factory.Sequence(lambda n: f"event-{n}")
    name = factory.LazyAttribute(lambda o: f"Event {o.code}")
    time_zone = "Europe/Berlin"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return create_event(**kwargs)


def site_of(event: Event, environment: str = "production") -> Site:
    return event.sites.select_related("api_profile", "event__account").get(environment=environment)


def open_site(
    event: Event,
    environment: str = "production",
    *,
    allow=("127.0.0.1", "::1"),
    account_level: bool = False,
    label: str = "test",
) -> tuple[Site, str]:
    """The site, its profile allowing `allow`, and a fresh plain token for it."""
    site = site_of(event, environment)
    configure_profile(
        site.api_profile,
        allowed_networks=list(allow),
        account_level_access=account_level,
        enabled=True,
    )
    return site, issue_token(site.api_profile, label=label).plain


# --- Programme: attendees, sessions, session times (issue 14) --------------------------------
# Made through their services, as events are: the rows are what the API would write.


class AttendeeFactory(factory.django.DjangoModelFactory):
    """An active user of a site (people.User), made by people.services.add_user."""

    class Meta:
        model = User

    site = factory.LazyFunction(lambda: site_of(EventFactory()))
    first_name = "Grace"
    last_name = factory.Sequence(lambda n: f"Hopper {n}")
    email = factory.Sequence(lambda n: f"attendee{n}@example.org")

    @classmethod
    def _create(cls, model_class, *args, site, **fields):
        return add_user(site, fields=fields)


class SessionFactory(factory.django.DjangoModelFactory):
    """`assignments` (custom values, constraint values among them) go to add_session too."""

    class Meta:
        model = Session

    site = factory.LazyFunction(lambda: site_of(EventFactory()))
    abbreviation = factory.Sequence(lambda n: f"S{n}")
    title = factory.Sequence(lambda n: f"Session {n}")

    @classmethod
    def _create(cls, model_class, *args, site, assignments=(), **fields):
        return add_session(site, fields=fields, assignments=assignments)


class SessionTimeFactory(factory.django.DjangoModelFactory):
    """An hour on the first morning, unlimited, without a waitlist, unless told otherwise."""

    class Meta:
        model = SessionTime

    session = factory.SubFactory(SessionFactory)
    date = dt.date(2026, 6, 1)
    time = dt.time(10, 0)
    length = 60
    capacity = 0
    waitlist = False

    @classmethod
    def _create(cls, model_class, *args, session, **fields):
        return add_session_time(session, fields=fields)
