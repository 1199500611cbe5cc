"""Sessions: adding and changing them, their speakers and files (contract §8.3).

Lock order as everywhere in the programme (confero.programme.services.seats): session times →
users → sessions. Cancelling a session (status "cancelled") frees the seats and waitlists of all
its times, which stay as they are (so the session can be made active again, its times empty);
unpublishing one keeps every seat and only stops new scheduling.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models.functions import Now

from confero.customfields.models import RecordType
from confero.customfields.services import Assignment, set_answers
from confero.errors import Cancelled, Conflict, ValidationFailed
from confero.events.models import Site
from confero.people.models import User
from confero.people.services import touch_user
from confero.programme.models import (
    FreedBecause,
    Session,
    SessionFile,
    SessionTime,
    Speaker,
    Status,
)
from confero.programme.services import checks
from confero.programme.services.seats import Changes, lock_times
from confero.programme.services.times import cancel_times

EDITABLE = ("abbreviation", "title", "abstract", "type", "track", "status", "published")
MAX_SIZE = 2**63 - 1  # bytes: PositiveBigIntegerField's range on every database


def add_session(
    site: Site, *, fields: dict[str, Any], assignments: Sequence[Assignment] = ()
) -> Session:
    """`fields`: title (required), abbreviation, abstract, type, track, published (default
    true: a session added through the API is on offer unless the caller says otherwise)."""
    fields = _validated({"title": "", **fields})
    if fields.pop("status", Status.ACTIVE) != Status.ACTIVE:
        raise ValidationFailed("status", "a session is added active")
    with transaction.atomic():
        _check_abbreviation(site.pk, fields.get("abbreviation"), exclude=None)
        session = Session(site=site, created_at=Now(), modified_at=Now(), **fields)
        _unique(session.save, fields.get("abbreviation"))
        set_answers(RecordType.SESSION, session.pk, assignments)
    session.refresh_from_db(fields=["created_at", "modified_at"])
    return session


def update_session(
    session: Session, *, fields: dict[str, Any], assignments: Sequence[Assignment] = ()
) -> Session:
    """Changes only what is given; every change (custom values too) moves last-modified.
    Status "cancelled" frees the seats of every time of the session."""
    fields = _validated(fields)
    with transaction.atomic():
        if fields.get("status") == Status.CANCELLED:
            # The times first (the lock order); whether the session is still active is read
            # under their locks, so of two cancellations only the first frees seats.
            times = lock_times(
                SessionTime.objects.filter(session=session).values_list("pk", flat=True)
            )
            if Session.objects.get(pk=session.pk).status == Status.ACTIVE:
                changes = Changes()
                cancel_times(times, because=FreedBecause.SESSION_CANCELLED, changes=changes)
                changes.write()
        stored = Session.objects.get(pk=session.pk)
        changed = {name: value for name, value in fields.items() if getattr(stored, name) != value}
        if "abbreviation" in changed:
            _check_abbreviation(session.site_id, changed["abbreviation"], exclude=session.pk)
        if changed or assignments:

            def update() -> None:
                Session.objects.filter(pk=session.pk).update(**changed, modified_at=Now())

            _unique(update, changed.get("abbreviation"))
            set_answers(RecordType.SESSION, session.pk, assignments)
    session.refresh_from_db()
    return session


def set_speakers(session: Session, speakers: Sequence[tuple[User, str]]) -> None:
    """Replaces the session's speakers by `speakers` (user, speakerRole), in that order. A user
    who stops speaking, starts, or changes role moves in the feeds (speakerData.do lists each
    speaker's sessions), and so does the session. A cancelled user stays a speaker where they
    were one, and cannot become one."""
    wanted = [
        (user, checks.text("speakerRole", role or "", max_length=100)) for user, role in speakers
    ]
    seen: set[int] = set()
    for user, _ in wanted:
        if user.site_id != session.site_id:
            raise ValidationFailed("speaker", f"user {user.user_ref} is not a user of this site")
        if user.pk in seen:
            raise ValidationFailed("speaker", f"user {user.user_ref} is listed twice")
        seen.add(user.pk)
    with transaction.atomic():
        current = {
            link.user_id: (link.role, link.position)
            for link in Speaker.objects.filter(session=session)
        }
        for user, _ in wanted:
            if user.pk not in current and not user.is_active:
                raise Cancelled("user", f"user {user.user_ref} is cancelled")
        target = {user.pk: (role, position) for position, (user, role) in enumerate(wanted)}
        if target == current:
            return
        moved = {pk for pk in current.keys() | target.keys() if current.get(pk) != target.get(pk)}
        for user_id in sorted(moved):  # users before the session: the lock order
            touch_user(user_id)
        Speaker.objects.filter(session=session).delete()
        Speaker.objects.bulk_create(
            Speaker(session=session, user_id=pk, role=role, position=position)
            for pk, (role, position) in target.items()
        )
        Session.objects.filter(pk=session.pk).update(modified_at=Now())


@dataclass(frozen=True)
class FileSpec:
    """A file by reference (§8.3 `file` = name|type|size|url): Confero stores no file bodies."""

    name: str
    type: str
    size: int
    url: str


_URL = URLValidator(schemes=["http", "https"])


def set_files(session: Session, files: Sequence[FileSpec]) -> None:
    """Replaces the session's files by `files`, in that order; nothing written when they are
    the same."""
    for spec in files:
        checks.text("file", spec.name, max_length=255, required=True)
        checks.text("file", spec.type, max_length=100)
        checks.whole("file", spec.size, low=0, high=MAX_SIZE, rule="size: a number of bytes")
        checks.text("file", spec.url, max_length=2000, required=True)
        try:
            _URL(spec.url)
        except ValidationError:
            raise ValidationFailed("file", f"'{spec.url}' is not an http(s) URL") from None
    with transaction.atomic():
        current = [
            FileSpec(f.name, f.type, f.size, f.url)
            for f in SessionFile.objects.filter(session=session).order_by("position")
        ]
        if current == list(files):
            return
        SessionFile.objects.filter(session=session).delete()
        SessionFile.objects.bulk_create(
            SessionFile(
                session=session,
                name=f.name,
                type=f.type,
                size=f.size,
                url=f.url,
                position=position,
            )
            for position, f in enumerate(files)
        )
        Session.objects.filter(pk=session.pk).update(modified_at=Now())


def _validated(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not session fields: {', '.join(sorted(unknown))}")
    out = dict(fields)
    if "title" in out:
        out["title"] = checks.text("title", out["title"], max_length=500, required=True)
    if "abbreviation" in out:
        # The client ID: none is NULL, so that the unique index leaves it out.
        value = out["abbreviation"]
        out["abbreviation"] = checks.text("abbreviation", value or "", max_length=100) or None
    for name, max_length in (("abstract", 20_000), ("type", 100), ("track", 200)):
        if name in out:
            out[name] = checks.text(name, out[name] or "", max_length=max_length)
    if "published" in out:
        out["published"] = checks.flag("published", out["published"])
    if "status" in out:
        out["status"] = checks.choice("status", out["status"], Status.values)
    return out


def _conflict(abbreviation: str) -> Conflict:
    return Conflict(
        "abbreviation", f"abbreviation '{abbreviation}' is already used by another session"
    )


def _check_abbreviation(site_id: int, abbreviation: str | None, *, exclude: int | None) -> None:
    if abbreviation is None:
        return
    others = Session.objects.filter(site_id=site_id, abbreviation=abbreviation)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if others.exists():
        raise _conflict(abbreviation)


def _unique(save, abbreviation: str | None) -> Any:
    """Runs `save` in a savepoint: the unique index, when a concurrent call got there first
    past the check, names the field."""
    try:
        with transaction.atomic():
            return save()
    except IntegrityError as exc:
        if abbreviation is not None and "abbreviation" in str(exc).lower():
            raise _conflict(abbreviation) from exc
        raise
