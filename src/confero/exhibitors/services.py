"""Creating and changing exhibitors, their files and their booth staff. The API, the console and
the CLI all come here.

Every change — a field, a custom value, the files, the participants — moves the exhibitor's
last-modified from the database clock, inside the service's transaction; a call that changes
nothing writes nothing. Exhibitors are cancelled (status), never deleted; their files and
participants are parts of the record and are replaced as a set.

Locks, always in this order, so that these services and `people.services.cancel_user` never
wait for each other in a circle:
1. the users named as participants, by id (`FOR NO KEY UPDATE`: what cancelling a user takes);
2. the exhibitor's row;
3. its files and participants, replaced under the exhibitor's lock (two replacements of one
   exhibitor's set never mix).
`cancel_user` holds its user's row, then `user_cancelled_receiver` locks that user's exhibitors
by id. On SQLite there are no row locks: a writing transaction holds the database's write lock.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.functions import Now

from confero.customfields.models import RecordType
from confero.customfields.services import Assignment, set_answers
from confero.errors import Cancelled, Conflict, NotFound, ValidationFailed
from confero.events.models import Site
from confero.exhibitors.models import (
    EXHIBITOR_FIELDS,
    Exhibitor,
    ExhibitorFile,
    ExhibitorStatus,
    Participant,
)
from confero.people.models import User, UserStatus
from confero.xmltext import not_xml

_API_NAMES = {field: name for name, field in EXHIBITOR_FIELDS.items()}
_REQUIRED = ("name",)


@dataclass(frozen=True)
class FileSpec:
    """One file of an exhibitor, as the API's `file` (`name|type|size|url[|description]`) or the
    console gives it: `display_name` is the `name` part (shown as `<displayName>`)."""

    display_name: str
    url: str
    type: str = ""
    size: int = 0
    description: str = ""

    def as_row(self) -> tuple[str, str, int, str, str]:
        return (self.display_name, self.type, self.size, self.url, self.description)


def get_exhibitor(
    site: Site, *, exhibitor_id: int | None = None, exhibitor_code: str | None = None
) -> Exhibitor:
    """The exhibitor of `site` named by its exhibitorID or its exhibitorCode (exactly one)."""
    if (exhibitor_id is None) == (exhibitor_code is None):
        raise ValueError("name the exhibitor by exactly one of exhibitor_id and exhibitor_code")
    if exhibitor_id is not None:
        found = Exhibitor.objects.filter(site=site, pk=exhibitor_id).first()
        if found is None:
            raise NotFound(
                "exhibitor", f"no exhibitor with exhibitorID {exhibitor_id} on this site"
            )
    else:
        found = Exhibitor.objects.filter(site=site, exhibitor_code=exhibitor_code).first()
        if found is None:
            raise NotFound(
                "exhibitor", f"no exhibitor with exhibitorCode '{exhibitor_code}' on this site"
            )
    return found


def add_exhibitor(
    site: Site,
    *,
    fields: Mapping[str, Any],
    assignments: Sequence[Assignment] = (),
    participants: Sequence[tuple[User, str]] = (),
    files: Sequence[FileSpec] = (),
) -> Exhibitor:
    """`fields` holds model field names (`EXHIBITOR_FIELDS`' values); `name` is required.
    `participants` are (user, role) pairs in the order they are to be listed."""
    fields = _clean(fields, adding=True)
    _check_files(files)
    with transaction.atomic():
        _lock_users(site.pk, participants)
        code = fields.get("exhibitor_code")
        _check_code(site.pk, code, exclude=None)
        exhibitor = Exhibitor(site=site, **fields)
        # The INSERT returns created_at and modified_at, the database's defaults (its clock).
        _save_unique(exhibitor.save, code=code)
        set_answers(RecordType.EXHIBITOR, exhibitor.pk, assignments)
        _write_files(exhibitor, files)
        _write_participants(exhibitor, participants)
    return exhibitor


def update_exhibitor(
    exhibitor: Exhibitor,
    *,
    fields: Mapping[str, Any] | None = None,
    assignments: Sequence[Assignment] = (),
    participants: Sequence[tuple[User, str]] | None = None,
    files: Sequence[FileSpec] | None = None,
) -> Exhibitor:
    """Changes only what is given: `fields` (model field names), custom values, and — when not
    None — the whole set of participants or of files (an empty list empties it). A status of
    `cancelled` cancels the exhibitor, `active` makes it active again. The exhibitor (updated in
    place) is returned as stored."""
    fields = _clean(fields or {}, adding=False)
    if files is not None:
        _check_files(files)
    with transaction.atomic():
        if participants is not None:
            _lock_users(exhibitor.site_id, participants)
        stored = Exhibitor.objects.select_for_update().get(pk=exhibitor.pk)
        changed = {name: value for name, value in fields.items() if getattr(stored, name) != value}
        new_files = files is not None and _file_rows(stored) != [f.as_row() for f in files]
        new_staff = participants is not None and _participant_rows(stored) != [
            (user.pk, role) for user, role in participants
        ]
        if not (changed or assignments or new_files or new_staff):
            exhibitor.refresh_from_db()
            return exhibitor
        code = changed.get("exhibitor_code")
        if code:
            _check_code(stored.site_id, code, exclude=stored.pk)
        _save_unique(
            lambda: Exhibitor.objects.filter(pk=stored.pk).update(**changed, modified_at=Now()),
            code=code,
        )
        set_answers(RecordType.EXHIBITOR, stored.pk, assignments)
        if new_files:
            ExhibitorFile.objects.filter(exhibitor=stored).delete()
            _write_files(stored, files)
        if new_staff:
            Participant.objects.filter(exhibitor=stored).delete()
            _write_participants(stored, participants)
    exhibitor.refresh_from_db()
    return exhibitor


def set_participants(exhibitor: Exhibitor, participants: Sequence[tuple[User, str]]) -> Exhibitor:
    """Replaces the booth staff with `participants`, (user, role) pairs in the order listed.
    Users must be active users of the exhibitor's site, each named once."""
    return update_exhibitor(exhibitor, participants=participants)


def set_files(exhibitor: Exhibitor, files: Sequence[FileSpec]) -> Exhibitor:
    """Replaces the exhibitor's files with `files`, in the order given."""
    return update_exhibitor(exhibitor, files=files)


def cancel_exhibitor(exhibitor: Exhibitor) -> Exhibitor:
    """The record, its files and its staff stay; its status becomes cancelled (feeds with
    `since` show it)."""
    return update_exhibitor(exhibitor, fields={"status": ExhibitorStatus.CANCELLED})


def user_cancelled_receiver(sender, *, user: User, **kwargs) -> None:
    """A cancelled user leaves every booth (their staff rows go; the exhibitors' last-modified
    moves, so feeds with `since` show the shorter list). Runs inside cancel_user's transaction,
    which holds the user's row: the exhibitors are locked after it, by id (module docstring)."""
    booths = list(
        Exhibitor.objects.select_for_update(of=("self",))
        .filter(participants__user=user)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not booths:
        return
    Participant.objects.filter(user=user, exhibitor_id__in=booths).delete()
    Exhibitor.objects.filter(pk__in=booths).update(modified_at=Now())


# --- Checks ------------------------------------------------------------------------------------


def _clean(fields: Mapping[str, Any], *, adding: bool) -> dict[str, Any]:
    """The fields as stored (an empty exhibitorCode is none), refused when a face let through
    what the database could not hold or XML could not answer."""
    unknown = set(fields) - set(_API_NAMES)
    if unknown:
        raise ValueError(f"not exhibitor fields: {', '.join(sorted(unknown))}")
    cleaned = dict(fields)
    if "exhibitor_code" in cleaned:
        cleaned["exhibitor_code"] = cleaned["exhibitor_code"] or None
    for name in _REQUIRED:
        if (adding or name in cleaned) and not (cleaned.get(name) or "").strip():
            raise ValidationFailed(_API_NAMES[name], "must not be empty")
    if "status" in cleaned and cleaned["status"] not in ExhibitorStatus.values:
        raise ValidationFailed("status", "one of " + ", ".join(ExhibitorStatus.values))
    for name, value in cleaned.items():
        if value is not None:
            _check_text(_API_NAMES[name], value, Exhibitor._meta.get_field(name).max_length)
    return cleaned


def _check_text(what: str, value: str, max_length: int | None) -> None:
    if max_length is not None and len(value) > max_length:
        raise ValidationFailed(what, f"at most {max_length} characters")
    if problem := not_xml(value):
        raise ValidationFailed(what, problem)


def _check_files(files: Iterable[FileSpec]) -> None:
    meta = ExhibitorFile._meta
    for spec in files:
        if not spec.display_name.strip():
            raise ValidationFailed("file", "a file needs a name")
        if not spec.url.strip():
            raise ValidationFailed("file", f"file '{spec.display_name}' needs a url")
        if spec.size < 0:
            raise ValidationFailed("file", f"file '{spec.display_name}': size is not negative")
        for name in ("display_name", "type", "url", "description"):
            _check_text("file", getattr(spec, name), meta.get_field(name).max_length)


def _lock_users(site_id: int, participants: Sequence[tuple[User, str]]) -> None:
    """Checks the participants against the users as stored, holding their rows (lock order 1):
    a user cancelled meanwhile cannot slip onto a booth."""
    seen: set[int] = set()
    role_max = Participant._meta.get_field("role").max_length
    for user, role in participants:
        if user.pk in seen:
            raise ValidationFailed("participant", f"userRef '{user.user_ref}' is named twice")
        seen.add(user.pk)
        _check_text("participantRole", role, role_max)
    if not seen:
        return
    stored = {
        pk: (site, status)
        for pk, site, status in User.objects.select_for_update(no_key=True)
        .filter(pk__in=seen)
        .order_by("pk")
        .values_list("pk", "site_id", "status")
    }
    for user, _role in participants:
        site, status = stored.get(user.pk, (None, None))
        if site != site_id:
            raise NotFound("user", f"no user with userRef '{user.user_ref}' on this site")
        if status != UserStatus.ACTIVE:
            raise Cancelled("user", f"user '{user.user_ref}' is cancelled")


def _check_code(site_id: int, code: str | None, *, exclude: int | None) -> None:
    if not code:
        return
    others = Exhibitor.objects.filter(site_id=site_id, exhibitor_code=code)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if others.exists():
        raise _code_conflict(code)


def _code_conflict(code: str | None) -> Conflict:
    return Conflict("exhibitorCode", f"exhibitorCode '{code}' is already used by another exhibitor")


def _save_unique(save, *, code: str | None) -> Any:
    """Runs `save` in a savepoint; the unique index, when a concurrent call won the race past
    `_check_code`, names the field."""
    try:
        with transaction.atomic():
            return save()
    except IntegrityError as exc:
        if "exhibitor_code" in str(exc).lower():
            raise _code_conflict(code) from exc
        raise


# --- Parts -------------------------------------------------------------------------------------


def _file_rows(exhibitor: Exhibitor) -> list[tuple[str, str, int, str, str]]:
    return list(
        ExhibitorFile.objects.filter(exhibitor=exhibitor)
        .order_by("position", "id")
        .values_list("display_name", "type", "size", "url", "description")
    )


def _participant_rows(exhibitor: Exhibitor) -> list[tuple[int, str]]:
    return list(
        Participant.objects.filter(exhibitor=exhibitor)
        .order_by("position", "id")
        .values_list("user_id", "role")
    )


def _write_files(exhibitor: Exhibitor, files: Sequence[FileSpec]) -> None:
    ExhibitorFile.objects.bulk_create(
        ExhibitorFile(
            exhibitor=exhibitor,
            display_name=spec.display_name,
            type=spec.type,
            size=spec.size,
            url=spec.url,
            description=spec.description,
            position=position,
        )
        for position, spec in enumerate(files)
    )


def _write_participants(exhibitor: Exhibitor, participants: Sequence[tuple[User, str]]) -> None:
    Participant.objects.bulk_create(
        Participant(exhibitor=exhibitor, user_id=user.pk, role=role, position=position)
        for position, (user, role) in enumerate(participants)
    )
