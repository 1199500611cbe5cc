"""What a planner may see: the one way the console reads the database.

Planners are Django users who belong to accounts (`Account.organizers`); they see the events of
those accounts and everything hanging off them, superusers see everything. Every console query
starts here (a test keeps the rest of the console free of `Model.objects`), so a view cannot
forget the account filter:

- events are found through the planner's accounts (`event(code)`: 404 for any other, whether it
  exists or not: an event of another account is not even confirmed to exist);
- everything below an event is found through an object this scope handed out (`sites(event)`,
  `users(site)`, …), which it checks: an object that did not come from the scope is refused
  with an error, not filtered to nothing, so the mistake shows in the first test that makes it.

Once an event is in scope, queries below it filter by that event or site alone: the account
check is made once, not joined into every list of 100,000 users.
"""

import re
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower
from django.http import Http404

from confero.access.models import ApiCall, ApiProfile, ApiToken
from confero.console.models import UserImport
from confero.customfields.models import Answer, CustomField, CustomValue, RecordType
from confero.events.models import Account, Environment, Event, Site
from confero.exhibitors.models import Exhibitor, ExhibitorFile, Participant
from confero.people.models import User, UserStatus
from confero.programme.models import Seat, SeatStatus, Session, SessionFile, SessionTime, Speaker
from confero.programme.models import Status as ProgrammeStatus
from confero.programme.services import user_schedule
from confero.registration.models import (
    EntryKind,
    Order,
    OrderEntry,
    OrderItem,
    Package,
    RegCode,
    RegistrationType,
)
from confero.registration.standing import account_balance

_MARK = "_console_scope"
_HEX16 = re.compile(r"^[0-9A-Fa-f]{16}$")


class OutOfScope(Exception):
    """A console object that did not come from the planner's scope: a bug, never an answer."""


class Scope:
    def __init__(self, user):
        if not (user.is_authenticated and user.is_active):
            raise OutOfScope("the console's scope needs an active, logged-in user")
        self.planner = user
        self.sees_all = user.is_superuser

    # --- marking -------------------------------------------------------------------------------

    def _mark(self, obj):
        setattr(obj, _MARK, self)
        return obj

    def check(self, obj) -> None:
        """Refuses an object this scope did not hand out."""
        if getattr(obj, _MARK, None) is not self:
            raise OutOfScope(f"{type(obj).__name__} {obj.pk} was not found through the scope")

    def _one(self, queryset: QuerySet, what: str):
        found = queryset.first()
        if found is None:
            raise Http404(what)
        return self._mark(found)

    # --- accounts and events -----------------------------------------------------------------

    def accounts(self) -> QuerySet[Account]:
        accounts = Account.objects.order_by("name", "slug")
        return accounts if self.sees_all else accounts.filter(organizers=self.planner)

    def events(self) -> QuerySet[Event]:
        events = Event.objects.select_related("account").order_by("account__name", "code")
        return events if self.sees_all else events.filter(account__organizers=self.planner)

    def event(self, code: str) -> Event:
        return self._one(self.events().filter(code=code), "event")

    def sites(self, event: Event) -> list[Site]:
        """Both sites of the event, UAT first, with their API profiles."""
        self.check(event)
        sites = list(
            Site.objects.filter(event=event).select_related("api_profile").order_by("-environment")
        )
        for site in sites:
            site.event = event  # the event in hand: no query per site for its code
            self._mark(site)
            self._mark(site.api_profile)
        return sites

    def site(self, event: Event, environment: str) -> Site:
        if environment not in Environment.values:
            raise Http404("site")
        return next(site for site in self.sites(event) if site.environment == environment)

    # --- API access ----------------------------------------------------------------------------

    def profile(self, site: Site) -> ApiProfile:
        self.check(site)
        return site.api_profile  # marked with the site

    def tokens(self, profile: ApiProfile) -> QuerySet[ApiToken]:
        self.check(profile)
        return ApiToken.objects.filter(profile=profile).order_by("-created_at", "-id")

    def tokens_of_event(self, event: Event) -> QuerySet[ApiToken]:
        self.check(event)
        return ApiToken.objects.filter(profile__site__event=event)

    def token(self, profile: ApiProfile, prefix: str) -> ApiToken:
        return self._one(self.tokens(profile).filter(prefix=prefix), "token")

    def calls(self, event: Event) -> QuerySet[ApiCall]:
        self.check(event)
        return ApiCall.objects.filter(site__event=event)

    # --- custom fields -------------------------------------------------------------------------

    def fields(self, site: Site) -> QuerySet[CustomField]:
        self.check(site)
        return CustomField.objects.filter(site=site).order_by("position", "id")

    def field(self, site: Site, pk: int) -> CustomField:
        field = self._one(self.fields(site).filter(pk=pk), "custom field")
        field.site = site
        return field

    def value(self, field: CustomField, pk: int) -> CustomValue:
        self.check(field)
        value = self._one(self.values(field).filter(pk=pk), "value")
        value.field = field
        return value

    def values(self, field: CustomField) -> QuerySet[CustomValue]:
        self.check(field)
        return CustomValue.objects.filter(field=field).order_by("position", "id")

    def answers(self, field: CustomField) -> QuerySet[Answer]:
        self.check(field)
        return Answer.objects.filter(field=field)

    # --- people --------------------------------------------------------------------------------

    def users(self, site: Site) -> QuerySet[User]:
        self.check(site)
        return User.objects.filter(site=site)

    def user(self, site: Site, user_ref: str) -> User:
        user = self._one(self.users(site).filter(user_ref=user_ref.upper()), "user")
        user.site = site
        return user

    def user_answers(self, user: User) -> QuerySet[Answer]:
        self.check(user)
        return Answer.objects.filter(record_type="user", record_id=user.pk).order_by("id")

    def user_named(self, site: Site, name: str) -> User | None:
        """The site's user a planner names (a speaker, a member of booth staff) by userRef,
        email (an active user's, ignoring case: unique among them) or clientID."""
        users = self.users(site)
        if _HEX16.match(name):
            found = users.filter(user_ref=name.upper()).first()
        elif "@" in name:
            found = (
                users.filter(status=UserStatus.ACTIVE)
                .alias(email_lower=Lower("email"))
                .filter(email_lower=name.lower())
                .first()
            )
        else:
            found = users.filter(client_id=name).first()
        return found

    def schedule(self, user: User) -> list[Seat]:
        """The user's scheduled and waitlisted session times, in date order."""
        self.check(user)
        return user_schedule(user)

    def orders_of(self, user: User) -> list[Order]:
        """The user's orders, newest first, with their entries and items, payments and
        invoices: four queries whatever their number."""
        self.check(user)
        return list(
            Order.objects.filter(user=user)
            .select_related("regcode")
            .prefetch_related(
                Prefetch(
                    "entries",
                    OrderEntry.objects.order_by("id").prefetch_related(
                        Prefetch("items", OrderItem.objects.order_by("id"))
                    ),
                ),
                "payments",
                "invoices",
            )
            .order_by("-id")
        )

    def balance(self, user: User) -> Decimal:
        """To the cent: SQLite's SUM of decimals comes back as a float (35.5, not 35.50)."""
        self.check(user)
        return account_balance(user).quantize(Decimal("0.01"))

    def site_answers(self, site: Site) -> QuerySet[Answer]:
        """The custom values the site's users hold."""
        self.check(site)
        return Answer.objects.filter(record_type="user", field__site=site)

    def imports(self, site: Site) -> QuerySet[UserImport]:
        self.check(site)
        return UserImport.objects.filter(site=site)

    def user_import(self, site: Site, pk) -> UserImport:
        found = self._one(self.imports(site).filter(pk=pk), "import")
        found.site = site
        return found

    # --- programme -----------------------------------------------------------------------------

    def sessions(self, site: Site) -> QuerySet[Session]:
        self.check(site)
        return Session.objects.filter(site=site)

    def sessions_listed(self, site: Site) -> QuerySet[Session]:
        """The site's sessions with the number of their active times, counted per row shown
        (a subquery on the times' (session, …) index, not a join grouped over the site)."""
        active_times = (
            SessionTime.objects.filter(session=OuterRef("pk"), status=ProgrammeStatus.ACTIVE)
            .order_by()
            .values("session")
            .annotate(n=Count("id"))
            .values("n")
        )
        return self.sessions(site).annotate(times_offered=Coalesce(Subquery(active_times), 0))

    def tracks(self, site: Site) -> list[str]:
        return list(
            self.sessions(site)
            .exclude(track="")
            .order_by("track")
            .values_list("track", flat=True)
            .distinct()
        )

    def session(self, site: Site, pk: int) -> Session:
        found = self._one(self.sessions(site).filter(pk=pk), "session")
        found.site = site
        return found

    def session_by_abbreviation(self, site: Site, abbreviation: str) -> Session | None:
        found = self.sessions(site).filter(abbreviation=abbreviation).first()
        if found is not None:
            found.site = site
            self._mark(found)
        return found

    def session_times(self, session: Session) -> QuerySet[SessionTime]:
        self.check(session)
        return SessionTime.objects.filter(session=session).order_by("date", "time", "id")

    def session_time(self, session: Session, pk: int) -> SessionTime:
        found = self._one(self.session_times(session).filter(pk=pk), "session time")
        found.session = session
        return found

    def speakers(self, session: Session) -> QuerySet[Speaker]:
        self.check(session)
        return Speaker.objects.filter(session=session).select_related("user").order_by("position")

    def session_files(self, session: Session) -> QuerySet[SessionFile]:
        self.check(session)
        return SessionFile.objects.filter(session=session).order_by("position", "id")

    def session_answers(self, session: Session) -> QuerySet[Answer]:
        self.check(session)
        return Answer.objects.filter(record_type=RecordType.SESSION, record_id=session.pk).order_by(
            "id"
        )

    def seats(self, session_time: SessionTime, status: str) -> QuerySet[Seat]:
        """The time's attendees (`scheduled`, in the order they got their seat) or its waitlist
        (`waitlisted`, by position), with their users."""
        self.check(session_time)
        seats = Seat.objects.filter(session_time=session_time, status=status).select_related("user")
        if status == SeatStatus.WAITLISTED:
            return seats.order_by("position")
        return seats.order_by("id")

    def seat(self, session_time: SessionTime, user_ref: str) -> Seat:
        """The active entry (seat or waitlist place) of a user at the time."""
        self.check(session_time)
        found = self._one(
            Seat.objects.filter(
                session_time=session_time,
                user__user_ref=user_ref.upper(),
                status__in=(SeatStatus.SCHEDULED, SeatStatus.WAITLISTED),
            ).select_related("user"),
            "seat",
        )
        self._mark(found.user)
        return found

    # The whole programme of a site in three queries (copying it to the other site).

    def site_session_times(self, site: Site) -> QuerySet[SessionTime]:
        self.check(site)
        return SessionTime.objects.filter(site=site).order_by("session_id", "date", "time", "id")

    def site_session_files(self, site: Site) -> QuerySet[SessionFile]:
        self.check(site)
        return SessionFile.objects.filter(session__site=site).order_by("session_id", "position")

    def site_session_answers(self, site: Site) -> QuerySet[Answer]:
        """The custom values the site's sessions hold (fields are per site: so are these)."""
        self.check(site)
        return Answer.objects.filter(record_type=RecordType.SESSION, field__site=site).order_by(
            "record_id", "id"
        )

    # --- exhibitors ----------------------------------------------------------------------------

    def exhibitors(self, site: Site) -> QuerySet[Exhibitor]:
        self.check(site)
        return Exhibitor.objects.filter(site=site)

    def exhibitors_listed(self, site: Site) -> QuerySet[Exhibitor]:
        staff = (
            Participant.objects.filter(exhibitor=OuterRef("pk"))
            .order_by()
            .values("exhibitor")
            .annotate(n=Count("id"))
            .values("n")
        )
        return self.exhibitors(site).annotate(staff_count=Coalesce(Subquery(staff), 0))

    def exhibitor(self, site: Site, pk: int) -> Exhibitor:
        found = self._one(self.exhibitors(site).filter(pk=pk), "exhibitor")
        found.site = site
        return found

    def participants(self, exhibitor: Exhibitor) -> QuerySet[Participant]:
        self.check(exhibitor)
        return (
            Participant.objects.filter(exhibitor=exhibitor)
            .select_related("user")
            .order_by("position", "id")
        )

    def exhibitor_files(self, exhibitor: Exhibitor) -> QuerySet[ExhibitorFile]:
        self.check(exhibitor)
        return ExhibitorFile.objects.filter(exhibitor=exhibitor).order_by("position", "id")

    def exhibitor_answers(self, exhibitor: Exhibitor) -> QuerySet[Answer]:
        self.check(exhibitor)
        return Answer.objects.filter(
            record_type=RecordType.EXHIBITOR, record_id=exhibitor.pk
        ).order_by("id")

    # --- registration --------------------------------------------------------------------------

    def orders(self, site: Site) -> QuerySet[Order]:
        self.check(site)
        return Order.objects.filter(site=site)

    def orders_listed(self, site: Site) -> QuerySet[Order]:
        """The site's orders with their users and codes, and whether each was changed (holds a
        `Change` entry: an EXISTS per row on the entries' order index)."""
        changes = OrderEntry.objects.filter(order=OuterRef("pk"), kind=EntryKind.CHANGE)
        return self.orders(site).select_related("user", "regcode").annotate(changed=Exists(changes))

    def registration_types(self, site: Site) -> QuerySet[RegistrationType]:
        self.check(site)
        return RegistrationType.objects.filter(site=site).order_by("code")

    def packages(self, site: Site) -> QuerySet[Package]:
        self.check(site)
        return Package.objects.filter(site=site).order_by("code")

    def regcodes(self, site: Site) -> QuerySet[RegCode]:
        self.check(site)
        return (
            RegCode.objects.filter(site=site)
            .select_related("registration_type", "package")
            .annotate(orders_count=Count("orders"))
            .order_by("code")
        )
