"""confero.console.csvimport: a CSV file read as a list of addUser.do calls, each row checked
by the API's rules — the preview and addUser.do agree, row by row, code by code."""

import csv
import io

import pytest

from confero.console import csvimport
from confero.console.scope import Scope
from confero.errors import ValidationFailed
from confero.people.models import User

HEADER = "firstName,lastName,email,clientID,tshirt,tshirt,dietary,dietary,type_business,registered"
ROWS = [
    ("Grace,Hopper,grace@example.org,CRM-2,m,,veg,gf,Navy,true", 0),
    (",Turing,alan@example.org,,,,,,,", 200),
    ("Alan,Turing,not-an-email,,,,,,,", 201),
    ("Ada,King,ADA@example.org,,,,,,,", 214),  # the world's Ada, active
    ("Bob,Smith,bob@example.org,CRM-1,,,,,,", 211),  # the world's Ada's clientID
    ("Eve,Jones,eve@example.org,,xxl,,,,,", 301),
    ("Dan,Brown,dan@example.org,,,,,,,maybe", 201),
    ("Gil,Bates,GRACE@example.org,,,,,,,", 214),  # row 2's email
    ("Hal,Finney,hal@example.org,CRM-2,,,,,,", 211),  # row 2's clientID
    ("Ivy,Lee,ivy@example.org,,s,m,,,,", 302),  # a choice field sent twice
    ("Jo,March,jo@example.org,,,,vegan,vegan,,false", 0),  # a value twice counts once
]


def scoped(world):
    scope = Scope(world.planner)
    site = scope.site(scope.event("alpha"), "production")
    return site, scope.users(site), scope


def checked(world, text: str) -> csvimport.Parsed:
    site, users, _ = scoped(world)
    parsed = csvimport.parse(site, text)
    csvimport.validate(site, parsed, users)
    return parsed


def test_each_rows_code_is_what_adduser_answers_for_it(world, alpha_api):
    parsed = checked(world, "\n".join([HEADER, *(row for row, _ in ROWS)]) + "\n")

    preview = [row.refusal.code if row.refusal else 0 for row in parsed.rows]
    api = []
    header = HEADER.split(",")
    for row in csv.reader(io.StringIO("\n".join(row for row, _ in ROWS))):
        params = csvimport.raw_params(header, row)
        api.append(alpha_api.call("addUser", params).code)  # one after the other, as a client would
    assert preview == api == [code for _, code in ROWS]
    assert [row.number for row in parsed.refused] == [3, 4, 5, 6, 7, 8, 9, 10, 11]


def test_rows_refused_name_their_rule_and_the_earlier_row(world):
    parsed = checked(world, "\n".join([HEADER, *(row for row, _ in ROWS)]) + "\n")

    messages = {row.number: row.refusal.message for row in parsed.refused}
    assert messages[3] == "parameter 'firstName' is required"
    assert messages[9] == "email 'GRACE@example.org' is already used by row 2"
    assert messages[10] == "clientID 'CRM-2' is already used by row 2"
    assert messages[11] == "custom field 'tshirt' takes one value only"


@pytest.mark.parametrize(
    ("header", "code", "message"),
    [
        ("firstName,lastName,email,shoe", 300, "unknown custom field code 'shoe'"),
        ("firstName,lastName,email,apiToken", 201, "column 'apiToken' is not a field of a user"),
        ("firstName,,email", 201, "column 2 has no name"),
    ],
)
def test_header_problem_refuses_the_whole_file(world, header, code, message):
    parsed = checked(world, f"{header}\nA,B,a@example.org,x\n")

    assert [(p.code, p.message) for p in parsed.problems] == [(code, message)]
    assert not parsed.importable


def test_export_only_columns_are_ignored_and_semicolons_read(world):
    parsed = checked(world, "firstName;lastName;email;userRef;status\nA;B;a@example.org;X;gone\n")

    assert parsed.ignored == ["userRef", "status"]
    assert [row.refusal for row in parsed.rows] == [None]
    assert parsed.rows[0].checked.fields == {"first_name": "A", "last_name": "B",
                                             "email": "a@example.org"}  # fmt: skip


def test_a_byte_order_mark_is_read_and_other_encodings_are_refused():
    assert csvimport.decode("\ufefffirstName\n".encode()) == "firstName\n"
    with pytest.raises(ValidationFailed) as refused:
        csvimport.decode("Müller".encode("latin-1"))
    assert refused.value.message == (
        "not UTF-8 (byte 1): save it as “CSV UTF-8” and upload it again"
    )


def test_export_rows_round_trip_through_an_import(world, alpha_api):
    alpha_api.add_user(firstName="Grace", lastName="Hopper", email="grace@example.org",
                       dietary=["veg", "gf"], type_business="Navy", registered="true")  # fmt: skip
    site, users, scope = scoped(world)
    fields = csvimport.userparams.user_fields(site)
    answers = scope.site_answers(site)
    repeats = csvimport.multichoice_repeats(fields, answers)

    header = csvimport.export_header(fields, repeats)
    rows = list(csvimport.export_rows(users, lambda ids: answers.filter(record_id__in=ids),
                                      fields, repeats))  # fmt: skip

    assert header.count("dietary") == 2
    grace = dict(zip(header, rows[1], strict=True))
    assert (grace["email"], grace["registered"], grace["type_business"]) == (
        "grace@example.org", "true", "Navy")  # fmt: skip
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    User.objects.update(status="cancelled")  # free the emails for the round trip
    parsed = checked(world, out.getvalue().replace("CRM-1", "CRM-X"))
    assert [row.refusal for row in parsed.rows] == [None, None]
    assert parsed.ignored == list(csvimport.EXPORT_ONLY)
