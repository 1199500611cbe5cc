"""Property-based tests (hypothesis) of addUser.do and updateUser.do (contract §7, §9, §10):
whatever custom fields a site has and whatever parameters arrive (unicode, empty, repeated,
very long, unknown names), the answer is never a 5xx, its code is one of the table with that
code's HTTP status, nothing is written when the code is not 0, and what was written can be read
back by userData.do and customFields.do (every response validates against its XML Schema).

Each example runs in a savepoint that is rolled back at its end: pytest's function-scoped
fixtures (the site, the token, the client) are shared by the examples, the data is not.
"""

import json
from contextlib import contextmanager

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from confero.api.codes import CODES
from confero.customfields.models import CODE_RE, Answer, Constraint, CustomField
from confero.customfields.services import ValueSpec, create_field
from confero.errors import ValidationFailed
from confero.people.models import User

# Any character a client can send: everything but lone surrogates, which UTF-8 cannot encode.
TEXT = st.characters(exclude_categories=("Cs",))
STANDARD_NAMES = (
    "firstName", "lastName", "email", "email2", "clientID", "newClientID", "userKey", "userRef",
    "registered", "paid", "badgeID", "publicBio", "event", "format", "since", "zip",
)  # fmt: skip
EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def field_definitions(draw) -> list[dict]:
    """Up to 4 fields of random record types and types; choice fields with 1 to 4 values, maybe an
    Other option, constraints on profile fields. Some are refused by the services (a reserved
    code, a clashing element name): the site then simply has fewer fields."""
    codes = draw(st.lists(st.from_regex(CODE_RE, fullmatch=True), max_size=4, unique=True))
    definitions = []
    for code in codes:
        record_type = draw(st.sampled_from(["user", "user", "profile", "session"]))
        field_type = draw(st.sampled_from(["text", "choice", "multichoice"]))
        values = []
        if field_type != "text":
            value_codes = draw(
                st.lists(
                    st.text(TEXT, min_size=1, max_size=12), min_size=1, max_size=4, unique=True
                )
            )
            other = draw(st.none() | st.integers(0, len(value_codes) - 1))
            for index, value_code in enumerate(value_codes):
                constraint = ""
                if record_type == "profile":
                    constraint = draw(st.sampled_from(["", *Constraint.values]))
                values.append(
                    ValueSpec(
                        value_code,
                        draw(st.text(TEXT, max_size=12)),
                        other=index == other,
                        constraint=constraint,
                    )
                )
        definitions.append({
            "record_type": record_type, "code": code, "field_type": field_type, "values": values,
            "display_name": draw(st.text(TEXT, min_size=1, max_size=24)),
        })  # fmt: skip
    return definitions


def parameters(definitions: list[dict]):
    """Random parameters: names from the fields, the standard names and anything; each sent
    1 to 3 times, with values from the fields' value codes, empty, any text or over 4,000."""
    codes = [d["code"] for d in definitions] or ["nothing"]
    value_codes = [v.code for d in definitions for v in d["values"]] or ["nothing"]
    # Field codes and value codes weigh most: they reach the custom-field rules (300/301/302).
    field_code, value_code = st.sampled_from(codes), st.sampled_from(value_codes)
    names = st.one_of(
        field_code,
        field_code,
        field_code,
        st.sampled_from(STANDARD_NAMES),
        st.text(TEXT, min_size=1, max_size=16),
    )
    values = st.one_of(
        value_code, value_code, value_code, st.just(""), st.just("  "), st.text(TEXT, max_size=40),
        st.just("x" * 4001), st.just("y" * 4000),
    )  # fmt: skip
    return st.dictionaries(names, st.lists(values, min_size=1, max_size=3), max_size=6)


def create_fields(site, definitions: list[dict]) -> None:
    for definition in definitions:
        try:
            with transaction.atomic():
                create_field(site, **definition)
        except ValidationFailed:
            pass  # refused definitions are part of the property: they leave nothing behind


@contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def code_of(result) -> int:
    if result.headers["Content-Type"].startswith("application/json"):
        # {"api": …} or a feed's own root ({"user-data": …}): one key, the response inside
        [document] = json.loads(result.body).values()
        return int(document["response"]["code"])
    return result.code


def assert_answer_is_in_the_table(result) -> int:
    assert result.status < 500, result.body[:400]
    code = code_of(result)
    event(f"code {code}")
    assert code in CODES
    assert result.status == CODES[code].http_status
    return code


def assert_reads_back(live) -> None:
    """What is stored can be answered: both reads succeed and validate against their schemas."""
    for resource in ("userData", "customFields"):
        result = live.call(resource)
        assert (result.status, result.code) == (200, 0), result.body[:400]


def user_state(user: User) -> tuple:
    row = User.objects.filter(pk=user.pk).values().get()
    answers = list(
        Answer.objects.filter(record_id=user.pk).values_list("field_id", "value_id", "text")
    )
    return row, answers


@pytest.fixture
def settled(live_site):
    """Nothing from an earlier example may be left: every example starts from an empty site."""

    def check():
        assert (User.objects.count(), Answer.objects.count(), CustomField.objects.count()) == (
            0,
            0,
            0,
        )

    return check


@EXAMPLES
@given(data=st.data())
def test_add_user_with_any_fields_and_parameters_answers_from_the_table(
    live, live_site, settled, data
):
    settled()
    definitions = data.draw(field_definitions(), label="fields")
    extra = data.draw(parameters(definitions), label="parameters")
    with rolled_back():
        create_fields(live_site.site, definitions)
        params = {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.org", **extra}

        result = live.call("addUser", params)

        code = assert_answer_is_in_the_table(result)
        if code != 0:
            assert (User.objects.count(), Answer.objects.count()) == (0, 0)
        else:
            assert User.objects.count() == 1
            assert_reads_back(live)


@EXAMPLES
@given(data=st.data())
def test_update_user_with_any_fields_and_parameters_answers_from_the_table(
    live, live_site, settled, data
):
    settled()
    definitions = data.draw(field_definitions(), label="fields")
    extra = data.draw(parameters(definitions), label="parameters")
    with rolled_back():
        create_fields(live_site.site, definitions)
        user = live.add_user(email="ada@example.org", clientID="CRM-1")
        before = user_state(user)

        result = live.call("updateUser", {"userKey": user.user_key, **extra})

        code = assert_answer_is_in_the_table(result)
        if code != 0:
            assert user_state(user) == before
            assert User.objects.count() == 1
        else:
            assert_reads_back(live)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(definitions=field_definitions())
def test_any_accepted_field_definition_can_be_listed_and_answered(
    live, live_site, settled, definitions
):
    """Whatever the services accept, customFields.do can list and the feed can name."""
    settled()
    with rolled_back():
        create_fields(live_site.site, definitions)
        live.add_user(**{
            field.code: (field.values.first().code if field.is_choice else "text")
            for field in CustomField.objects.filter(record_type__in=["user", "profile"])
            if not field.is_choice or field.values.first().code.strip() == field.values.first().code
        })  # fmt: skip

        assert_reads_back(live)


READ_VALUES = st.one_of(
    st.text(TEXT, max_size=30),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.sampled_from(["", "all", "json", "xml", "0", "253402300799999", "253402300800000"]),
)
# Every whole number `since` may be written as (up to 15 digits): hypothesis tries the bounds.
SINCE = st.one_of(st.integers(min_value=0, max_value=10**15 - 1).map(str), READ_VALUES)


@EXAMPLES
@given(
    resource=st.sampled_from(["userData", "getUser"]),
    since=SINCE,
    params=st.dictionaries(
        st.sampled_from(["since", "event", "format", "userKey", "userRef", "clientID", "x"]),
        st.one_of(READ_VALUES, st.lists(READ_VALUES, min_size=2, max_size=3)),
        max_size=3,
    ),
)
def test_reads_with_any_parameters_answer_from_the_table(live, live_site, resource, since, params):
    """userData.do and getUser.do write nothing: any `since` (far past, far future, not a
    number), `event`, `format` or identifier gets a code of the table, never a 5xx (a `since`
    after the year 9999 once did), and a code-0 answer validates against its schema."""
    with rolled_back():
        live.add_user(email="ada@example.org", clientID="CRM-1")

        result = live.call(resource, {"since": since, **params})

        assert_answer_is_in_the_table(result)
