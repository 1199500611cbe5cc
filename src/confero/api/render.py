"""Response documents: a small tree of `Node`s rendered as XML (lxml) or as JSON (`format=json`).

Transactional resources return a `Document` with the `<api>` root; feeds return a `Feed` whose
records are an iterator, written one by one with lxml's incremental writer so that memory does not
grow with the number of records (contract §6, §8).
"""

import contextlib
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

XML_CONTENT_TYPE = "application/xml; charset=utf-8"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
FLUSH_BYTES = 64 * 1024
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass(slots=True)
class Node:
    tag: str
    value: Any = None  # str, int, bool, date, datetime or None (an empty element)
    attrs: dict[str, Any] | None = None
    children: list["Node"] | None = None
    many: bool = False  # always a list in JSON, even when it occurs once
    text_key: str = "value"  # the JSON key of the text when the node also has attributes

    # The record protocol (shared with hand-built records such as confero.api.records):
    # tag and many, plus how it renders as an lxml element and as a JSON value.
    def xml(self) -> etree._Element:
        return to_element(self)

    def json(self) -> Any:
        return to_json(self)


def E(tag: str, value: Any = None, **attrs: Any) -> Node:
    return Node(tag, value, attrs or None)


def xml_text(value: Any) -> str | None:
    if value is None or value == "":
        return None  # an empty element: <address2/>
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return xml_text(value)
    return value


def response_node(code: int, message: str) -> Node:
    return Node("response", message, {"code": code}, text_key="message")


@dataclass
class Document:
    """A whole response: `<root attrs><response code/>children…</root>`. Children are Nodes or
    other records (objects with `tag`, `many`, `xml()` and `json()`)."""

    children: list[Any] = field(default_factory=list)
    root: str = "api"
    attrs: dict[str, Any] = field(default_factory=dict)
    # Set by a resource whose answer is wholly determined by a few values (event.do): the same
    # key, the same bytes, rendered once per process (see `rendered`).
    key: tuple | None = None


@dataclass
class Feed:
    """A streamed response: the records (Nodes or other records, see Document) are produced
    while the response is written."""

    root: str
    record_tag: str
    records: Iterable[Any]
    attrs: dict[str, Any] = field(default_factory=dict)


# --- XML -------------------------------------------------------------------------------------


def to_element(node: Node) -> etree._Element:
    element = etree.Element(node.tag, _xml_attrs(node.attrs))
    _fill(element, node)
    return element


def _xml_attrs(attrs: dict[str, Any] | None) -> dict[str, str]:
    """Attribute values are always strings: an empty one stays "" (`code=""` of a cleared field)."""
    return {k: xml_text(v) or "" for k, v in attrs.items()} if attrs else {}


def _fill(element: etree._Element, node: Node) -> None:
    element.text = xml_text(node.value)
    if node.children:
        sub = etree.SubElement
        for child in node.children:
            _fill(sub(element, child.tag, _xml_attrs(child.attrs)), child)


def xml_document(document: Document, code: int, message: str) -> bytes:
    root = etree.Element(document.root, _xml_attrs(document.attrs))
    root.append(to_element(response_node(code, message)))
    for child in document.children:
        root.append(child.xml())
    return DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


_RENDERED: dict[tuple, bytes] = {}
_RENDERED_MAX = 512


def rendered(render, document: Document, code: int, message: str) -> bytes:
    """`render(document, code, message)`, from memory when the document has a key."""
    if document.key is None:
        return render(document, code, message)
    key = (render, document.key, code, message)
    body = _RENDERED.get(key)
    if body is None:
        if len(_RENDERED) >= _RENDERED_MAX:
            _RENDERED.clear()
        body = _RENDERED[key] = render(document, code, message)
    return body


class _Sink:
    """A file-like object for lxml's xmlfile that hands out what was written so far."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        self.parts.append(data)
        self.size += len(data)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        self.size = 0
        return data


@contextlib.contextmanager
def _records(feed: Feed) -> Iterator[Iterator[Any]]:
    """The feed's records, closed when the feed ends or is abandoned (the client went away): a
    feed may hold a database connection of its own (confero.api.records)."""
    records = iter(feed.records)
    try:
        yield records
    finally:
        if close := getattr(records, "close", None):
            close()


def xml_feed(feed: Feed) -> Iterator[bytes]:
    sink = _Sink()
    sink.write(DECLARATION)
    with (
        _records(feed) as records,
        etree.xmlfile(sink, encoding="UTF-8") as xf,
        xf.element(feed.root, _xml_attrs(feed.attrs)),
    ):
        xf.write(to_element(response_node(0, "Success")))
        for record in records:
            xf.write(record.xml())
            if sink.size >= FLUSH_BYTES:
                xf.flush()
                yield sink.take()
    yield sink.take()


# --- JSON ------------------------------------------------------------------------------------


def to_json(node: Node) -> Any:
    if not node.children and not node.attrs:
        return json_value(node.value)
    out: dict[str, Any] = {k: json_value(v) for k, v in (node.attrs or {}).items()}
    if node.value is not None:
        out[node.text_key] = json_value(node.value)
    out.update(_json_children(node.children or ()))
    return out


def _json_children(children: Iterable[Any]) -> dict[str, Any]:
    groups: dict[str, list[Any]] = {}
    for child in children:
        groups.setdefault(child.tag, []).append(child)
    out: dict[str, Any] = {}
    for tag, members in groups.items():
        if len(members) > 1 or members[0].many:
            out[tag] = [member.json() for member in members]
        else:
            out[tag] = members[0].json()
    return out


def json_document(document: Document, code: int, message: str) -> bytes:
    body = {k: json_value(v) for k, v in document.attrs.items()}
    body.update(_json_children([response_node(code, message), *document.children]))
    return json.dumps({document.root: body}, ensure_ascii=False).encode("utf-8")


def json_feed(feed: Feed) -> Iterator[bytes]:
    head = to_json(
        Node(feed.root, attrs=feed.attrs or None, children=[response_node(0, "Success")])
    )
    opening = json.dumps({feed.root: head}, ensure_ascii=False)
    # '{"root": {…, "response": {…}}}' → open the record list before the two closing braces.
    yield (opening[:-2] + f', "{feed.record_tag}": [').encode("utf-8")
    buffer: list[str] = []
    size = 0
    first = True
    with _records(feed) as records:
        for record in records:
            text = json.dumps(record.json(), ensure_ascii=False)
            buffer.append(text if first else "," + text)
            first = False
            size += len(text)
            if size >= FLUSH_BYTES:
                yield "".join(buffer).encode("utf-8")
                buffer.clear()
                size = 0
    buffer.append("]}}")
    yield "".join(buffer).encode("utf-8")
