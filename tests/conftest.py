"""Fixtures shared by the whole suite. Calls go through Django's WSGI handler with real
urlencoded bodies, exactly as an integrator's client sends them."""

from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from lxml import etree

from tests.factories import EventFactory, open_site


@dataclass
class ApiResult:
    status: int
    body: bytes
    headers: dict

    @property
    def xml(self) -> etree._Element:
        return etree.fromstring(self.body)

    @property
    def code(self) -> int:
        return int(self.xml.find("response").get("code"))

    @property
    def message(self) -> str:
        return self.xml.find("response").text or ""


class ApiClient:
    """POSTs to the integration API. `params` may hold lists for repeated parameters."""

    def __init__(self, client):
        self.client = client

    def call(self, path: str, params=None, *, query=None, method: str = "post", remote_addr="127.0.0.1",
             headers=None, body: bytes | None = None, content_type="application/x-www-form-urlencoded",
             **extra) -> ApiResult:
        url = path + ("?" + urlencode(query, doseq=True) if query else "")
        data = body if body is not None else urlencode(params or {}, doseq=True)
        kwargs = {"REMOTE_ADDR": remote_addr, **extra}
        if headers:
            kwargs["headers"] = headers
        if method == "post":
            response = self.client.generic("POST", url, data, content_type=content_type, **kwargs)
        else:
            response = self.client.generic(method.upper(), url, **kwargs)
        body_bytes = b"".join(response.streaming_content) if response.streaming else response.content
        return ApiResult(response.status_code, body_bytes, dict(response.headers))


@pytest.fixture
def api(client) -> ApiClient:
    return ApiClient(client)


@dataclass
class OpenSite:
    event: object
    site: object
    token: str
    environment: str

    @property
    def base(self) -> str:
        return ("/uat/" if self.environment == "uat" else "/") + f"{self.event.code}/api/"

    def url(self, resource: str) -> str:
        return f"{self.base}{resource}.do"


@pytest.fixture
def live_site(db) -> OpenSite:
    """A Production site allowing 127.0.0.1 and ::1, with one token."""
    event = EventFactory()
    site, token = open_site(event)
    return OpenSite(event, site, token, "production")


@pytest.fixture
def uat_site(live_site) -> OpenSite:
    site, token = open_site(live_site.event, "uat")
    return OpenSite(live_site.event, site, token, "uat")
