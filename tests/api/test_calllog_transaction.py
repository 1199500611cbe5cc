"""The call-log row of a writing call is written inside the call's own transaction
(`_log_call(..., inside=True)` in confero.api.pipeline, or along with the resource's batch of
writes, confero.rows.trailing_statement): the write and its log row commit together, so there
is never a write without its log row. A read's row is written on its own
and the read's answer does not depend on it; on PostgreSQL, outside a transaction, that row
is one statement, "INSERT … RETURNING set_config('synchronous_commit', 'off', true)", which
commits without waiting for the disk and leaves the session's own setting alone.

A log that cannot be written is simulated by pointing the pipeline's SQL at a table that does
not exist. Those tests commit for real (`transaction=True`): on PostgreSQL a failed statement
inside the test's own transaction would abort it."""

import logging
import re

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from confero.access.models import ApiCall
from confero.access.tokens import public_prefix
from confero.api import calllog
from confero.customfields.models import Answer
from confero.people.models import User

pytestmark = pytest.mark.machinery

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
ADA = {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.org"}
BROKEN_LOG_SQL = calllog._SQL.replace(ApiCall._meta.db_table, "confero_no_such_table", 1)
BROKEN_ASYNC_LOG_SQL = calllog._ASYNC_SQL.replace(calllog._SQL, BROKEN_LOG_SQL, 1)
INTERNAL_ERROR = re.compile(
    rb'<\?xml version="1.0" encoding="UTF-8"\?>\n'
    rb'<api><response code="1">Internal error \(incident ([0-9A-F]{12})\)</response></api>'
)


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


def logged_calls() -> list[tuple]:
    return list(
        ApiCall.objects.order_by("id").values_list(
            "method", "path", "resource", "code", "http_status", "token_prefix", "incident"
        )
    )


def logged(site, resource: str, code: int, status: int, incident: str = "") -> tuple:
    return ("POST", site.url(resource), resource, code, status, public_prefix(site.token), incident)


def other_connection_params() -> dict:
    """Django's settings for a second psycopg connection, outside Django."""
    params = connection.get_connection_params()
    return {k: v for k, v in params.items() if k not in ("cursor_factory", "context")}


def break_log(monkeypatch) -> None:
    """Every call-log statement fails (no such table), the way a lost table or a full disk
    would make it fail."""
    assert BROKEN_LOG_SQL != calllog._SQL
    assert BROKEN_ASYNC_LOG_SQL != calllog._ASYNC_SQL
    monkeypatch.setattr(calllog, "_SQL", BROKEN_LOG_SQL)
    monkeypatch.setattr(calllog, "_ASYNC_SQL", BROKEN_ASYNC_LOG_SQL)


@pytest.fixture
def broken_log(monkeypatch):
    """The log fails from the start of the test; `broken_log.undo()` repairs it."""
    break_log(monkeypatch)
    return monkeypatch


def log_failures(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "confero.api" and r.getMessage() == "could not write the API call log"
    ]


# --- The log works --------------------------------------------------------------------------------


def test_a_successful_add_user_leaves_the_user_and_exactly_one_log_row(live, live_site):
    result = live.call("addUser", ADA)

    assert (result.status, result.code) == (200, 0)
    user = User.objects.get()
    assert (user.user_ref, user.email) == (result.xml.findtext("userRef"), "ada@example.org")
    assert logged_calls() == [logged(live_site, "addUser", 0, 200)]


def test_an_add_user_with_custom_values_leaves_exactly_one_log_row(live, live_site, fields):
    """The custom values go to the database in one batch, which takes the log row along."""
    result = live.call("addUser", {**ADA, "tshirt": "m", "dietary": ["veg", "gf"]})

    assert (result.status, result.code) == (200, 0)
    user = User.objects.get()
    assert sorted(Answer.objects.filter(record_id=user.pk).values_list("value__code")) == [
        ("gf",),
        ("m",),
        ("veg",),
    ]
    assert logged_calls() == [logged(live_site, "addUser", 0, 200)]


def test_an_update_user_leaves_exactly_one_log_row(live, live_site, fields):
    user = live.add_user(**ADA)

    result = live.call(
        "updateUser", {"userKey": user.user_key, "firstName": "Augusta", "tshirt": "l"}
    )

    assert (result.status, result.code) == (200, 0)
    user.refresh_from_db()
    assert user.first_name == "Augusta"
    assert logged_calls() == [
        logged(live_site, "addUser", 0, 200),
        logged(live_site, "updateUser", 0, 200),
    ]


def test_a_refused_add_user_leaves_no_user_and_one_log_row_with_its_code(live, live_site):
    refused = live.call("addUser", {**ADA, "shoeSize": "42"})

    assert (refused.status, refused.body) == (
        400,
        error_xml(300, "unknown custom field code 'shoeSize'"),
    )
    assert User.objects.count() == 0
    assert logged_calls() == [logged(live_site, "addUser", 300, 400)]
    # Without the unknown code the very same call makes the user: the refusal kept it out.
    assert live.call("addUser", ADA).code == 0
    assert User.objects.count() == 1
    assert [row[3] for row in logged_calls()] == [300, 0]


@pytest.mark.django_db(transaction=True)
def test_a_read_outside_a_transaction_commits_its_log_row(api, live_site):
    """On PostgreSQL the row goes through BEGIN … COMMIT in one round trip: it is committed (a
    second connection sees it) and no transaction is left open."""
    result = api.call(live_site.url("event"), {"apiToken": live_site.token})

    assert (result.status, result.code) == (200, 0)
    assert logged_calls() == [logged(live_site, "event", 0, 200)]
    if connection.vendor == "postgresql":
        assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with psycopg.connect(**other_connection_params(), autocommit=True) as other:
            rows = other.execute(f"SELECT code FROM {ApiCall._meta.db_table}").fetchall()  # noqa: S608
        assert rows == [(0,)]


# --- The log fails ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_write_whose_log_row_fails_is_rolled_back_and_answered_with_code_1(
    live, live_site, broken_log, caplog
):
    caplog.set_level(logging.INFO, logger="confero.api")

    result = live.call("addUser", ADA)

    assert result.status == 500
    assert result.headers["Content-Type"] == "application/xml; charset=utf-8"
    match = INTERNAL_ERROR.fullmatch(result.body)
    assert match, result.body
    incident = match.group(1).decode()
    assert User.objects.count() == 0  # no write without its log row
    assert ApiCall.objects.count() == 0  # (the error's own row could not be written either)
    errors = [r for r in caplog.records if r.name == "confero.api"]
    assert [r.getMessage() for r in errors] == [
        f"internal error, incident {incident}, resource addUser",
        "could not write the API call log",
    ]
    assert "confero_no_such_table" in str(errors[0].exc_info[1])

    # With the log back the same call makes the user: only the log kept it out.
    broken_log.undo()
    again = live.call("addUser", ADA)

    assert (again.status, again.code) == (200, 0)
    assert User.objects.count() == 1
    assert logged_calls() == [logged(live_site, "addUser", 0, 200)]


@pytest.mark.django_db(transaction=True)
def test_an_add_user_with_custom_values_whose_log_row_fails_is_rolled_back(
    live, live_site, fields, broken_log
):
    """Here the log row goes in the batch of the custom values' writes."""
    params = {**ADA, "tshirt": "m", "dietary": ["veg", "gf"]}

    result = live.call("addUser", params)

    assert (result.status, result.code) == (500, 1)
    assert (User.objects.count(), Answer.objects.count(), ApiCall.objects.count()) == (0, 0, 0)
    broken_log.undo()
    assert live.call("addUser", params).code == 0
    assert (User.objects.count(), Answer.objects.count(), ApiCall.objects.count()) == (1, 3, 1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "change",
    [{"firstName": "Augusta"}, {"tshirt": "l"}, {"email": "augusta@example.org", "tshirt": "l"}],
    ids=["contact field", "custom value", "unique field and custom value"],
)
def test_an_update_whose_log_row_fails_changes_nothing(
    live, live_site, fields, monkeypatch, change
):
    user = live.add_user(**ADA, tshirt="s")
    before = (user.first_name, user.email, user.modified_at)
    break_log(monkeypatch)

    result = live.call("updateUser", {"userKey": user.user_key, **change})

    assert (result.status, result.code) == (500, 1)
    user.refresh_from_db()
    assert (user.first_name, user.email, user.modified_at) == before
    assert list(Answer.objects.values_list("value__code", flat=True)) == ["s"]
    assert logged_calls() == [logged(live_site, "addUser", 0, 200)]
    monkeypatch.undo()
    assert live.call("updateUser", {"userKey": user.user_key, **change}).code == 0  # it could


@pytest.mark.django_db(transaction=True)
def test_a_read_answers_even_when_its_log_row_fails(api, live_site, broken_log, caplog):
    caplog.set_level(logging.INFO, logger="confero.api")

    result = api.call(live_site.url("event"), {"apiToken": live_site.token})

    assert (result.status, result.code) == (200, 0)
    assert result.xml.findtext("event/code") == live_site.event.code
    assert ApiCall.objects.count() == 0
    assert log_failures(caplog) == ["could not write the API call log"]

    broken_log.undo()
    again = api.call(live_site.url("event"), {"apiToken": live_site.token})

    assert (again.status, again.code) == (200, 0)
    assert logged_calls() == [logged(live_site, "event", 0, 200)]


# --- PostgreSQL: a read's log row commits asynchronously ---------------------------------------


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_reads_log_row_commits_asynchronously_and_the_session_keeps_its_setting(api, live_site):
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO on")  # the test cluster's default is off
    with CaptureQueriesContext(connection) as queries:
        result = api.call(live_site.url("event"), {"apiToken": live_site.token})
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        setting = cursor.fetchone()
        cursor.execute("RESET synchronous_commit")

    assert (result.status, result.code) == (200, 0)
    assert queries.captured_queries[-1]["sql"].startswith("INSERT INTO access_apicall (time, ")
    assert queries.captured_queries[-1]["sql"].endswith(
        "RETURNING set_config('synchronous_commit', 'off', true)"
    )
    assert setting == ("on",)  # set for the INSERT's own transaction only
    assert logged_calls() == [logged(live_site, "event", 0, 200)]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_after_a_failed_log_statement_the_connection_is_usable(api, live_site, broken_log, caplog):
    """The failed INSERT was the whole of its implicit transaction: nothing stays open, and the
    next call on the same connection works."""
    failed = api.call(live_site.url("event"), {"apiToken": live_site.token})
    pid = connection.connection.info.backend_pid

    assert (failed.status, failed.code) == (200, 0)
    assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert log_failures(caplog) == ["could not write the API call log"]

    broken_log.undo()
    result = api.call(live_site.url("event"), {"apiToken": live_site.token})

    assert (result.status, result.code) == (200, 0)
    assert connection.connection.info.backend_pid == pid  # the same connection, not a new one
    assert logged_calls() == [logged(live_site, "event", 0, 200)]
