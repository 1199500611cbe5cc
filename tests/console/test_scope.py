"""confero.console.scope: the one way the console reads the database, so a view cannot forget
the account filter."""

import re
from pathlib import Path

import pytest
from django.http import Http404

import confero.console
from confero.console.scope import OutOfScope, Scope
from confero.events.models import Site
from confero.people.models import User

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
