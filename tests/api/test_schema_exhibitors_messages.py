"""The XML Schemas of exhibitorData.do, messages.do and the <api> answers of their writing
resources (exhibitors.xsd, exhibitor-record.xsd, messages.xsd, api.xsd): hand-made documents they
accept and the regressions they refuse, and the exhibitor names refused after the fixed elements
kept equal to the names reserved for exhibitors. Real answers are validated by every test that
calls the API (tests/conftest.py); test_schema.py covers users and the shared types."""

import pytest
from lxml import etree

import confero.api.resources.exhibitors  # noqa: F401 - registers the exhibitors' reserved names
from confero.api.views import SCHEMA_DIR
from confero.customfields.models import RecordType
from confero.customfields.services import RESERVED_ELEMENTS, RESERVED_ROOTS
from tests.api.test_schema import XS, schema_errors

GUID = "0B8E6B76-9D21-4A5E-8F55-3D0C5E2A9C41"
REF = "3A0398319D99F868"
OK = '<response code="0">Success</response>'
EXHIBITOR = (
    "<exhibitor><exhibitorID>7</exhibitorID><exhibitorCode>ACME-1</exhibitorCode>"
    "<name>Acme</name><status>active</status><type/><description/><url/>"
    "<email>booth@acme.example.org</email><booth>H2</booth>"
    "<exhibitorFile><type>pdf</type><displayName>Brochure</displayName><description/>"
    "<url>https://x.org/b.pdf</url></exhibitorFile>"
    '<Sponsor-level other="Platinum">other</Sponsor-level><Sectors>a</Sectors><Sectors>b</Sectors>'
    f"<participant><role>Lead</role><userRef>{REF}</userRef><firstName>Ada</firstName>"
    "<lastName>Lovelace</lastName><participantEmail>ada@example.org</participantEmail>"
    f"</participant><eventGUID>{GUID}</eventGUID></exhibitor>"
)
MESSAGE = (
    f"<message><messageID>12</messageID><direction>in</direction><fromUserRef>{REF}</fromUserRef>"
    f"<toUserRef>{REF}</toUserRef><subject>&lt;b&gt;Hi</subject><body/>"
    f"<sent>2026-11-24T10:21:00Z</sent><read>false</read><eventGUID>{GUID}</eventGUID></message>"
)
GOOD = {
    "exhibitors": f'<exhibitors time="1764000000000">{OK}{EXHIBITOR}{EXHIBITOR}</exhibitors>',
    "empty exhibitors": f'<exhibitors time="0">{OK}</exhibitors>',
    "messages": f'<messages time="1764000000000">{OK}{MESSAGE}{MESSAGE}</messages>',
    "exhibitor answer": (
        f"<api>{OK}<exhibitorID>7</exhibitorID><exhibitorCode/>"
        '<customValue field="hall" code="h1"/></api>'
    ),
    "sendMessage": f"<api>{OK}<messageID>12</messageID></api>",
    "markMessageRead": f"<api>{OK}<messageID>12</messageID><read>true</read></api>",
}


@pytest.mark.parametrize("name", GOOD)
def test_the_hand_made_documents_are_valid_to_begin_with(name):
    assert schema_errors(GOOD[name]) == []


BAD = [
    # (good document, text replaced, replacement, an expected piece of the error)
    ("exhibitors", "<exhibitorID>7<", "<exhibitorID>E7<", "exhibitorID"),
    ("exhibitors", "<status>active<", "<status>Active<", "status"),
    ("exhibitors", "<name>Acme</name>", "<name/>", "name"),
    ("exhibitors", "<type/><description/>", "<description/><type/>", "description"),
    ("exhibitors", "<email>booth@acme.example.org<", "<email>booth<", "email"),
    ("exhibitors", "<booth>H2</booth>", "<booth>H2</booth><booth>H3</booth>", "booth"),
    ("exhibitors", "<booth>H2</booth>", "<booth>H2</booth><status>active</status>", "status"),
    ("exhibitors", "<displayName>Brochure<", "<displayName><", "displayName"),
    ("exhibitors", "<url>https://x.org/b.pdf</url>", "", "url"),
    ("exhibitors", "<role>Lead</role>", "", "role"),
    ("exhibitors", f"<userRef>{REF}<", f"<userRef>{REF.lower()}<", "userRef"),
    ("exhibitors", "<participantEmail>ada@example.org<", "<participantEmail><", "participantEmail"),
    ("exhibitors", f"<eventGUID>{GUID}<", f"<eventGUID>{GUID.lower()}<", "eventGUID"),
    ("exhibitors", "<Sectors>a</Sectors>", "<exhibitor/>", "exhibitor"),
    ("exhibitors", ' time="1764000000000"', "", "time"),
    ("exhibitors", OK, '<response code="230">x</response>', "code"),
    ("messages", "<direction>in<", "<direction>inbox<", "direction"),
    ("messages", "<read>false<", "<read>no<", "read"),
    ("messages", "<sent>2026-11-24T10:21:00Z<", "<sent>2026-11-24 10:21:00<", "sent"),
    ("messages", f"<eventGUID>{GUID}</eventGUID>", "", "eventGUID"),
    ("messages", "<body/>", "<body/><userKey>X</userKey>", "userKey"),
    ("messages", "<messageID>12<", "<messageID>0<", "messageID"),
    ("exhibitor answer", "<exhibitorCode/>", "", "exhibitorCode"),
    ("exhibitor answer", "<exhibitorID>7<", "<exhibitorID><", "exhibitorID"),
    ("sendMessage", "<messageID>12<", "<messageID>twelve<", "messageID"),
    ("markMessageRead", "<read>true<", "<read>yes<", "read"),
]


@pytest.mark.parametrize(
    ("name", "old", "new", "where"),
    BAD,
    ids=[f"{b[0]}:{b[2][:40] or 'remove ' + b[1][:30]}" for b in BAD],
)
def test_the_schemas_refuse_documents_against_the_contract(name, old, new, where):
    document = GOOD[name]
    assert old in document
    errors = schema_errors(document.replace(old, new, 1))

    assert errors, "the schema accepted it"
    assert where in errors[0]


def test_the_names_refused_after_the_fixed_exhibitor_elements_are_the_reserved_element_names():
    record = etree.parse(str(SCHEMA_DIR / "exhibitor-record.xsd"))
    refused = record.xpath(
        "/xs:schema/xs:element[@type='MisplacedExhibitorElement']/@name",
        namespaces={"xs": XS[1:-1]},
    )
    assert len(refused) == len(set(refused))
    # What may follow the fixed part (files, staff, eventGUID) is declared with its own type;
    # roots are reserved so that no custom element looks like a document.
    assert set(refused) == (
        RESERVED_ELEMENTS[RecordType.EXHIBITOR]
        - {"exhibitorFile", "participant", "eventGUID"}
        - RESERVED_ROOTS
    )
