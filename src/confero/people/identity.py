"""Which user an identifier names (contract §5): `userKey` and `clientID` act as the user,
`userRef` only refers to one. Which identifiers a call may use, and the codes of a refusal, are
the API's (confero.api.acting)."""

from django.db import connection

from confero.events.models import Site
from confero.people.models import User

HEX = frozenset("0123456789ABCDEF")
# Identifier kind → (column, length of its hex form or None for free text).
KINDS = {"userKey": ("user_key", 32), "clientID": ("client_id", None), "userRef": ("user_ref", 16)}


def normal_hex(value: str, length: int) -> str | None:
    """The identifier as stored (upper case), or None when it cannot be one."""
    upper = value.upper()
    return upper if len(upper) == length and set(upper) <= HEX else None


def find_user(site: Site, kind: str, value: str, *, lock: bool = False) -> User | None:
    """The site's user named by `value` of identifier `kind` (a key of KINDS), or None. With
    `lock`, the row stays locked to the end of the caller's transaction (SQLite has no row
    locks: a writing call holds the database's write lock)."""
    column, length = KINDS[kind]
    if length is not None:
        value = normal_hex(value, length)
        if value is None:
            return None
    # Manager.raw: compiling a filtered, sliced, locked queryset was a quarter of updateUser.do's
    # time; with this and set_answers' DELETE, +19 % calls/s on PostgreSQL, +35 % on SQLite, in
    # turns (docs/performance.md). The table is the model's, the column one of KINDS'.
    table = User._meta.db_table
    sql = f"SELECT * FROM {table} WHERE site_id = %s AND {column} = %s"  # noqa: S608
    if lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    user = next(iter(User.objects.raw(sql, [site.pk, value])), None)
    if user is not None:
        user.site = site  # the caller's site, event included: no query when it is read
    return user
