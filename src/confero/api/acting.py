"""The user a call names (contract §5): any of userKey, clientID and userRef to read a user,
userKey or clientID to act as one."""

from typing import Any

from confero.api import codes
from confero.api.codes import ApiError
from confero.events.models import Site
from confero.people.identity import find_user
from confero.people.models import User


def named_user(site: Site, params: dict[str, Any], *, lock: bool = False) -> tuple[User, str]:
    """The user named by the identifiers given, and which kind named it ('userKey', 'clientID',
    'userRef'). All identifiers given must name the same user (213); unknown ones → 210."""
    found: list[tuple[str, User]] = []
    for kind in ("userKey", "clientID", "userRef"):
        value = params.get(kind)
        if not value:
            continue
        user = find_user(site, kind, value, lock=lock)
        if user is None:
            raise ApiError(
                codes.USER_NOT_FOUND, f"no user with {kind} '{value[:100]}' on this site"
            )
        found.append((kind, user))
    if not found:
        raise ApiError(
            codes.PARAM_MISSING, "parameter 'userKey', 'clientID' or 'userRef' is required"
        )
    if len({user.pk for _, user in found}) > 1:
        kinds = [kind for kind, _ in found]
        raise ApiError(codes.USER_IDS_DISAGREE, " and ".join(kinds) + " name different users")
    kind, user = found[0]
    return user, kind


def acting_user(site: Site, params: dict[str, Any], *, lock: bool = True) -> User:
    """For *act* resources: userKey or clientID; userRef cannot act (212). Locked for the call
    when `lock`: a writing call of a resource whose service does not lock the user itself, in
    its own lock order (confero.api.registry.Resource.lock_acting_user; a reading call has no
    transaction to hold a lock in)."""
    if params.get("userRef"):
        raise ApiError(
            codes.USERREF_CANNOT_ACT, "userRef cannot act as the user: use userKey or clientID"
        )
    if not params.get("userKey") and not params.get("clientID"):
        raise ApiError(codes.PARAM_MISSING, "parameter 'userKey' or 'clientID' is required")
    user, _ = named_user(site, params, lock=lock)
    if not user.is_active:
        raise ApiError(codes.USER_CANCELLED, "user is cancelled")
    return user
