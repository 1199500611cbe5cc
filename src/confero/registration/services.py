"""Orders: placing, changing, paying and cancelling them. The API, the console and the CLI all
come here.

Each verb is one transaction and locks, in this order, the user's row, then the order's, then
a registration code's: two calls for one user queue on the user (the balance and the derived
`registered`/`paid` are computed under that lock), and no two calls can wait on each other
the other way round. Every date a call writes is one reading of the database clock, taken
inside the transaction (so it follows BEGIN, as `since` needs: confero.api.feeds); an
entry, its items and the items it takes back show the same date.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Now
from django.db.models.sql import Query

from confero.errors import Cancelled, Conflict, NotFound, Refused, ValidationFailed
from confero.people.models import User
from confero.registration.lines import ItemInput, Line, changes, resolve
from confero.registration.models import (
    ZERO,
    EntryKind,
    Invoice,
    Order,
    OrderEntry,
    OrderItem,
    Payment,
    RegCode,
)
from confero.registration.money import check_in_range, to_money
from confero.registration.standing import record_order_change

ORDER_NUMBER_LIMIT = Order._meta.get_field("order_number").max_length


def add_order(
    user: User,
    *,
    items: Sequence[ItemInput],
    regcode: str | None = None,
    order_number: str | None = None,
) -> Order:
    """A `Purchase`: the order, its first entry and invoice. A registration code must exist on
    the user's site and have a use left (`Refused("regcode")`); the order takes one. An order
    number already given to another order of the site is `Conflict("orderNumber")`."""
    order_number = _order_number(order_number)
    with transaction.atomic():
        user = _locked_user(user.pk)
        if not user.is_active:
            raise Cancelled("user", f"user {user.user_ref} is cancelled")
        if order_number is not None:
            _check_order_number(user.site_id, order_number)
        code = _regcode_to_use(user.site_id, regcode) if regcode is not None else None
        lines = resolve(user.site_id, items, regcode=code)
        if code is not None and code.uses_left is not None:
            # Under the row lock taken above: concurrent orders queue here and see the count
            # their predecessors left.
            RegCode.objects.filter(pk=code.pk).update(uses_left=F("uses_left") - 1)
        at = _database_now()
        order = Order(
            site_id=user.site_id,
            user=user,
            order_number=order_number,
            regcode=code,
            total=ZERO,
            created_at=at,
            modified_at=at,
        )
        try:
            with transaction.atomic():
                order.save()
        except IntegrityError as exc:
            # A concurrent call took the number between the check and the insert.
            if "order_number" not in str(exc).lower():
                raise
            raise _order_number_taken(order_number) from exc
        _add_entry(order, EntryKind.PURCHASE, [(line, None) for line in lines], at=at)
        order.save(update_fields=["total"])
        record_order_change(user)
    return order


def update_order(
    order: Order,
    *,
    items: Sequence[ItemInput] | None = None,
    amount_paid: Decimal | int | str | None = None,
) -> Order:
    """`items` (when given) is everything the order now holds: what it held and no longer does
    is taken back and what is new is added, in one `Change` entry (none when nothing differs);
    what it still holds keeps the price it was bought at. `amount_paid` records a payment of
    that amount (negative: a refund; 0 records nothing). A cancelled order takes payments and
    refunds, not items (`Cancelled("order")`)."""
    payment = None if amount_paid is None else to_money(amount_paid, what="amountPaid")
    with transaction.atomic():
        user = _locked_user(order.user_id)
        order = _locked_order(order.pk)
        at = _database_now()
        changed = False
        if items is not None:
            if order.is_cancelled:
                raise Cancelled(
                    "order", f"order {order.pk} is cancelled: its items stay as they were"
                )
            wanted = resolve(order.site_id, items, regcode=order.regcode)
            removed, added = changes(_live_items(order), wanted)
            if removed or added:
                _take_back(removed, at=at)
                lines = [(_negated(item), item) for item in removed] + [
                    (line, None) for line in added
                ]
                _add_entry(order, EntryKind.CHANGE, lines, at=at)
                changed = True
        if payment:
            order.amount_paid = check_in_range(order.amount_paid + payment, what="amountPaid")
            Payment.objects.create(order=order, amount=payment, paid_at=at)
            changed = True
        if changed:
            order.modified_at = at
            order.save(update_fields=["total", "amount_paid", "modified_at"])
            record_order_change(user)
    return order


def cancel_order(order: Order) -> Order:
    """The order stays; a `Cancel` entry takes back every item it still holds, with negated
    amounts, and its registration code gets its use back. Cancelling a cancelled order changes
    nothing (a registration system retrying a cancellation gets the same answer)."""
    with transaction.atomic():
        user = _locked_user(order.user_id)
        order = _locked_order(order.pk)
        if order.is_cancelled:
            return order
        at = _database_now()
        held = _live_items(order)
        _take_back(held, at=at)
        _add_entry(order, EntryKind.CANCEL, [(_negated(item), item) for item in held], at=at)
        if order.regcode_id is not None:
            RegCode.objects.filter(pk=order.regcode_id, uses_left__isnull=False).update(
                uses_left=F("uses_left") + 1
            )
        order.cancelled_at = order.modified_at = at
        order.save(update_fields=["total", "cancelled_at", "modified_at"])
        record_order_change(user)
    return order


def find_order(
    site_id: int, *, order_id: int | None = None, order_number: str | None = None
) -> Order:
    """An order of the site by Confero's `orderId` or the registration system's number; both
    given must name the same order. `NotFound("order")` otherwise."""
    if order_id is None and order_number is None:
        raise ValueError("find_order needs order_id or order_number")
    orders = Order.objects.filter(site_id=site_id)
    if order_id is not None:
        orders = orders.filter(pk=order_id)
    if order_number is not None:
        orders = orders.filter(order_number=order_number)
    found = orders.first()
    if found is None:
        named = " and ".join(
            text
            for text in (
                f"orderId {order_id}" if order_id is not None else "",
                f"orderNumber '{order_number}'" if order_number is not None else "",
            )
            if text
        )
        raise NotFound("order", f"no order with {named} on this site")
    return found


def _order_number(order_number: str | None) -> str | None:
    if order_number is None:
        return None
    order_number = order_number.strip()
    if not order_number:
        return None
    if len(order_number) > ORDER_NUMBER_LIMIT:
        raise ValidationFailed(
            "orderNumber", f"orderNumber takes at most {ORDER_NUMBER_LIMIT} characters"
        )
    return order_number


def _check_order_number(site_id: int, order_number: str) -> None:
    if Order.objects.filter(site_id=site_id, order_number=order_number).exists():
        raise _order_number_taken(order_number)


def _order_number_taken(order_number: str) -> Conflict:
    return Conflict("orderNumber", f"orderNumber '{order_number}' is already used by another order")


def _regcode_to_use(site_id: int, code: str) -> RegCode:
    """The site's registration code `code`, its row locked, with a use left."""
    regcode = RegCode.objects.select_for_update().filter(site_id=site_id, code=code).first()
    if regcode is None:
        raise Refused("regcode", f"registration code '{code}' is not valid on this site")
    if regcode.uses_left == 0:
        raise Refused("regcode", f"registration code '{code}' is used up")
    return regcode


def _locked_user(user_id: int) -> User:
    return User.objects.select_for_update().get(pk=user_id)


def _locked_order(order_id: int) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


def _live_items(order: Order) -> list[OrderItem]:
    """The items the order holds now: neither taken back nor a line that takes back."""
    return list(order.items.filter(cancelled_at__isnull=True, reverses__isnull=True).order_by("id"))


def _take_back(items: Sequence[OrderItem], *, at) -> None:
    OrderItem.objects.filter(pk__in=[item.pk for item in items]).update(cancelled_at=at)


def _negated(item: OrderItem) -> Line:
    line = Line.of(item)
    return replace(line, base_price=-line.base_price, booking_fee=-line.booking_fee, tax=-line.tax)


def _add_entry(
    order: Order, kind: str, lines: Sequence[tuple[Line, OrderItem | None]], *, at
) -> OrderEntry:
    """The entry, its items (a line with the item it takes back carries that entry's date as
    its cancelDate) and its invoice; adds the entry's total to the order's (not saved)."""
    entry_lines = [line for line, _ in lines]
    total = sum((line.price for line in entry_lines), ZERO)
    order.total = check_in_range(order.total + total, what="total")
    entry = OrderEntry.objects.create(
        order=order,
        kind=kind,
        ordered_at=at,
        total_price=check_in_range(total, what="total"),
        base_price=sum((line.base_price for line in entry_lines), ZERO),
        booking_fee=sum((line.booking_fee for line in entry_lines), ZERO),
        tax=sum((line.tax for line in entry_lines), ZERO),
        guest_package=any(line.guest_package for line in entry_lines),
    )
    OrderItem.objects.bulk_create(
        OrderItem(
            entry=entry,
            order=order,
            type=line.type,
            package_id=line.package_id,
            registration_type_id=line.registration_type_id,
            name=line.name,
            price=line.price,
            base_price=line.base_price,
            booking_fee=line.booking_fee,
            tax=line.tax,
            guest_package=line.guest_package,
            guest_name=line.guest_name,
            ordered_at=at,
            cancelled_at=at if reverses is not None else None,
            reverses=reverses,
        )
        for line, reverses in lines
    )
    Invoice.objects.create(
        order=order,
        entry=entry,
        sequence=order.invoices.count() + 1,  # the order's row is locked
        issued_at=at,
        amount=entry.total_price,
        tax=entry.tax,
        amount_due=order.total - order.amount_paid,
    )
    return entry


def _database_now() -> dt.datetime:
    """The database clock (Django's `Now()`, what last-modified columns are stamped with)."""
    sql, params = Query(Order).get_compiler(connection=connection).compile(Now())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", params)
        value = cursor.fetchone()[0]
    if isinstance(value, str):  # SQLite answers text, in UTC
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
