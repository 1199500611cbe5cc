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

from django.db.models import QuerySet
from django.http import Http404

from confero.access.models import ApiCall, ApiProfile, ApiToken
from confero.console.models import UserImport
from confero.customfields.models import Answer, CustomField, CustomValue
from confero.events.models import Account, Environment, Event, Site
from confero.people.models import User

_MARK = "_console_scope"


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
