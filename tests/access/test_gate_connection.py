"""PostgreSQL only: what an API call does with its database connection.

- API calls skip Django's per-request health check; the gate's read, the first statement of
  every call, notices a connection the server has dropped, reconnects and asks again
  (confero.access.gate).

The tests commit for real (`transaction=True`): they close, lose and reopen the connection."""

import psycopg
import pytest
from django.db import close_old_connections, connection

from confero.access.models import ApiCall
from confero.access.tokens import public_prefix

pytestmark = [
    pytest.mark.machinery,
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
]


def other_connection() -> psycopg.Connection:
    """A second connection to the test database, with Django's own settings, outside Django."""
    params = {
        k: v
        for k, v in connection.get_connection_params().items()
        if k not in ("cursor_factory", "context", "prepare_threshold")
    }
    return psycopg.connect(**params, autocommit=True)


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def terminate(pid: int) -> None:
    """Has the server drop the backend `pid` (from a second connection) and waits until it is
    gone."""
    with other_connection() as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
        for _ in range(200):
            alive = other.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]
            ).fetchone()[0]
            if not alive:
                return
            other.execute("SELECT pg_sleep(0.01)")
    pytest.fail(f"backend {pid} still alive")


def event_do(api, site):
    return api.call(site.url("event"), {"apiToken": site.token})


def logged_calls() -> list[tuple]:
    return list(
        ApiCall.objects.order_by("id").values_list(
            "resource", "code", "http_status", "token_prefix"
        )
    )


# --- A dropped connection -------------------------------------------------------------------------


def test_a_call_after_the_server_dropped_the_connection_reconnects_and_answers(api, live_site):
    assert event_do(api, live_site).code == 0  # the connection has been used by the API
    pid = backend_pid()
    terminate(pid)

    result = event_do(api, live_site)

    assert (result.status, result.code) == (200, 0)
    assert result.xml.findtext("event/code") == live_site.event.code
    assert backend_pid() != pid
    prefix = public_prefix(live_site.token)
    assert logged_calls() == [("event", 0, 200, prefix), ("event", 0, 200, prefix)]


def test_a_dropped_connection_is_really_unusable_without_the_gates_retry(api, live_site):
    """What the gate's retry saves the call from: the first statement on the dropped
    connection fails."""
    assert event_do(api, live_site).code == 0
    terminate(backend_pid())

    with pytest.raises(psycopg.OperationalError):
        connection.connection.execute("SELECT 1")
    connection.close()


def test_a_call_refused_before_the_gate_on_a_dropped_connection_is_still_logged(api, live_site):
    """Such a call runs no gate: its first statement is the call log's site lookup, which must
    reconnect too (it once failed there and the row was lost)."""
    assert event_do(api, live_site).code == 0
    terminate(backend_pid())
    close_old_connections()  # what the WSGI handler does when a request starts

    refused = api.call(live_site.url("event"), method="get")
    close_old_connections()  # … and when it ends: a connection that had errors is closed

    assert (refused.status, refused.code) == (405, 121)
    assert logged_calls() == [
        ("event", 0, 200, public_prefix(live_site.token)),
        ("event", 121, 405, ""),
    ]


def test_with_server_side_binding_reads_and_writes_are_still_logged(api, live_site):
    """`?server_side_binding=true` in DATABASE_URL (Django's option): reads and writes are
    answered and logged as with Django's default, client-side binding."""
    options = connection.settings_dict["OPTIONS"]
    options["server_side_binding"] = True
    connection.close()  # the option applies to new connections
    try:
        read = event_do(api, live_site)
        write = api.call(
            live_site.url("addUser"),
            {"apiToken": live_site.token, "firstName": "A", "lastName": "B",
             "email": "a@example.org"},
        )  # fmt: skip
        binding = type(connection.cursor().cursor).__name__
    finally:
        del options["server_side_binding"]
        connection.close()

    prefix = public_prefix(live_site.token)
    assert (read.code, write.code, binding) == (0, 0, "ServerBindingCursor")
    assert logged_calls() == [("event", 0, 200, prefix), ("addUser", 0, 200, prefix)]
