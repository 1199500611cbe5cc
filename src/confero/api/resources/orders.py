"""addOrder, updateOrder, cancelOrder, orderData and the orderFeed (contract §8.7).

An order is a history of entries (docs/decisions/0015-orders.md): each `<order>` that
orderData.do and orderFeed.do list is one entry — the `Purchase`, a `Change`, the `Cancel` —
with the items it added or took back, and `orderId` names the order it belongs to.
"""

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db.models import (
    BooleanField,
    CharField,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Cast, Concat
from lxml import etree

from confero.api import codes, records
from confero.api.acting import named_user
from confero.api.call import Call
from confero.api.codes import ApiError
from confero.api.params import Invalid, Param, integer, text
from confero.api.params import epoch_millis as since_param
from confero.api.registry import resource
from confero.api.render import Document, E, Feed
from confero.errors import Cancelled
from confero.people.models import User
from confero.registration import services
from confero.registration.lines import Item
from confero.registration.models import MONEY, ZERO, Invoice, Order, OrderEntry, OrderItem, Payment
from confero.registration.standing import account_balance

# --- Parameters ----------------------------------------------------------------------------

_AMOUNT = re.compile(r"[+-]?[0-9]{1,8}(\.[0-9]{1,2})?")
_ITEM_RULE = (
    "a package code, or name|price[|bookingFee[|tax[|guestName]]] with decimal amounts "
    "(an empty price: name is a package code)"
)


def _amount(value: str, *, what: str) -> str:
    if not _AMOUNT.fullmatch(value):
        raise Invalid(f"{what} as a decimal amount with at most 2 places, below 100000000")
    return value


def _item(value: str) -> Item:
    """`item`: a package code of the site, or `name|price` (contract §8.7); Confero's own
    further parts give a booking fee, a tax and a guest name (the guest name is everything
    after the fourth `|`). An empty price makes `name` a package code at the catalogue price,
    so that a package too can carry a fee, a tax and a guest name."""
    if "|" not in value:
        if not value:
            raise Invalid(_ITEM_RULE)
        return Item(package=value)
    name, price, *rest = (part.strip() for part in value.split("|", 4))
    booking_fee, tax, guest_name = [*rest, "", "", ""][:3]
    if not name:
        raise Invalid(_ITEM_RULE)
    extras = {
        "booking_fee": _amount(booking_fee, what="a booking fee") if booking_fee else ZERO,
        "tax": _amount(tax, what="a tax") if tax else ZERO,
        "guest_name": guest_name,
    }
    if not price:
        return Item(package=name, **extras)
    return Item(name=name, base_price=_amount(price, what="a price"), **extras)


_item.rule = _ITEM_RULE


def _amount_paid(value: str) -> str:
    return _amount(value, what="an amount")


_amount_paid.rule = "decimal amount, at most 2 places (negative: a refund)"

_ORDER_NUMBER = Order._meta.get_field("order_number").max_length
_NAMING = (
    Param("orderId", integer(minimum=1), doc="the order, by the orderId Confero returned"),
    Param("orderNumber", text(_ORDER_NUMBER), doc="the order, by the registration system's number"),
    # Optional: when given, the order must be one of this user's (else 250).
    Param("userKey", text(32), doc="checks the order is this user's"),
    Param("clientID", text(100), doc="checks the order is this user's"),
    Param("userRef", text(16), doc="checks the order is this user's"),
)
_ITEMS_DOC = "repeated; what the order holds: " + _ITEM_RULE

# --- Records -------------------------------------------------------------------------------

_ITEMS = records.Nested(
    child="orderItem",
    rows=lambda: OrderItem.objects.annotate(
        cancellation_fee=Value(ZERO, output_field=DecimalField(**MONEY))
    ),
    record="entry_id",
    columns=(
        records.Column("orderItemId", "id", records.INT),
        records.Column("name", "name"),
        records.Column("type", "type"),
        records.Column("orderDate", "ordered_at", records.TIME),
        records.Column("cancelDate", "cancelled_at", records.TIME),
        records.Column("price", "price", records.MONEY),
        records.Column("basePrice", "base_price", records.MONEY),
        records.Column("bookingFee", "booking_fee", records.MONEY),
        records.Column("tax", "tax", records.MONEY),
        records.Column("cancellationFee", "cancellation_fee", records.MONEY),
        records.Column("guestPackage", "guest_package", records.BOOL),
        records.Column("guestName", "guest_name"),
    ),
    order=("id",),
    wrapper="orderItems",
)
# The elements of an <order> in orderData.do (contract §8.7); every one always there.
_ORDER_PARTS = (
    records.Column("orderId", "order_id", records.INT),
    records.Column("orderType", "kind"),
    records.Column("orderDate", "ordered_at", records.TIME),
    records.Column("totalPrice", "total_price", records.MONEY),
    records.Column("basePrice", "base_price", records.MONEY),
    records.Column("bookingFee", "booking_fee", records.MONEY),
    records.Column("tax", "tax", records.MONEY),
    records.Column("paidInFull", "paid_in_full", records.BOOL),
    records.Column("guestPackage", "guest_package", records.BOOL),
    _ITEMS,
)
_ENTRY_SITE = {"site_column": "order__site_id", "modified_column": "order__modified_at"}
ORDER = records.RecordType(tag="order", model=OrderEntry, parts=_ORDER_PARTS, **_ENTRY_SITE)
# orderFeed.do's <order>: the same, then whose it is and of which event (appended, so that an
# order of the feed is an order of orderData.do with two more elements: order-data.xsd).
FEED_ORDER = records.RecordType(
    tag="order",
    root="order-data",
    model=OrderEntry,
    parts=(*_ORDER_PARTS, records.Column("userRef", "order__user__user_ref"), records.EVENT_GUID),
    **_ENTRY_SITE,
)
INVOICE = records.RecordType(
    tag="invoice",
    model=Invoice,
    site_column="order__site_id",
    parts=(
        records.Column("invoiceNumber", "number"),
        records.Column("orderId", "order_id", records.INT),
        records.Column("orderType", "entry__kind"),
        records.Column("invoiceDate", "issued_at", records.TIME),
        records.Column("amount", "amount", records.MONEY),
        records.Column("tax", "tax", records.MONEY),
        records.Column("amountDue", "amount_due", records.MONEY),
        records.Column("creditNote", "credit_note", records.BOOL),
    ),
)
PAYMENT = records.RecordType(
    tag="payment",
    model=Payment,
    site_column="order__site_id",
    parts=(
        records.Column("paymentId", "id", records.INT),
        records.Column("orderId", "order_id", records.INT),
        records.Column("amount", "amount", records.MONEY),
        records.Column("paymentDate", "paid_at", records.TIME),
    ),
)


def _entries(queryset: QuerySet) -> QuerySet:
    """Entries with what their <order> computes: paidInFull, the order's payments covering what
    the order costs now (the same on every entry of an order)."""
    return queryset.annotate(
        paid_in_full=ExpressionWrapper(
            Q(order__amount_paid__gte=F("order__total")), output_field=BooleanField()
        )
    )


def _invoices(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(
        number=Concat(
            Cast("order_id", CharField()),
            Value("-"),
            Cast("sequence", CharField()),
            output_field=CharField(),
        ),
        credit_note=ExpressionWrapper(Q(amount__lt=0), output_field=BooleanField()),
    )


@dataclass
class _List:
    """A list element that is always there, empty or not (`<orderData>` of `<order>`s): the
    record protocol of confero.api.render, holding records."""

    tag: str
    child: str
    items: list
    many: ClassVar[bool] = False

    def xml(self) -> etree._Element:
        element = etree.Element(self.tag)
        for item in self.items:
            element.append(item.xml())
        return element

    def json(self) -> dict[str, Any]:
        return {self.child: [item.json() for item in self.items]} if self.items else {}


def _money(amount) -> str:
    return f"{amount:.2f}"


# --- Writing -------------------------------------------------------------------------------


def _answer(order: Order) -> Document:
    """What addOrder, updateOrder and cancelOrder answer: the order as it stands now."""
    user_ref = User.objects.filter(pk=order.user_id).values_list("user_ref", flat=True).get()
    return Document(
        children=[
            E("orderId", order.pk),
            E("orderNumber", order.order_number),
            E("userRef", user_ref),
            E("orderStatus", "cancelled" if order.is_cancelled else "active"),
            E("totalPrice", _money(order.total)),
            E("amountPaid", _money(order.amount_paid)),
            E("paidInFull", order.is_paid_in_full),
        ]
    )


def _named_order(call: Call) -> Order:
    """The order named by orderId and/or orderNumber (both given: the same order), of the
    user named when one is (else 250, as an order that does not exist)."""
    order_id, order_number = call.params.get("orderId"), call.params.get("orderNumber") or None
    if order_id is None and order_number is None:
        raise ApiError(codes.PARAM_MISSING, "parameter 'orderId' or 'orderNumber' is required")
    order = services.find_order(call.target.pk, order_id=order_id, order_number=order_number)
    if any(call.params.get(kind) for kind in ("userKey", "clientID", "userRef")):
        user, kind = named_user(call.target, call.params)
        if user.pk != order.user_id:
            raise ApiError(
                codes.ORDER_NOT_FOUND,
                f"order {order.pk} is not an order of the user named by {kind}",
            )
    return order


@resource(
    "addOrder",
    summary="Places an order for a user: a Purchase with its items.",
    params=(
        Param("item", _item, required=True, repeatable=True, doc=_ITEMS_DOC),
        Param("regcode", text(100), doc="a registration code of the site (252 when not valid)"),
        Param("orderNumber", text(_ORDER_NUMBER), doc="the registration system's, unique per site"),
    ),
    writes=True,
    acts_as_user=True,
)
def add_order(call: Call) -> Document:
    """A registration code grants its package and/or registration type free of charge and
    takes one of its uses (252 when it is not valid or used up). An orderNumber another order
    of the site has is 251. Answers the order's orderId, to name it by later."""
    order = services.add_order(
        call.acting_user,
        items=call.params["item"],
        regcode=call.params.get("regcode") or None,
        order_number=call.params.get("orderNumber") or None,
    )
    return _answer(order)


@resource(
    "updateOrder",
    summary="Changes an order's items and records payments.",
    params=(
        *_NAMING,
        Param("item", _item, repeatable=True, doc=_ITEMS_DOC + " (replaces what it held)"),
        Param("amountPaid", _amount_paid, doc="records a payment of this amount"),
    ),
    writes=True,
)
def update_order(call: Call) -> Document:
    """`item` replaces what the order holds: what it no longer holds is taken back, with
    negated amounts, and what is new added, in one Change entry (none when nothing differs).
    `amountPaid` records one payment of that amount (negative: a refund), not a running
    total. A cancelled order takes payments, not items (201)."""
    items, amount = call.params["item"], call.params.get("amountPaid")
    if not items and amount is None:
        raise ApiError(codes.PARAM_MISSING, "parameter 'item' or 'amountPaid' is required")
    try:
        order = services.update_order(_named_order(call), items=items or None, amount_paid=amount)
    except Cancelled as exc:
        # 201 as the code table says (docs/api.md), naming the parameter it cannot take.
        raise ApiError(codes.PARAM_INVALID, f"parameter 'item': {exc.message}") from exc
    return _answer(order)


@resource(
    "cancelOrder",
    summary="Cancels an order: it stays, and a Cancel entry takes its items back.",
    params=_NAMING,
    writes=True,
)
def cancel_order(call: Call) -> Document:
    """The Cancel entry negates every item the order still held; a registration code gets its
    use back. Cancelling a cancelled order succeeds and changes nothing."""
    return _answer(services.cancel_order(_named_order(call)))


# --- Reading -------------------------------------------------------------------------------


@resource(
    "orderData",
    summary="A user's orders, invoices and payments, and the account balance.",
    params=(
        Param("userKey", text(32), doc="the user"),
        Param("clientID", text(100), doc="the user"),
        Param("userRef", text(16), doc="the user"),
    ),
)
def order_data(call: Call) -> Document:
    """By userRef, userKey or clientID (all given must name the same user). A user without
    orders has empty lists and a balance of 0.00. `<orderTransferHistory>` is always empty:
    Confero does not move orders between users."""
    user, _ = named_user(call.target, call.params)
    sites = [call.target]
    entries = _entries(OrderEntry.objects.filter(order__user_id=user.pk))
    invoices = _invoices(Invoice.objects.filter(order__user_id=user.pk))
    payments = Payment.objects.filter(order__user_id=user.pk)
    return Document(
        children=[
            E("userRef", user.user_ref),
            E("accountBalance", _money(account_balance(user))),
            _List("orderData", "order", list(records.records(ORDER, entries, sites))),
            _List("invoiceData", "invoice", list(records.records(INVOICE, invoices, sites))),
            _List("paymentData", "payment", list(records.records(PAYMENT, payments, sites))),
            _List("orderTransferHistory", "orderTransfer", []),
        ]
    )


@resource(
    "orderFeed",
    summary="Feed of the orders of a site (or of every event with event=all).",
    params=(Param("since", since_param, doc="only orders created or changed at or after it"),),
    accepts_all=True,
    is_feed=True,
)
def order_feed(call: Call) -> Feed:
    """One `<order>` per entry of each order, as in orderData.do, with the user's userRef and
    the event's GUID. An order changed (items, a payment, cancelled) comes again with all its
    entries; cancelled orders included, with their Cancel entry."""
    return records.feed(
        FEED_ORDER, call, _entries(OrderEntry.objects.filter(order__site__in=call.sites))
    )
