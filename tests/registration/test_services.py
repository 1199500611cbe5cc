"""registration/services.py: purchases, changes, payments and cancellations, with the exact
amounts of every entry, item and invoice. Registration codes: test_services_regcodes.py."""

import datetime as dt
from decimal import Decimal

import pytest

from confero.errors import Cancelled, Conflict, NotFound, ValidationFailed
from confero.people.services import cancel_user
from confero.registration import services
from confero.registration.lines import Item
from confero.registration.models import Invoice, Order, OrderItem, Payment
from confero.registration.services import add_order, cancel_order, find_order, update_order
from tests.factories import EventFactory, OrderFactory, PackageFactory, RegistrantFactory, site_of
from tests.registration.records import LONG_AGO, aged, entry_rows, invoice_rows, item_rows, stamps

D = Decimal
WORKSHOP = Item(name="Workshop", base_price="100.00", booking_fee="5.00", tax="19.95")


def test_add_order_purchase_holds_its_items_at_their_prices(kat, vip):
    order = add_order(kat, items=["VIP", ("Dinner", D("80.50")), WORKSHOP])

    assert entry_rows(order) == [
        ("Purchase", D("655.45"), D("630.50"), D("5.00"), D("19.95"), False)
    ]
    assert item_rows(order, "Purchase") == [
        ("package", "VIP pass", D("450.00"), D("450.00"), D("0.00"), D("0.00"), False, "", False),
        ("item", "Dinner", D("80.50"), D("80.50"), D("0.00"), D("0.00"), False, "", False),
        ("item", "Workshop", D("124.95"), D("100.00"), D("5.00"), D("19.95"), False, "", False),
    ]
    stored = Order.objects.get(pk=order.pk)
    assert (stored.user_id, stored.site_id, stored.total, stored.amount_paid) == (
        kat.pk,
        kat.site_id,
        D("655.45"),
        D("0.00"),
    )
    assert (stored.balance, stored.is_paid_in_full, stored.is_cancelled) == (
        D("655.45"),
        False,
        False,
    )
    assert invoice_rows(order) == [
        (f"{order.pk}-1", "Purchase", D("655.45"), D("19.95"), D("655.45"), False)
    ]


def test_add_order_dates_are_one_reading_of_the_database_clock(kat):
    order = add_order(kat, items=[("Pass", "10.00"), ("Dinner", "5.00")])

    stored = Order.objects.get(pk=order.pk)
    entry = stored.entries.get()
    dates = {stored.created_at, stored.modified_at, entry.ordered_at, entry.invoice.issued_at}
    dates |= {item.ordered_at for item in entry.items.all()}
    assert len(dates) == 1
    assert abs(stored.created_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert stored.cancelled_at is None


def test_add_order_guest_name_or_guest_package_marks_the_guest_package(kat, site):
    PackageFactory(
        site=site, code="PARTNER", name="Partner programme", price="60.00", for_guest=True
    )

    order = add_order(
        kat,
        items=[
            "PARTNER",
            Item(name="Gala dinner", base_price="90.00", guest_name="  Sam Johnson "),
            ("Pass", "10.00"),
        ],
    )

    assert item_rows(order, "Purchase") == [
        ("package", "Partner programme", D("60.00"), D("60.00"), D("0"), D("0"), True, "", False),
        ("item", "Gala dinner", D("90.00"), D("90.00"), D("0"), D("0"), True, "Sam Johnson", False),
        ("item", "Pass", D("10.00"), D("10.00"), D("0"), D("0"), False, "", False),
    ]
    assert entry_rows(order)[0][-1] is True


def test_add_order_discount_line_lowers_the_total(kat, vip):
    order = add_order(kat, items=["VIP", ("Early bird", "-50.00")])

    assert order.total == D("400.00")
    assert entry_rows(order) == [("Purchase", D("400.00"), D("400.00"), D("0"), D("0"), False)]


@pytest.mark.parametrize(
    ("items", "what", "message"),
    [
        (["VIP", "NOPE"], "item", "no package 'NOPE' on this site"),
        ([], "item", "an order holds at least one item"),
        ([("  ", "1.00")], "item", "an item's name takes 1 to 200 characters"),
        ([Item(name="Pass")], "item", "item 'Pass' has no price"),
        (
            [("Pass", "10.005")],
            "price",
            "price '10.005' must be below 100000000 with at most 2 decimal places",
        ),
        ([("Pass", 10.5)], "price", "price must be a decimal amount, not a float"),
        ([("Pass", "ten")], "price", "price 'ten' is not an amount"),
        (
            [Item(name="Pass", base_price="10", tax="-1.00")],
            "item",
            "booking fee and tax cannot be negative",
        ),
        (
            [("Pass", "99999999.99"), ("Pass", "0.01")],
            "total",
            "total would reach 100000000.00: amounts stay below 100000000",
        ),
    ],
)
def test_add_order_bad_items_are_refused_and_nothing_is_written(kat, vip, items, what, message):
    with pytest.raises(ValidationFailed) as refused:
        add_order(kat, items=items)

    assert (refused.value.what, refused.value.message) == (what, message)
    assert (Order.objects.count(), OrderItem.objects.count(), Invoice.objects.count()) == (0, 0, 0)


def test_add_order_package_of_another_site_is_not_found(kat):
    PackageFactory(site=site_of(EventFactory()), code="ELSEWHERE")

    with pytest.raises(ValidationFailed) as refused:
        add_order(kat, items=["ELSEWHERE"])

    assert refused.value.message == "no package 'ELSEWHERE' on this site"


def test_add_order_number_repeated_on_the_site_is_a_conflict(kat, site):
    add_order(kat, items=[("Pass", "10.00")], order_number="REG-1")
    other = RegistrantFactory(site=site)

    with pytest.raises(Conflict) as conflict:
        add_order(other, items=[("Pass", "10.00")], order_number=" REG-1 ")

    assert (conflict.value.what, conflict.value.message) == (
        "orderNumber",
        "orderNumber 'REG-1' is already used by another order",
    )
    assert Order.objects.filter(user=other).count() == 0


def test_add_order_number_index_catches_a_race_as_a_conflict(kat, monkeypatch):
    add_order(kat, items=[("Pass", "10.00")], order_number="REG-1")
    # The check a concurrent call could slip past is skipped: only the index remains.
    monkeypatch.setattr(services, "_check_order_number", lambda *args: None)

    with pytest.raises(Conflict) as conflict:
        add_order(kat, items=[("Pass", "10.00")], order_number="REG-1")

    assert conflict.value.what == "orderNumber"
    assert Order.objects.count() == 1


def test_add_order_number_may_repeat_on_another_site_and_may_be_left_out(kat):
    elsewhere = RegistrantFactory(site=site_of(EventFactory()))
    add_order(kat, items=[("Pass", "10.00")], order_number="REG-1")

    add_order(elsewhere, items=[("Pass", "10.00")], order_number="REG-1")
    add_order(kat, items=[("Pass", "10.00")])
    add_order(kat, items=[("Pass", "10.00")], order_number="")

    assert list(Order.objects.order_by("id").values_list("order_number", flat=True)) == [
        "REG-1",
        "REG-1",
        None,
        None,
    ]


def test_add_order_for_a_cancelled_user_is_refused(kat):
    cancel_user(kat)

    with pytest.raises(Cancelled) as refused:
        add_order(kat, items=[("Pass", "10.00")])

    assert (refused.value.what, refused.value.message) == (
        "user",
        f"user {kat.user_ref} is cancelled",
    )


def test_update_order_items_replace_what_it_holds_in_a_change_entry(kat, vip):
    order = add_order(kat, items=["VIP", ("Dinner", "80.50")])

    update_order(order, items=["VIP", ("Gala", "120.00")])

    stored = Order.objects.get(pk=order.pk)
    assert entry_rows(stored) == [
        ("Purchase", D("530.50"), D("530.50"), D("0"), D("0"), False),
        ("Change", D("39.50"), D("39.50"), D("0"), D("0"), False),
    ]
    assert item_rows(stored, "Purchase") == [
        ("package", "VIP pass", D("450.00"), D("450.00"), D("0"), D("0"), False, "", False),
        ("item", "Dinner", D("80.50"), D("80.50"), D("0"), D("0"), False, "", True),
    ]
    assert item_rows(stored, "Change") == [
        ("item", "Dinner", D("-80.50"), D("-80.50"), D("0"), D("0"), False, "", True),
        ("item", "Gala", D("120.00"), D("120.00"), D("0"), D("0"), False, "", False),
    ]
    change = stored.entries.get(kind="Change")
    dinner, taking_back = OrderItem.objects.filter(name="Dinner").order_by("id")
    assert taking_back.reverses_id == dinner.pk
    assert dinner.cancelled_at == taking_back.cancelled_at == change.ordered_at
    assert (stored.total, stored.modified_at) == (D("570.00"), change.ordered_at)
    assert invoice_rows(stored)[1] == (
        f"{order.pk}-2",
        "Change",
        D("39.50"),
        D("0.00"),
        D("570.00"),
        False,
    )


def test_update_order_held_package_keeps_the_price_it_was_bought_at(kat, vip):
    order = add_order(kat, items=["VIP"])
    type(vip).objects.filter(pk=vip.pk).update(price=D("500.00"), name="VIP pass 2027")

    update_order(order, items=["VIP", ("Dinner", "80.50")])

    assert item_rows(order, "Change") == [
        ("item", "Dinner", D("80.50"), D("80.50"), D("0"), D("0"), False, "", False),
    ]
    assert Order.objects.get(pk=order.pk).total == D("530.50")


def test_update_order_fewer_of_the_same_item_takes_back_the_latest(kat):
    order = add_order(kat, items=[("Dinner", "80.50"), ("Dinner", "80.50")])

    update_order(order, items=[("Dinner", "80.50")])

    first, second, taking_back = OrderItem.objects.filter(order=order).order_by("id")
    assert (first.cancelled_at, taking_back.reverses_id) == (None, second.pk)
    assert Order.objects.get(pk=order.pk).total == D("80.50")


def test_update_order_same_items_add_no_entry_and_move_nothing(kat, vip):
    order = aged(add_order(kat, items=["VIP", ("Dinner", "80.50")]))

    update_order(order, items=[("Dinner", "80.50"), "VIP"], amount_paid="0.00")

    assert [e[0] for e in entry_rows(order)] == ["Purchase"]
    assert Payment.objects.count() == 0
    assert stamps(order) == (LONG_AGO, LONG_AGO)


def test_update_order_payments_are_recorded_and_settle_the_order(kat):
    order = add_order(kat, items=[("Pass", "250.00")])

    update_order(order, amount_paid="100.00")
    update_order(order, amount_paid=D("150"))

    stored = Order.objects.get(pk=order.pk)
    assert list(stored.payments.values_list("amount", flat=True)) == [D("100.00"), D("150.00")]
    assert (stored.amount_paid, stored.balance, stored.is_paid_in_full) == (
        D("250.00"),
        D("0.00"),
        True,
    )
    assert [e[0] for e in entry_rows(stored)] == ["Purchase"]  # a payment is no entry
    assert stored.payments.last().paid_at == stored.modified_at


def test_update_order_items_and_payment_in_one_call(kat):
    order = add_order(kat, items=[("Pass", "250.00")])

    update_order(order, items=[("Pass", "250.00"), ("Dinner", "50.00")], amount_paid="300.00")

    stored = Order.objects.get(pk=order.pk)
    assert (stored.total, stored.amount_paid, stored.is_paid_in_full) == (
        D("300.00"),
        D("300.00"),
        True,
    )
    # The invoice of the change was issued before the payment came in.
    assert invoice_rows(stored)[1][4] == D("300.00")


def test_update_order_without_items_is_refused(kat):
    order = add_order(kat, items=[("Pass", "250.00")])

    with pytest.raises(ValidationFailed) as refused:
        update_order(order, items=[], amount_paid="10.00")

    assert refused.value.message == "an order holds at least one item"
    assert (Order.objects.get(pk=order.pk).amount_paid, Payment.objects.count()) == (D("0"), 0)


def test_update_order_items_of_a_cancelled_order_are_refused_but_a_refund_is_recorded(kat):
    order = add_order(kat, items=[("Pass", "250.00")])
    update_order(order, amount_paid="250.00")
    cancel_order(order)

    with pytest.raises(Cancelled) as refused:
        update_order(order, items=[("Pass", "250.00")])
    update_order(order, amount_paid="-250.00")

    assert (refused.value.what, refused.value.message) == (
        "order",
        f"order {order.pk} is cancelled: its items stay as they were",
    )
    stored = Order.objects.get(pk=order.pk)
    assert (stored.total, stored.amount_paid, stored.balance) == (D("0"), D("0"), D("0"))


def test_cancel_order_adds_a_cancel_entry_with_negated_amounts(kat, vip):
    order = add_order(kat, items=["VIP", ("Dinner", "80.50"), WORKSHOP])
    update_order(order, items=["VIP", WORKSHOP, ("Gala", "120.00")], amount_paid="100.00")

    cancel_order(order)

    stored = Order.objects.get(pk=order.pk)
    assert entry_rows(stored) == [
        ("Purchase", D("655.45"), D("630.50"), D("5.00"), D("19.95"), False),
        ("Change", D("39.50"), D("39.50"), D("0.00"), D("0.00"), False),
        ("Cancel", D("-694.95"), D("-670.00"), D("-5.00"), D("-19.95"), False),
    ]
    assert item_rows(stored, "Cancel") == [
        ("package", "VIP pass", D("-450.00"), D("-450.00"), D("0"), D("0"), False, "", True),
        ("item", "Workshop", D("-124.95"), D("-100.00"), D("-5.00"), D("-19.95"), False, "", True),
        ("item", "Gala", D("-120.00"), D("-120.00"), D("0"), D("0"), False, "", True),
    ]
    assert not OrderItem.objects.filter(order=order, cancelled_at__isnull=True).exists()
    cancel = stored.entries.get(kind="Cancel")
    assert stored.cancelled_at == stored.modified_at == cancel.ordered_at
    assert (stored.total, stored.amount_paid, stored.balance, stored.is_cancelled) == (
        D("0.00"),
        D("100.00"),
        D("-100.00"),
        True,
    )
    assert invoice_rows(stored)[2] == (
        f"{order.pk}-3",
        "Cancel",
        D("-694.95"),
        D("-19.95"),
        D("-100.00"),
        True,
    )


def test_cancel_order_twice_changes_nothing(kat):
    order = aged(cancel_order(add_order(kat, items=[("Pass", "250.00")])))
    cancelled_at = order.cancelled_at

    again = cancel_order(order)

    assert (again.cancelled_at, [e[0] for e in entry_rows(again)]) == (
        cancelled_at,
        ["Purchase", "Cancel"],
    )
    assert stamps(order) == (LONG_AGO, LONG_AGO)


@pytest.mark.parametrize(
    "change",
    [
        lambda order: update_order(order, items=[("Dinner", "80.50")]),
        lambda order: update_order(order, amount_paid="1.00"),
        cancel_order,
    ],
    ids=["items", "payment", "cancel"],
)
def test_order_changes_move_the_order_and_the_user_last_modified(kat, change):
    order = aged(add_order(kat, items=[("Pass", "250.00")]))

    change(order)

    order_modified, user_modified = stamps(order)
    assert order_modified > LONG_AGO
    assert user_modified > LONG_AGO


def test_add_order_moves_the_user_last_modified(kat):
    type(kat).objects.filter(pk=kat.pk).update(modified_at=LONG_AGO)

    order = add_order(kat, items=[("Pass", "250.00")])

    assert stamps(order)[1] > LONG_AGO


def test_find_order_by_id_by_number_or_both(kat):
    order = OrderFactory(user=kat, order_number="REG-7")
    site_id = kat.site_id

    assert find_order(site_id, order_id=order.pk) == order
    assert find_order(site_id, order_number="REG-7") == order
    assert find_order(site_id, order_id=order.pk, order_number="REG-7") == order


@pytest.mark.parametrize(
    ("lookup", "message"),
    [
        ({"order_number": "REG-8"}, "no order with orderNumber 'REG-8' on this site"),
        (
            {"order_id": "own", "order_number": "REG-8"},
            "no order with orderId {pk} and orderNumber 'REG-8' on this site",
        ),
        ({"order_id": "elsewhere"}, "no order with orderId {elsewhere} on this site"),
    ],
)
def test_find_order_unknown_or_elsewhere_is_not_found(kat, lookup, message):
    order = OrderFactory(user=kat, order_number="REG-7")
    elsewhere = OrderFactory(user=RegistrantFactory(site=site_of(EventFactory())))
    ids = {"own": order.pk, "elsewhere": elsewhere.pk}
    lookup = {k: ids.get(v, v) if k == "order_id" else v for k, v in lookup.items()}

    with pytest.raises(NotFound) as missing:
        find_order(kat.site_id, **lookup)

    assert (missing.value.what, missing.value.message) == (
        "order",
        message.format(pk=order.pk, elsewhere=elsewhere.pk),
    )
