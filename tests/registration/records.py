"""What the registration tests read back: rows as tuples of exact values, and stamps."""

import datetime as dt

from confero.people.models import User
from confero.registration.models import Invoice, Order

LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def aged(order: Order) -> Order:
    """The order and its user as last modified long ago, so a change shows."""
    Order.objects.filter(pk=order.pk).update(modified_at=LONG_AGO)
    User.objects.filter(pk=order.user_id).update(modified_at=LONG_AGO)
    return Order.objects.get(pk=order.pk)


def stamps(order: Order) -> tuple:
    """(order modified, user modified), as stored."""
    return (
        Order.objects.get(pk=order.pk).modified_at,
        User.objects.get(pk=order.user_id).modified_at,
    )


def entry_rows(order: Order) -> list[tuple]:
    return [
        (e.kind, e.total_price, e.base_price, e.booking_fee, e.tax, e.guest_package)
        for e in order.entries.all()
    ]


def item_rows(order: Order, kind: str) -> list[tuple]:
    """(type, name, price, base price, booking fee, tax, guest package, guest name, taken
    back) of each item of the order's `kind` entry."""
    entry = order.entries.get(kind=kind)
    return [
        (
            i.type,
            i.name,
            i.price,
            i.base_price,
            i.booking_fee,
            i.tax,
            i.guest_package,
            i.guest_name,
            i.cancelled_at is not None,
        )
        for i in entry.items.all()
    ]


def invoice_rows(order: Order) -> list[tuple]:
    return [
        (i.number, i.entry.kind, i.amount, i.tax, i.amount_due, i.is_credit_note)
        for i in Invoice.objects.filter(order=order).select_related("entry")
    ]
