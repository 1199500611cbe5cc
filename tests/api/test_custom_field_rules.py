"""The rules of contract §7, each through HTTP on addUser.do / updateUser.do and read back from
the database and from userData.do. Fields: tests/api/custom_fields.json."""

import datetime as dt
import re

import pytest

from confero.customfields.models import Answer, CustomField, element_name_for
from confero.customfields.services import ValueSpec, create_field
from confero.errors import ValidationFailed
from confero.people.models import User

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
ADA = {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.org"}


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


def added_xml(user: User, custom: str) -> bytes:
    return (
        DECLARATION
        + (
            '<api><response code="0">Success</response>'
            f"<userKey>{user.user_key}</userKey><userRef>{user.user_ref}</userRef><clientID/>{custom}</api>"
        ).encode()
    )


def updated_xml(user: User, custom: str) -> bytes:
    return (
        DECLARATION
        + (
            '<api><response code="0">Success</response>'
            f"<userRef>{user.user_ref}</userRef><clientID/>{custom}</api>"
        ).encode()
    )


def held(user: User) -> list[tuple[str, str | None, str]]:
    """The user's answers as (field code, value code, text), in the order stored."""
    return list(
        Answer.objects.filter(record_type="user", record_id=user.pk).values_list(
            "field__code", "value__code", "text"
        )
    )


FEED_ORDER = (
    ("type_business", "Type-of-business"),
    ("dietary", "Dietary-needs"),
    ("interests", "Interests"),
    ("tshirt", "T-shirt-size"),
    ("notes", "Notes"),
    ("attendee_type", "Attendee-type"),
)


CONSTRAINT_NAMES = ("publicViewPrivateSchedule", "privateViewPrivateSchedule",
                    "cannotViewOrSchedule")  # fmt: skip


def constraint_elements(held: str = "") -> str:
    """The three constraint elements of a user record (§8.2): those `held` (elements in §7's
    order), and each name the user holds no value of once, empty."""
    return "".join(
        "".join(re.findall(f"<{name}>[0-9]+</{name}>", held)) or f"<{name}/>"
        for name in CONSTRAINT_NAMES
    )


def fed(constraints: str = "", **held: str) -> str:
    """What feed_custom should be: the constraint elements, screenName, report-classification
    and regcodes (empty here), then every user field of the site in configuration order, an
    empty element where the user holds no value (§6)."""
    return (
        constraint_elements(constraints)
        + "<screenName/><report-classification/><regcodes/>"
        + "".join(held.get(code, f"<{element}/>") for code, element in FEED_ORDER)
    )


def feed_custom(live, user: User) -> str:
    """The custom-field part of the user's record in userData.do: what follows badgeID."""
    body = live.call("userData").body.decode()
    record = body[body.index(f"<userRef>{user.user_ref}</userRef>") :]
    return record[record.index("<badgeID/>") + len("<badgeID/>") : record.index("<schedule/>")]


def only_user() -> User:
    return User.objects.get()


@pytest.fixture
def ada(ada_with, fields) -> User:
    """The suite's Ada without a clientID, holding a value of every user field."""
    return ada_with(
        client_id=None,
        custom={
            "type_business": "govt",
            "dietary": ["veg", "gf"],
            "interests": "ai",
            "tshirt": "m",
            "notes": "Arrives Tuesday",
            "attendee_type": "member",
        },
    )


ADA_HOLDS = [
    ("type_business", "govt", ""),
    ("dietary", "veg", ""),
    ("dietary", "gf", ""),
    ("interests", "ai", ""),
    ("tshirt", "m", ""),
    ("notes", None, "Arrives Tuesday"),
    ("attendee_type", "member", ""),
]


def unchanged(user: User) -> bool:
    row = User.objects.get(pk=user.pk)
    return (row.first_name, row.city, row.modified_at, held(user)) == (
        "Ada",
        "",
        LONG_AGO,
        ADA_HOLDS,
    )


# --- Rule 1: a text field stores what was sent, up to 4,000 characters ---------------------------


def test_text_field_stores_what_was_sent(live, fields):
    result = live.call("addUser", {**ADA, "notes": "Needs a ramp; arrives Tuesday — 9:00"})

    user = only_user()
    assert (result.status, result.body) == (
        200,
        added_xml(user, '<customValue field="notes" code="Needs a ramp; arrives Tuesday — 9:00"/>'),
    )
    assert held(user) == [("notes", None, "Needs a ramp; arrives Tuesday — 9:00")]
    assert feed_custom(live, user) == fed(
        notes="<Notes>Needs a ramp; arrives Tuesday — 9:00</Notes>"
    )


def test_text_field_takes_4000_characters(live, fields):
    result = live.call("addUser", {**ADA, "notes": "n" * 4000})

    assert (result.status, result.code) == (200, 0)
    assert held(only_user()) == [("notes", None, "n" * 4000)]


def test_text_field_over_4000_characters_is_refused_with_201_and_nothing_is_written(live, fields):
    result = live.call("addUser", {**ADA, "type_business": "govt", "notes": "n" * 4001})

    assert (result.status, result.body) == (
        400,
        error_xml(201, "custom field 'notes': at most 4000 characters"),
    )
    assert (User.objects.count(), Answer.objects.count()) == (0, 0)


def test_text_field_over_4000_characters_on_update_changes_nothing(live, ada):
    result = live.call(
        "updateUser",
        {"userKey": ada.user_key, "firstName": "Augusta", "tshirt": "l", "notes": "n" * 4001},
    )

    assert (result.status, result.code) == (400, 201)
    assert unchanged(ada)


# --- Rule 2: Other keeps the text sent ---------------------------------------------------------


def test_unknown_value_of_a_field_with_other_is_stored_as_other_with_the_text(live, fields):
    result = live.call("addUser", {**ADA, "type_business": "Mining Co."})

    user = only_user()
    assert (result.status, result.body) == (
        200,
        added_xml(user, '<customValue field="type_business" code="other" other="Mining Co."/>'),
    )
    assert held(user) == [("type_business", "other", "Mining Co.")]
    assert feed_custom(live, user) == fed(
        type_business='<Type-of-business other="Mining Co.">other</Type-of-business>'
    )


def test_other_value_code_sent_itself_stores_other_without_text(live, fields):
    result = live.call("addUser", {**ADA, "type_business": "other"})

    user = only_user()
    assert result.body == added_xml(user, '<customValue field="type_business" code="other"/>')
    assert held(user) == [("type_business", "other", "")]
    assert feed_custom(live, user) == fed(
        type_business="<Type-of-business>other</Type-of-business>"
    )


def test_other_on_update_replaces_a_known_value(live, ada):
    result = live.call("updateUser", {"userKey": ada.user_key, "type_business": "Shipping"})

    assert result.body == updated_xml(
        ada, '<customValue field="type_business" code="other" other="Shipping"/>'
    )
    assert held(ada)[-1] == ("type_business", "other", "Shipping")
    assert ("type_business", "govt", "") not in held(ada)


def test_multichoice_with_other_keeps_each_text(live, fields):
    result = live.call("addUser", {**ADA, "interests": ["ai", "Robotics", "Chess"]})

    user = only_user()
    assert result.body == added_xml(
        user,
        (
            '<customValue field="interests" code="ai"/>'
            '<customValue field="interests" code="more" other="Robotics"/>'
            '<customValue field="interests" code="more" other="Chess"/>'
        ),
    )
    assert held(user) == [
        ("interests", "ai", ""),
        ("interests", "more", "Robotics"),
        ("interests", "more", "Chess"),
    ]
    assert feed_custom(live, user) == fed(
        interests=(
            '<Interests>ai</Interests><Interests other="Robotics">more</Interests>'
            '<Interests other="Chess">more</Interests>'
        )
    )


# --- Rule 3: unknown code (300) or value without Other (301): nothing of the call is written -----


def test_unknown_code_on_add_user_is_refused_with_300_and_nothing_is_written(live, fields):
    result = live.call(
        "addUser", {**ADA, "type_business": "govt", "dietary": ["veg"], "shoe_size": "42"}
    )

    assert (result.status, result.body) == (
        400,
        error_xml(300, "unknown custom field code 'shoe_size'"),
    )
    assert (User.objects.count(), Answer.objects.count()) == (0, 0)


def test_unknown_code_on_update_user_is_refused_with_300_and_the_other_fields_are_unchanged(
    live, ada
):
    result = live.call(
        "updateUser",
        {
            "userKey": ada.user_key,
            "firstName": "Augusta",
            "city": "London",
            "type_business": "education",
            "dietary": "vegan",
            "notes": "changed",
            "shoe_size": "42",
        },
    )

    assert (result.status, result.body) == (
        400,
        error_xml(300, "unknown custom field code 'shoe_size'"),
    )
    assert unchanged(ada)


def test_code_of_a_session_field_is_unknown_to_user_resources(live, fields):
    result = live.call("addUser", {**ADA, "level": "intro"})

    assert (result.status, result.body) == (
        400,
        error_xml(300, "unknown custom field code 'level'"),
    )
    assert User.objects.count() == 0


def test_code_of_a_field_of_the_other_site_is_unknown(live, live_site, fields):
    """UAT and Production are configured separately: a field of UAT is not a field here."""
    from tests.factories import site_of

    create_field(
        site_of(live_site.event, "uat"),
        record_type="user",
        code="uat_only",
        display_name="UAT only",
        field_type="text",
    )

    result = live.call("addUser", {**ADA, "uat_only": "x"})

    assert (result.status, result.code) == (400, 300)


def test_codes_are_case_sensitive(live, fields):
    result = live.call("addUser", {**ADA, "Type_Business": "govt"})

    assert (result.status, result.body) == (
        400,
        error_xml(300, "unknown custom field code 'Type_Business'"),
    )


def test_unknown_value_without_other_on_add_user_is_refused_with_301(live, fields):
    result = live.call("addUser", {**ADA, "type_business": "govt", "tshirt": "xxl"})

    assert (result.status, result.body) == (
        400,
        error_xml(301, "value 'xxl' is not a value of custom field 'tshirt'"),
    )
    assert (User.objects.count(), Answer.objects.count()) == (0, 0)


def test_unknown_value_without_other_on_update_user_changes_nothing(live, ada):
    result = live.call(
        "updateUser",
        {
            "userKey": ada.user_key,
            "firstName": "Augusta",
            "type_business": "education",
            "dietary": ["vegan", "paleo"],
        },
    )

    assert (result.status, result.body) == (
        400,
        error_xml(301, "value 'paleo' is not a value of custom field 'dietary'"),
    )
    assert unchanged(ada)


def test_value_codes_are_case_sensitive(live, fields):
    result = live.call("addUser", {**ADA, "tshirt": "M"})

    assert (result.status, result.code) == (400, 301)


# --- Single values (302) and multichoice sets -------------------------------------------------


@pytest.mark.parametrize(
    ("code", "values"),
    [
        ("type_business", ["govt", "education"]),
        ("tshirt", ["m", "m"]),
        ("notes", ["one", "two"]),
        ("attendee_type", ["vip", "press"]),
    ],
)
def test_single_value_field_repeated_is_refused_with_302(live, ada, code, values):
    result = live.call(
        "updateUser", {"userKey": ada.user_key, "firstName": "Augusta", code: values}
    )

    assert (result.status, result.body) == (
        400,
        error_xml(302, f"custom field '{code}' takes one value only"),
    )
    assert unchanged(ada)


def test_multichoice_takes_the_parameter_repeated(live, fields):
    result = live.call("addUser", {**ADA, "dietary": ["veg", "gf"]})

    user = only_user()
    assert result.body == added_xml(
        user, '<customValue field="dietary" code="veg"/><customValue field="dietary" code="gf"/>'
    )
    assert held(user) == [("dietary", "veg", ""), ("dietary", "gf", "")]
    assert feed_custom(live, user) == fed(
        dietary="<Dietary-needs>veg</Dietary-needs><Dietary-needs>gf</Dietary-needs>"
    )


def test_multichoice_sent_replaces_the_whole_set(live, ada):
    result = live.call("updateUser", {"userKey": ada.user_key, "dietary": ["vegan"]})

    assert result.body == updated_xml(ada, '<customValue field="dietary" code="vegan"/>')
    assert [row for row in held(ada) if row[0] == "dietary"] == [("dietary", "vegan", "")]
    assert "<Dietary-needs>vegan</Dietary-needs>" in feed_custom(live, ada)
    assert "veg<" not in feed_custom(live, ada)


def test_multichoice_not_sent_is_kept(live, ada):
    result = live.call("updateUser", {"userKey": ada.user_key, "tshirt": "l"})

    assert result.body == updated_xml(ada, '<customValue field="tshirt" code="l"/>')
    assert [row for row in held(ada) if row[0] == "dietary"] == [
        ("dietary", "veg", ""),
        ("dietary", "gf", ""),
    ]


def test_multichoice_value_sent_twice_is_held_once(live, fields):
    result = live.call("addUser", {**ADA, "dietary": ["veg", "veg", "gf"]})

    user = only_user()
    assert result.body == added_xml(
        user, '<customValue field="dietary" code="veg"/><customValue field="dietary" code="gf"/>'
    )
    assert held(user) == [("dietary", "veg", ""), ("dietary", "gf", "")]


# --- Rule 4: a value carrying a constraint is answered with its custom value ID ------------------


def test_constraint_value_is_answered_with_its_custom_value_id(live, fields):
    vip = fields["attendee_type"].values.get(code="vip")

    result = live.call("addUser", {**ADA, "attendee_type": "vip", "tshirt": "s"})

    user = only_user()
    assert result.body == added_xml(
        user,
        (
            f'<customValue field="attendee_type" code="vip" id="{vip.pk}"/>'
            '<customValue field="tshirt" code="s"/>'
        ),
    )
    assert held(user) == [("attendee_type", "vip", ""), ("tshirt", "s", "")]
    assert feed_custom(live, user) == fed(
        f"<privateViewPrivateSchedule>{vip.pk}</privateViewPrivateSchedule>",
        tshirt="<T-shirt-size>s</T-shirt-size>",
        attendee_type="<Attendee-type>vip</Attendee-type>",
    )


def test_constraint_value_on_update_is_answered_with_its_id(live, ada, fields):
    press = fields["attendee_type"].values.get(code="press")

    result = live.call("updateUser", {"userKey": ada.user_key, "attendee_type": "press"})

    assert result.body == updated_xml(
        ada, f'<customValue field="attendee_type" code="press" id="{press.pk}"/>'
    )
    assert f"<cannotViewOrSchedule>{press.pk}</cannotViewOrSchedule>" in feed_custom(live, ada)


def test_ids_tell_apart_equal_value_codes_of_two_profile_fields(live, live_site, fields):
    """Value codes are not unique across fields; custom value IDs are (rule 4)."""
    create_field(
        live_site.site,
        record_type="profile",
        code="tier",
        display_name="Tier",
        field_type="choice",
        values=[ValueSpec("vip", "VIP tier", constraint="publicViewPrivateSchedule")],
    )
    attendee_vip = fields["attendee_type"].values.get(code="vip").pk
    tier_vip = CustomField.objects.get(code="tier").values.get(code="vip").pk

    result = live.call("addUser", {**ADA, "attendee_type": "vip", "tier": "vip"})

    assert attendee_vip != tier_vip
    assert result.body == added_xml(
        only_user(),
        (
            f'<customValue field="attendee_type" code="vip" id="{attendee_vip}"/>'
            f'<customValue field="tier" code="vip" id="{tier_vip}"/>'
        ),
    )


# --- Rule 5: data APIs name elements after the display name and carry value codes --------------


def test_feed_shows_every_field_by_display_name_with_value_codes(live, ada, fields):
    member = fields["attendee_type"].values.get(code="member").pk

    assert feed_custom(live, ada) == (
        f"<publicViewPrivateSchedule>{member}</publicViewPrivateSchedule>"
        "<privateViewPrivateSchedule/><cannotViewOrSchedule/>"
        "<screenName/><report-classification/><regcodes/>"
        "<Type-of-business>govt</Type-of-business>"
        "<Dietary-needs>veg</Dietary-needs><Dietary-needs>gf</Dietary-needs>"
        "<Interests>ai</Interests><T-shirt-size>m</T-shirt-size><Notes>Arrives Tuesday</Notes>"
        "<Attendee-type>member</Attendee-type>"
    )


@pytest.mark.parametrize(
    ("display_name", "element"),
    [
        ("Type of business", "Type-of-business"),
        ("T-shirt size", "T-shirt-size"),
        ("Size (EU/US)", "Size--EU-US-"),
        ("Größe", "Größe"),
        ("Company's #1 product", "Company-s--1-product"),
        ("2nd language", "_2nd-language"),
        ("Size²", "Size-"),
        ("Grade ª", "Grade--"),
        ("µ-Level", "_--Level"),
    ],
)
def test_element_name_is_the_display_name_with_non_letters_and_digits_as_dashes(
    display_name, element
):
    assert element_name_for(display_name) == element


def test_unicode_display_names_give_elements_the_feed_can_write(live, live_site):
    for index, name in enumerate(["Größe", "Size²", "Grade ª", "Motto \u2039µ\u203a", "名前"]):
        create_field(
            live_site.site,
            record_type="user",
            code=f"f{index}",
            display_name=name,
            field_type="text",
        )

    live.add_user(**{f"f{index}": f"v{index}" for index in range(5)})
    result = live.call("userData")

    assert (result.status, result.code) == (200, 0)
    assert [(e.tag, e.text) for e in result.xml.find("user")][-6:-1] == [
        ("Größe", "v0"),
        ("Size-", "v1"),
        ("Grade--", "v2"),
        ("Motto----", "v3"),
        ("名前", "v4"),
    ]


# --- Rule 6: updates report each value set by field code and value code --------------------------


def test_update_user_reports_every_value_set(live, ada, fields):
    vip = fields["attendee_type"].values.get(code="vip").pk

    result = live.call(
        "updateUser",
        {
            "userKey": ada.user_key,
            "type_business": "education",
            "dietary": ["vegan", "gf"],
            "notes": "Leaves Friday",
            "attendee_type": "vip",
        },
    )

    assert (result.status, result.body) == (
        200,
        updated_xml(
            ada,
            (
                '<customValue field="type_business" code="education"/>'
                '<customValue field="dietary" code="vegan"/>'
                '<customValue field="dietary" code="gf"/>'
                '<customValue field="notes" code="Leaves Friday"/>'
                f'<customValue field="attendee_type" code="vip" id="{vip}"/>'
            ),
        ),
    )
    assert held(ada) == [
        ("interests", "ai", ""),
        ("tshirt", "m", ""),
        ("type_business", "education", ""),
        ("dietary", "vegan", ""),
        ("dietary", "gf", ""),
        ("notes", None, "Leaves Friday"),
        ("attendee_type", "vip", ""),
    ]


def test_custom_value_change_alone_moves_last_modified(live, ada):
    result = live.call("updateUser", {"userKey": ada.user_key, "tshirt": "l"})

    assert result.code == 0
    assert User.objects.get(pk=ada.pk).modified_at > LONG_AGO


# --- An empty value clears a field ----------------------------------------------------------


@pytest.mark.parametrize("code", ["type_business", "dietary", "notes", "attendee_type"])
def test_empty_value_clears_the_field(live, ada, code):
    result = live.call("updateUser", {"userKey": ada.user_key, code: ""})

    assert (result.status, result.body) == (
        200,
        updated_xml(ada, f'<customValue field="{code}" code=""/>'),
    )
    assert held(ada) == [row for row in ADA_HOLDS if row[0] != code]
    assert User.objects.get(pk=ada.pk).modified_at > LONG_AGO


def test_cleared_field_is_an_empty_element_in_the_feed(live, ada, fields):
    live.call("updateUser", {"userKey": ada.user_key, "dietary": "", "notes": ""})

    member = fields["attendee_type"].values.get(code="member").pk
    assert feed_custom(live, ada) == fed(
        f"<publicViewPrivateSchedule>{member}</publicViewPrivateSchedule>",
        type_business="<Type-of-business>govt</Type-of-business>",
        interests="<Interests>ai</Interests>",
        tshirt="<T-shirt-size>m</T-shirt-size>",
        attendee_type="<Attendee-type>member</Attendee-type>",
    )


def test_empty_value_on_add_user_sets_nothing(live, fields):
    result = live.call("addUser", {**ADA, "tshirt": ""})

    user = only_user()
    assert result.body == added_xml(user, '<customValue field="tshirt" code=""/>')
    assert held(user) == []


# --- Codes (§7): standard parameter names are refused ------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "firstName",
        "email",
        "clientID",
        "newClientID",
        "userKey",
        "userRef",
        "registered",
        "badgeID",
        "apiToken",
        "event",
        "format",
        "since",
    ],
)
@pytest.mark.parametrize("record_type", ["user", "profile"])
def test_code_colliding_with_a_standard_user_parameter_is_refused(live_site, code, record_type):
    with pytest.raises(ValidationFailed) as refused:
        create_field(
            live_site.site,
            record_type=record_type,
            code=code,
            display_name="Anything",
            field_type="text",
        )

    assert refused.value.field == "code"
    assert CustomField.objects.count() == 0


@pytest.mark.parametrize(
    "display_name",
    ["email", "status", "eventGUID", "userRef", "schedule", "last modified date", "create date"],
)
def test_display_name_whose_element_is_a_standard_element_is_refused(live_site, display_name):
    with pytest.raises(ValidationFailed) as refused:
        create_field(
            live_site.site,
            record_type="user",
            code="anything",
            display_name=display_name,
            field_type="text",
        )

    assert refused.value.field == "displayName"
    assert CustomField.objects.count() == 0


def test_custom_value_with_a_character_xml_cannot_carry_is_refused_with_201(live, fields):
    """Rule 2 would echo the text in the answer: it must be refused before anything is written."""
    result = live.call("addUser", {**ADA, "type_business": "Mining\x07"})

    assert (result.status, result.body) == (
        400,
        error_xml(
            201, "parameter 'type_business' contains the character U+0007, which XML cannot carry"
        ),
    )
    assert (User.objects.count(), Answer.objects.count()) == (0, 0)


# --- Exhibitors: the names of their resources' parameters and of their record's elements ------
# Reserved by the declarations alone (confero.api.resources.exhibitors): the record type's
# elements and the writing resources' parameters.


@pytest.mark.parametrize(
    "code",
    [
        *("exhibitorID", "exhibitorCode", "newExhibitorCode", "name", "status", "type"),
        *("description", "url", "email", "booth", "participant", "participantRole", "file"),
        *("userKey", "clientID", "userRef", "apiToken", "event", "format", "since"),
    ],
)
def test_code_colliding_with_a_standard_exhibitor_parameter_is_refused(live_site, code):
    with pytest.raises(ValidationFailed) as refused:
        create_field(
            live_site.site,
            record_type="exhibitor",
            code=code,
            display_name="Anything",
            field_type="text",
        )

    assert (refused.value.field, refused.value.message) == (
        "code",
        f"'{code}' is a standard parameter of exhibitor resources",
    )
    assert CustomField.objects.count() == 0


@pytest.mark.parametrize(
    "display_name",
    [
        *("exhibitor", "exhibitors", "exhibitorID", "exhibitorCode", "name", "status", "type"),
        *("description", "url", "email", "booth", "exhibitorFile", "displayName", "participant"),
        *("role", "userRef", "firstName", "lastName", "participantEmail", "eventGUID"),
        *("response", "messages", "user-data"),
    ],
)
def test_display_name_whose_element_is_a_standard_exhibitor_element_is_refused(
    live_site, display_name
):
    with pytest.raises(ValidationFailed) as refused:
        create_field(
            live_site.site,
            record_type="exhibitor",
            code="anything",
            display_name=display_name,
            field_type="text",
        )

    assert (refused.value.field, refused.value.message) == (
        "displayName",
        f"its element name <{display_name}> is a standard element of exhibitors",
    )
    assert CustomField.objects.count() == 0


def test_exhibitor_names_that_are_standard_for_users_only_are_allowed(live_site):
    """`Company name` is a user's element, not an exhibitor's: an exhibitor field may take it."""
    field = create_field(
        live_site.site,
        record_type="exhibitor",
        code="companyName",
        display_name="companyName",
        field_type="text",
    )

    assert (field.code, field.element_name) == ("companyName", "companyName")
