"""The browser tests' machinery: Debian's chromium driven by Playwright against pytest-django's
live server, a page that fails the test on any 5xx, screenshots, logging in, calling the API.
The fixtures are offered to tests/console through its conftest.py.

Without /usr/bin/chromium the browser tests are skipped, loudly — and fail when CI or
CONFERO_REQUIRE_BROWSER is set. Screenshots of the key pages go to var/screenshots/
(CONFERO_SCREENSHOTS overrides it), kept by CI as artifacts.
"""

import os
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from lxml import etree

from tests.factories import PLANNER_PASSWORD

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("CONFERO_SCREENSHOTS", ROOT / "var" / "screenshots"))
# The live server on IPv4 loopback: API calls come from 127.0.0.1, and the browser's clipboard
# works there (a secure context, like localhost).
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")


def _required() -> bool:
    return any(
        os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
        for name in ("CI", "CONFERO_REQUIRE_BROWSER")
    )


@pytest.fixture(scope="session")
def chromium():
    if not os.access(CHROMIUM, os.X_OK):
        message = (
            f"{CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium "
            "fonts-liberation"
        )
        if _required():
            pytest.fail(message + " (required: CI or CONFERO_REQUIRE_BROWSER is set)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make
    # between browser steps are plain synchronous calls all the same.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,  # a fresh user-data directory
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(chromium, live_server, monkeypatch):
    """A fresh page; every answer the server gives it is kept, and none may be a 5xx."""
    from django.db import connections

    # The browser keeps its connections to the live server open between requests, and with them
    # the server threads' database connections: closed at the end of each request instead, so
    # none is left when the test database is dropped.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    chromium.clear_cookies()
    chromium.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    tab = chromium.new_page()
    tab.set_default_timeout(15_000)
    answers = []
    tab.on("response", lambda response: answers.append((response.status, response.url)))
    tab.base = live_server.url
    yield tab
    tab.close()
    errors = [(status, url) for status, url in answers if status >= 500]
    assert not errors, f"server errors: {errors}"


def shot(tab, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(tab, username: str) -> None:
    tab.goto(tab.base + "/manage/")
    tab.fill("#id_username", username)
    tab.fill("#id_password", PLANNER_PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(tab.base + "/manage/")


def api_document(base: str, path: str, **params) -> etree._Element:
    """POSTs to the live server's API; the answer's XML document."""
    data = urllib.parse.urlencode(params, doseq=True).encode()
    request = urllib.request.Request(base + path, data=data, method="POST")  # noqa: S310 (the live server, http:)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (the live server, http:)
            body = response.read()
    except urllib.error.HTTPError as refused:
        body = refused.read()
    return etree.fromstring(body)


def api(base: str, path: str, **params) -> int:
    """POSTs to the live server's API; the response code."""
    return int(api_document(base, path, **params).find("response").get("code"))
