"""What attendees bought (contract §8.7): per site, a catalogue (registration types, packages,
registration codes) and the orders of users. An order is a history of entries — `Purchase`, then
any `Change`s, perhaps a `Cancel` — each with its items; payments and invoices hang off the
order. Entries and items are never changed in place or deleted: a change or a cancellation adds
an entry whose lines take items back with negated amounts, so the entries of an order add up to
what it costs now. Why it is shaped so: docs/decisions/0015-orders.md.

Money is `Decimal` with 2 places (`MONEY`), never float."""

from decimal import Decimal

from django.db import models

from confero.events.models import Site
from confero.people.models import User

MONEY = {"max_digits": 10, "decimal_places": 2}
ZERO = Decimal("0.00")


class RegistrationSettings(models.Model):
    """How a site's registration works; a site without a row has the defaults."""

    site = models.OneToOneField(
        Site, on_delete=models.PROTECT, related_name="registration_settings"
    )
    # Off (the default): the registration system sets users' `registered` and `paid` itself, as
    # before orders existed. On: they follow from the user's orders (registration.standing).
    status_from_orders = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"registration settings of {self.site_id}"


class RegistrationType(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="registration_types")
    code = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    price = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="registration_type_code_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Package(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="packages")
    code = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    price = models.DecimalField(**MONEY)
    # Bought for a companion (a guest dinner, a partner programme): its items say guestPackage.
    for_guest = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="package_code_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class RegCode(models.Model):
    """A registration code: what an order that uses it is granted, free of charge."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="regcodes")
    code = models.CharField(max_length=100)
    registration_type = models.ForeignKey(
        RegistrationType, null=True, blank=True, on_delete=models.PROTECT, related_name="regcodes"
    )
    package = models.ForeignKey(
        Package, null=True, blank=True, on_delete=models.PROTECT, related_name="regcodes"
    )
    # NULL: unlimited. Taken under the row's lock; the CHECK of a positive integer field is the
    # database's own guarantee that it never goes below 0.
    uses_left = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="regcode_code_per_site"),
            models.CheckConstraint(
                condition=models.Q(registration_type__isnull=False)
                | models.Q(package__isnull=False),
                name="regcode_grants_something",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Order(models.Model):
    """`orderId` is the primary key; `order_number` is the registration system's own."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="orders")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="orders")
    # NULL, not "": unique per site only when given (a partial unique index).
    order_number = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    regcode = models.ForeignKey(
        RegCode, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    # Kept by the services under the order's row lock: the sum of the entries' totals (what the
    # order costs now) and of the payments. The account balance adds them up per user.
    total = models.DecimalField(**MONEY)
    amount_paid = models.DecimalField(**MONEY, default=ZERO)
    created_at = models.DateTimeField()
    # From the database clock on every change (entries, payments, cancellation): orderFeed.do's
    # `since` relies on it (confero.api.feeds).
    modified_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "order_number"],
                condition=models.Q(order_number__isnull=False),
                name="order_number_per_site",
            )
        ]
        indexes = [models.Index(fields=["site", "modified_at"], name="order_site_modified")]

    def __str__(self) -> str:
        return f"order {self.pk}" + (f" ({self.order_number})" if self.order_number else "")

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def balance(self) -> Decimal:
        """What is still owed on it (negative: paid more than it costs, a refund is due)."""
        return self.total - self.amount_paid

    @property
    def is_paid_in_full(self) -> bool:
        return self.balance <= 0


class EntryKind(models.TextChoices):
    """`orderType` of each `<order>` that orderData.do lists."""

    PURCHASE = "Purchase", "Purchase"
    CHANGE = "Change", "Change"
    CANCEL = "Cancel", "Cancel"


class OrderEntry(models.Model):
    """One step of an order's history, listed as an `<order>` with its `<orderItem>`s. Its sums
    are those of its items, fixed when it is written."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    ordered_at = models.DateTimeField()
    total_price = models.DecimalField(**MONEY)
    base_price = models.DecimalField(**MONEY)
    booking_fee = models.DecimalField(**MONEY)
    tax = models.DecimalField(**MONEY)
    guest_package = models.BooleanField()  # one of its items is a guest package

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} of order {self.order_id}"


class ItemType(models.TextChoices):
    """`type` of an `<orderItem>`."""

    PACKAGE = "package", "Package"
    REGISTRATION_TYPE = "registrationType", "Registration type"
    ITEM = "item", "Item"  # named and priced by the registration system (`name|price`)


class OrderItem(models.Model):
    """A line of an entry. A line that takes an earlier item back (a Change removing it, a
    Cancel) `reverses` it, with every amount negated; both then carry the date of that entry
    as their `cancelled_at` (`cancelDate`)."""

    entry = models.ForeignKey(OrderEntry, on_delete=models.PROTECT, related_name="items")
    # The entry's order, kept on the line to find an order's items in one indexed query.
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="items")
    type = models.CharField(max_length=20, choices=ItemType.choices)
    package = models.ForeignKey(
        Package, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    registration_type = models.ForeignKey(
        RegistrationType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(max_length=200)
    # price = base_price + booking_fee + tax
    price = models.DecimalField(**MONEY)
    base_price = models.DecimalField(**MONEY)
    booking_fee = models.DecimalField(**MONEY)
    tax = models.DecimalField(**MONEY)
    guest_package = models.BooleanField()
    guest_name = models.CharField(max_length=200, blank=True)
    ordered_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversal"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} {self.price}"

    @property
    def cancellation_fee(self) -> Decimal:
        """`cancellationFee`: Confero charges none of its own; a fee the registration system
        keeps is an item of its own (docs/decisions/0015-orders.md)."""
        return ZERO


class Payment(models.Model):
    """Money received for an order (a negative amount: a refund)."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(**MONEY)
    paid_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.amount} for order {self.order_id}"


class Invoice(models.Model):
    """The bill for one entry, issued when the entry is written and never changed: its number
    (`<orderId>-<n>`), date, amount and tax, and what the order still owed then. A negative
    amount makes it a credit note."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    entry = models.OneToOneField(OrderEntry, on_delete=models.PROTECT, related_name="invoice")
    sequence = models.PositiveIntegerField()
    issued_at = models.DateTimeField()
    amount = models.DecimalField(**MONEY)
    tax = models.DecimalField(**MONEY)
    amount_due = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "sequence"], name="invoice_sequence_per_order")
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"{self.order_id}-{self.sequence}"

    @property
    def is_credit_note(self) -> bool:
        return self.amount < 0
