"""What the programme does when the people domain tells it something (people cannot import us)."""

from django.dispatch import receiver

from confero.people.signals import user_cancelled, user_cancelling
from confero.programme.models import FreedBecause
from confero.programme.services import free_user_seats, hold_times_of_leaving_user


@receiver(user_cancelling, dispatch_uid="confero.programme.lock_cancelling_users_times")
def lock_cancelling_users_times(sender, *, user, **kwargs) -> None:
    """Before cancel_user locks the user's row: the user's session times first, then the user
    (the lock order, decision 0016), so that freeing the seats needs no lock out of order."""
    hold_times_of_leaving_user(user)


@receiver(user_cancelled, dispatch_uid="confero.programme.free_cancelled_users_seats")
def free_cancelled_users_seats(sender, *, user, **kwargs) -> None:
    """Inside cancel_user's transaction: the seats and waitlist places go with the user."""
    free_user_seats(user, because=FreedBecause.USER_CANCELLED)
