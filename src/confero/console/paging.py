"""Keyset paging for the console's lists: a page is the rows after (or before) a key, never an
OFFSET, and no list counts its rows — both cost a scan of the site at 100,000 rows.

A list is ordered by one unique integer column (the primary key, or a waitlist's position),
newest (highest) first or lowest first; `after` names the last key of the page before, `before`
the first key of the page after. The links keep the list's other parameters (search, filters).
"""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import QueryDict


@dataclass
class Page:
    rows: list
    newer: str | None  # the link to the page before (on a list newest first: newer rows)
    older: str | None  # the link to the page after


def keyset(
    rows: QuerySet,
    query: QueryDict,
    *,
    size: int,
    key: str = "pk",
    descending: bool = True,
    prefix: str = "",
) -> Page:
    """One page of `rows` by `key`. `prefix` names the parameters (`{prefix}after`,
    `{prefix}before`) when a page holds two lists."""
    after, before = query.get(f"{prefix}after", ""), query.get(f"{prefix}before", "")
    forward, backward = ("-" + key, key) if descending else (key, "-" + key)
    past, short_of = ("lt", "gt") if descending else ("gt", "lt")
    if before.isdigit():
        found = list(
            rows.filter(**{f"{key}__{short_of}": int(before)}).order_by(backward)[: size + 1]
        )
        more_before, more_after = len(found) > size, True
        found = found[:size][::-1]
    else:
        if after.isdigit():
            rows = rows.filter(**{f"{key}__{past}": int(after)})
        found = list(rows.order_by(forward)[: size + 1])
        more_before, more_after = after.isdigit(), len(found) > size
        found = found[:size]
    keep = query.copy()
    for name in (f"{prefix}after", f"{prefix}before"):
        keep.pop(name, None)
    base = keep.urlencode()
    joined = f"?{base}&" if base else "?"

    def key_of(row) -> int:
        return getattr(row, "pk" if key == "pk" else key)

    return Page(
        rows=found,
        newer=f"{joined}{prefix}before={key_of(found[0])}" if found and more_before else None,
        older=f"{joined}{prefix}after={key_of(found[-1])}" if found and more_after else None,
    )
