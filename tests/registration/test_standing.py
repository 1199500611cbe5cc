"""registration/standing.py: a user's account balance and registration codes, and `registered`
and `paid` following from their orders where the site says so (off by default)."""

from decimal import Decimal

import pytest

from confero.people.models import User
from confero.people.services import add_user
from confero.registration.models import RegistrationSettings
from confero.registration.services import add_order, cancel_order, update_order
from confero.registration.standing import (
    account_balance,
    regcodes_by_user,
    set_status_from_orders,
    status_follows_orders,
    user_regcodes,
)
from tests.factories import RegCodeFactory, RegistrantFactory
from tests.registration.records import LONG_AGO

D = Decimal


def status(user: User) -> tuple[bool, bool]:
    return User.objects.values_list("registered", "paid").get(pk=user.pk)


@pytest.fixture
def derived(site):
    set_status_from_orders(site, enabled=True)
    return site


def test_account_balance_adds_every_order_less_every_payment(kat):
    assert account_balance(kat) == D("0")
    first = add_order(kat, items=[("Pass", "250.00")])
    second = add_order(kat, items=[("Dinner", "80.50"), ("Gala", "120.25")])
    update_order(first, amount_paid="100.00")
    update_order(second, amount_paid="200.75")

    assert account_balance(kat) == D("150.00")


def test_account_balance_below_zero_when_a_paid_order_is_cancelled(kat, site):
    order = add_order(kat, items=[("Pass", "250.00")])
    add_order(RegistrantFactory(site=site), items=[("Pass", "999.00")])  # not hers
    update_order(order, amount_paid="250.00")

    cancel_order(order)

    assert account_balance(kat) == D("-250.00")


def test_user_regcodes_are_those_of_orders_not_cancelled_in_the_order_first_used(kat, site):
    for code in ("SPEAKER", "PRESS", "STAFF"):
        RegCodeFactory(site=site, code=code)
    add_order(kat, items=[("Pass", "1.00")], regcode="PRESS")
    cancelled = add_order(kat, items=[("Pass", "1.00")], regcode="STAFF")
    add_order(kat, items=[("Pass", "1.00")], regcode="SPEAKER")
    add_order(kat, items=[("Pass", "1.00")], regcode="PRESS")
    add_order(kat, items=[("Pass", "1.00")])
    cancel_order(cancelled)

    assert user_regcodes(kat) == ["PRESS", "SPEAKER"]


def test_regcodes_by_user_answers_many_users_at_once(kat, site):
    RegCodeFactory(site=site, code="PRESS")
    sam, lee = RegistrantFactory(site=site), RegistrantFactory(site=site)
    add_order(kat, items=[("Pass", "1.00")], regcode="PRESS")
    add_order(sam, items=[("Pass", "1.00")])

    assert regcodes_by_user([kat.pk, sam.pk, lee.pk]) == {kat.pk: ["PRESS"]}


def test_status_set_by_the_registration_system_when_the_site_says_nothing(site):
    assert status_follows_orders(site.pk) is False
    kat = add_user(
        site,
        fields={"first_name": "Kat", "last_name": "J", "email": "k@example.org", "paid": True},
    )

    order = add_order(kat, items=[("Pass", "250.00")])
    update_order(order, amount_paid="250.00")

    assert status(kat) == (False, True)
    cancel_order(order)
    assert status(kat) == (False, True)


def test_status_follows_orders_registered_then_paid_then_cancelled(derived, kat):
    order = add_order(kat, items=[("Pass", "250.00")])
    assert status(kat) == (True, False)

    update_order(order, amount_paid="249.99")
    assert status(kat) == (True, False)

    update_order(order, amount_paid="0.01")
    assert status(kat) == (True, True)

    update_order(order, items=[("Pass", "250.00"), ("Dinner", "80.50")])
    assert status(kat) == (True, False)

    cancel_order(order)
    assert status(kat) == (False, False)


def test_status_follows_orders_free_order_is_paid_at_once(derived, kat):
    add_order(kat, items=[("Comp pass", "0.00")])

    assert status(kat) == (True, True)


def test_status_follows_orders_over_all_of_the_users_orders(derived, kat):
    first = add_order(kat, items=[("Pass", "250.00")])
    update_order(first, amount_paid="250.00")
    second = add_order(kat, items=[("Dinner", "80.50")])
    assert status(kat) == (True, False)

    cancel_order(second)

    assert status(kat) == (True, True)


def test_status_follows_orders_money_owed_back_is_not_registered(derived, kat):
    order = add_order(kat, items=[("Pass", "250.00")])
    update_order(order, amount_paid="250.00")

    cancel_order(order)

    assert (status(kat), account_balance(kat)) == ((False, False), D("-250.00"))


def test_set_status_from_orders_on_derives_every_user_of_the_site_at_once(site):
    fields = {"first_name": "A", "last_name": "B"}
    unordered = add_user(site, fields={**fields, "email": "a@x.org", "registered": True})
    owing = add_user(site, fields={**fields, "email": "b@x.org"})
    settled = add_user(site, fields={**fields, "email": "c@x.org", "registered": True})
    add_order(owing, items=[("Pass", "10.00")])
    update_order(add_order(settled, items=[("Pass", "10.00")]), amount_paid="10.00")
    User.objects.update(modified_at=LONG_AGO)

    set_status_from_orders(site, enabled=True)

    assert status_follows_orders(site.pk) is True
    assert [status(u) for u in (unordered, owing, settled)] == [
        (False, False),
        (True, False),
        (True, True),
    ]
    moved = User.objects.filter(modified_at__gt=LONG_AGO).values_list("pk", flat=True)
    assert sorted(moved) == sorted([unordered.pk, owing.pk, settled.pk])


def test_set_status_from_orders_moves_only_users_whose_status_changes(site, kat):
    User.objects.update(modified_at=LONG_AGO)

    set_status_from_orders(site, enabled=True)

    assert User.objects.get(pk=kat.pk).modified_at == LONG_AGO


def test_set_status_from_orders_off_leaves_the_status_to_the_registration_system(derived, kat):
    add_order(kat, items=[("Pass", "250.00")])

    set_status_from_orders(derived, enabled=False)
    order = add_order(kat, items=[("Pass", "250.00")])
    cancel_order(order)

    assert status_follows_orders(derived.pk) is False
    assert RegistrationSettings.objects.get(site=derived).status_from_orders is False
    assert status(kat) == (True, False)
