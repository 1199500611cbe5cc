"""Fixtures shared by the whole suite. Calls go through Django's WSGI handler with real
urlencoded bodies, exactly as an integrator's client sends them."""

import datetime as dt
import functools
import os
import threading
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from hypothesis import settings as hypothesis_settings
from lxml import etree

from confero.api.views import SCHEMA_DIR
from tests.factories import EventFactory, open_site, site_of

XML_CONTENT_TYPES = ("application/xml", "text/xml")
_SCHEMA_LOCK = threading.Lock()  # a test may call the API from threads; one error log per schema

pytest_plugins = ["tests.ratelimit_clock"]  # the `clock` fixture of the rate-limit tests


@functools.cache
def response_schema(root: str) -> etree.XMLSchema | None:
    """The XML Schema of a response root: src/confero/api/schema/ROOT.xsd, what /docs/schema/
    serves (contract §6; issue 3). Loaded once per session."""
    path = SCHEMA_DIR / f"{root}.xsd"
    if root == "common" or root.endswith("-record") or not path.is_file():
        return None
    return etree.XMLSchema(etree.parse(str(path)))


# CI runs a fixed set of examples (reproducible, never flaky); a developer's run explores anew.
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")


@dataclass
class ApiResult:
    status: int
    body: bytes
    headers: dict

    def check_schema(self) -> None:
        """Fails the test unless an XML body validates against the schema named after its root.
        JSON (`format=json`) and other non-XML bodies are not checked."""
        if not self.headers.get("Content-Type", "").startswith(XML_CONTENT_TYPES):
            return
        excerpt = self.body[:800].decode("utf-8", "replace")
        try:
            document = etree.fromstring(self.body)
        except etree.XMLSyntaxError as exc:
            pytest.fail(f"the response is not well-formed XML: {exc}\n{excerpt}")
        schema = response_schema(document.tag)
        if schema is None:
            pytest.fail(
                f"no XML Schema for the response root <{document.tag}>: "
                f"add src/confero/api/schema/{document.tag}.xsd\n{excerpt}"
            )
        with _SCHEMA_LOCK:
            valid = schema.validate(document)
            errors = "\n".join(f"  {error.path}: {error.message}" for error in schema.error_log)
        if not valid:
            pytest.fail(
                f"the response does not validate against {document.tag}.xsd:\n{errors}\n{excerpt}"
            )

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
    """POSTs to the integration API. `params` may hold lists for repeated parameters.

    Every XML response is validated against its XML Schema (`ApiResult.check_schema`); a test
    that wants a response the schema must refuse (a feed broken off on purpose) passes
    `validate=False`."""

    waits_for_the_log = True  # see PRODUCTION_DEFAULTS; tests of the batches themselves don't

    def __init__(self, client):
        self.client = client

    def call(
        self,
        path: str,
        params=None,
        *,
        query=None,
        method: str = "post",
        remote_addr="127.0.0.1",
        headers=None,
        body: bytes | None = None,
        content_type="application/x-www-form-urlencoded",
        validate: bool = True,
        **extra,
    ) -> ApiResult:
        url = path + ("?" + urlencode(query, doseq=True) if query else "")
        data = body if body is not None else urlencode(params or {}, doseq=True)
        kwargs = {"REMOTE_ADDR": remote_addr, **extra}
        if headers:
            kwargs["headers"] = headers
        if method == "post":
            response = self.client.generic("POST", url, data, content_type=content_type, **kwargs)
        else:
            response = self.client.generic(method.upper(), url, **kwargs)
        if response.streaming:
            body_bytes = b"".join(response.streaming_content)
        else:
            body_bytes = response.content
        if PRODUCTION_DEFAULTS and self.waits_for_the_log:
            # The server writes a batch once its oldest row is 50 ms old; a test reading the log
            # right after its call waits for that write, as any reader of the log would.
            from confero.api import calllog

            calllog.flush()
        result = ApiResult(response.status_code, body_bytes, dict(response.headers))
        # HEAD answers have no body (the test client drops it); /docs/ serves the schemas.
        if validate and method.lower() != "head" and not path.startswith("/docs/"):
            result.check_schema()
        return result


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
def site(db):
    """A Production site of a new event (the API's tests make it `live_site`'s)."""
    return site_of(EventFactory())


# The suite's Ada: one user every test that needs "a user" starts from.
ADA = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org",
       "client_id": "CRM-1"}  # fmt: skip
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def ada_with(site):
    """`ada_with(**more)`: Ada Lovelace (ada@example.org, clientID CRM-1) on `site`, made by
    people.services.add_user as every way in makes users, with `more` of her (model fields;
    `custom` = {code: value or [values]}, custom values by code, checked as the API checks
    them), created and last modified long ago: any change shows as a later stamp. A test
    module that needs more of her overrides `ada` with it."""
    from confero.api.customvalues import parse_custom_params
    from confero.people.models import User
    from confero.people.services import add_user

    def make(*, custom=None, **more):
        custom = {k: v if isinstance(v, list) else [v] for k, v in (custom or {}).items()}
        assignments = parse_custom_params(site, "user", custom)
        user = add_user(site, fields={**ADA, **more}, assignments=assignments)
        User.objects.filter(pk=user.pk).update(created_at=LONG_AGO, modified_at=LONG_AGO)
        return User.objects.select_related("site__event").get(pk=user.pk)

    return make


@pytest.fixture
def ada(ada_with):
    return ada_with()


@pytest.fixture
def uat_site(live_site) -> OpenSite:
    site, token = open_site(live_site.event, "uat")
    return OpenSite(live_site.event, site, token, "uat")


def pytest_collection_modifyitems(config, items):
    """`postgres_only` tests run in the PostgreSQL pass of `make test`; on SQLite they are
    skipped (with the reason shown), never silently. `once` tests (a server of their own, on
    SQLite whatever the suite's database) run in the SQLite pass only."""
    from django.db import connection

    if connection.vendor == "postgresql":
        marker = "once"
        skip = pytest.mark.skip(reason="its own SQLite server: runs in the SQLite pass only")
    else:
        marker = "postgres_only"
        skip = pytest.mark.skip(reason="needs PostgreSQL: runs in the PostgreSQL pass of make test")
    for item in items:
        if marker in item.keywords:
            item.add_marker(skip)


# `make test` runs the suite once more on PostgreSQL with the production defaults (scripts/
# run_suite.py sets CONFERO_TEST_PRODUCTION_DEFAULTS=1): the admissions kept in memory and the
# call-log batches on, as a server runs. Elsewhere both are off for every test (below).
PRODUCTION_DEFAULTS = os.environ.get("CONFERO_TEST_PRODUCTION_DEFAULTS") == "1"


@pytest.fixture(autouse=True, scope="session")
def _call_log_rows_written_by_their_calls():
    """Every call writes its own call-log row, at once (CONFERO_CALL_LOG_FLUSH_MS=0): the tests
    read the log right after their calls. The batches are tested on their own (tests/api/
    test_calllog_batches.py), and in the production-defaults pass (ApiClient waits for the
    batch of its call, as a reader of the log would)."""
    from django.conf import settings

    if not PRODUCTION_DEFAULTS:
        settings.CONFERO_CALL_LOG_FLUSH_MS = 0


@pytest.fixture(autouse=True)
def _machinery_tests_keep_their_configuration(request, settings):
    """Tests marked `machinery` test the call log's and the gate's own workings under the
    configuration they set up themselves (rows one by one unless they batch, the gate read by
    every call, a count of connections): they keep it in the production-defaults pass too."""
    if PRODUCTION_DEFAULTS and request.node.get_closest_marker("machinery"):
        settings.CONFERO_CALL_LOG_FLUSH_MS = 0
        settings.CONFERO_GATE_CACHE_SECONDS = 0


@pytest.fixture(autouse=True, scope="session")
def _no_connection_left_behind(django_db_setup, django_db_blocker):
    """The connections a server process keeps of its own — the one that listens for changes to
    admissions, the one the call log's thread writes with — are closed before the test database
    is dropped (set up after it, this is torn down before it)."""
    yield
    with django_db_blocker.unblock():
        _close_own_connections()


def _close_own_connections() -> None:
    from confero.access import gatecache
    from confero.api import calllog

    calllog.flush()
    gatecache.reset()


@pytest.fixture(autouse=True, scope="session")
def _gate_read_by_every_call():
    """Every call reads the gate from the database (CONFERO_GATE_CACHE_SECONDS=0): tests change
    tokens and profiles between calls inside their own transactions, which notify nobody. The
    cache is tested on its own (tests/access/test_gatecache.py), and in the production-defaults
    pass (inside a test's transaction the cache is not used; tests that commit see the
    notifications arrive)."""
    from django.conf import settings

    if not PRODUCTION_DEFAULTS:
        settings.CONFERO_GATE_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _fresh_rate_limit_leases():
    """Rate-limit units leased by this process (confero.access.ratelimit.take) belong to the
    test that leased them: token IDs repeat across tests once their rows are rolled back."""
    from confero.access import ratelimit, tokens

    ratelimit.forget_leases()
    tokens.forget_marks()
    yield
    ratelimit.forget_leases()
    tokens.forget_marks()
