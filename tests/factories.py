"""factory_boy factories. Events are made through the service, so they get both sites and
their API profiles exactly as in production."""

import factory

from confero.access.services import configure_profile
from confero.access.tokens import issue_token
from confero.events.models import Account, Event, Site
from confero.events.services import create_event


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


class UserFactory(factory.django.DjangoModelFactory):
    """An attendee of a site, through people.services.add_user (as every way in writes it)."""

    class Meta:
        model = "people.User"

    first_name = "Ada"
    last_name = factory.Sequence(lambda n: f"Lovelace{n}")
    email = factory.Sequence(lambda n: f"user{n}@example.org")

    @classmethod
    def _create(cls, model_class, *args, site, **fields):
        from django.db import transaction

        from confero.people.services import add_user

        with transaction.atomic():
            return add_user(site, fields=fields)
