"""Which user a call names (contract §5): userKey or clientID act; userRef only refers."""

from typing import Any

from django.db import connection

from confero.access.gate import ReadUser, UserLookup
from confero.api import codes
from confero.api.codes import ApiError
from confero.events.models import Site
from confero.people.models import User
from confero.rows import Loader, prepared_cursor

HEX = frozenset("0123456789ABCDEF")


def _normal_hex(value: str, length: int) -> str | None:
    upper = value.upper()
    return upper if len(upper) == length and set(upper) <= HEX else None


_USERS = Loader(User)


def _lookup(site: Site, *, lock: bool, column: str, value: str) -> User | None:
    """One hand-written query (it runs on every call that names a user; the ORM's took longer
    to build than to run). With `lock`, the row stays locked to the end of the call's
    transaction (SQLite has no row locks: a writing call holds the database's write lock)."""
    sql = (
        f"SELECT {_USERS.select_list()} FROM {User._meta.db_table} "  # noqa: S608
        f"WHERE site_id = %s AND {connection.ops.quote_name(column)} = %s"
    )
    if lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with prepared_cursor() as cursor:
        cursor.execute(sql, [site.pk, value])
        row = cursor.fetchone()
    # The caller's site, event included: no join, no second query.
    return None if row is None else _USERS.load(row, site=site)


def _not_found(kind: str, value: str) -> ApiError:
    return ApiError(codes.USER_NOT_FOUND, f"no user with {kind} '{value[:100]}' on this site")


def user_lookup(params: dict[str, list[str]]) -> UserLookup | None:
    """For a call that will act as a user, the user to read along with the gate, from the raw
    parameters: only when exactly one userKey or one clientID names it, with no userRef and no
    `event` (the user is then on the URL's site, and `read_acting_user` has nothing left to
    decide but "found" and "cancelled"). None otherwise: the call looks its user up later."""
    if params.get("event") or params.get("userRef"):
        return None
    keys, client_ids = params.get("userKey"), params.get("clientID")
    if keys and not client_ids and len(keys) == 1:
        key = _normal_hex(keys[0], 32)
        return UserLookup("user_key", key) if key else None
    if client_ids and not keys and len(client_ids) == 1 and client_ids[0]:
        return UserLookup("client_id", client_ids[0])
    return None


def read_acting_user(params: dict[str, Any], read: ReadUser) -> User | None:
    """What `resolve_acting_user` answers, from the user read along with the gate (not locked):
    the user, or 210 / 215 as ApiError. None when the checked parameters do not name the user
    the way `user_lookup` assumed (then `resolve_acting_user` decides)."""
    kind, other = (
        ("userKey", "clientID") if read.lookup.column == "user_key" else ("clientID", "userKey")
    )
    value = params.get(kind)
    if not value or params.get(other) or params.get("userRef"):
        return None
    if (_normal_hex(value, 32) if kind == "userKey" else value) != read.lookup.value:
        return None
    if read.user is None:
        raise _not_found(kind, value)
    if not read.user.is_active:
        raise ApiError(codes.USER_CANCELLED, "user is cancelled")
    return read.user


def find_user(
    site: Site, *, user_key=None, client_id=None, user_ref=None, lock=False
) -> tuple[User, str]:
    """The user named by the identifiers given, and which kind named it ('userKey', 'clientID',
    'userRef'). All identifiers given must name the same user (213); unknown ones → 210."""
    found: list[tuple[str, User]] = []
    for kind, value, length, column in (
        ("userKey", user_key, 32, "user_key"),
        ("clientID", client_id, None, "client_id"),
        ("userRef", user_ref, 16, "user_ref"),
    ):
        if not value:
            continue
        key = _normal_hex(value, length) if length else value
        user = _lookup(site, lock=lock, column=column, value=key) if key else None
        if user is None:
            raise _not_found(kind, value)
        found.append((kind, user))
    if not found:
        raise ApiError(
            codes.PARAM_MISSING, "parameter 'userKey', 'clientID' or 'userRef' is required"
        )
    kinds = [kind for kind, _ in found]
    if len({user.pk for _, user in found}) > 1:
        raise ApiError(codes.USER_IDS_DISAGREE, " and ".join(kinds) + " name different users")
    kind, user = found[0]
    return user, kind


def resolve_acting_user(site: Site, params: dict[str, Any]) -> User:
    """For *act* resources: userKey or clientID; userRef alone cannot act (212)."""
    user_key, client_id, user_ref = (
        params.get("userKey"),
        params.get("clientID"),
        params.get("userRef"),
    )
    if not user_key and not client_id:
        if user_ref:
            raise ApiError(
                codes.USERREF_CANNOT_ACT, "userRef cannot act as the user: use userKey or clientID"
            )
        raise ApiError(codes.PARAM_MISSING, "parameter 'userKey' or 'clientID' is required")
    if user_ref:
        raise ApiError(
            codes.USERREF_CANNOT_ACT, "userRef cannot act as the user: use userKey or clientID"
        )
    user, _ = find_user(site, user_key=user_key, client_id=client_id, lock=True)
    if not user.is_active:
        raise ApiError(codes.USER_CANCELLED, "user is cancelled")
    return user
