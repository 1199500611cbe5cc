"""Custom fields of exhibitors through addExhibitor.do and updateExhibitor.do (contract §7, rules
1–6), read back from the database and from exhibitorData.do. Fields: exhibitor_fields.json (and,
to show that a user field is no exhibitor field, custom_fields.json)."""

import pytest

from confero.customfields.models import Answer
from confero.exhibitors.models import Exhibitor
from tests.api.conftest import import_test_fields
from tests.exhibitors.stored import aged, modified_at

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
ACME = {"name": "Acme", "exhibitorCode": "ACME-1"}


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


def answer_xml(exhibitor: Exhibitor, custom: str) -> bytes:
    return (
        DECLARATION
        + (
            '<api><response code="0">Success</response>'
            f"<exhibitorID>{exhibitor.pk}</exhibitorID><exhibitorCode>ACME-1</exhibitorCode>"
            f"{custom}</api>"
        ).encode()
    )


def held(exhibitor: Exhibitor) -> list[tuple[str, str | None, str]]:
    """The exhibitor's values as (field code, value code, text), in the order stored."""
    return list(
        Answer.objects.filter(record_type="exhibitor", record_id=exhibitor.pk)
        .order_by("id")
        .values_list("field__code", "value__code", "text")
    )


def fed(live) -> str:
    """The custom-field part of the only exhibitor in exhibitorData.do: between <booth/> and
    <eventGUID> (it has no files or staff)."""
    body = live.call("exhibitorData").body.decode()
    return body[body.index("<booth/>") + len("<booth/>") : body.index("<eventGUID>")]


@pytest.fixture
def acme(live, exhibitor_fields) -> Exhibitor:
    result = live.call(
        "addExhibitor", {**ACME, "sponsor_level": "gold", "sectors": ["space", "tools"]}
    )
    assert result.code == 0, result.body
    return aged(Exhibitor.objects.get())


def test_add_exhibitor_with_custom_values_of_every_kind(live, exhibitor_fields):
    result = live.call(
        "addExhibitor",
        {
            **ACME,
            "sponsor_level": "Platinum",
            "sectors": ["food", "space"],
            "hall": "h2",
            "tagline": "To the <moon> & back",
        },
    )

    exhibitor = Exhibitor.objects.get()
    assert result.body == answer_xml(
        exhibitor,
        '<customValue field="sponsor_level" code="other" other="Platinum"/>'
        '<customValue field="sectors" code="food"/><customValue field="sectors" code="space"/>'
        '<customValue field="hall" code="h2"/>'
        '<customValue field="tagline" code="To the &lt;moon&gt; &amp; back"/>',
    )
    assert held(exhibitor) == [
        ("sponsor_level", "other", "Platinum"),
        ("sectors", "food", ""),
        ("sectors", "space", ""),
        ("hall", "h2", ""),
        ("tagline", None, "To the <moon> & back"),
    ]
    assert fed(live) == (
        '<Sponsor-level other="Platinum">other</Sponsor-level>'
        "<Sectors>food</Sectors><Sectors>space</Sectors><Hall>h2</Hall>"
        "<Tag-line>To the &lt;moon&gt; &amp; back</Tag-line>"
    )


def test_exhibitor_without_custom_values_shows_every_field_empty(live, exhibitor_fields):
    live.call("addExhibitor", ACME)

    assert fed(live) == "<Sponsor-level/><Sectors/><Hall/><Tag-line/>"


def test_update_exhibitor_multichoice_replaces_the_set_and_empty_clears(live, acme):
    replaced = live.call("updateExhibitor", {"exhibitorCode": "ACME-1", "sectors": "food"})
    moved = modified_at(acme)
    cleared = live.call("updateExhibitor", {"exhibitorCode": "ACME-1", "sponsor_level": ""})

    assert replaced.body == answer_xml(acme, '<customValue field="sectors" code="food"/>')
    assert cleared.body == answer_xml(acme, '<customValue field="sponsor_level" code=""/>')
    assert moved > acme.modified_at
    assert held(acme) == [("sectors", "food", "")]
    assert fed(live) == "<Sponsor-level/><Sectors>food</Sectors><Hall/><Tag-line/>"


@pytest.mark.parametrize(
    ("params", "status", "code", "message"),
    [
        ({"booth_size": "9"}, 400, 300, "unknown custom field code 'booth_size'"),
        ({"hall": "h9"}, 400, 301, "value 'h9' is not a value of custom field 'hall'"),
        ({"sectors": "meat"}, 400, 301, "value 'meat' is not a value of custom field 'sectors'"),
        ({"hall": ["h1", "h2"]}, 400, 302, "custom field 'hall' takes one value only"),
        (
            {"tagline": "t" * 4001},
            400,
            201,
            "custom field 'tagline': at most 4000 characters",
        ),
    ],
)
def test_update_exhibitor_custom_value_refused_writes_nothing(
    live, acme, params, status, code, message
):
    result = live.call("updateExhibitor", {"exhibitorCode": "ACME-1", "booth": "B2", **params})

    assert (result.status, result.body) == (status, error_xml(code, message))
    assert held(acme) == [("sponsor_level", "gold", ""), ("sectors", "space", ""),
                          ("sectors", "tools", "")]  # fmt: skip
    assert (Exhibitor.objects.get().booth, modified_at(acme)) == ("", acme.modified_at)


def test_a_user_field_is_not_an_exhibitor_field(live, live_site, acme):
    """Codes are per record type: a user field's code sent to an exhibitor is unknown (300)."""
    import_test_fields(live_site.site)

    result = live.call("updateExhibitor", {"exhibitorCode": "ACME-1", "type_business": "govt"})

    assert (result.status, result.body) == (
        400,
        error_xml(300, "unknown custom field code 'type_business'"),
    )


def test_an_exhibitor_field_is_not_a_user_field(live, acme):
    result = live.call(
        "addUser",
        {"firstName": "A", "lastName": "B", "email": "a@example.org", "sponsor_level": "gold"},
    )

    assert (result.status, result.body) == (
        400,
        error_xml(300, "unknown custom field code 'sponsor_level'"),
    )
