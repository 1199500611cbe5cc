"""confero.console.scope: the one way the console reads the database, so a view cannot forget
the account filter."""

import re
from pathlib import Path

import pytest
from django.http import Http404

import confero.console
from confero.console.scope import OutOfScope, Scope
from confero.events.models import Site
from confero.exhibitors.models import Exhibitor
from confero.people.models import User
from confero.programme.models import Session, SessionTime

CONSOLE = Path(confero.console.__file__).parent
# The modules allowed to query models directly: the scope itself, Django admin (superusers
# only, its own querysets), the console's models and migrations.
OWN_QUERIES = {"scope.py", "admin.py", "models.py"}


def console_modules() -> list[Path]:
    return [
        path
        for path in CONSOLE.rglob("*.py")
        if path.name not in OWN_QUERIES and "migrations" not in path.parts
    ]


@pytest.mark.parametrize("path", console_modules(), ids=lambda p: str(p.relative_to(CONSOLE)))
def test_console_module_reads_through_the_scope_only(path):
    source = path.read_text()

    found = re.findall(r"\.objects\b|get_object_or_404|\.raw\(|cursor\(\)", source)
    allowed = found == ["cursor()"] and path.name == "csvimport.py"  # SELECT LOWER(%s): no table

    assert not found or allowed, f"{path.name} queries without the scope: {found}"


def test_scope_of_a_planner_finds_their_accounts_events_only(world):
    scope = Scope(world.planner)

    assert [event.code for event in scope.events()] == ["alpha"]
    assert scope.event("alpha") == world.alpha
    with pytest.raises(Http404):
        scope.event("beta")


def test_scope_of_a_superuser_finds_every_event(world):
    scope = Scope(world.superuser)

    assert [event.code for event in scope.events()] == ["alpha", "beta"]


def test_scope_refuses_an_object_it_did_not_hand_out(world):
    scope = Scope(world.planner)
    site = Site.objects.get(pk=world.production.pk)  # the right site, not found through the scope

    with pytest.raises(OutOfScope):
        scope.users(site)
    with pytest.raises(OutOfScope):
        Scope(world.planner).users(scope.site(scope.event("alpha"), "production"))


def test_scope_users_of_a_site_are_that_sites_only(world):
    scope = Scope(world.planner)
    uat = scope.site(scope.event("alpha"), "uat")
    production = scope.site(scope.event("alpha"), "production")

    assert list(scope.users(uat)) == []
    assert list(scope.users(production)) == [User.objects.get(pk=world.person.pk)]
    with pytest.raises(Http404):
        scope.user(uat, world.person.user_ref)


def test_scope_needs_an_active_login(world):
    world.planner.is_active = False

    with pytest.raises(OutOfScope):
        Scope(world.planner)


def test_scope_refuses_records_of_the_domains_it_did_not_hand_out(world):
    scope = Scope(world.planner)
    session = Session.objects.get(pk=world.session.pk)
    time = SessionTime.objects.get(pk=world.time.pk)
    exhibitor = Exhibitor.objects.get(pk=world.exhibitor.pk)

    for read in (
        lambda: scope.session_times(session),
        lambda: scope.speakers(session),
        lambda: scope.seats(time, "scheduled"),
        lambda: scope.participants(exhibitor),
        lambda: scope.orders_of(world.person),
    ):
        with pytest.raises(OutOfScope):
            read()


def test_scope_finds_records_below_their_own_site_only(world):
    scope = Scope(world.planner)
    event = scope.event("alpha")
    uat, production = scope.site(event, "uat"), scope.site(event, "production")

    session = scope.session(production, world.session.pk)
    assert scope.session_time(session, world.time.pk) == world.time
    assert scope.exhibitor(production, world.exhibitor.pk) == world.exhibitor
    for find in (
        lambda: scope.session(uat, world.session.pk),
        lambda: scope.exhibitor(uat, world.exhibitor.pk),
        lambda: scope.session_time(scope.session(production, world.session.pk), 10**9),
    ):
        with pytest.raises(Http404):
            find()


def test_scope_user_named_by_user_ref_email_or_client_id(world):
    scope = Scope(world.planner)
    production = scope.site(scope.event("alpha"), "production")
    uat = scope.site(scope.event("alpha"), "uat")

    named = [
        scope.user_named(production, name)
        for name in (world.person.user_ref.lower(), "ADA@example.org", "CRM-1", "nobody")
    ]

    assert named == [world.person, world.person, world.person, None]
    assert scope.user_named(uat, "ada@example.org") is None
