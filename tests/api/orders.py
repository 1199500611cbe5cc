"""What the order resources answer, written out element by element (contract §8.7), for the
tests of addOrder, updateOrder, cancelOrder, orderData and orderFeed to compare whole bodies
with. Amounts and names are given by the tests as literals; ids and database-clock dates are
read from the rows the calls wrote."""

import datetime as dt
from dataclasses import dataclass

from confero.registration.models import Order, OrderEntry, OrderItem

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
OK = '<response code="0">Success</response>'


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


def stamp(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def element(name: str, text: str) -> str:
    return f"<{name}>{text}</{name}>" if text else f"<{name}/>"


def entries(order: Order) -> list[OrderEntry]:
    return list(OrderEntry.objects.filter(order=order).order_by("id"))


def items(order: Order) -> list[OrderItem]:
    return list(OrderItem.objects.filter(order=order).order_by("id"))


@dataclass(frozen=True)
class Line:
    """An `<orderItem>`: the literal values a test expects, and the row it is."""

    row: OrderItem
    name: str
    type: str
    price: str
    base: str
    fee: str = "0.00"
    tax: str = "0.00"
    guest: bool = False
    guest_name: str = ""

    def xml(self) -> str:
        return (
            f"<orderItem><orderItemId>{self.row.pk}</orderItemId>{element('name', self.name)}"
            f"<type>{self.type}</type><orderDate>{stamp(self.row.ordered_at)}</orderDate>"
            f"{element('cancelDate', stamp(self.row.cancelled_at))}<price>{self.price}</price>"
            f"<basePrice>{self.base}</basePrice><bookingFee>{self.fee}</bookingFee>"
            f"<tax>{self.tax}</tax><cancellationFee>0.00</cancellationFee>"
            f"<guestPackage>{str(self.guest).lower()}</guestPackage>"
            f"{element('guestName', self.guest_name)}</orderItem>"
        )


def order_xml(
    entry: OrderEntry,
    *,
    kind: str,
    total: str,
    base: str,
    fee: str,
    tax: str,
    paid: bool,
    guest: bool,
    lines: list[Line],
    feed_tail: str = "",
) -> str:
    """One `<order>` (an entry of the order's history); `feed_tail` is what orderFeed.do adds
    (userRef and eventGUID)."""
    listed = "".join(line.xml() for line in lines)
    return (
        f"<order><orderId>{entry.order_id}</orderId><orderType>{kind}</orderType>"
        f"<orderDate>{stamp(entry.ordered_at)}</orderDate><totalPrice>{total}</totalPrice>"
        f"<basePrice>{base}</basePrice><bookingFee>{fee}</bookingFee><tax>{tax}</tax>"
        f"<paidInFull>{str(paid).lower()}</paidInFull>"
        f"<guestPackage>{str(guest).lower()}</guestPackage>"
        f"{element('orderItems', listed)}{feed_tail}</order>"
    )


def invoice_xml(entry: OrderEntry, *, kind: str, amount: str, tax: str, due: str) -> str:
    invoice = entry.invoice
    return (
        f"<invoice><invoiceNumber>{entry.order_id}-{invoice.sequence}</invoiceNumber>"
        f"<orderId>{entry.order_id}</orderId><orderType>{kind}</orderType>"
        f"<invoiceDate>{stamp(invoice.issued_at)}</invoiceDate><amount>{amount}</amount>"
        f"<tax>{tax}</tax><amountDue>{due}</amountDue>"
        f"<creditNote>{str(amount.startswith('-')).lower()}</creditNote></invoice>"
    )


def order_answer(order: Order, *, status: str, total: str, paid: str, in_full: bool) -> bytes:
    """What addOrder, updateOrder and cancelOrder answer."""
    return (
        DECLARATION
        + (
            f"<api>{OK}<orderId>{order.pk}</orderId>"
            f"{element('orderNumber', order.order_number or '')}"
            f"<userRef>{order.user.user_ref}</userRef><orderStatus>{status}</orderStatus>"
            f"<totalPrice>{total}</totalPrice><amountPaid>{paid}</amountPaid>"
            f"<paidInFull>{str(in_full).lower()}</paidInFull></api>"
        ).encode()
    )
