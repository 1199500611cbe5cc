"""updateUser.do on its one write path (issue 13): the pipeline opens the call's transaction,
`confero.api.acting.acting_user` locks the user's row (SELECT … FOR UPDATE), the service writes
through the ORM and the call-log row commits in the same transaction.

These are the behavioural tests of the two PostgreSQL fast paths that path replaced ("at once",
decision 0010; "unread", decision 0014; removed with confero/rows.py), kept for the one path:
the answer's exact bytes, which rows change, last-modified, the refusal order, a failed
transaction. The concurrency tests need PostgreSQL's row locks: another connection holds the
user's row locked with a change of its own and commits only once it sees the call waiting for
that lock (polled in pg_stat_activity, never a sleep). SQLite has no row locks (a writing call
holds the database's write lock from BEGIN IMMEDIATE), and the suite's SQLite database is in
memory with a shared cache, where a second writer fails at once ("database table is locked")
instead of waiting: no wait can be shown there. Everything else runs on both."""

import json
import threading
import time
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from confero.access.models import ApiCall
from confero.access.tokens import public_prefix
from confero.customfields.models import Answer
from confero.people.models import User
from tests.access.test_gate_connection import other_connection
from tests.api.conftest import import_test_fields
from tests.api.test_calllog_transaction import INTERNAL_ERROR, break_log
from tests.api.test_update_user import LONG_AGO, age, columns, error_xml, ok_xml

# What the removed "unread" path put in its answer for the userRef before it knew it, and
# replaced afterwards: a value that looks like it must come back as sent.
OLD_USER_REF_MARKER = "@@confero-uref@@"
LOCK_WAIT_LIMIT = 30.0  # seconds a watcher looks for the blocked call at most (a slow host)


@pytest.fixture
def ada(ada_with, fields) -> User:
    """The suite's Ada, with a city and custom values."""
    return ada_with(city="London", custom={"tshirt": "s", "dietary": ["veg"]})


def update(live, user: User, *, by: str = "userKey", **params):
    who = {"userKey": user.user_key} if by == "userKey" else {"clientID": user.client_id}
    return live.call("updateUser", {**who, **params})


def answers(user: User) -> list[tuple]:
    """The user's custom values as stored, in the order written (a rewrite shows as new ids)."""
    return list(
        Answer.objects.filter(record_type="user", record_id=user.pk)
        .order_by("id")
        .values_list("id", "field__code", "value__code", "text")
    )


def values_of(user: User) -> list[tuple]:
    """The user's custom values without their ids, in the order written."""
    return [row[1:] for row in answers(user)]


def logged_calls() -> list[tuple]:
    return list(ApiCall.objects.order_by("id").values_list("resource", "code", "http_status"))


def record_writes(queries: CaptureQueriesContext) -> list[str]:
    """The statements a call ran that write a user or a custom value (not the call log, the
    rate limiter's leases or the token's last use, which are the pipeline's)."""
    return [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].split(" ", 1)[0] in ("INSERT", "UPDATE", "DELETE")
        and ("people_user" in query["sql"] or "customfields_answer" in query["sql"])
    ]


# --- The answer -------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["userKey", "clientID"])
def test_update_user_answers_its_exact_bytes_and_writes_what_was_sent(live, live_site, ada, by):
    result = update(live, ada, by=by, firstName="Augusta", tshirt="l", dietary=["gf", "vegan"])

    assert (result.status, result.headers["Content-Type"]) == (
        200,
        "application/xml; charset=utf-8",
    )
    assert result.body == ok_xml(
        ada,
        '<customValue field="tshirt" code="l"/>',
        '<customValue field="dietary" code="gf"/>',
        '<customValue field="dietary" code="vegan"/>',
    )
    after = User.objects.get(pk=ada.pk)
    assert (after.first_name, after.last_name, after.email, after.city) == (
        "Augusta",
        "Lovelace",
        "ada@example.org",
        "London",
    )
    assert after.modified_at > LONG_AGO
    assert values_of(ada) == [("tshirt", "l", ""), ("dietary", "gf", ""), ("dietary", "vegan", "")]
    assert logged_calls() == [("updateUser", 0, 200)]
    call = ApiCall.objects.order_by("id").last()
    assert (call.site_id, call.token_prefix) == (ada.site_id, public_prefix(live_site.token))


def test_update_user_answers_in_json(live, ada):
    result = update(live, ada, format="json", tshirt="m", dietary=["vegan", "veg"])

    assert (result.status, result.headers["Content-Type"]) == (
        200,
        "application/json; charset=utf-8",
    )
    assert json.loads(result.body) == {
        "api": {
            "response": {"code": 0, "message": "Success"},
            "userRef": ada.user_ref,
            "clientID": "CRM-1",
            "customValue": [
                {"field": "tshirt", "code": "m"},
                {"field": "dietary", "code": "vegan"},
                {"field": "dietary", "code": "veg"},
            ],
        }
    }
    assert values_of(ada) == [("tshirt", "m", ""), ("dietary", "vegan", ""), ("dietary", "veg", "")]


def test_update_user_value_that_looks_like_a_marker_is_left_as_sent(live, ada):
    result = update(live, ada, notes=OLD_USER_REF_MARKER, city=OLD_USER_REF_MARKER)

    assert result.body == ok_xml(ada, f'<customValue field="notes" code="{OLD_USER_REF_MARKER}"/>')
    assert columns(ada)["city"] == OLD_USER_REF_MARKER
    assert ("notes", None, OLD_USER_REF_MARKER) in values_of(ada)


def test_update_user_multichoice_keeps_the_order_sent(live, ada):
    """Feeds list a record's values in the order they were written (by id)."""
    result = update(live, ada, dietary=["vegan", "gf", "veg"])

    assert result.body == ok_xml(
        ada,
        '<customValue field="dietary" code="vegan"/>',
        '<customValue field="dietary" code="gf"/>',
        '<customValue field="dietary" code="veg"/>',
    )
    assert values_of(ada) == [
        ("tshirt", "s", ""),
        ("dietary", "vegan", ""),
        ("dietary", "gf", ""),
        ("dietary", "veg", ""),
    ]


# --- Which rows change ------------------------------------------------------------------------


@pytest.mark.parametrize("called", ["production", "uat"])
def test_update_user_changes_only_the_named_users_row_and_values(live, api, uat_site, ada, called):
    """Another user of the site, and the user with the same clientID and email on the event's
    other site, stay as they were, values included. Either site is called: the user created
    second (the UAT one) is named too, so a lookup that took the first row with that clientID
    whatever its site would change the other site's user."""
    grace = live.add_user(
        firstName="Grace", lastName="Hopper", email="grace@example.org", clientID="CRM-2",
        city="Arlington", tshirt="m", dietary=["gf"],
    )  # fmt: skip
    import_test_fields(uat_site.site)
    added = api.call(
        uat_site.url("addUser"),
        {"apiToken": uat_site.token, "firstName": "Ada", "lastName": "Other",
         "email": "ada@example.org", "clientID": "CRM-1", "city": "London", "tshirt": "s"},
    )  # fmt: skip
    assert added.code == 0
    twin = User.objects.get(user_ref=added.xml.findtext("userRef"))
    age(twin)  # as ada: any change shows as a later stamp, within the test's transaction too
    named, site = (ada, live.site) if called == "production" else (twin, uat_site)
    others = [user for user in (ada, grace, twin) if user.pk != named.pk]
    others_before = [(columns(user), answers(user)) for user in others]
    before, values_before = columns(named), values_of(named)

    result = api.call(
        site.url("updateUser"),
        {"apiToken": site.token, "clientID": "CRM-1", "firstName": "Augusta",
         "city": "Bletchley", "tshirt": "l"},
    )  # fmt: skip

    assert result.body == ok_xml(named, '<customValue field="tshirt" code="l"/>')
    assert [(columns(user), answers(user)) for user in others] == others_before
    after = columns(named)
    assert after == {
        **before,
        "first_name": "Augusta",
        "city": "Bletchley",
        "modified_at": after["modified_at"],
    }
    assert after["modified_at"] > LONG_AGO
    assert values_of(named) == [
        *(value for value in values_before if value[0] != "tshirt"),
        ("tshirt", "l", ""),
    ]


# --- Last-modified ------------------------------------------------------------------------------


def test_update_user_that_changes_nothing_leaves_last_modified_and_writes_only_its_log_row(
    live, ada
):
    row, values = columns(ada), answers(ada)

    with CaptureQueriesContext(connection) as queries:
        result = update(live, ada, firstName="Ada", city="London", registered="false")

    assert result.body == ok_xml(ada)
    assert record_writes(queries) == []
    assert (columns(ada), answers(ada)) == (row, values)
    assert columns(ada)["modified_at"] == LONG_AGO
    assert logged_calls() == [("updateUser", 0, 200)]


def test_update_user_changed_field_alone_moves_last_modified(live, ada):
    """Sent with fields that do not change, the one that does is written and moves
    last-modified; the others are not touched."""
    before = columns(ada)

    result = update(live, ada, firstName="Ada", lastName="Lovelace", city="Paris")

    after = columns(ada)
    assert result.body == ok_xml(ada)
    assert after["modified_at"] > LONG_AGO
    assert after == {**before, "city": "Paris", "modified_at": after["modified_at"]}


def test_update_user_empty_value_clears_a_contact_field(live, ada):
    result = update(live, ada, city="")

    after = columns(ada)
    assert result.body == ok_xml(ada)
    assert (after["city"], after["first_name"]) == ("", "Ada")
    assert after["modified_at"] > LONG_AGO
    assert values_of(ada) == [("tshirt", "s", ""), ("dietary", "veg", "")]


def test_update_user_empty_value_clears_a_custom_field(live, ada):
    """The answer reports the cleared field with an empty code (rule 6)."""
    result = update(live, ada, tshirt="")

    after = columns(ada)
    assert result.body == ok_xml(ada, '<customValue field="tshirt" code=""/>')
    assert after["city"] == "London"
    assert after["modified_at"] > LONG_AGO
    assert values_of(ada) == [("dietary", "veg", "")]


@pytest.mark.parametrize(("sent", "moves"), [("true", True), ("false", False)])
def test_update_user_boolean_moves_last_modified_only_when_it_changes(live, ada, sent, moves):
    """`registered` is stored false: sent true it changes, sent false it does not."""
    result = update(live, ada, registered=sent)

    after = columns(ada)
    assert (result.status, result.code) == (200, 0)
    assert after["registered"] is (sent == "true")
    assert (after["modified_at"] > LONG_AGO) is moves
    assert after["modified_at"] >= LONG_AGO


# --- The refusal order --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wrong", "code", "status", "message"),
    [
        ({"nosuchfield": "x"}, 300, 400, "unknown custom field code 'nosuchfield'"),
        (
            {"tshirt": "xxl"},
            301,
            400,
            "value 'xxl' is not a value of custom field 'tshirt'",
        ),
        ({"firstName": ""}, 201, 400, "parameter 'firstName' cannot be empty"),
    ],
    ids=["unknown custom field", "value not of its field", "required field emptied"],
)
@pytest.mark.parametrize("who", ["unknown", "cancelled", "active"])
def test_update_user_refuses_an_unknown_or_cancelled_user_before_what_else_is_wrong(
    live, ada, who, wrong, code, status, message
):
    """The user is looked up (and locked) before the resource reads its parameters: an unknown
    user is 210 and a cancelled one 215 whatever else the call gets wrong; an active one gets
    the parameter's refusal. Nothing is written either way."""
    if who == "cancelled":
        assert live.call("cancelUser", {"userKey": ada.user_key}).code == 0
    row, values, calls = columns(ada), answers(ada), logged_calls()
    client_id = "nobody" if who == "unknown" else "CRM-1"

    result = live.call("updateUser", {"clientID": client_id, "city": "Paris", **wrong})

    expected = {
        "unknown": (404, 210, "no user with clientID 'nobody' on this site"),
        "cancelled": (409, 215, "user is cancelled"),
        "active": (status, code, message),
    }[who]
    assert (result.status, result.body) == (expected[0], error_xml(*expected[1:]))
    assert (columns(ada), answers(ada)) == (row, values)
    assert logged_calls() == [*calls, ("updateUser", expected[1], expected[0])]


def test_update_user_malformed_declared_parameter_is_refused_before_the_user_is_looked_up(
    live, ada
):
    """The pipeline checks the declared parameters (step 9) before the acting user (step 10):
    a malformed email is 201 even for an unknown user."""
    result = live.call("updateUser", {"clientID": "nobody", "email": "nope"})

    assert (result.status, result.body) == (
        400,
        error_xml(201, "parameter 'email' must be an email address"),
    )


# --- A failure in the transaction ---------------------------------------------------------------


@pytest.mark.machinery
@pytest.mark.django_db(transaction=True)
def test_update_user_failed_transaction_leaves_nothing_and_the_connection_ready(
    live, ada, monkeypatch
):
    row, values, calls = columns(ada), answers(ada), logged_calls()
    break_log(monkeypatch)  # the log row, inside the call's transaction, fails

    failed = update(live, ada, firstName="Augusta", tshirt="m")

    assert failed.status == 500
    assert INTERNAL_ERROR.fullmatch(failed.body), failed.body
    assert (columns(ada), answers(ada)) == (row, values)
    assert logged_calls() == calls  # the log itself was broken
    assert not connection.in_atomic_block
    if connection.vendor == "postgresql":
        assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    pid = connection.connection.info.backend_pid if connection.vendor == "postgresql" else None

    monkeypatch.undo()
    again = update(live, ada, firstName="Augusta", tshirt="m")

    assert again.body == ok_xml(ada, '<customValue field="tshirt" code="m"/>')  # it could
    assert columns(ada)["first_name"] == "Augusta"
    assert values_of(ada) == [("dietary", "veg", ""), ("tshirt", "m", "")]
    assert logged_calls() == [*calls, ("updateUser", 0, 200)]
    if pid is not None:
        assert connection.connection.info.backend_pid == pid  # the same connection


# --- PostgreSQL: the call waits for the user's row lock -----------------------------------------


@contextmanager
def row_held(change: str, values: list):
    """Another connection makes `change` (an UPDATE … RETURNING modified_at) and holds it
    uncommitted, the row locked; a watcher commits it as soon as this thread's connection is
    seen waiting for that lock, or once the block's call has returned without waiting (or
    after LOCK_WAIT_LIMIT seconds). Yields a dict that gets `waited` (whether the call was seen
    blocked by the holder) and `stamp` (the change's modified_at)."""
    connection.ensure_connection()
    waiter = connection.connection.info.backend_pid
    holder = other_connection()
    holder.execute("BEGIN")
    seen = {"stamp": holder.execute(change, values).fetchone()[0], "waited": False}
    blocker = holder.info.backend_pid
    returned = threading.Event()

    def commit_once_waited_for():
        try:
            with other_connection() as watcher:
                deadline = time.monotonic() + LOCK_WAIT_LIMIT
                while not returned.is_set() and time.monotonic() < deadline:
                    blocked = watcher.execute(
                        "SELECT %s = ANY(pg_blocking_pids(%s))", [blocker, waiter]
                    ).fetchone()[0]
                    if blocked:
                        seen["waited"] = True
                        return
                    watcher.execute("SELECT pg_sleep(0.005)")
        finally:
            holder.commit()
            holder.close()

    thread = threading.Thread(target=commit_once_waited_for)
    thread.start()
    try:
        yield seen
    finally:
        returned.set()
        thread.join()


HOLD_NAME_AND_CITY = (
    "UPDATE people_user SET first_name = 'Grace', city = 'Paris', modified_at = now() "
    "WHERE id = %s RETURNING modified_at"
)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("by", "params", "changed"),
    [
        ("userKey", {}, {}),
        ("clientID", {}, {}),
        ("userKey", {"event": "GUID"}, {}),
        ("userKey", {"email": "augusta@example.org"}, {"email": "augusta@example.org"}),
        ("clientID", {"newClientID": "CRM-9"}, {"client_id": "CRM-9"}),
    ],
    ids=["by userKey", "by clientID", "with its own event", "new email", "new clientID"],
)
def test_update_user_waits_for_the_row_lock_and_keeps_the_change_made_meanwhile(
    live, live_site, ada, by, params, changed
):
    """The call sends the first name it would have read: had it read the row before the other
    transaction committed, it would have written nothing to that column and the other's name
    would win, though this call came last. Locked, it reads the committed row: both changes
    stay, and its stamp is the later one."""
    params = {k: str(live_site.event.guid) if v == "GUID" else v for k, v in params.items()}
    before = columns(ada)

    with row_held(HOLD_NAME_AND_CITY, [ada.pk]) as held:
        result = update(live, ada, by=by, firstName="Ada", tshirt="m", **params)

    assert held["waited"], "the call did not wait for the row lock"
    ada.refresh_from_db()
    assert result.body == ok_xml(ada, '<customValue field="tshirt" code="m"/>')
    after = columns(ada)
    assert after == {
        **before,
        "first_name": "Ada",
        "city": "Paris",
        **changed,
        "modified_at": after["modified_at"],
    }
    assert after["modified_at"] > held["stamp"]
    assert values_of(ada) == [("dietary", "veg", ""), ("tshirt", "m", "")]
    assert logged_calls() == [("updateUser", 0, 200)]
    assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("change", "status", "code", "message"),
    [
        ("status = 'cancelled'", 409, 215, "user is cancelled"),
        ("client_id = 'CRM-9'", 404, 210, "no user with clientID 'CRM-1' on this site"),
    ],
    ids=["cancelled", "clientID changed"],
)
def test_update_user_cancelled_while_the_call_waits_is_refused_and_nothing_is_written(
    live, ada, change, status, code, message
):
    """The lookup waits for the other transaction's lock, then sees the row as committed: no
    longer an active user with this clientID. Nothing of the call stays but its log row."""
    values = answers(ada)
    hold = (
        f"UPDATE people_user SET {change}, modified_at = now() WHERE id = %s RETURNING modified_at"  # noqa: S608
    )

    with row_held(hold, [ada.pk]) as held:
        result = update(live, ada, by="clientID", firstName="Augusta", tshirt="m")

    assert held["waited"], "the call did not wait for the row lock"
    assert (result.status, result.body) == (status, error_xml(code, message))
    after = columns(ada)
    assert (after["first_name"], after["modified_at"]) == ("Ada", held["stamp"])
    assert answers(ada) == values
    assert logged_calls() == [("updateUser", code, status)]
    assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
