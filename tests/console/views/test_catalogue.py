"""The registration catalogue in the console: registration types, packages and registration
codes listed and added through confero.registration.catalogue, its rules on the form."""

import pytest

from confero.registration.models import Package, RegCode, RegistrationType
from tests.console.conftest import manage
from tests.console.views.test_sessions import alerts, rows
from tests.factories import PackageFactory, RegCodeFactory, RegistrationTypeFactory

CATALOGUE = "orders/catalogue/"


def test_catalogue_lists_types_packages_and_codes(world, planner_client):
    package = Package.objects.get(code="DINNER")
    RegCodeFactory(site=world.production, code="SPEAKER", package=package, uses=5)

    response = planner_client.get(manage(world, CATALOGUE))

    assert rows(response, "registration-types") == [["FULL", "Full pass", "300.00"]]
    assert rows(response, "packages") == [["DINNER", "Gala dinner", "120.00", "no"]]
    assert rows(response, "regcodes") == [["SPEAKER", "–", "DINNER", "5", "0"]]


def test_catalogue_entries_added_in_the_console(world, planner_client):
    added = [
        planner_client.post(manage(world, CATALOGUE + "types/"),
                            {"type-code": "DAY", "type-name": "Day pass", "type-price": "90.5"}),
        planner_client.post(manage(world, CATALOGUE + "packages/"),
                            {"package-code": "PLUS1", "package-name": "Partner",
                             "package-price": "0", "package-for_guest": "on"}),
        planner_client.post(manage(world, CATALOGUE + "regcodes/"),
                            {"regcode-code": "PRESS", "regcode-registration_type": "DAY",
                             "regcode-package": "PLUS1", "regcode-uses": "10"}),
    ]  # fmt: skip

    assert [r.status_code for r in added] == [302, 302, 302]
    day = RegistrationType.objects.get(code="DAY")
    assert (day.name, str(day.price)) == ("Day pass", "90.50")
    assert Package.objects.get(code="PLUS1").for_guest is True
    press = RegCode.objects.get(code="PRESS")
    assert (press.registration_type, press.package.code, press.uses_left) == (day, "PLUS1", 10)


@pytest.mark.parametrize(
    ("path", "data", "refused"),
    [
        (
            "types/",
            {"type-code": "FULL", "type-name": "Again", "type-price": "1"},
            ["registration type code 'FULL' is already used on this site"],
        ),
        (
            "packages/",
            {"package-code": "X", "package-name": "X", "package-price": "-1"},
            ["Ensure this value is greater than or equal to 0."],
        ),
        (
            "regcodes/",
            {"regcode-code": "NOTHING"},
            ["A registration code grants a registration type or a package."],
        ),
        (
            "regcodes/",
            {"regcode-code": "GHOST", "regcode-package": "NOPE"},
            ["Select a valid choice. NOPE is not one of the available choices."],
        ),
    ],
    ids=["code taken", "negative price", "grants nothing", "unknown package"],
)
def test_catalogue_refuses_what_its_rules_refuse(world, planner_client, path, data, refused):
    before = (RegistrationType.objects.count(), Package.objects.count(), RegCode.objects.count())

    response = planner_client.post(manage(world, CATALOGUE + path), data)

    assert (response.status_code, alerts(response)) == (400, refused)
    after = (RegistrationType.objects.count(), Package.objects.count(), RegCode.objects.count())
    assert after == before


@pytest.mark.parametrize("count", [1, 3])
def test_catalogue_queries_do_not_grow_with_entries(
    world, planner_client, django_assert_num_queries, count
):
    for _ in range(count - 1):
        RegistrationTypeFactory(site=world.production)
        PackageFactory(site=world.production)
    for _ in range(count):
        RegCodeFactory(site=world.production, package=Package.objects.get(code="DINNER"))

    # session, user, event, sites; types, packages, codes (with what they grant and their
    # orders counted); the code form's choices of types and packages
    with django_assert_num_queries(9):
        response = planner_client.get(manage(world, CATALOGUE))
    found = [len(rows(response, t)) for t in ("registration-types", "packages", "regcodes")]
    assert found == [count, count, count]
