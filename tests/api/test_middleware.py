"""api/middleware.py: paths that are API URLs only once letter case, `.` and `..` segments and
repeated slashes are set aside answer 122 in XML, whatever the method; the console's pages and
the reference stay where they are."""

import pytest

from confero.access.models import ApiCall
from confero.api.middleware import looks_like_api
from confero.api.render import DECLARATION

UNKNOWN = (
    "unknown resource: API URLs are /CODE/api/NAME.do and /uat/CODE/api/NAME.do, in lower "
    "case, without '.' or '..' segments"
)


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


@pytest.mark.parametrize(
    "path",
    [
        "/{code}/API/event.do",
        "/{code}/Api/nothing.do",
        "/UAT/{code}/api/event.do",
        "/Uat/{code}/API/event.do",
        "/{CODE}/api/event.do",
        "/uat/{CODE}/api/event.do",
        "/admin/../{code}/api/event.do",
        "/admin/../../{code}/api/event.do",
        "/{code}/./api/event.do",
        "/x/y/../../{code}/api",
        "/{code}//api/event.do",
        # (`//CODE/api/…` too, which the test client cannot send: tests/cli/test_http_edge.py)
    ],
)
@pytest.mark.parametrize("method", ["post", "get"])
def test_api_looking_path_is_answered_with_122(api, live_site, path, method):
    code = live_site.event.code
    url = path.format(code=code, CODE=code.upper())

    result = api.call(url, {"apiToken": live_site.token}, method=method)

    assert (result.status, result.headers["Content-Type"]) == (
        404,
        "application/xml; charset=utf-8",
    )
    assert result.headers["Content-Length"] == str(len(result.body))
    assert result.body == error_xml(122, UNKNOWN)
    assert not ApiCall.objects.exists()  # it names no site


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/demo/api/event.do", True),
        ("/demo/api", True),
        ("/DEMO/API/", True),
        ("/uat/demo/api/x", True),
        ("/admin/../demo/api/event.do", True),
        ("/demo/api/../../admin/", False),
        ("/docs/api", False),  # reserved codes name no event
        ("/DOCS/API/codes", False),
        ("/uat/api/event.do", False),
        ("/admin/", False),
        ("/a/b/api/event.do", False),
        ("/demo/apis/event.do", False),
    ],
)
def test_looks_like_api(path, expected):
    assert looks_like_api(path) is expected


def test_reference_is_still_served(client, db):
    assert client.get("/docs/api").status_code == 200
    assert client.get("/docs/api/codes").json()["codes"][0] == {
        "code": 0,
        "http": 200,
        "meaning": "Success",
    }
