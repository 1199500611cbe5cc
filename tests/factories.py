"""factory_boy factories. Events are made through the service, so they get both sites and
their API profiles exactly as in production."""

import datetime as dt
from decimal import Decimal

import factory

from confero.access.services import configure_profile
from confero.access.tokens import issue_token
from confero.events.models import Account, Event, Site
from confero.events.services import create_event
from confero.exhibitors.models import Exhibitor
from confero.exhibitors.services import add_exhibitor
from confero.messaging.models import Message
from confero.messaging.services import send_message
from confero.people.models import User
from confero.people.services import add_user
from confero.programme.models import Session, SessionTime
from confero.programme.services import add_session, add_session_time
from confero.registration.catalogue import create_package, create_regcode, create_registration_type
from confero.registration.models import Order, Package, RegCode, RegistrationType
from confero.registration.services import add_order


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


# --- The console (issue 17) -------------------------------------------------------------------


class PlannerFactory(factory.django.DjangoModelFactory):
    """A console login: a Django user, planner of `accounts` (Account.organizers), with the
    password PLANNER_PASSWORD."""

    class Meta:
        model = "auth.User"

    username = factory.Sequence(lambda n: f"planner-{n}")

    @classmethod
    def _create(cls, model_class, *args, accounts=(), **kwargs):
        user = model_class.objects.create_user(password=PLANNER_PASSWORD, **kwargs)
        for account in accounts:
            account.organizers.add(user)
        return user


PLANNER_PASSWORD = "correct horse battery"


# --- Users, exhibitors and messages (issue 15) ----------------------------------------------
# Made through their services, as events are: the rows are what the API would write.


class UserFactory(factory.django.DjangoModelFactory):
    """An attendee of a site, through people.services.add_user (as every way in writes it)."""

    class Meta:
        model = User

    site = factory.LazyFunction(lambda: site_of(EventFactory()))
    first_name = "Ada"
    last_name = factory.Sequence(lambda n: f"Lovelace{n}")
    email = factory.Sequence(lambda n: f"user{n}@example.org")

    @classmethod
    def _create(cls, model_class, *args, site, **fields):
        return add_user(site, fields=fields)


class ExhibitorFactory(factory.django.DjangoModelFactory):
    """`participants` ([(user, role)]) and `files` ([FileSpec]) go to add_exhibitor too."""

    class Meta:
        model = Exhibitor

    site = factory.LazyFunction(lambda: site_of(EventFactory()))
    exhibitor_code = factory.Sequence(lambda n: f"EXH-{n}")
    name = factory.Sequence(lambda n: f"Exhibitor {n}")

    @classmethod
    def _create(cls, model_class, *args, site, participants=(), files=(), **fields):
        return add_exhibitor(site, fields=fields, participants=participants, files=files)


class MessageFactory(factory.django.DjangoModelFactory):
    """Sent through send_message: it counts against the sender's limit per minute."""

    class Meta:
        model = Message

    sender = factory.SubFactory(UserFactory)
    recipient = factory.SubFactory(UserFactory, site=factory.SelfAttribute("..sender.site"))
    subject = factory.Sequence(lambda n: f"Subject {n}")
    body = "Hello"

    @classmethod
    def _create(cls, model_class, *args, sender, recipient, subject, body):
        return send_message(sender, recipient, subject=subject, body=body)


# ---------------------------------------------------------------------------------------------
# Registration (confero.registration): users who order, the catalogue, orders. Made through
# the services, as the registration system's calls make them.
# ---------------------------------------------------------------------------------------------


class RegistrantFactory(factory.django.DjangoModelFactory):
    """An active user of a site (people.User), made by people.services.add_user."""

    class Meta:
        model = User

    site = factory.LazyFunction(lambda: site_of(EventFactory()))
    first_name = "Kat"
    last_name = factory.Sequence(lambda n: f"Johnson {n}")
    email = factory.Sequence(lambda n: f"kat{n}@example.org")

    @classmethod
    def _create(cls, model_class, *args, site, **fields):
        return add_user(site, fields=fields)


class RegistrationTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RegistrationType

    site = factory.LazyFunction(lambda: site_of(EventFactory()))
    code = factory.Sequence(lambda n: f"RT{n}")
    name = factory.LazyAttribute(lambda o: f"Registration {o.code}")
    price = Decimal("300.00")

    @classmethod
    def _create(cls, model_class, *args, site, **fields):
        return create_registration_type(site, **fields)


class PackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Package

    site = factory.LazyFunction(lambda: site_of(EventFactory()))
    code = factory.Sequence(lambda n: f"PKG{n}")
    name = factory.LazyAttribute(lambda o: f"Package {o.code}")
    price = Decimal("120.00")
    for_guest = False

    @classmethod
    def _create(cls, model_class, *args, site, **fields):
        return create_package(site, **fields)


class RegCodeFactory(factory.django.DjangoModelFactory):
    """A code granting a new package of its site (pass `package=None` and a
    `registration_type` for one that grants a registration type only)."""

    class Meta:
        model = RegCode

    site = factory.LazyFunction(lambda: site_of(EventFactory()))
    code = factory.Sequence(lambda n: f"CODE{n}")
    package = factory.SubFactory(PackageFactory, site=factory.SelfAttribute("..site"))
    registration_type = None
    uses = None

    @classmethod
    def _create(cls, model_class, *args, site, code, package, registration_type, uses):
        return create_regcode(
            site,
            code=code,
            package=package.code if package else None,
            registration_type=registration_type.code if registration_type else None,
            uses=uses,
        )


class OrderFactory(factory.django.DjangoModelFactory):
    """A Purchase of a registrant: by default one item named and priced by the registration
    system."""

    class Meta:
        model = Order

    user = factory.SubFactory(RegistrantFactory)
    items = factory.LazyFunction(lambda: [("Conference pass", Decimal("250.00"))])
    regcode = None
    order_number = None

    @classmethod
    def _create(cls, model_class, *args, user, items, regcode, order_number):
        return add_order(
            user, items=items, regcode=regcode.code if regcode else None, order_number=order_number
        )


# --- Programme: sessions and session times (issue 14) ----------------------------------------
# Made through their services, as events are: the rows are what the API would write. Attendees
# are UserFactory's users.


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
