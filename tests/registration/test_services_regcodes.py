"""registration/services.py: what a registration code grants an order, its uses, and that
concurrent orders never take more uses than a code has."""

import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, transaction

from confero.errors import Refused, ValidationFailed
from confero.registration.models import Order, RegCode
from confero.registration.services import add_order, cancel_order, update_order
from tests.factories import (
    EventFactory,
    RegCodeFactory,
    RegistrantFactory,
    RegistrationTypeFactory,
    site_of,
)
from tests.registration.records import item_rows

D = Decimal


def uses_left(code: RegCode) -> int | None:
    return RegCode.objects.get(pk=code.pk).uses_left


def test_regcode_granted_package_is_added_free_of_charge(kat, vip):
    code = RegCodeFactory(site=kat.site, code="SPEAKER", package=vip, uses=2)

    order = add_order(kat, items=[("Dinner", "80.50")], regcode="SPEAKER")

    assert item_rows(order, "Purchase") == [
        ("item", "Dinner", D("80.50"), D("80.50"), D("0"), D("0"), False, "", False),
        ("package", "VIP pass", D("0.00"), D("0.00"), D("0"), D("0"), False, "", False),
    ]
    assert (Order.objects.get(pk=order.pk).regcode, uses_left(code)) == (code, 1)


def test_regcode_granted_package_ordered_is_the_one_made_free(kat, vip):
    RegCodeFactory(site=kat.site, code="SPEAKER", package=vip)

    order = add_order(kat, items=["VIP", "VIP"], regcode="SPEAKER")

    assert [row[2] for row in item_rows(order, "Purchase")] == [D("0.00"), D("450.00")]
    assert order.total == D("450.00")


def test_regcode_granted_registration_type_is_an_item_of_its_own(kat, site, vip):
    speaker = RegistrationTypeFactory(site=site, code="SPK", name="Speaker", price="300.00")
    RegCodeFactory(site=site, code="SPEAKER", package=vip, registration_type=speaker)

    order = add_order(kat, items=[("Dinner", "80.50")], regcode="SPEAKER")

    assert item_rows(order, "Purchase")[1:] == [
        ("package", "VIP pass", D("0.00"), D("0.00"), D("0"), D("0"), False, "", False),
        ("registrationType", "Speaker", D("0"), D("0"), D("0"), D("0"), False, "", False),
    ]
    assert order.total == D("80.50")


def test_regcode_grants_stay_when_the_order_items_change(kat, vip):
    RegCodeFactory(site=kat.site, code="SPEAKER", package=vip)
    order = add_order(kat, items=[("Dinner", "80.50")], regcode="SPEAKER")

    update_order(order, items=[("Gala", "120.00")])

    assert [row[1:3] for row in item_rows(order, "Change")] == [
        ("Dinner", D("-80.50")),
        ("Gala", D("120.00")),
    ]


def test_regcode_unlimited_keeps_no_count(kat, vip):
    code = RegCodeFactory(site=kat.site, code="OPEN", package=vip, uses=None)

    add_order(kat, items=[("Pass", "1.00")], regcode="OPEN")
    add_order(kat, items=[("Pass", "1.00")], regcode="OPEN")

    assert uses_left(code) is None


def test_regcode_last_use_is_taken_then_refused(kat, vip):
    code = RegCodeFactory(site=kat.site, code="ONCE", package=vip, uses=1)
    add_order(kat, items=[("Pass", "1.00")], regcode="ONCE")

    with pytest.raises(Refused) as refused:
        add_order(kat, items=[("Pass", "1.00")], regcode="ONCE")

    assert (refused.value.what, refused.value.message) == (
        "regcode",
        "registration code 'ONCE' is used up",
    )
    assert (uses_left(code), Order.objects.count()) == (0, 1)


@pytest.mark.parametrize("code", ["NOPE", "once", "ELSEWHERE"])
def test_regcode_unknown_other_case_or_of_another_site_is_refused(kat, vip, code):
    RegCodeFactory(site=kat.site, code="ONCE", package=vip, uses=1)
    RegCodeFactory(site=site_of(EventFactory()), code="ELSEWHERE")

    with pytest.raises(Refused) as refused:
        add_order(kat, items=[("Pass", "1.00")], regcode=code)

    assert (refused.value.what, refused.value.message) == (
        "regcode",
        f"registration code '{code}' is not valid on this site",
    )
    assert Order.objects.count() == 0


def test_regcode_use_is_kept_when_the_order_is_refused(kat, vip):
    code = RegCodeFactory(site=kat.site, code="ONCE", package=vip, uses=1)

    with pytest.raises(ValidationFailed):
        add_order(kat, items=["NOPE"], regcode="ONCE")

    assert uses_left(code) == 1


def test_regcode_use_comes_back_when_the_order_is_cancelled(kat, vip):
    code = RegCodeFactory(site=kat.site, code="ONCE", package=vip, uses=1)
    order = add_order(kat, items=[("Pass", "1.00")], regcode="ONCE")

    cancel_order(order)
    cancel_order(order)  # once only

    assert uses_left(code) == 1
    add_order(kat, items=[("Pass", "1.00")], regcode="ONCE")
    assert uses_left(code) == 0


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_regcode_uses_are_never_overtaken_by_concurrent_orders():
    site = site_of(EventFactory())
    code = RegCodeFactory(site=site, code="FIVE", uses=5)
    users = [RegistrantFactory(site=site) for _ in range(12)]
    start = threading.Barrier(len(users))
    outcomes: list[str] = []

    def order(user):
        try:
            start.wait()
            with transaction.atomic():
                add_order(user, items=[("Pass", "1.00")], regcode="FIVE")
            outcomes.append("ordered")
        except Refused as refused:
            outcomes.append(refused.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=order, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_old_connections()

    assert sorted(outcomes) == ["ordered"] * 5 + ["registration code 'FIVE' is used up"] * 7
    assert (uses_left(code), Order.objects.filter(regcode=code).count()) == (0, 5)
