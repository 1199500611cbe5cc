"""registration/catalogue.py: registration types, packages and registration codes of a site."""

from decimal import Decimal

import pytest

from confero.errors import Conflict, ValidationFailed
from confero.registration.catalogue import (
    create_package,
    create_regcode,
    create_registration_type,
)
from confero.registration.models import Package, RegCode, RegistrationType
from tests.factories import EventFactory, PackageFactory, RegistrationTypeFactory, site_of


def test_create_registration_type_and_package_store_what_is_given(site):
    create_registration_type(site, code=" FULL ", name="Full conference", price="1200")
    create_package(
        site, code="PARTNER", name="Partner programme", price=Decimal("60.5"), for_guest=True
    )

    assert list(RegistrationType.objects.values_list("site", "code", "name", "price")) == [
        (site.pk, "FULL", "Full conference", Decimal("1200.00"))
    ]
    assert list(Package.objects.values_list("site", "code", "name", "price", "for_guest")) == [
        (site.pk, "PARTNER", "Partner programme", Decimal("60.50"), True)
    ]


def test_create_regcode_grants_by_code_with_its_uses(site):
    full = RegistrationTypeFactory(site=site, code="FULL")
    vip = PackageFactory(site=site, code="VIP")

    both = create_regcode(site, code="SPEAKER", registration_type="FULL", package="VIP", uses=5)
    open_ = create_regcode(site, code="PRESS", package="VIP")

    assert (both.registration_type, both.package, both.uses_left) == (full, vip, 5)
    assert (open_.registration_type, open_.package, open_.uses_left) == (None, vip, None)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda s: create_package(s, code="VIP", name="Again", price="1"), "package code 'VIP'"),
        (
            lambda s: create_registration_type(s, code="FULL", name="Again", price="1"),
            "registration type code 'FULL'",
        ),
        (lambda s: create_regcode(s, code="PRESS", package="VIP"), "registration code 'PRESS'"),
    ],
)
def test_create_with_a_code_the_site_uses_is_a_conflict(site, make, message):
    RegistrationTypeFactory(site=site, code="FULL")
    PackageFactory(site=site, code="VIP")
    create_regcode(site, code="PRESS", package="VIP")

    with pytest.raises(Conflict) as conflict:
        make(site)

    assert (conflict.value.what, conflict.value.message) == (
        "code",
        f"{message} is already used on this site",
    )


def test_create_with_a_code_another_site_uses_is_fine(site):
    PackageFactory(site=site_of(EventFactory()), code="VIP")

    create_package(site, code="VIP", name="VIP", price="1")
    create_regcode(site, code="PRESS", package="VIP")

    assert RegCode.objects.get().package.site == site


@pytest.mark.parametrize(
    ("make", "what", "message"),
    [
        (
            lambda s: create_package(s, code=" ", name="X", price="1"),
            "code",
            "code takes 1 to 100 characters",
        ),
        (
            lambda s: create_package(s, code="X", name="", price="1"),
            "name",
            "name takes 1 to 200 characters",
        ),
        (
            lambda s: create_package(s, code="X", name="X", price="-1"),
            "price",
            "a price cannot be negative",
        ),
        (
            lambda s: create_registration_type(s, code="X", name="X", price="1.001"),
            "price",
            "price '1.001' must be below 100000000 with at most 2 decimal places",
        ),
        (
            lambda s: create_regcode(s, code="X"),
            "regcode",
            "a registration code grants a registration type or a package",
        ),
        (
            lambda s: create_regcode(s, code="X", package="NOPE"),
            "package",
            "no package 'NOPE' on this site",
        ),
        (
            lambda s: create_regcode(s, code="X", registration_type="NOPE"),
            "registrationType",
            "no registrationType 'NOPE' on this site",
        ),
        (
            lambda s: create_regcode(s, code="X", package="VIP", uses=-1),
            "uses",
            "uses is a whole number from 0, or None for unlimited",
        ),
    ],
)
def test_create_bad_input_is_refused(site, make, what, message):
    PackageFactory(site=site, code="VIP")

    with pytest.raises(ValidationFailed) as refused:
        make(site)

    assert (refused.value.what, refused.value.message) == (what, message)
    assert RegCode.objects.count() == 0
