"""What a user's orders say about them: the account balance, the registration codes used and,
where the site says so, `registered` and `paid` (contract §8.2, §8.7).

Derived (`RegistrationSettings.status_from_orders`): registered = holds an order that is not
cancelled; paid = registered and the account balance is at most 0. Off (the default), the
registration system sets both itself, as it did before orders existed, and orders leave them
alone.
"""

from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import Min, QuerySet, Sum

from confero.events.models import Site
from confero.people.models import User
from confero.people.services import touch_user
from confero.people.status import set_registration_status
from confero.registration.models import ZERO, Order, RegistrationSettings


def status_follows_orders(site_id: int) -> bool:
    return RegistrationSettings.objects.filter(site_id=site_id, status_from_orders=True).exists()


def account_balance(user: User) -> Decimal:
    """What the user still owes over all their orders, cancelled ones included (a payment for
    an order later cancelled is owed back: the balance goes below 0)."""
    sums = Order.objects.filter(user_id=user.pk).aggregate(
        total=Sum("total"), paid=Sum("amount_paid")
    )
    return (sums["total"] or ZERO) - (sums["paid"] or ZERO)


def derived_status(user: User) -> tuple[bool, bool]:
    """(registered, paid) as the user's orders say."""
    registered = Order.objects.filter(user_id=user.pk, cancelled_at__isnull=True).exists()
    return registered, registered and account_balance(user) <= 0


def record_order_change(user: User) -> None:
    """After an order of `user` changed, in its transaction, the user's row locked: the user's
    record shows it (registration codes; registered and paid where they follow), so its
    last-modified moves either way."""
    if status_follows_orders(user.site_id):
        registered, paid = derived_status(user)
        set_registration_status(user, registered=registered, paid=paid)
    else:
        touch_user(user.pk)


def user_regcodes(user: User) -> list[str]:
    """The registration codes of the user's orders that are not cancelled, in the order first
    used (`<regcodes>` of the user record)."""
    return regcodes_by_user([user.pk]).get(user.pk, [])


def regcodes_by_user(user_ids: Iterable[int]) -> dict[int, list[str]]:
    """`user_regcodes` of many users in one query; users with none are left out."""
    rows = (
        regcode_rows()
        .filter(user_id__in=list(user_ids))
        .order_by("user_id", "first_used")
        .values_list("user_id", "regcode__code")
    )
    found: dict[int, list[str]] = {}
    for user_id, code in rows:
        found.setdefault(user_id, []).append(code)
    return found


def regcode_rows() -> QuerySet:
    """One row per user and registration code of their orders that are not cancelled:
    `user_id`, `regcode__code` and `first_used` (the first such order's id, to list a user's
    codes in the order first used). The user record's `<regcodes>` reads it for a chunk of users
    in one query (confero.api.resources.users)."""
    return (
        Order.objects.filter(cancelled_at__isnull=True, regcode__isnull=False)
        .values("user_id", "regcode__code")
        .annotate(first_used=Min("id"))
    )


def set_status_from_orders(site: Site, *, enabled: bool) -> None:
    """Switches the site's setting. Switched on, every user of the site takes the status their
    orders give at once (users without orders: neither registered nor paid), and last-modified
    moves for those whose status changes. Switched off, the status stays as it was until the
    registration system sets it."""
    with transaction.atomic():
        config, _ = RegistrationSettings.objects.select_for_update().get_or_create(site=site)
        if config.status_from_orders == enabled:
            return
        config.status_from_orders = enabled
        config.save(update_fields=["status_from_orders"])
        if enabled:
            _derive_every_status(site)


def _derive_every_status(site: Site) -> None:
    # Lock every user of the site first, as an order call locks its user: a call under way
    # commits before the sums below are read, and a later one sees the setting on.
    list(User.objects.select_for_update().filter(site=site).values_list("pk", flat=True))
    orders = Order.objects.filter(site=site)
    holding = set(orders.filter(cancelled_at__isnull=True).values_list("user_id", flat=True))
    balances = {
        user_id: total - paid
        for user_id, total, paid in orders.order_by()
        .values("user_id")
        .annotate(total=Sum("total"), paid=Sum("amount_paid"))
        .values_list("user_id", "total", "paid")
    }
    users = User.objects.filter(site=site).only("pk", "registered", "paid").order_by("pk")
    for user in users.iterator(chunk_size=1000):
        registered = user.pk in holding
        paid = registered and balances.get(user.pk, ZERO) <= 0
        if (registered, paid) != (user.registered, user.paid):
            set_registration_status(user, registered=registered, paid=paid)
