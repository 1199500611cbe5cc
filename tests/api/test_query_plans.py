"""Per-call cost flat as a site grows (issue 13): every statement a writing or reading call runs
finds its rows by an index, never by reading the whole site. The statements are caught as the
call sends them (with their parameters) and asked for their plan with the same parameters.

On PostgreSQL the tables here are tiny, so the planner would rightly prefer a sequential scan:
with `enable_seqscan` off it still chooses one only when no index can serve the statement,
which is what is pinned. Feeds read a whole site by design and are left out (their chunks are
keyset ranges of the primary key, bench/add_user.py and bench/feeds.py)."""

import re
from contextlib import contextmanager

import pytest
from django.db import connection
from django.utils import timezone

from confero.customfields.models import Answer
from confero.people.models import User

# A plan that reads a whole table, or all of a site's records: SQLite's "SCAN t" (also "SCAN t
# USING … INDEX", a walk of a whole index) and a search by the site alone; PostgreSQL's "Seq Scan
# on t" and an index scan whose condition is the site alone. A search by the site alone is fine
# for what a site has one of, or a few (its API profile, its custom-field definitions).
TABLE_SCAN = re.compile(r"^(SCAN \w+|.*Seq Scan on \w+)")
SITE_ONLY = re.compile(r"(\(site_id=\?\)|Index Cond: \(site_id = [^ ]+\))$")
PER_SITE_FEW = ("apiprofile", "customfield", "customvalue")


def reads_too_much(lines: list[str]) -> bool:
    scan = ""  # PostgreSQL: the scan an "Index Cond" line belongs to
    for line in lines:
        if TABLE_SCAN.match(line):
            return True
        if "Scan" in line or line.startswith("SEARCH"):
            scan = line
        if SITE_ONLY.search(line) and not any(name in scan for name in PER_SITE_FEW):
            return True
    return False


@contextmanager
def statements():
    """The statements the block sends, with their parameters."""
    sent: list[tuple[str, tuple]] = []

    def record(execute, sql, params, many, context):
        if not many:
            sent.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield sent


def plan(sql: str, params: tuple) -> list[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return [row[-1] for row in cursor.fetchall()]
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return [row[0].strip() for row in cursor.fetchall()]


def full_scans(sent) -> list[tuple[str, list[str]]]:
    found = []
    for sql, params in sent:
        if sql.split(None, 1)[0].upper() not in ("SELECT", "UPDATE", "DELETE"):
            continue
        lines = plan(sql, params)
        if reads_too_much(lines):
            found.append((sql[:160], lines))
    return found


@pytest.fixture
def crowd(live, fields):
    """3,000 users on the site, with a custom value each, and the database's statistics of their
    tables: plans chosen for a site that has grown (on nearly empty tables, every plan costs
    about the same, and the planners rightly pick any)."""
    now = timezone.now()
    users = User.objects.bulk_create(
        User(site=live.site.site, first_name="U", last_name=str(n), email=f"u{n}@example.org",
             client_id=f"X-{n}", created_at=now, modified_at=now)
        for n in range(3000)
    )  # fmt: skip
    Answer.objects.bulk_create(
        Answer(field=fields["notes"], record_type="user", record_id=user.pk, text="n")
        for user in users
    )
    with connection.cursor() as cursor:  # the tables that grow with a site
        for model in (User, Answer):
            cursor.execute(f"ANALYZE {model._meta.db_table}")


@pytest.fixture
def grace(live, fields, crowd):
    return live.add_user(firstName="Grace", email="grace@example.org", clientID="CRM-2")


def test_add_user_finds_every_row_by_an_index(live, fields, grace):
    params = {"firstName": "Ada", "lastName": "L", "email": "ADA@example.org", "clientID": "C1",
              "tshirt": "s", "dietary": ["veg", "gf"]}  # fmt: skip
    with statements() as sent:
        assert live.call("addUser", params).code == 0

    assert len(sent) >= 5  # the gate, the definitions, the two uniqueness checks, the writes
    assert full_scans(sent) == []


@pytest.mark.parametrize("by", ["userKey", "clientID"])
def test_update_user_finds_every_row_by_an_index(live, fields, grace, by):
    named = {"userKey": grace.user_key} if by == "userKey" else {"clientID": "CRM-2"}
    params = {**named, "email": "GRACE2@example.org", "newClientID": "CRM-3", "tshirt": "m"}
    with statements() as sent:
        assert live.call("updateUser", params).code == 0

    assert any("UPDATE" in sql for sql, _ in sent)
    assert full_scans(sent) == []


@pytest.mark.parametrize("by", ["userKey", "clientID", "userRef"])
def test_get_user_finds_every_row_by_an_index(live, fields, grace, by):
    value = {"userKey": grace.user_key, "clientID": "CRM-2", "userRef": grace.user_ref}[by]
    with statements() as sent:
        assert live.call("getUser", {by: value}).code == 0

    assert full_scans(sent) == []


def test_cancel_user_finds_every_row_by_an_index(live, fields, grace):
    with statements() as sent:
        assert live.call("cancelUser", {"clientID": "CRM-2"}).code == 0

    assert full_scans(sent) == []


def test_the_check_finds_a_scan_of_the_site_when_there_is_one(live, fields, grace):
    """What the tests above would see if a statement read the whole site: the email compared
    ignoring case by `iexact` (the old check), which the LOWER(email) index cannot serve."""
    with statements() as sent:
        list(User.objects.filter(site_id=grace.site_id, email__iexact="x@example.org"))

    assert [sql for sql, _ in full_scans(sent)] == [sent[0][0][:160]]
