"""PostgreSQL only: updateUser.do by clientID in one round trip (pipeline._write_unread).

When the gate is answered from memory (decision 0012) and the call names its user by one
clientID, changing neither email nor clientID, the user is not read first: the call's writes
find it by (site, clientID) themselves, behind a guard that locks the row and fails the whole
transaction unless it is one *active* user. The guard's row brings the userRef for the answer.
When the guard fails nothing was written and the call runs again on the locked path, which gives
210 or 215 (or writes).

What could go wrong, and is shown not to: an answer unlike the other paths', another user's or
site's row written, a change made meanwhile by someone else lost, last-modified moved by an
update that changes nothing, a refusal that writes, a half-written call, the call logged twice."""

import json
import threading

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from confero.access import gatecache
from confero.access.models import ApiCall
from confero.api.pipeline import PENDING_USER_REF
from confero.customfields.models import Answer
from confero.people.models import User
from tests.api.test_call_log_transaction import INTERNAL_ERROR, break_log
from tests.api.test_postgres_connection import other_connection

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

GUARD = (
    "SELECT CAST(CASE count(*) WHEN 1 THEN '1' ELSE 'confero: the row changed since it was read'"
    " END AS integer), max(r.user_ref) FROM (SELECT user_ref FROM people_user WHERE site_id = "
)
GATE = "LEFT JOIN access_apitoken t ON t.token_hash"
ONE_MESSAGE = [
    "BEGIN",
    "SET LOCAL",
    "SELECT CAST(CASE",
    "INSERT INTO",  # the call's log row
    "DELETE FROM",
    "INSERT INTO",
    "UPDATE people_user",
    "COMMIT",
]


@pytest.fixture
def ada(live, fields, cached) -> User:
    user = live.add_user(
        firstName="Ada",
        lastName="Lovelace",
        email="ada@example.org",
        clientID="CRM-1",
        tshirt="s",
        dietary=["veg"],
        city="London",
    )
    # Warm: the token's rate-limit units leased, its last use recorded (a write to the token,
    # which empties the cache), the gate read and kept.
    for _ in range(3):
        assert live.call("updateUser", {"clientID": "CRM-1", "notes": "warm"}).code == 0
    user.refresh_from_db()
    return user


def update(live, **params):
    """The answer, and the SQL the call sent."""
    with CaptureQueriesContext(connection) as queries:
        result = live.call("updateUser", {"clientID": "CRM-1", **params})
    return result, [query["sql"] for query in queries.captured_queries]


def statements_of(batch: str) -> list[str]:
    return [" ".join(statement.split(" ")[:2]) for statement in batch.split("; ")]


def answers(user: User) -> list[tuple[str, str]]:
    return sorted(
        Answer.objects.filter(record_type="user", record_id=user.pk).values_list(
            "field__code", "value__code", "text"
        ),
        key=str,
    )


def logged_calls() -> list[tuple]:
    return list(ApiCall.objects.order_by("id").values_list("resource", "code", "http_status"))


def expected_body(user: User, values: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<api><response code="0">Success</response>'
        f"<userRef>{user.user_ref}</userRef><clientID>CRM-1</clientID>{values}</api>"
    ).encode()


def test_an_update_by_client_id_is_one_message_and_answers_as_the_other_paths(live, ada):
    before = ada.modified_at
    calls_before = len(logged_calls())

    result, sql = update(live, firstName="Augusta", tshirt="l", dietary=["gf", "vegan"])

    assert (result.status, result.code) == (200, 0)
    assert len(sql) == 1
    assert statements_of(sql[0]) == ONE_MESSAGE
    assert f"SET LOCAL enable_seqscan = off; {GUARD}" in sql[0]
    assert "INSERT INTO access_apicall" in sql[0]
    assert result.body == expected_body(
        ada,
        '<customValue field="tshirt" code="l"/>'
        '<customValue field="dietary" code="gf"/>'
        '<customValue field="dietary" code="vegan"/>',
    )
    # The read-along path (the gate not in memory) answers the same call the same way.
    gatecache.reset()
    again, again_sql = update(live, firstName="Augusta", tshirt="l", dietary=["gf", "vegan"])
    assert "LEFT JOIN people_user" in again_sql[0]
    assert again.body == result.body

    ada.refresh_from_db()
    assert (ada.first_name, ada.last_name, ada.city) == ("Augusta", "Lovelace", "London")
    assert answers(ada) == [
        ("dietary", "gf", ""),
        ("dietary", "vegan", ""),
        ("notes", None, "warm"),
        ("tshirt", "l", ""),
    ]
    assert ada.modified_at > before
    assert logged_calls()[calls_before:] == [("updateUser", 0, 200)] * 2
    assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_only_the_named_users_row_and_answers_change(live, ada):
    """Another user of the site, and a user with the same clientID on another site, stay."""
    grace = live.add_user(
        firstName="Grace", lastName="Hopper", email="grace@example.org", clientID="CRM-2",
        tshirt="m", city="Arlington",
    )  # fmt: skip
    other_site_user = User.objects.create(
        site=ada.site.event.sites.exclude(pk=ada.site_id).get(),
        first_name="Ada",
        last_name="Other",
        email="ada@example.org",
        client_id="CRM-1",
        created_at=ada.created_at,
        modified_at=ada.modified_at,
    )
    before = {u.pk: (u.first_name, u.city, u.modified_at, answers(u)) for u in (grace,)}
    other_before = (other_site_user.first_name, other_site_user.modified_at)
    for _ in range(2):  # the gate kept again after addUser's token use
        assert update(live, notes="warm")[0].code == 0

    result, sql = update(live, firstName="Augusta", city="Bletchley", tshirt="l")

    assert (result.code, len(sql)) == (0, 1)
    grace.refresh_from_db()
    other_site_user.refresh_from_db()
    assert {grace.pk: (grace.first_name, grace.city, grace.modified_at, answers(grace))} == before
    assert (other_site_user.first_name, other_site_user.modified_at) == other_before
    ada.refresh_from_db()
    assert (ada.first_name, ada.city) == ("Augusta", "Bletchley")


def test_the_json_answer_has_the_user_ref_too(live, ada):
    result, sql = update(live, format="json", tshirt="m")

    assert len(sql) == 1
    answer = json.loads(result.body)["api"]
    assert answer["response"] == {"code": 0, "message": "Success"}
    assert (answer["userRef"], answer["clientID"]) == (ada.user_ref, "CRM-1")
    gatecache.reset()
    again, again_sql = update(live, format="json", tshirt="m")
    assert "LEFT JOIN people_user" in again_sql[0]
    assert again.body == result.body


def test_a_value_that_looks_like_the_pending_user_ref_is_left_as_sent(live, ada):
    result, sql = update(live, notes=PENDING_USER_REF)

    assert (result.code, len(sql)) == (0, 1)
    assert result.body == expected_body(
        ada, f'<customValue field="notes" code="{PENDING_USER_REF}"/>'
    )
    assert ("notes", None, PENDING_USER_REF) in answers(ada)


def test_an_update_that_changes_nothing_leaves_last_modified(live, ada):
    before = ada.modified_at

    result, sql = update(live, firstName="Ada", city="London")

    assert (result.code, len(sql)) == (0, 1)
    assert statements_of(sql[0]) == [
        "BEGIN", "SET LOCAL", "SELECT CAST(CASE", "INSERT INTO", "UPDATE people_user", "COMMIT",
    ]  # fmt: skip
    ada.refresh_from_db()
    assert (ada.first_name, ada.city, ada.modified_at) == ("Ada", "London", before)


def test_a_changed_field_alone_moves_last_modified(live, ada):
    before = ada.modified_at

    result, sql = update(live, city="Paris", registered="true")

    assert (result.code, len(sql)) == (0, 1)
    ada.refresh_from_db()
    assert (ada.city, ada.registered) == ("Paris", True)
    assert ada.modified_at > before


def test_clearing_a_field_with_an_empty_value(live, ada):
    before = ada.modified_at

    result, sql = update(live, city="")

    assert (result.code, len(sql)) == (0, 1)
    ada.refresh_from_db()
    assert ada.city == ""
    assert ada.modified_at > before


@pytest.mark.parametrize(("sent", "moves"), [("true", True), ("false", False)])
def test_a_boolean_field_moves_last_modified_only_when_it_changes(live, ada, sent, moves):
    """`registered` is stored false: sent true it changes, sent false it does not."""
    before = ada.modified_at

    result, sql = update(live, registered=sent)

    assert (result.code, len(sql)) == (0, 1)
    ada.refresh_from_db()
    assert ada.registered is (sent == "true")
    assert (ada.modified_at > before) is moves
    assert ada.modified_at >= before


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        ("UPDATE people_user SET status = 'cancelled' WHERE id = %s", 215, "user is cancelled"),
        (
            "UPDATE people_user SET client_id = 'CRM-9' WHERE id = %s",
            210,
            "no user with clientID 'CRM-1' on this site",
        ),
    ],
    ids=["cancelled", "clientID changed"],
)
def test_a_user_the_guard_does_not_find_is_refused_by_the_locked_path_and_nothing_is_written(
    live, ada, change, code, message
):
    with connection.cursor() as cursor:
        cursor.execute(change, [ada.pk])
    before = (ada.first_name, answers(ada))
    calls_before = len(logged_calls())

    result, sql = update(live, firstName="Augusta", tshirt="m")

    assert (result.code, result.message) == (code, message)
    assert GUARD in sql[0]
    assert any(s.endswith("FOR UPDATE") for s in sql[1:])  # the locked path ran after the guard
    ada.refresh_from_db()
    assert (ada.first_name, answers(ada)) == before
    assert logged_calls()[calls_before:] == [("updateUser", code, 409 if code == 215 else 404)]
    assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def hold_change(change: str, values: list, seconds: float = 0.3) -> threading.Timer:
    """Another connection makes `change` and holds it, uncommitted (the row locked), for
    `seconds`, then commits: a call sent meanwhile finds the row locked and waits."""
    other = other_connection()
    other.execute("BEGIN")
    other.execute(change, values)
    timer = threading.Timer(seconds, lambda: (other.commit(), other.close()))
    timer.start()
    return timer


@pytest.mark.parametrize(
    ("change", "code", "status"),
    [
        ("UPDATE people_user SET status = 'cancelled' WHERE id = %s", 215, 409),
        ("UPDATE people_user SET client_id = 'CRM-9' WHERE id = %s", 210, 404),
    ],
    ids=["cancelled", "clientID changed"],
)
def test_a_user_cancelled_while_the_guard_waits_is_refused_and_nothing_is_written(
    live, ada, change, code, status
):
    """The guard waits for the other transaction's lock, then looks at the row as committed:
    no longer an active user with this clientID, so it fails and nothing of the call stays."""
    before = (ada.first_name, ada.modified_at, answers(ada))
    calls_before = len(logged_calls())
    timer = hold_change(change, [ada.pk])
    try:
        result, sql = update(live, firstName="Augusta", tshirt="m")
    finally:
        timer.join()

    assert (result.status, result.code) == (status, code)
    assert GUARD in sql[0]
    ada.refresh_from_db()
    assert (ada.first_name, answers(ada)) == before[::2]
    assert ada.modified_at == before[1]
    assert logged_calls()[calls_before:] == [("updateUser", code, status)]


@pytest.mark.parametrize(
    ("client_id", "code", "status"),
    [("CRM-1", 300, 400), ("nobody", 210, 404)],
    ids=["known user", "unknown user"],
)
def test_refusals_come_in_the_order_of_the_other_paths(live, ada, client_id, code, status):
    """An unknown user is refused as unknown (210) before its parameters are (300), as on the
    locked path; a known one gets the parameter's refusal, and nothing is written."""
    before = (ada.first_name, ada.modified_at, answers(ada))

    result, _ = update(live, clientID=client_id, firstName="Augusta", nosuchfield="x")

    assert (result.status, result.code) == (status, code)
    ada.refresh_from_db()
    assert (ada.first_name, ada.modified_at, answers(ada)) == before
    assert logged_calls()[-1] == ("updateUser", code, status)


def test_a_change_made_meanwhile_is_kept_the_guard_waits_for_its_lock(live, ada):
    """Another connection holds the row locked with a change when the call's message arrives;
    the guard waits, then the call writes on the committed row: both changes stay."""
    timer = hold_change("UPDATE people_user SET city = 'Paris' WHERE id = %s", [ada.pk])
    try:
        result, sql = update(live, firstName="Augusta", tshirt="m")
    finally:
        timer.join()

    assert (result.code, len(sql)) == (0, 1)
    ada.refresh_from_db()
    assert (ada.first_name, ada.city) == ("Augusta", "Paris")
    assert ("tshirt", "m", "") in answers(ada)


@pytest.mark.parametrize(
    ("params", "why"),
    [
        ({"email": "augusta@example.org"}, "a new email is checked against the other users"),
        ({"newClientID": "CRM-9"}, "so is a new clientID"),
    ],
)
def test_email_and_client_id_changes_read_the_user_first(live, ada, params, why):
    result, sql = update(live, **params)

    assert result.code == 0
    assert "LEFT JOIN people_user" in sql[0], why
    assert not any(GUARD in s for s in sql), why


def test_a_call_by_user_key_reads_the_user_with_the_gate(live, ada):
    """The answer shows the user's clientID, which a call by userKey does not know."""
    with CaptureQueriesContext(connection) as queries:
        result = live.call("updateUser", {"userKey": ada.user_key, "tshirt": "m"})

    assert result.code == 0
    assert "LEFT JOIN people_user u ON u.site_id = s.id AND u.user_key" in queries[0]["sql"]


def test_a_failed_transaction_leaves_nothing_and_the_connection_ready(live, ada, monkeypatch):
    before = (ada.first_name, ada.modified_at, answers(ada))
    calls_before = len(logged_calls())
    break_log(monkeypatch)  # the log row, inside the transaction, fails

    failed, sql = update(live, firstName="Augusta", tshirt="m")

    assert (failed.status, failed.code) == (500, 1)
    assert INTERNAL_ERROR.fullmatch(failed.body)
    assert GUARD in sql[0]
    assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    ada.refresh_from_db()
    assert (ada.first_name, ada.modified_at, answers(ada)) == before
    assert len(logged_calls()) == calls_before  # the log itself was broken
    monkeypatch.undo()
    assert update(live, firstName="Augusta")[0].code == 0  # it could


def test_without_prepared_statements_the_message_is_one_simple_query(live, ada, settings):
    settings.CONFERO_DB_PREPARED_STATEMENTS = False

    result, sql = update(live, firstName="Augusta", tshirt="m")

    assert (result.code, len(sql)) == (0, 1)
    assert result.body == expected_body(ada, '<customValue field="tshirt" code="m"/>')
    assert sql[0].startswith("BEGIN; SELECT CAST(CASE count(*)")
    ada.refresh_from_db()
    assert ada.first_name == "Augusta"


def test_a_multichoice_keeps_the_order_sent(live, ada):
    """Feeds list a record's values in the order they were written (by id)."""
    result, sql = update(live, dietary=["vegan", "gf", "veg"])

    assert (result.code, len(sql)) == (0, 1)
    written = Answer.objects.filter(record_id=ada.pk, field__code="dietary").order_by("id")
    assert list(written.values_list("value__code", flat=True)) == ["vegan", "gf", "veg"]
