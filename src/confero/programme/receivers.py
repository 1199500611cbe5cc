"""What the programme does when the people domain tells it something (people cannot import us)."""

from django.dispatch import receiver

from confero.people.signals import user_cancelled
from confero.programme.models import FreedBecause
from confero.programme.services import free_user_seats


@receiver(user_cancelled, dispatch_uid="confero.programme.free_cancelled_users_seats")
def free_cancelled_users_seats(sender, *, user, **kwargs) -> None:
    """Inside cancel_user's transaction: the seats and waitlist places go with the user."""
    free_user_seats(user, because=FreedBecause.USER_CANCELLED)
