"""Creating, changing and cancelling users. The API, the console and the CLI all come here."""

from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models.functions import Now

from confero.customfields.models import RecordType
from confero.customfields.services import Assignment, answer_statements, set_answers
from confero.errors import Conflict
from confero.events.models import Site
from confero.people.models import User, UserStatus
from confero.people.signals import user_cancelled
from confero.rows import aware_datetime, execute_batch, now_sql


def check_unique(
    site: Site, *, email: str | None, client_id: str | None, exclude: User | None
) -> None:
    others = User.objects.filter(site=site)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if client_id and others.filter(client_id=client_id).exists():
        raise Conflict("clientID", f"clientID '{client_id}' is already used by another user")
    if email and others.filter(status=UserStatus.ACTIVE, email__iexact=email).exists():
        raise Conflict("email", f"email '{email}' is already used by another active user")


def _save_unique(save, *, email: str | None, client_id: str | None) -> Any:
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
    check_unique(site, email=email, client_id=client_id, exclude=None)
    user = User(
        site=site, created_at=Now(), modified_at=Now(), **{**fields, "client_id": client_id}
    )
    _save_unique(user.save, email=email, client_id=client_id)
    set_answers(RecordType.USER, user.pk, assignments)
    return user


def update_user(
    user: User, *, fields: dict[str, Any], assignments: Sequence[Assignment] = ()
) -> User:
    """Changes only what is given; every change moves last-modified. Written by hand-written SQL
    (updateUser.do runs it on every call): the row's UPDATE and the custom values go to the
    database together, in one round trip on PostgreSQL."""
    fields, changed = _changes(user, fields)
    email = fields["email"] if "email" in changed else None
    client_id = fields["client_id"] if "client_id" in changed else None
    if email or client_id:
        check_unique(user.site, email=email, client_id=client_id, exclude=user)
    statements = _apply(user, fields, changed, assignments)
    if not statements:
        return user
    with connection.cursor() as cursor:
        if email or client_id:
            # A unique index may still refuse (a concurrent call won): name the field.
            row = _save_unique(
                lambda: execute_batch(cursor, statements), email=email, client_id=client_id
            )
        else:
            row = execute_batch(cursor, statements)
    user.modified_at = aware_datetime(row[0])
    return user


def update_statements(
    user: User, *, fields: dict[str, Any], assignments: Sequence[Assignment] = ()
) -> list[tuple[str, list[Any]]] | None:
    """What `update_user` writes, as statements for the caller to run in its transaction, the
    changes applied to `user` in memory (but last-modified, which the database sets). None when
    the update changes email or clientID: those need `update_user`'s checks against the other
    users. The caller makes sure the user's row has not changed since it was read (it holds
    the row's lock, or guards the statements with the row's version)."""
    fields, changed = _changes(user, fields)
    if "email" in changed or "client_id" in changed:
        return None
    return _apply(user, fields, changed, assignments)


def unread_update_statements(
    site_id: int,
    where: dict[str, Any],
    *,
    fields: dict[str, Any],
    assignments: Sequence[Assignment] = (),
) -> list[tuple[str, list[Any]]]:
    """What `update_user` writes, for a user that was not read: the statements find it by the
    columns and values of `where` (on site `site_id`), so the caller must hold its row locked
    before them (confero.rows.match_guard). Every field given is written; last-modified moves
    when a custom value is set or a field's value differs from the stored one (as in
    `update_user`, which writes only those). No email or clientID: those need its checks."""
    if "email" in fields or "client_id" in fields:
        raise ValueError("email and clientID are not written without reading the user")
    meta = User._meta
    db = connections[DEFAULT_DB_ALIAS]  # not the proxy: it looks the connection up on each use
    quote = db.ops.quote_name
    match = " AND ".join(["site_id = %s", *(f"{quote(c)} = %s" for c in where)])
    match_values = [site_id, *where.values()]
    statements = answer_statements(
        RecordType.USER,
        None,
        assignments,
        record=(f"(SELECT id FROM {meta.db_table} WHERE {match})", match_values),  # noqa: S608
    )
    if not fields and not assignments:
        return statements
    columns = [quote(meta.get_field(name).column) for name in fields]
    values = [meta.get_field(name).get_db_prep_save(v, db) for name, v in fields.items()]
    sets = [f"{column} = %s" for column in columns]
    if assignments:
        modified = now_sql()
        modified_values = []
    else:
        differs = " OR ".join(f"{column} IS DISTINCT FROM %s" for column in columns)
        modified = f"CASE WHEN {differs} THEN {now_sql()} ELSE modified_at END"
        modified_values = values
    statements.append(
        (
            f"UPDATE {meta.db_table} SET {', '.join([*sets, f'modified_at = {modified}'])} "  # noqa: S608
            f"WHERE {match}",
            [*values, *modified_values, *match_values],
        )
    )
    return statements


def _changes(user: User, fields: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The fields as stored (an empty clientID is no clientID), and the names of those whose
    value differs from the user's."""
    if "client_id" in fields:
        fields = {**fields, "client_id": fields["client_id"] or None}
    return fields, [name for name, value in fields.items() if getattr(user, name) != value]


def _apply(
    user: User, fields: dict[str, Any], changed: list[str], assignments: Sequence[Assignment]
) -> list[tuple[str, list[Any]]]:
    """Sets the changed fields on `user`; the statements that write them and the custom values
    (none when nothing changes), the row's UPDATE last: it returns last-modified."""
    for name in changed:
        setattr(user, name, fields[name])
    if not changed and not assignments:
        return []
    statements = answer_statements(RecordType.USER, user.pk, assignments)
    statements.append(_update_statement(user, changed))
    return statements


def _update_statement(user: User, changed: list[str]) -> tuple[str, list[Any]]:
    """UPDATE of the changed columns and last-modified (the database clock), returning it."""
    meta = User._meta
    quote = connection.ops.quote_name
    assignments = [f"{quote(meta.get_field(name).column)} = %s" for name in changed]
    values = [
        meta.get_field(name).get_db_prep_save(getattr(user, name), connection) for name in changed
    ]
    return (
        f"UPDATE {meta.db_table} SET {', '.join([*assignments, f'modified_at = {now_sql()}'])} "  # noqa: S608
        "WHERE id = %s RETURNING modified_at",
        [*values, user.pk],
    )


def cancel_user(user: User) -> User:
    """The record and its history stay; only the status changes. The domains above (the
    programme frees the user's seats) do their part in the same transaction, through
    `confero.people.signals.user_cancelled`."""
    with transaction.atomic():
        user.status = UserStatus.CANCELLED
        user.modified_at = Now()
        user.save(update_fields=["status", "modified_at"])
        user_cancelled.send(sender=User, user=user)
    return user


def touch_user(user_id: int) -> None:
    """Moves last-modified: for changes to what hangs off a user (custom values, schedule).
    Inside a transaction begun before it, as every stamp (confero.api.feeds): the first
    statement of a transaction takes its time before the transaction shows in
    pg_stat_activity, so a feed's watermark read in between could pass over it."""
    User.objects.filter(pk=user_id).update(modified_at=Now())
