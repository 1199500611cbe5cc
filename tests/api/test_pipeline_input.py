"""What the pipeline makes of what arrives (contract §2, §6, §9, §10): methods, URLs, bodies,
encodings, where parameters come from, the token's two places, formats and internal errors.
Every answer is XML (or JSON when asked for), never HTML, never a traceback."""

import dataclasses
import io
import json
import logging
import re

import pytest
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from confero.access.models import ApiCall
from confero.access.services import configure_profile
from confero.access.tokens import public_prefix
from confero.api.registry import REGISTRY
from tests.factories import UserFactory

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
MiB = 1024 * 1024


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


def own_event_xml(open_site) -> bytes:
    e = open_site.event
    return (
        DECLARATION
        + (
            '<api><response code="0">Success</response>'
            f"<event><eventGUID>{e.guid_text}</eventGUID><code>{e.code}</code><name>{e.name}</name>"
            f"<startDate/><endDate/><timeZone>{e.time_zone}</timeZone>"
            f"<environment>{open_site.environment}</environment></event></api>"
        ).encode()
    )


def last_call() -> ApiCall:
    return ApiCall.objects.order_by("-id").first()


def logged(row: ApiCall) -> tuple:
    return (row.method, row.path, row.resource, row.code, row.http_status, row.token_prefix)


# --- Methods ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch", "options"])
def test_method_other_than_post_is_refused_with_405(api, live_site, method):
    result = api.call(live_site.url("event"), method=method, query={"apiToken": live_site.token})

    assert result.status == 405
    assert result.headers["Allow"] == "POST"
    assert result.headers["Content-Type"] == "application/xml; charset=utf-8"
    verb = method.upper()
    assert result.body == error_xml(121, f"method {verb} not allowed: use POST")
    row = last_call()
    assert logged(row) == (verb, live_site.url("event"), "event", 121, 405, "")
    assert (row.site_id, row.profile_id) == (live_site.site.pk, None)


def test_method_get_is_refused_before_the_token_is_looked_at(api, live_site):
    """A GET with a valid token is still refused: the token must not end up in caches."""
    get = api.call(live_site.url("event"), method="get", query={"apiToken": live_site.token})
    post = api.call(live_site.url("event"), query={"apiToken": live_site.token})

    assert (get.status, get.code, post.status, post.code) == (405, 121, 200, 0)


# --- URLs ------------------------------------------------------------------------------------


def test_unknown_resource_is_answered_with_122(api, live_site):
    result = api.call(live_site.url("nope"), {"apiToken": live_site.token})

    assert (result.status, result.headers["Content-Type"]) == (
        404,
        "application/xml; charset=utf-8",
    )
    assert result.body == error_xml(122, "unknown resource 'nope.do'")
    assert logged(last_call()) == ("POST", live_site.url("nope"), "nope", 122, 404, "")


@pytest.mark.parametrize(
    "path",
    [
        "/{code}/api/",
        "/{code}/api/x.json",
        "/{code}/api/event.do/",
        "/{code}/api/event.do/more",
        "/{code}/api/event",
        "/{code}/api/x/y.do",
        "/uat/{code}/api/",
        "/uat/{code}/api/event.xml",
    ],
)
def test_unknown_resource_url_shapes_are_answered_with_xml_122(api, live_site, path):
    url = path.format(code=live_site.event.code)

    result = api.call(url, {"apiToken": live_site.token})

    assert (result.status, result.headers["Content-Type"]) == (
        404,
        "application/xml; charset=utf-8",
    )
    assert result.body == error_xml(122, "unknown resource (the URL is not /CODE/api/NAME.do)")
    assert logged(last_call()) == ("POST", url, "", 122, 404, "")


@pytest.mark.parametrize("path", ["/a/b/api/event.do", "/x%20y/api/event.do", "/api/event.do"])
def test_unknown_resource_outside_the_url_patterns_is_answered_with_xml_122(api, db, path):
    result = api.call(path, {"apiToken": "cfo_live_x"})

    assert (result.status, result.headers["Content-Type"]) == (
        404,
        "application/xml; charset=utf-8",
    )
    assert result.body == error_xml(122, "unknown resource")


def test_unknown_event_code_is_answered_with_103_naming_the_address(api, live_site):
    """The pipeline's check 5: an unknown event code has an empty allow-list."""
    result = api.call(
        "/no-such-event/api/event.do", {"apiToken": live_site.token}, remote_addr="192.0.2.44"
    )

    assert result.status == 403
    assert result.body == error_xml(103, "client address 192.0.2.44 is not allowed")
    row = last_call()
    assert logged(row) == ("POST", "/no-such-event/api/event.do", "event", 103, 403, "")
    assert (row.site_id, row.profile_id, row.client_ip) == (None, None, "192.0.2.44")


def test_event_code_longer_than_any_code_does_not_reach_an_event(api, db):
    """URL codes are matched whole: a long code must not be cut down to an existing one."""
    from tests.factories import EventFactory, open_site

    event = EventFactory(code="c" * 40)
    _, token = open_site(event)
    ok = api.call(f"/{'c' * 40}/api/event.do", {"apiToken": token})

    longer = api.call(f"/{'c' * 45}/api/event.do", {"apiToken": token})

    assert (ok.status, ok.code) == (200, 0)
    assert longer.body == error_xml(103, "client address 127.0.0.1 is not allowed")
    assert last_call().site_id is None


# --- The order of the checks (pipeline docstring) --------------------------------------------


@pytest.mark.parametrize(
    ("why", "call", "expected"),
    [
        ("method before size", dict(method="get", extra={"CONTENT_LENGTH": str(2 * MiB)}), 121),
        ("size before resource", dict(resource="nope", body=b"x" * (2 * MiB)), 202),
        ("resource before parameters", dict(resource="nope", body=b"a=%FF"), 122),
        ("parameters before address", dict(body=b"a=%FF", remote_addr="192.0.2.1"), 201),
        ("address before token", dict(params={}, remote_addr="192.0.2.1"), 103),
        ("token before declared parameters", dict(params={"event": "not-a-guid"}), 100),
    ],
)
def test_check_order_answers_the_first_failing_check(api, live_site, why, call, expected):
    url = live_site.url(call.pop("resource", "event"))
    if call.get("method") == "get":
        result = api.call(url, method="get", **call.pop("extra"))
    else:
        result = api.call(url, call.pop("params", None), **call)

    assert result.code == expected, why


# --- Size ------------------------------------------------------------------------------------


def padded_body(token: str, size: int) -> bytes:
    """A body of exactly `size` bytes that is valid: the padding is trimmed white space."""
    head = f"apiToken={token}&event=".encode()
    return head + b"+" * (size - len(head))


def test_body_of_two_mib_is_refused_with_413(api, live_site):
    result = api.call(live_site.url("event"), body=padded_body(live_site.token, 2 * MiB))

    assert result.status == 413
    assert result.body == error_xml(202, "request body over 1048576 bytes")
    assert logged(last_call()) == ("POST", live_site.url("event"), "event", 202, 413, "")


def test_body_of_exactly_one_mib_is_accepted(api, live_site):
    result = api.call(live_site.url("event"), body=padded_body(live_site.token, MiB))

    assert (result.status, result.body) == (200, own_event_xml(live_site))


def test_body_one_byte_over_one_mib_is_refused(api, live_site):
    result = api.call(live_site.url("event"), body=padded_body(live_site.token, MiB + 1))

    assert (result.status, result.code) == (413, 202)


def test_chunked_body_over_one_mib_without_content_length_is_refused(api, live_site):
    """Transfer-Encoding: chunked has no Content-Length; the body is still limited to 1 MiB.
    (gunicorn de-chunks the body and sets wsgi.input_terminated, as this environ does.)"""
    stream = io.BytesIO(padded_body(live_site.token, 2 * MiB))

    result = api.call(
        live_site.url("event"),
        body=b"",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": stream, "wsgi.input_terminated": True},
    )

    assert result.status == 413
    assert result.body == error_xml(202, "request body over 1048576 bytes")
    assert stream.tell() <= MiB + 1  # read no further than needed to know


def test_chunked_body_without_content_length_is_read(api, live_site):
    stream = io.BytesIO(f"apiToken={live_site.token}".encode())

    result = api.call(
        live_site.url("event"),
        body=b"",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": stream, "wsgi.input_terminated": True},
    )

    assert (result.status, result.body) == (200, own_event_xml(live_site))


def test_chunked_multipart_body_without_content_length_is_read(api, live_site):
    body = encode_multipart(BOUNDARY, {"apiToken": live_site.token})

    result = api.call(
        live_site.url("event"),
        body=b"",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_TYPE=MULTIPART_CONTENT,
        **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
    )

    assert (result.status, result.body) == (200, own_event_xml(live_site))


def test_body_without_content_length_on_a_server_that_does_not_end_the_input_is_not_read(
    api, live_site
):
    """Without wsgi.input_terminated, reading could wait for bytes that never come."""

    class Unending(io.BytesIO):
        def read(self, *args):
            raise AssertionError("read an unterminated input")

    result = api.call(
        live_site.url("event"),
        body=b"",
        query={"apiToken": live_site.token},
        **{"wsgi.input": Unending()},
    )

    assert (result.status, result.body) == (200, own_event_xml(live_site))


def test_body_longer_than_its_content_length_is_read_to_the_declared_length_only(api, live_site):
    declared = f"apiToken={live_site.token}".encode()
    stream = io.BytesIO(declared + b"&colour=" + b"x" * (2 * MiB))

    result = api.call(
        live_site.url("event"),
        body=b"",
        CONTENT_LENGTH=str(len(declared)),
        CONTENT_TYPE="application/x-www-form-urlencoded",
        **{"wsgi.input": stream},
    )

    assert (result.status, result.body) == (200, own_event_xml(live_site))
    assert stream.tell() == len(declared)


@pytest.mark.parametrize("length", ["abc", "-1", "1e9"])
def test_content_length_that_is_not_a_number_is_refused_with_xml(api, live_site, length):
    result = api.call(live_site.url("event"), {"apiToken": live_site.token}, CONTENT_LENGTH=length)

    assert (result.status, result.code) == (413, 202)
    assert result.headers["Content-Type"] == "application/xml; charset=utf-8"


# --- Encoding and white space ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "raw", "message"),
    [
        ("query", "event=%FF%FE", "parameter 'event' is not valid UTF-8 (byte 0)"),
        ("query", "event=ok%C3", "parameter 'event' is not valid UTF-8 (byte 2)"),
        ("query", "ev%FFent=1", "a parameter name in the query string is not valid UTF-8 (byte 2)"),
        ("body", "event=%FF", "parameter 'event' is not valid UTF-8 (byte 0)"),
        ("body", "ev%E9nt=1", "a parameter name in the body is not valid UTF-8 (byte 2)"),
        ("body", "event=caf\xe9", "parameter 'event' is not valid UTF-8 (byte 3)"),
    ],
)
def test_invalid_utf8_is_refused_naming_the_parameter(api, live_site, where, raw, message):
    url = live_site.url("event")
    if where == "query":
        result = api.call(f"{url}?{raw}", {"apiToken": live_site.token})
    else:
        body = f"apiToken={live_site.token}&".encode() + raw.encode("latin-1")
        result = api.call(url, body=body)

    assert result.status == 400
    assert result.body == error_xml(201, message)
    assert logged(last_call()) == ("POST", url, "event", 201, 400, "")


def multipart_part(name: bytes, value: bytes) -> bytes:
    return (
        b"--" + BOUNDARY.encode() + b"\r\n"
        b'Content-Disposition: form-data; name="' + name + b'"\r\n\r\n' + value + b"\r\n"
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (b"event", b"ok\xff", "parameter 'event' is not valid UTF-8 (byte 2)"),
        (b"event", b"caf\xe9", "parameter 'event' is not valid UTF-8 (byte 3)"),
        (b"notes", b"\xed\xa0\x80", "parameter 'notes' is not valid UTF-8 (byte 0)"),  # U+D800
        (
            b"ev\xffent",
            b"1",
            "a part's headers in the multipart body are not valid UTF-8 (byte 40)",
        ),
        (
            b"x\"; name*=UTF-8''ev%FFent; dummy=\"",
            b"1",
            "a part's headers in the multipart body use an encoded parameter (name*=…): "
            "send the name as UTF-8",
        ),
        (
            b"x\"; name*0*=confero_utf_8_escaped''%FF; dummy=\"",
            b"1",
            "a part's headers in the multipart body use an encoded parameter (name*=…): "
            "send the name as UTF-8",
        ),
    ],
)
def test_invalid_utf8_in_a_multipart_body_is_refused(api, live_site, name, value, message):
    """Django's parser would have replaced the bytes with U+FFFD: a value the client never
    sent, stored as if it had."""
    url = live_site.url("event")
    body = (
        multipart_part(b"apiToken", live_site.token.encode())
        + multipart_part(name, value)
        + b"--" + BOUNDARY.encode() + b"--\r\n"
    )  # fmt: skip

    result = api.call(url, body=body, content_type=MULTIPART_CONTENT)

    assert result.status == 400
    assert result.body == error_xml(201, message)
    assert logged(last_call()) == ("POST", url, "event", 201, 400, "")


def test_a_replacement_character_sent_in_a_multipart_body_is_kept(api, live_site):
    """U+FFFD sent as valid UTF-8 is text like any other (here: not a GUID)."""
    body = encode_multipart(BOUNDARY, {"apiToken": live_site.token, "event": "a\ufffdb"})

    result = api.call(live_site.url("event"), body=body, content_type=MULTIPART_CONTENT)

    assert result.body == error_xml(201, "parameter 'event' must be an event GUID or 'all'")


@pytest.mark.parametrize(
    ("where", "raw", "message"),
    [
        ("body", b"event=a%00b", "parameter 'event' contains the character U+0000"),
        ("body", b"event=%01", "parameter 'event' contains the character U+0001"),
        ("body", b"event=a%1Fb", "parameter 'event' contains the character U+001F"),
        ("body", b"event=%EF%BF%BF", "parameter 'event' contains the character U+FFFF"),
        ("body", b"ev%00ent=1", "a parameter name in the body contains the character U+0000"),
        ("body", b"ev%0Bent=%FF", "a parameter name in the body contains the character U+000B"),
        (
            "query",
            b"colour%01=1",
            "a parameter name in the query string contains the character U+0001",
        ),
        ("query", b"event=%08", "parameter 'event' contains the character U+0008"),
        ("multipart", {"event": "a\x02"}, "parameter 'event' contains the character U+0002"),
        (
            "multipart",
            {"ev\x02": "1"},
            "a parameter name in the body contains the character U+0002",
        ),
    ],
)
def test_character_xml_cannot_carry_is_refused_naming_it(api, live_site, where, raw, message):
    """Such a value could be stored but never answered; such a name not even named."""
    url = live_site.url("event")
    if where == "query":
        result = api.call(f"{url}?{raw.decode()}", {"apiToken": live_site.token})
    elif where == "body":
        result = api.call(url, body=f"apiToken={live_site.token}&".encode() + raw)
    else:
        body = encode_multipart(BOUNDARY, {"apiToken": live_site.token, **raw})
        result = api.call(url, body=body, content_type=MULTIPART_CONTENT)

    assert result.status == 400
    assert result.body == error_xml(201, f"{message}, which XML cannot carry")
    assert logged(last_call()) == ("POST", url, "event", 201, 400, "")


def test_tab_and_line_breaks_inside_a_value_are_kept(api, live_site):
    result = api.call(live_site.url("event"), {"apiToken": live_site.token, "event": "a\tb\r\nc"})

    assert result.body == error_xml(201, "parameter 'event' must be an event GUID or 'all'")


def test_utf8_text_is_accepted_and_answered_in_utf8(api, live_site):
    live_site.event.name = "Café Ünïcødé 会议"
    live_site.event.save()

    result = api.call(live_site.url("event"), {"apiToken": live_site.token})

    assert "<name>Café Ünïcødé 会议</name>".encode() in result.body


def test_values_are_trimmed_of_leading_and_trailing_white_space(api, live_site):
    result = api.call(
        live_site.url("event"),
        {"apiToken": f"  {live_site.token}\t", "event": f"\n {live_site.event.guid_text} \r\n"},
    )

    assert (result.status, result.body) == (200, own_event_xml(live_site))
    assert last_call().event_param == live_site.event.guid_text


def test_empty_event_is_the_calling_event(api, live_site):
    result = api.call(live_site.url("event"), {"apiToken": live_site.token, "event": "  "})

    assert (result.status, result.body) == (200, own_event_xml(live_site))


# --- Where parameters come from --------------------------------------------------------------


def test_parameters_in_the_query_string_of_a_post_are_read(api, live_site):
    result = api.call(live_site.url("event"), query={"apiToken": live_site.token})

    assert (result.status, result.body) == (200, own_event_xml(live_site))


def test_parameter_in_query_and_body_with_different_values_is_refused(api, live_site):
    other = "0D6F3C6A-9A9B-4C3E-8E0F-6B0C2A1D9E77"
    result = api.call(
        live_site.url("event"),
        {"apiToken": live_site.token, "event": live_site.event.guid_text},
        query={"event": other},
    )

    assert result.status == 400
    assert result.body == error_xml(
        201, "parameter 'event' is sent in the query and the body with different values"
    )


def test_parameter_in_query_and_body_with_the_same_value_is_accepted(api, live_site):
    result = api.call(
        live_site.url("event"),
        {"apiToken": live_site.token, "event": live_site.event.guid_text},
        query={"apiToken": live_site.token, "event": f" {live_site.event.guid_text}"},
    )

    assert (result.status, result.body) == (200, own_event_xml(live_site))


@pytest.mark.parametrize(
    ("params", "query", "name"),
    [
        ({"event": ["", ""]}, None, "event"),
        ({"format": ["xml", "xml"]}, None, "format"),
        ({"apiToken": ["{token}", "{token}"]}, None, "apiToken"),
        (None, {"apiToken": ["{token}", "{token}"]}, "apiToken"),
    ],
)
def test_repeated_parameter_is_refused(api, live_site, params, query, name):
    def fill(values):
        if values is None:
            return None
        return {k: [v.format(token=live_site.token) for v in vs] for k, vs in values.items()}

    params, query = fill(params), fill(query)
    if name != "apiToken":
        params["apiToken"] = live_site.token

    result = api.call(live_site.url("event"), params, query=query)

    assert result.status == 400
    assert result.body == error_xml(201, f"parameter '{name}' is repeated; send it once")


def test_unknown_parameters_are_ignored_by_a_resource_that_writes_nothing(api, live_site):
    """Contract §2: real clients send parameters of their own on every call. The call log
    names them (names only), in the order sent."""
    result = api.call(
        live_site.url("event"),
        {"apiToken": live_site.token, "colour": "red", "userKey": "x", "Colour": "", "a b": "1"},
    )

    assert result.body == own_event_xml(live_site)
    row = last_call()
    assert (logged(row), row.ignored_params) == (
        ("POST", live_site.url("event"), "event", 0, 200, public_prefix(live_site.token)),
        "colour, userKey, Colour, a b",
    )


def test_call_log_names_no_ignored_parameter_when_none_was_sent(api, live_site):
    api.call(live_site.url("event"), {"apiToken": live_site.token, "format": "xml"})

    assert last_call().ignored_params == ""


def test_ignored_parameter_names_are_cut_to_fit_the_call_log(api, live_site):
    names = {f"{n:03}" + "x" * 80: "" for n in range(10)}

    result = api.call(live_site.url("event"), {"apiToken": live_site.token, **names})

    assert result.code == 0
    kept = last_call().ignored_params
    assert len(kept) == 500
    assert kept.startswith("000" + "x" * 57 + ", 001" + "x" * 57 + ", ")
    assert kept.endswith("…")


def test_ignored_parameters_are_still_checked_for_what_every_parameter_must_be(api, live_site):
    """Ignored is not unread: a name that is not UTF-8 or that XML cannot carry is still 201."""
    result = api.call(live_site.url("event"), body=f"apiToken={live_site.token}&sn%01=1".encode())

    assert result.body == error_xml(
        201, "a parameter name in the body contains the character U+0001, which XML cannot carry"
    )


def test_unknown_parameter_of_a_writing_resource_without_custom_fields_is_300(api, live_site):
    """Contract §2: on a resource that writes, an undeclared parameter is a custom field code;
    cancelUser.do takes none, so every one is unknown and nothing is written."""
    user = UserFactory(site=live_site.site)

    result = api.call(
        live_site.url("cancelUser"),
        {"apiToken": live_site.token, "userKey": user.user_key, "colour": "red"},
    )

    assert result.body == error_xml(
        300, "parameter 'colour' is not known to cancelUser.do (it takes no custom fields)"
    )
    user.refresh_from_db()
    assert user.status == "active"
    assert (last_call().code, last_call().ignored_params) == (300, "")


def test_parameter_names_are_case_sensitive(api, live_site):
    result = api.call(live_site.url("event"), {"apitoken": live_site.token})

    assert (result.status, result.code) == (401, 100)


@pytest.mark.parametrize(
    "content_type",
    ["text/xml", "application/xml; charset=utf-8", "application/json", "text/plain", ""],
)
def test_form_body_is_parsed_whatever_the_declared_content_type(api, live_site, content_type):
    body = f"apiToken={live_site.token}&event={live_site.event.guid_text}".encode()

    result = api.call(live_site.url("event"), body=body, content_type=content_type)

    assert (result.status, result.body) == (200, own_event_xml(live_site))


def test_multipart_body_is_parsed(api, live_site):
    body = encode_multipart(
        BOUNDARY, {"apiToken": live_site.token, "event": f" {live_site.event.guid_text} "}
    )

    result = api.call(live_site.url("event"), body=body, content_type=MULTIPART_CONTENT)

    assert (result.status, result.body) == (200, own_event_xml(live_site))


def test_multipart_body_with_a_repeated_parameter_is_refused(api, live_site):
    body = encode_multipart(BOUNDARY, {"apiToken": live_site.token, "event": ["all", "all"]})

    result = api.call(live_site.url("event"), body=body, content_type=MULTIPART_CONTENT)

    assert result.body == error_xml(201, "parameter 'event' is repeated; send it once")


def test_multipart_body_with_a_file_is_refused(api, live_site):
    upload = io.BytesIO(b"hello")
    upload.name = "hello.txt"
    body = encode_multipart(BOUNDARY, {"apiToken": live_site.token, "attachment": upload})

    result = api.call(live_site.url("event"), body=body, content_type=MULTIPART_CONTENT)

    assert result.status == 400
    assert result.body == error_xml(201, "file uploads are not accepted ('attachment')")


def test_multipart_body_with_more_than_10000_parameters_is_refused(api, live_site):
    fields = {f"f{i}": "1" for i in range(10_001)}
    body = encode_multipart(BOUNDARY, {"apiToken": live_site.token, **fields})

    result = api.call(live_site.url("event"), body=body, content_type=MULTIPART_CONTENT)

    assert result.status == 400
    assert result.body == error_xml(201, "more than 10000 parameters")


def test_form_body_with_more_than_10000_parameters_is_refused(api, live_site):
    body = f"apiToken={live_site.token}&".encode() + b"&".join([b"a=1"] * 10_000)

    result = api.call(live_site.url("event"), body=body)

    assert result.body == error_xml(201, "more than 10000 parameters")


def test_multipart_body_with_many_files_is_refused(api, live_site):
    files = {}
    for i in range(101):
        files[f"u{i}"] = io.BytesIO(b"x")
        files[f"u{i}"].name = "a.txt"
    body = encode_multipart(BOUNDARY, {"apiToken": live_site.token, **files})

    result = api.call(live_site.url("event"), body=body, content_type=MULTIPART_CONTENT)

    assert result.status == 400
    assert result.body == error_xml(201, "file uploads are not accepted")


def test_multipart_body_without_a_boundary_is_refused(api, live_site):
    result = api.call(live_site.url("event"), body=b"--x\r\n", content_type="multipart/form-data")

    assert result.status == 400
    assert result.body == error_xml(
        201, "multipart body not valid: Invalid boundary in multipart: None"
    )


# --- The token's two places ------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_bearer_token_is_accepted(api, live_site, scheme):
    result = api.call(
        live_site.url("event"), {}, headers={"Authorization": f"{scheme} {live_site.token}"}
    )

    assert (result.status, result.body) == (200, own_event_xml(live_site))
    assert last_call().token_prefix == public_prefix(live_site.token)


def test_bearer_token_and_the_same_api_token_are_accepted(api, live_site):
    result = api.call(
        live_site.url("event"),
        {"apiToken": live_site.token},
        headers={"Authorization": f"Bearer {live_site.token}"},
    )

    assert (result.status, result.code) == (200, 0)


def test_bearer_token_and_a_different_api_token_are_refused(api, live_site, uat_site):
    # Both tokens are valid somewhere; neither is picked silently.
    result = api.call(
        live_site.url("event"),
        {"apiToken": uat_site.token},
        headers={"Authorization": f"Bearer {live_site.token}"},
    )

    assert result.status == 400
    assert result.body == error_xml(201, "apiToken and the Authorization header differ")


def test_other_authorization_schemes_are_not_a_token(api, live_site):
    result = api.call(
        live_site.url("event"), {}, headers={"Authorization": f"Basic {live_site.token}"}
    )

    assert result.body == error_xml(100, "apiToken missing")


# --- Formats ---------------------------------------------------------------------------------


def test_format_json_gives_the_same_content_as_json(api, live_site):
    e = live_site.event

    result = api.call(live_site.url("event"), {"apiToken": live_site.token, "format": "json"})

    assert result.status == 200
    assert result.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(result.body) == {
        "api": {
            "response": {"code": 0, "message": "Success"},
            "event": [
                {
                    "eventGUID": e.guid_text,
                    "code": e.code,
                    "name": e.name,
                    "startDate": None,
                    "endDate": None,
                    "timeZone": e.time_zone,
                    "environment": "production",
                }
            ],
        }
    }
    assert logged(last_call())[3:5] == (0, 200)


def test_format_xml_is_the_default(api, live_site):
    explicit = api.call(live_site.url("event"), {"apiToken": live_site.token, "format": "xml"})
    default = api.call(live_site.url("event"), {"apiToken": live_site.token})

    assert explicit.body == default.body == own_event_xml(live_site)


@pytest.mark.parametrize(
    ("params", "remote_addr", "code", "status", "message"),
    [
        ({}, "127.0.0.1", 100, 401, "apiToken missing"),
        ({"apiToken": "cfo_live_nope"}, "127.0.0.1", 101, 401, "apiToken not valid for this site"),
        ({"apiToken": "{token}"}, "192.0.2.5", 103, 403, "client address 192.0.2.5 is not allowed"),
        (
            {"apiToken": "{token}", "event": "all"},
            "127.0.0.1",
            110,
            403,
            "Account Level Access is off: 'event' may only name this event",
        ),
        (
            {"apiToken": "{token}", "event": "not-a-guid"},
            "127.0.0.1",
            201,
            400,
            "parameter 'event' must be an event GUID or 'all'",
        ),
    ],
)
def test_format_json_gives_errors_as_json(
    api, live_site, params, remote_addr, code, status, message
):
    params = {k: v.format(token=live_site.token) for k, v in params.items()}

    result = api.call(live_site.url("event"), {**params, "format": "json"}, remote_addr=remote_addr)

    assert result.status == status
    assert result.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(result.body) == {"api": {"response": {"code": code, "message": message}}}


def test_format_not_xml_or_json_is_refused(api, live_site):
    result = api.call(live_site.url("event"), {"apiToken": live_site.token, "format": "yaml"})

    assert result.body == error_xml(201, "parameter 'format' must be xml or json")


# --- Never HTML, never a traceback -----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("post", "/{code}/api/event.do", {}),
        ("get", "/{code}/api/event.do", {}),
        ("head", "/{code}/api/event.do", {}),
        ("post", "/{code}/api/nope.do", {}),
        ("post", "/{code}/api/", {}),
        ("post", "/{code}/api/x.json", {}),
        ("post", "/uat/nope/api/event.do", {}),
        ("post", "/a/b/api/event.do", {}),
        ("post", "/{code}/api/event.do", {"body": b"x" * (2 * MiB)}),
        ("post", "/{code}/api/event.do", {"body": b"a=%FF"}),
        (
            "post",
            "/{code}/api/event.do",
            {"body": b"--x\r\nbroken", "content_type": MULTIPART_CONTENT},
        ),
        ("post", "/{code}/api/event.do", {"HTTP_HOST": "evil.example"}),
        ("post", "/{code}/api/event.do", {"headers": {"Authorization": "Bearer"}}),
    ],
)
def test_no_response_is_ever_html(api, live_site, method, path, kwargs):
    result = api.call(path.format(code=live_site.event.code), method=method, **kwargs)

    assert result.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert b"<html" not in result.body.lower()
    if method != "head":
        assert result.body.startswith(DECLARATION + b"<api><response code=")


def test_internal_error_is_answered_with_code_1_and_an_incident_id(
    api, live_site, monkeypatch, caplog
):
    def broken(call):
        raise RuntimeError("secret internals: /srv/confero/db.sqlite3")

    monkeypatch.setitem(REGISTRY, "event", dataclasses.replace(REGISTRY["event"], handler=broken))
    caplog.set_level(logging.INFO)

    result = api.call(live_site.url("event"), {"apiToken": live_site.token})

    assert result.status == 500
    assert result.headers["Content-Type"] == "application/xml; charset=utf-8"
    match = re.fullmatch(
        rb'<\?xml version="1.0" encoding="UTF-8"\?>\n'
        rb'<api><response code="1">Internal error \(incident ([0-9A-F]{12})\)</response></api>',
        result.body,
    )
    assert match, result.body
    incident = match.group(1).decode()
    row = last_call()
    assert logged(row) == (
        "POST",
        live_site.url("event"),
        "event",
        1,
        500,
        public_prefix(live_site.token),
    )
    assert row.incident == incident
    errors = [r for r in caplog.records if r.name == "confero.api"]
    assert len(errors) == 1
    assert incident in errors[0].getMessage()
    assert errors[0].exc_info[0] is RuntimeError  # the traceback goes to the log...
    assert b"Traceback" not in result.body  # ...and not to the client
    assert b"secret internals" not in result.body


def test_internal_error_in_json_is_answered_as_json(api, live_site, monkeypatch):
    def broken(call):
        raise KeyError("x")

    monkeypatch.setitem(REGISTRY, "event", dataclasses.replace(REGISTRY["event"], handler=broken))

    result = api.call(live_site.url("event"), {"apiToken": live_site.token, "format": "json"})

    assert result.status == 500
    response = json.loads(result.body)["api"]["response"]
    assert response["code"] == 1
    assert response["message"] == f"Internal error (incident {last_call().incident})"


def test_disallowed_address_never_reaches_the_token_check(api, live_site):
    """A refused address cannot test tokens: the call log shows no token for it."""
    configure_profile(live_site.site.api_profile, allowed_networks=["10.0.0.0/8"])

    result = api.call(live_site.url("event"), {"apiToken": live_site.token})

    assert (result.status, result.code) == (403, 103)
    assert last_call().token_prefix == ""
