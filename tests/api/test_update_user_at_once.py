"""PostgreSQL only: updateUser.do written at once (confero.api.pipeline._write_at_once).

The user a call names by one userKey or one clientID is read along with the gate, unlocked,
with its row's version; the call's writes, its log row and a guard then go to the database as
one transaction in one message. The guard locks the row and fails the transaction unless the
row is still the version read and active; then the call runs again on the locked path (the
lookup with FOR UPDATE, as on SQLite and for every other call).

What could go wrong, and is shown not to: a change made by someone else between the read and
the write being overwritten or lost, a half-written call, a transaction left open, the call
logged twice."""

import threading

import psycopg
import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from confero.access.models import ApiCall
from confero.access.tokens import public_prefix
from confero.customfields.models import Answer
from confero.people.models import User
from confero.rows import execute_at_once
from tests.api.test_call_log_transaction import INTERNAL_ERROR, break_log
from tests.api.test_postgres_connection import other_connection

pytestmark = pytest.mark.postgres_only

ADA = {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.org"}
GATE_WITH_USER = "LEFT JOIN people_user u ON u.site_id = s.id AND u.{} = $"
GUARD = (
    "SELECT CAST(CASE count(*) WHEN 1 THEN '1' ELSE 'confero: the row changed since it was read'"
)


def logged_calls() -> list[tuple]:
    return list(ApiCall.objects.order_by("id").values_list("resource", "code", "http_status"))


def answers(user: User) -> list[str]:
    return sorted(
        Answer.objects.filter(record_id=user.pk, value__isnull=False).values_list(
            "value__code", flat=True
        )
    )


def statements_of(batch: str) -> list[str]:
    """The first two words of each statement of a batch sent as one message (the tests' values
    hold no '; ')."""
    return [" ".join(statement.split(" ")[:2]) for statement in batch.split("; ")]


@pytest.fixture
def ada(live, fields) -> User:
    user = live.add_user(**ADA, tshirt="s", dietary=["veg"], city="London")
    # A first update: leases the token's rate-limit units and records the token's last use, so
    # that the calls the tests count do neither.
    assert live.call("updateUser", {"userKey": user.user_key, "notes": "first"}).code == 0
    user.refresh_from_db()
    return user


def update(live, user: User, by: str = "userKey", **params):
    who = {"userKey": user.user_key} if by == "userKey" else {"clientID": user.client_id}
    return live.call("updateUser", {**who, **params})


# --- The two statements -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("by", ["userKey", "clientID"])
def test_an_update_is_the_gate_with_the_user_then_one_transaction(live, live_site, ada, by):
    if by == "clientID":
        User.objects.filter(pk=ada.pk).update(client_id="CRM-1")
        ada.refresh_from_db()
    before = ada.modified_at

    with CaptureQueriesContext(connection) as queries:
        result = update(live, ada, by, firstName="Augusta", tshirt="l", dietary=["gf", "vegan"])

    assert (result.status, result.code) == (200, 0)
    sql = [query["sql"] for query in queries.captured_queries]
    assert len(sql) == 2
    column = "user_key" if by == "userKey" else "client_id"
    assert sql[0].startswith("SELECT s.id, s.environment")
    assert GATE_WITH_USER.format(column) in sql[0]
    assert statements_of(sql[1]) == [
        "BEGIN",
        "SET LOCAL",
        "SELECT CAST(CASE",
        "INSERT INTO",
        "DELETE FROM",
        "INSERT INTO",
        "UPDATE people_user",
        "COMMIT",
    ]
    assert sql[1].startswith(f"BEGIN; SET LOCAL enable_seqscan = off; {GUARD}")
    assert "INSERT INTO access_apicall" in sql[1]
    assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    ada.refresh_from_db()
    assert (ada.first_name, ada.city, answers(ada)) == ("Augusta", "London", ["gf", "l", "vegan"])
    assert ada.modified_at > before
    assert logged_calls() == [("addUser", 0, 200), ("updateUser", 0, 200), ("updateUser", 0, 200)]
    assert ApiCall.objects.last().token_prefix == public_prefix(live_site.token)


@pytest.mark.django_db
def test_inside_a_transaction_the_writes_take_a_savepoint(live, ada):
    """The test's own transaction stands for a caller's; the framing is the only difference."""
    with CaptureQueriesContext(connection) as queries:
        result = update(live, ada, firstName="Augusta")

    assert result.code == 0
    batch = queries.captured_queries[-1]["sql"]
    assert batch.startswith(f"SAVEPOINT confero_at_once; {GUARD}")
    assert batch.endswith("; RELEASE SAVEPOINT confero_at_once")
    ada.refresh_from_db()
    assert ada.first_name == "Augusta"


@pytest.mark.django_db(transaction=True)
def test_an_update_that_changes_nothing_writes_only_its_log_row(live, ada):
    before = ada.modified_at

    with CaptureQueriesContext(connection) as queries:
        result = update(live, ada, firstName="Ada", city="London")

    assert result.code == 0
    assert statements_of(queries.captured_queries[-1]["sql"]) == [
        "BEGIN",
        "SET LOCAL",
        "SELECT CAST(CASE",
        "INSERT INTO",
        "COMMIT",
    ]
    ada.refresh_from_db()
    assert ada.modified_at == before
    assert logged_calls()[-1] == ("updateUser", 0, 200)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("params", "why"),
    [
        ({"email": "augusta@example.org"}, "a new email is checked against the other users"),
        ({"newClientID": "CRM-9"}, "so is a new clientID"),
        ({"event": "GUID"}, "event names a site (here its own)"),
        ({"userRef": "REF"}, "userRef next to userKey is refused with 212"),
    ],
)
def test_calls_the_guard_cannot_cover_take_the_locked_path(live, live_site, ada, params, why):
    params = {
        name: {"GUID": str(live_site.event.guid), "REF": ada.user_ref}.get(value, value)
        for name, value in params.items()
    }
    with CaptureQueriesContext(connection) as queries:
        result = update(live, ada, firstName="Augusta", **params)

    sql = [query["sql"] for query in queries.captured_queries]
    assert not any(GUARD in s for s in sql), why
    # Read along with the gate only when the call names its user by one userKey alone (the
    # email and clientID changes are only known to need the lock once the resource plans them).
    read_along = "event" not in params and "userRef" not in params
    assert any("LEFT JOIN people_user" in s for s in sql) == read_along, why
    if "userRef" in params:
        assert result.code == 212
        return
    assert result.code == 0
    assert any(s.endswith("FOR UPDATE") for s in sql), why
    ada.refresh_from_db()
    assert ada.first_name == "Augusta"


# --- The row changed between the read and the write ---------------------------------------------


def change_before_the_batch(change: str, values: list, *, hold_seconds: float = 0.0):
    """An execute_wrapper that, just before the call's one-message transaction goes out, has a
    second connection change the user's row: committed at once, or held (locked) for
    `hold_seconds` and committed while the call's guard waits for the lock."""
    done = []

    def wrapper(execute, sql, params, many, context):
        if GUARD in sql and not done:
            done.append(sql)
            other = other_connection()
            if hold_seconds:
                other.execute("BEGIN")
                other.execute(change, values)
                timer = threading.Timer(hold_seconds, lambda: (other.commit(), other.close()))
                timer.start()
            else:
                other.execute(change, values)
                other.close()
        return execute(sql, params, many, context)

    wrapper.done = done
    return wrapper


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("hold_seconds", [0.0, 0.3], ids=["committed before", "lock waited for"])
def test_a_row_changed_after_the_read_is_not_overwritten_the_call_runs_again(
    live, ada, hold_seconds
):
    """The call sends the first name it read: planned on the row as read, it would write
    nothing to that column and the other connection's name would win, though this call came
    last."""
    change = change_before_the_batch(
        "UPDATE people_user SET first_name = 'Grace', city = 'Paris', modified_at = now() "
        "WHERE id = %s",
        [ada.pk],
        hold_seconds=hold_seconds,
    )

    with connection.execute_wrapper(change), CaptureQueriesContext(connection) as queries:
        result = update(live, ada, firstName="Ada", tshirt="m")

    assert (result.status, result.code) == (200, 0)
    assert len(change.done) == 1
    sql = [query["sql"] for query in queries.captured_queries]
    assert any(s.endswith("FOR UPDATE") for s in sql)  # the locked path ran after the guard
    ada.refresh_from_db()
    # Both changes: the other connection's city, this call's name and T-shirt.
    assert (ada.first_name, ada.city, answers(ada)) == ("Ada", "Paris", ["m", "veg"])
    assert logged_calls() == [("addUser", 0, 200), ("updateUser", 0, 200), ("updateUser", 0, 200)]
    assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


@pytest.mark.django_db(transaction=True)
def test_a_user_cancelled_after_the_read_is_refused_with_215_and_nothing_is_written(live, ada):
    change = change_before_the_batch(
        "UPDATE people_user SET status = 'cancelled', modified_at = now() WHERE id = %s", [ada.pk]
    )

    with connection.execute_wrapper(change):
        result = update(live, ada, firstName="Augusta", tshirt="m")

    assert (result.status, result.code, result.message) == (409, 215, "user is cancelled")
    ada.refresh_from_db()
    assert (ada.first_name, ada.status, answers(ada)) == ("Ada", "cancelled", ["s", "veg"])
    assert logged_calls()[-1] == ("updateUser", 215, 409)
    assert len(logged_calls()) == 3


# --- Refusals decided on the row read with the gate ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_unknown_or_cancelled_user_is_refused_from_the_gates_read_alone(live, ada):
    User.objects.filter(pk=ada.pk).update(status="cancelled")

    with CaptureQueriesContext(connection) as queries:
        cancelled = update(live, ada, firstName="Augusta")
        unknown = live.call("updateUser", {"clientID": "nobody", "firstName": "Augusta"})

    assert (cancelled.status, cancelled.code, cancelled.message) == (409, 215, "user is cancelled")
    assert (unknown.status, unknown.code, unknown.message) == (
        404,
        210,
        "no user with clientID 'nobody' on this site",
    )
    # Each: the gate (with the user), and its log row (the tests write each row at once).
    sql = [query["sql"] for query in queries.captured_queries]
    assert [s.split(" ", 1)[0] for s in sql] == ["SELECT", "INSERT", "SELECT", "INSERT"]
    assert "LEFT JOIN people_user" in sql[0]
    assert "LEFT JOIN people_user" in sql[2]
    assert logged_calls()[-2:] == [("updateUser", 215, 409), ("updateUser", 210, 404)]


# --- A failure in the transaction ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_failed_transaction_leaves_nothing_and_the_connection_ready(live, ada, monkeypatch):
    before = (ada.first_name, ada.modified_at, answers(ada))
    break_log(monkeypatch)  # the log row, inside the transaction, fails

    failed = update(live, ada, firstName="Augusta", tshirt="m")
    pid = connection.connection.info.backend_pid

    assert (failed.status, failed.code) == (500, 1)
    assert INTERNAL_ERROR.fullmatch(failed.body)
    assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    ada.refresh_from_db()
    assert (ada.first_name, ada.modified_at, answers(ada)) == before
    monkeypatch.undo()
    assert update(live, ada, firstName="Augusta", tshirt="m").code == 0  # it could
    assert connection.connection.info.backend_pid == pid
    ada.refresh_from_db()
    assert (ada.first_name, answers(ada)) == ("Augusta", ["m", "veg"])


# --- Prepared once per connection ---------------------------------------------------------------


def batch_statements() -> dict[str, str]:
    """This connection's prepared statements of the batches: name → SQL."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, statement FROM pg_prepared_statements "
            "WHERE name LIKE 'confero_batch_%%' ORDER BY name"
        )
        return dict(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_each_statement_is_prepared_once_and_its_plan_looks_up_by_key(live, ada):
    """The answers table is empty, by the planner's statistics, when the DELETE is first
    planned: a plan kept from then would scan the whole table on every call as it grows."""
    Answer.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customfields_answer")  # known to be empty
    assert update(live, ada, firstName="Augusta", tshirt="m").code == 0
    prepared = batch_statements()
    assert update(live, ada, firstName="Ada", tshirt="l").code == 0  # the same statements

    assert batch_statements() == prepared
    assert {" ".join(sql.split(" ", 3)[:3]) for sql in prepared.values()} == {
        "DELETE FROM customfields_answer",
        "INSERT INTO access_apicall",
        "INSERT INTO customfields_answer",
        "SELECT CAST(CASE count(*)",
        "UPDATE people_user SET",
    }
    ada.refresh_from_db()
    assert (ada.first_name, answers(ada)) == ("Ada", ["l"])
    delete, sql = next((name, sql) for name, sql in prepared.items() if sql.startswith("DELETE"))
    fields = sql.count("$") - 2
    field_ids = list(Answer.objects.filter(record_id=ada.pk).values_list("field_id", flat=True))
    field_ids = field_ids[:fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN EXECUTE {delete}('user', %s, {', '.join(['%s'] * len(field_ids))})",
            [ada.pk, *field_ids],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index" in plan
    assert "Seq Scan" not in plan


@pytest.mark.django_db(transaction=True)
def test_statements_deallocated_by_the_driver_are_prepared_again(live, ada):
    """psycopg deallocates a connection's prepared statements after any ROLLBACK."""
    assert update(live, ada, firstName="Augusta").code == 0
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert batch_statements() == {}

    result = update(live, ada, firstName="Grace", tshirt="m")

    assert result.code == 0
    ada.refresh_from_db()
    assert (ada.first_name, answers(ada)) == ("Grace", ["m", "veg"])
    assert len(batch_statements()) >= 5  # guard, log row, DELETE, INSERT, UPDATE at least
    assert logged_calls()[-1] == ("updateUser", 0, 200)
    assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_cannot_be_built_sends_nothing_and_leaves_the_connection_ready(ada):
    """What can fail on the client's side (a placeholder, a value the driver cannot send) fails
    before anything goes out: the connection is not left waiting in pipeline mode."""
    log_rows = ApiCall.objects.count()
    broken = [
        [("UPDATE people_user SET city = 'x%' WHERE id = %s", [ada.pk])],
        [("UPDATE people_user SET city = %s WHERE id = %s", [object(), ada.pk])],
    ]
    for statements in broken:
        with pytest.raises((ValueError, DatabaseError)):
            execute_at_once(statements)
        assert connection.connection.pgconn.pipeline_status == psycopg.pq.PipelineStatus.OFF
        assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE

    execute_at_once([("UPDATE people_user SET city = %s WHERE id = %s", ["Turin", ada.pk])])
    ada.refresh_from_db()
    assert ada.city == "Turin"
    assert ApiCall.objects.count() == log_rows
