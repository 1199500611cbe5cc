"""Creating, changing and cancelling users. The API, the console and the CLI all come here.

Each verb owns its transaction: called inside another (the API's, one per call), it runs in a
savepoint of it, so that a caller that catches its refusal can go on. Created and last-modified
come from the database clock (`Now()`): feeds with `since` rely on it (confero.api.feeds), and so
do several application servers with skewed clocks.
"""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Lower, Now

from confero.customfields.models import RecordType
from confero.customfields.services import Assignment, set_answers
from confero.errors import Cancelled, Conflict
from confero.events.models import Site
from confero.people.models import User, UserStatus
from confero.people.signals import user_cancelled, user_cancelling

T = TypeVar("T")


def check_unique(
    site: Site, *, email: str | None, client_id: str | None, exclude: User | None
) -> None:
    """clientID is unique per site, email among the site's active users, ignoring case. Each is
    one lookup by an index: email as LOWER(email) = LOWER(%s), which is what the index of the
    unique constraint holds (a comparison by `iexact` could not use it)."""
    others = User.objects.filter(site_id=site.pk)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if client_id and others.filter(client_id=client_id).exists():
        raise Conflict("clientID", f"clientID '{client_id}' is already used by another user")
    if email and (
        others.filter(status=UserStatus.ACTIVE)
        .alias(email_lower=Lower("email"))
        .filter(email_lower=Lower(Value(email)))
        .exists()
    ):
        raise Conflict("email", f"email '{email}' is already used by another active user")


def _save_unique(save: Callable[[], T], *, email: str | None, client_id: str | None) -> T:
    """Runs `save` in a savepoint; a unique index that a concurrent call won names the field."""
    try:
        with transaction.atomic():
            return save()
    except IntegrityError as exc:
        text = str(exc).lower()
        if "client_id" in text:
            raise Conflict(
                "clientID", f"clientID '{client_id}' is already used by another user"
            ) from exc
        if "email" in text:
            raise Conflict(
                "email", f"email '{email}' is already used by another active user"
            ) from exc
        raise


def add_user(site: Site, *, fields: dict[str, Any], assignments: Sequence[Assignment] = ()) -> User:
    """`fields` holds model field names: contact fields, client_id, registered, paid, badge_id,
    public_bio."""
    email, client_id = fields.get("email"), fields.get("client_id") or None
    with transaction.atomic():
        check_unique(site, email=email, client_id=client_id, exclude=None)
        user = User(
            site=site, created_at=Now(), modified_at=Now(), **{**fields, "client_id": client_id}
        )
        _save_unique(user.save, email=email, client_id=client_id)
        set_answers(RecordType.USER, user.pk, assignments)
    _forget_stamps(user, "created_at", "modified_at")
    return user


def update_user(
    user: User, *, fields: dict[str, Any], assignments: Sequence[Assignment] = ()
) -> User:
    """Changes only what is given and differs from what is stored, and the custom values
    assigned; either moves last-modified. Nothing given that differs: nothing is written."""
    if "client_id" in fields:  # an empty clientID is no clientID
        fields = {**fields, "client_id": fields["client_id"] or None}
    changed = {name: value for name, value in fields.items() if getattr(user, name) != value}
    if not changed and not assignments:
        return user
    email, client_id = changed.get("email"), changed.get("client_id")
    with transaction.atomic():
        if email or client_id:
            check_unique(user.site, email=email, client_id=client_id, exclude=user)
        set_answers(RecordType.USER, user.pk, assignments)
        for name, value in changed.items():
            setattr(user, name, value)
        user.modified_at = Now()
        save = lambda: user.save(update_fields=[*changed, "modified_at"])  # noqa: E731
        if email or client_id:
            _save_unique(save, email=email, client_id=client_id)
        else:
            save()
    _forget_stamps(user, "modified_at")
    return user


def cancel_user(user: User) -> User:
    """The record and its history stay; only the status changes. The domains above (the
    programme frees the user's seats) do their part in the same transaction, through
    `confero.people.signals`: `user_cancelling` first, so that they can take the locks that
    come before the user's row in their order, then the user's row is locked and checked
    (a user cancelled meanwhile → Cancelled), then `user_cancelled`."""
    with transaction.atomic():
        user_cancelling.send(sender=User, user=user)
        status = (
            User.objects.select_for_update().filter(pk=user.pk).values_list("status", flat=True)
        )
        if status.get() != UserStatus.ACTIVE:
            raise Cancelled("user", "user is cancelled")
        user.status = UserStatus.CANCELLED
        user.modified_at = Now()
        user.save(update_fields=["status", "modified_at"])
        user_cancelled.send(sender=User, user=user)
    _forget_stamps(user, "modified_at")
    return user


def touch_user(user_id: int) -> None:
    """Moves last-modified: for changes to what hangs off a user (custom values, schedule).
    Inside a transaction begun before it, as every stamp (confero.api.feeds): the first
    statement of a transaction takes its time before the transaction shows in
    pg_stat_activity, so a feed's watermark read in between could pass over it."""
    User.objects.filter(pk=user_id).update(modified_at=Now())


def _forget_stamps(user: User, *names: str) -> None:
    """The stamps were written as the database clock's `Now()`: the instance forgets them, so
    that reading one loads it (as any deferred field) instead of giving the expression."""
    for name in names:
        delattr(user, name)
