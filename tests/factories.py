"""factory_boy factories. Events are made through the service, so they get both sites and
their API profiles exactly as in production."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

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


# --- Every other model (issue 13: a factory for every model) ---------------------------------
# Each through the service that writes it in production; rows that only a call writes (the call
# log, rate counters) as that call writes them.


class SiteFactory(factory.django.DjangoModelFactory):
    """A site of a new event (both come with every event, and their API profiles)."""

    class Meta:
        model = Site

    environment = "production"

    @classmethod
    def _create(cls, model_class, *args, environment, event=None, **kwargs):
        return site_of(event or EventFactory(), environment)


class ApiProfileFactory(factory.django.DjangoModelFactory):
    """A site's API profile, configured through the service; `allow`: its allow-list."""

    class Meta:
        model = "access.ApiProfile"

    site = factory.SubFactory(SiteFactory)
    allow = ("127.0.0.1", "::1")

    @classmethod
    def _create(cls, model_class, *args, site, allow, **settings):
        return configure_profile(site.api_profile, allowed_networks=list(allow), **settings)


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """An issued token; its plain text is on the instance as `plain` (shown once, never stored)."""

    class Meta:
        model = "access.ApiToken"

    profile = factory.SubFactory(ApiProfileFactory)
    label = factory.Sequence(lambda n: f"token {n}")

    @classmethod
    def _create(cls, model_class, *args, profile, **kwargs):
        issued = issue_token(profile, **kwargs)
        issued.token.plain = issued.plain
        return issued.token


class ApiCallFactory(factory.django.DjangoModelFactory):
    """A call-log row as the pipeline writes it."""

    class Meta:
        model = "access.ApiCall"

    time = factory.LazyFunction(timezone.now)
    site = factory.SubFactory(SiteFactory)
    profile = factory.LazyAttribute(lambda o: o.site.api_profile)
    token_prefix = "cfo_live_AbCd1234"
    method = "POST"
    path = factory.LazyAttribute(lambda o: f"/{o.site.event.code}/api/{o.resource}.do")
    resource = "event"
    client_ip = "127.0.0.1"
    code = 0
    http_status = 200
    duration_ms = 1.5


class RateCounterFactory(factory.django.DjangoModelFactory):
    """A rate-limit counter, counted as the pipeline counts (`ratelimit.hit`)."""

    class Meta:
        model = "access.RateCounter"

    scope = factory.Sequence(lambda n: f"token:{n}")
    count = 1

    @classmethod
    def _create(cls, model_class, *args, scope, count, window_seconds=60):
        from confero.access import ratelimit
        from confero.access.models import RateCounter

        for _ in range(count):
            ratelimit.hit(scope, limit=count, window_seconds=window_seconds)
        return RateCounter.objects.get(scope=scope)


class CustomFieldFactory(factory.django.DjangoModelFactory):
    """A user text field unless told otherwise; `values` ([ValueSpec]) for choice fields."""

    class Meta:
        model = "customfields.CustomField"

    site = factory.SubFactory(SiteFactory)
    record_type = "user"
    code = factory.Sequence(lambda n: f"field{n}")
    display_name = factory.Sequence(lambda n: f"Field {n}")
    field_type = "text"

    @classmethod
    def _create(cls, model_class, *args, site, values=(), **kwargs):
        from confero.customfields.services import create_field

        return create_field(site, values=values, **kwargs)


class CustomValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "customfields.CustomValue"

    field = factory.SubFactory(CustomFieldFactory, field_type="choice")
    code = factory.Sequence(lambda n: f"value{n}")
    label = factory.LazyAttribute(lambda o: o.code.title())

    @classmethod
    def _create(cls, model_class, *args, field, code, label, other=False, constraint=""):
        from confero.customfields.services import ValueSpec, add_value

        return add_value(field, ValueSpec(code, label, other=other, constraint=constraint))


class AnswerFactory(factory.django.DjangoModelFactory):
    """A value a user holds: `value` (a CustomValue) or `text` for a text field."""

    class Meta:
        model = "customfields.Answer"

    user = factory.SubFactory(UserFactory)
    field = factory.SubFactory(CustomFieldFactory, site=factory.SelfAttribute("..user.site"))
    value = None
    text = "a note"

    @classmethod
    def _create(cls, model_class, *args, user, field, value, text):
        from confero.customfields.models import Answer
        from confero.customfields.services import Assignment, set_answers

        choice = (value, "") if value is not None else (None, text)
        set_answers("user", user.pk, [Assignment(field, (choice,))])
        return Answer.objects.filter(record_type="user", record_id=user.pk, field=field).last()


class SpeakerFactory(factory.django.DjangoModelFactory):
    """A user speaking at a session, added to its speakers (set_speakers replaces the set)."""

    class Meta:
        model = "programme.Speaker"

    session = factory.SubFactory(SessionFactory)
    user = factory.SubFactory(UserFactory, site=factory.SelfAttribute("..session.site"))
    role = "Speaker"

    @classmethod
    def _create(cls, model_class, *args, session, user, role):
        from confero.programme.services import set_speakers

        current = [(s.user, s.role) for s in session.speakers.select_related("user")]
        set_speakers(session, [*current, (user, role)])
        return session.speakers.get(user=user)


class SessionFileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "programme.SessionFile"

    session = factory.SubFactory(SessionFactory)
    name = factory.Sequence(lambda n: f"slides-{n}.pdf")

    @classmethod
    def _create(cls, model_class, *args, session, name):
        from confero.programme.services.sessions import FileSpec, set_files

        current = [FileSpec(f.name, f.type, f.size, f.url) for f in session.files.all()]
        set_files(session, [*current, FileSpec(name, "pdf", 1024, f"https://example.org/{name}")])
        return session.files.get(name=name)


class SeatFactory(factory.django.DjangoModelFactory):
    """A user's entry at a session time, through scheduling (a seat, or the waitlist's next
    place when the time is full)."""

    class Meta:
        model = "programme.Seat"

    session_time = factory.SubFactory(SessionTimeFactory)
    user = factory.SubFactory(UserFactory, site=factory.SelfAttribute("..session_time.site"))

    @classmethod
    def _create(cls, model_class, *args, session_time, user):
        from confero.programme.models import Seat
        from confero.programme.services import schedule_session

        schedule_session(user, session_time)
        return Seat.objects.exclude(status="freed").get(session_time=session_time, user=user)


class ExhibitorFileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "exhibitors.ExhibitorFile"

    exhibitor = factory.SubFactory(ExhibitorFactory)
    display_name = factory.Sequence(lambda n: f"Brochure {n}")

    @classmethod
    def _create(cls, model_class, *args, exhibitor, display_name):
        from confero.exhibitors.services import FileSpec, set_files

        current = [
            FileSpec(f.display_name, f.url, f.type, f.size, f.description)
            for f in exhibitor.files.all()
        ]
        url = f"https://example.org/{len(current)}.pdf"
        set_files(exhibitor, [*current, FileSpec(display_name, url, "pdf")])
        return exhibitor.files.get(display_name=display_name)


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "exhibitors.Participant"

    exhibitor = factory.SubFactory(ExhibitorFactory)
    user = factory.SubFactory(UserFactory, site=factory.SelfAttribute("..exhibitor.site"))
    role = "Staff"

    @classmethod
    def _create(cls, model_class, *args, exhibitor, user, role):
        from confero.exhibitors.services import set_participants

        current = [(p.user, p.role) for p in exhibitor.participants.select_related("user")]
        set_participants(exhibitor, [*current, (user, role)])
        return exhibitor.participants.get(user=user)


class RegistrationSettingsFactory(factory.django.DjangoModelFactory):
    """A site whose users' registered and paid follow from their orders."""

    class Meta:
        model = "registration.RegistrationSettings"

    site = factory.SubFactory(SiteFactory)

    @classmethod
    def _create(cls, model_class, *args, site, enabled=True):
        from confero.registration.models import RegistrationSettings
        from confero.registration.standing import set_status_from_orders

        set_status_from_orders(site, enabled=enabled)
        return RegistrationSettings.objects.get(site=site)


class PaymentFactory(factory.django.DjangoModelFactory):
    """A payment recorded on an order (update_order's amountPaid)."""

    class Meta:
        model = "registration.Payment"

    order = factory.SubFactory(OrderFactory)
    amount = Decimal("100.00")

    @classmethod
    def _create(cls, model_class, *args, order, amount):
        from confero.registration.services import update_order

        update_order(order, amount_paid=amount)
        return order.payments.order_by("-id").first()


class OrderEntryFactory(factory.django.DjangoModelFactory):
    """An order's entry, as an order writes it: its Purchase (the entries after it, Change and
    Cancel, come from update_order and cancel_order)."""

    class Meta:
        model = "registration.OrderEntry"

    order = factory.SubFactory(OrderFactory)

    @classmethod
    def _create(cls, model_class, *args, order):
        return order.entries.order_by("id").first()


class OrderItemFactory(factory.django.DjangoModelFactory):
    """An item of an order's Purchase (with its own entry)."""

    class Meta:
        model = "registration.OrderItem"

    order = factory.SubFactory(OrderFactory)

    @classmethod
    def _create(cls, model_class, *args, order):
        return order.entries.order_by("id").first().items.order_by("id").first()


class InvoiceFactory(factory.django.DjangoModelFactory):
    """The invoice of an order's Purchase (one per entry, written with it)."""

    class Meta:
        model = "registration.Invoice"

    order = factory.SubFactory(OrderFactory)

    @classmethod
    def _create(cls, model_class, *args, order):
        return order.invoices.order_by("id").first()


class UserImportFactory(factory.django.DjangoModelFactory):
    """A CSV upload of the console, as the upload view stores it (not yet previewed)."""

    class Meta:
        model = "console.UserImport"

    site = factory.SubFactory(SiteFactory)
    planner = factory.SubFactory(PlannerFactory)
    filename = "users.csv"
    content = "firstName,lastName,email\nAda,Lovelace,ada@example.org\n"
