"""A user's `registered` and `paid` (contract §8.2), for the registration domain to write when
they follow from the user's orders (a per-site setting; confero.registration.standing). Kept
apart from confero.people.services: the domain above calls this, never the other way round."""

from django.db import transaction
from django.db.models.functions import Now

from confero.people.models import User


def set_registration_status(user: User, *, registered: bool, paid: bool) -> None:
    """Writes both and moves last-modified (the database clock), whether or not they changed:
    the caller changed what the user's record shows (an order) in the same transaction."""
    # In a transaction begun before the stamp, as every stamp (confero.api.feeds).
    with transaction.atomic(savepoint=False):
        User.objects.filter(pk=user.pk).update(registered=registered, paid=paid, modified_at=Now())
    user.registered, user.paid = registered, paid
