"""The element-name characters (confero.customfields.xmlnames) against libxml2's own `xs:NCName`,
the check the published XML Schemas apply, for every character."""

import pytest
from lxml import etree

from confero.customfields.models import element_name_for
from confero.customfields.xmlnames import is_name_char, is_name_start

NCNAMES = etree.XMLSchema(
    etree.XML(
        b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="n" '
        b'type="xs:NCName"/></xs:schema>'
    )
)
# The fourth edition names no character beyond the BMP; a sample of them stands for the rest.
SUPPLEMENTARY = ["\U00010000", "\U00010400", "\U00010b00", "\U00020000", "\U0001f600", "\U000e0100"]
EVERY_CHARACTER = [chr(p) for p in range(0x10000) if not 0xD800 <= p <= 0xDFFF] + SUPPLEMENTARY


def is_ncname(text: str) -> bool:
    element = etree.Element("n")
    try:
        element.text = text
    except ValueError:  # characters XML cannot carry at all
        return False
    return NCNAMES.validate(element)


@pytest.fixture(scope="module")
def libxml2_start() -> set[str]:
    return {ch for ch in EVERY_CHARACTER if is_ncname(ch)}


@pytest.fixture(scope="module")
def libxml2_char(libxml2_start) -> set[str]:
    # "a" + ch, so that ch is checked as a following character; white space is collapsed by
    # xs:NCName's facet, so "a " passes and must be left out.
    return libxml2_start | {
        ch for ch in EVERY_CHARACTER if ch not in " \t\n\r" and is_ncname("a" + ch)
    }


def test_name_start_characters_are_libxml2s(libxml2_start):
    assert {ch for ch in EVERY_CHARACTER if is_name_start(ch)} == libxml2_start - {":"}


def test_name_characters_are_libxml2s(libxml2_char):
    assert {ch for ch in EVERY_CHARACTER if is_name_char(ch)} == libxml2_char - {":"}


def test_element_name_of_any_character_is_an_ncname():
    bad = [
        ch
        for ch in EVERY_CHARACTER
        for name in (element_name_for(ch), element_name_for(f"a{ch}b"))
        if not is_ncname(name)
    ]
    assert bad == []
