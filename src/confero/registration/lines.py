"""From what a registration system orders to the lines of an entry, and what changes when it
sends an order's items again (docs/decisions/0015-orders.md)."""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from confero.errors import ValidationFailed
from confero.registration.models import ZERO, ItemType, OrderItem, Package, RegCode
from confero.registration.money import to_money

NAME_LIMIT = OrderItem._meta.get_field("name").max_length
GUEST_LIMIT = OrderItem._meta.get_field("guest_name").max_length


@dataclass(frozen=True)
class Item:
    """One item to order: a package of the site by its code, or an item the registration
    system names and prices (`name` at `base_price`). Booking fee and tax come on top; a guest
    name makes it a guest package."""

    package: str | None = None
    name: str = ""
    base_price: Decimal | int | str | None = None
    booking_fee: Decimal | int | str = ZERO
    tax: Decimal | int | str = ZERO
    guest_name: str = ""


# What `items` may hold: an Item, a package code, or a (name, price) pair (`name|price`).
ItemInput = Item | str | tuple[str, Decimal | int | str]


@dataclass(frozen=True)
class Line:
    """An item resolved against the site's catalogue: what an OrderItem row holds."""

    type: str
    name: str
    base_price: Decimal
    booking_fee: Decimal = ZERO
    tax: Decimal = ZERO
    guest_package: bool = False
    guest_name: str = ""
    package_id: int | None = None
    registration_type_id: int | None = None

    @property
    def price(self) -> Decimal:
        return self.base_price + self.booking_fee + self.tax

    @classmethod
    def of(cls, item: OrderItem) -> "Line":
        return cls(
            type=item.type,
            name=item.name,
            base_price=item.base_price,
            booking_fee=item.booking_fee,
            tax=item.tax,
            guest_package=item.guest_package,
            guest_name=item.guest_name,
            package_id=item.package_id,
            registration_type_id=item.registration_type_id,
        )

    @property
    def match_key(self) -> tuple:
        """What makes an item sent again the item already held. A package (or a granted
        registration type) is the same item whatever it costs now: the price it was bought at
        stands. A named item is the same only at the same amounts."""
        if self.type == ItemType.PACKAGE:
            return (self.type, self.package_id, self.guest_name)
        if self.type == ItemType.REGISTRATION_TYPE:
            return (self.type, self.registration_type_id)
        return (self.type, self.name, self.base_price, self.booking_fee, self.tax, self.guest_name)


def resolve(site_id: int, items: Sequence[ItemInput], *, regcode: RegCode | None) -> list[Line]:
    """The lines of `items` on the site, then what `regcode` grants, free of charge: its package
    (the first line of that package is the one granted, or it is added) and its registration
    type (added). At least one line."""
    wanted = [_as_item(entry) for entry in items]
    codes = {item.package for item in wanted if item.package is not None}
    packages = {p.code: p for p in Package.objects.filter(site_id=site_id, code__in=codes)}
    lines = [_line(item, packages) for item in wanted]
    if regcode is not None:
        lines = _granted(lines, regcode)
    if not lines:
        raise ValidationFailed("item", "an order holds at least one item")
    return lines


def changes(
    live: Iterable[OrderItem], wanted: Sequence[Line]
) -> tuple[list[OrderItem], list[Line]]:
    """The items held (`live`, oldest first) that `wanted` no longer holds, and the lines of
    `wanted` not held yet; the rest stays as it was."""
    live = list(live)
    budget = Counter(line.match_key for line in wanted)
    removed = []
    for item in live:
        key = Line.of(item).match_key
        if budget[key] > 0:
            budget[key] -= 1
        else:
            removed.append(item)
    budget = Counter(Line.of(item).match_key for item in live)
    added = []
    for line in wanted:
        if budget[line.match_key] > 0:
            budget[line.match_key] -= 1
        else:
            added.append(line)
    return removed, added


def _as_item(entry: ItemInput) -> Item:
    if isinstance(entry, Item):
        return entry
    if isinstance(entry, str):
        return Item(package=entry)
    name, price = entry
    return Item(name=name, base_price=price)


def _line(item: Item, packages: dict[str, Package]) -> Line:
    booking_fee = to_money(item.booking_fee, what="bookingFee")
    tax = to_money(item.tax, what="tax")
    if booking_fee < 0 or tax < 0:
        raise ValidationFailed("item", "booking fee and tax cannot be negative")
    guest_name = item.guest_name.strip()
    if len(guest_name) > GUEST_LIMIT:
        raise ValidationFailed("item", f"a guest name takes at most {GUEST_LIMIT} characters")
    if item.package is not None:
        package = packages.get(item.package)
        if package is None:
            raise ValidationFailed("item", f"no package '{item.package}' on this site")
        return Line(
            type=ItemType.PACKAGE,
            name=package.name,
            base_price=package.price,
            booking_fee=booking_fee,
            tax=tax,
            guest_package=package.for_guest or bool(guest_name),
            guest_name=guest_name,
            package_id=package.pk,
        )
    name = item.name.strip()
    if not name or len(name) > NAME_LIMIT:
        raise ValidationFailed("item", f"an item's name takes 1 to {NAME_LIMIT} characters")
    if item.base_price is None:
        raise ValidationFailed("item", f"item '{name}' has no price")
    # A negative price is a discount line, which registration systems send as items too.
    return Line(
        type=ItemType.ITEM,
        name=name,
        base_price=to_money(item.base_price, what="price"),
        booking_fee=booking_fee,
        tax=tax,
        guest_package=bool(guest_name),
        guest_name=guest_name,
    )


def _granted(lines: list[Line], regcode: RegCode) -> list[Line]:
    lines = list(lines)
    free = {"base_price": ZERO, "booking_fee": ZERO, "tax": ZERO}
    if regcode.package_id is not None:
        package = regcode.package
        for index, line in enumerate(lines):
            if line.type == ItemType.PACKAGE and line.package_id == package.pk:
                lines[index] = replace(line, **free)
                break
        else:
            lines.append(
                Line(
                    type=ItemType.PACKAGE,
                    name=package.name,
                    guest_package=package.for_guest,
                    package_id=package.pk,
                    **free,
                )
            )
    if regcode.registration_type_id is not None:
        registration_type = regcode.registration_type
        lines.append(
            Line(
                type=ItemType.REGISTRATION_TYPE,
                name=registration_type.name,
                registration_type_id=registration_type.pk,
                **free,
            )
        )
    return lines
