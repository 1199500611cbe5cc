"""The console in a real browser: Debian's chromium, driven by Playwright, against a live server
started by the suite (pytest-django's `live_server`, static files included). What a planner does,
checked where it matters — in the API's answers.

Marked `browser`: `make test` runs them in passes of their own, on SQLite and on PostgreSQL
(scripts/run_suite.py).
Without /usr/bin/chromium they are skipped, loudly — and fail when CI or CONFERO_REQUIRE_BROWSER
is set. Screenshots of the key pages go to var/screenshots/ (CONFERO_SCREENSHOTS overrides it),
kept by CI as artifacts.
"""

import os
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from lxml import etree

from confero.access.models import ApiToken
from confero.customfields.models import CustomField
from confero.people.models import User
from tests.factories import (
    PLANNER_PASSWORD,
    AccountFactory,
    EventFactory,
    PlannerFactory,
    UserFactory,
    open_site,
    site_of,
)

pytestmark = pytest.mark.browser

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


def api(base: str, path: str, **params) -> int:
    """POSTs to the live server's API; the response code."""
    data = urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(base + path, data=data, method="POST")  # noqa: S310 (the live server, http:)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (the live server, http:)
            body = response.read()
    except urllib.error.HTTPError as refused:
        body = refused.read()
    return int(etree.fromstring(body).find("response").get("code"))


@pytest.fixture
def world(transactional_db):
    acme = AccountFactory(slug="acme", name="Acme")
    alpha = EventFactory(code="alpha", account=acme, name="Alpha Summit")
    sibling = EventFactory(code="sibling", account=acme, name="Sibling Forum")
    beta = EventFactory(code="beta", account=AccountFactory(slug="globex"), name="Beta Expo")
    _, token = open_site(alpha)
    UserFactory(site=site_of(alpha), first_name="Ada", last_name="Lovelace",
                email="ada@example.org")  # fmt: skip
    planner = PlannerFactory(username="planner", accounts=[acme])
    return {"alpha": alpha, "sibling": sibling, "beta": beta, "token": token, "planner": planner}


def test_account_level_access_switched_on_lets_a_call_name_another_event(page, world):
    naming = {"apiToken": world["token"], "event": world["sibling"].guid_text}
    before = api(page.base, "/alpha/api/event.do", **naming)
    log_in(page, "planner")

    page.click("text=Alpha Summit")
    shot(page, "01-event-manage")
    page.click("nav.side >> text=Settings")
    page.click("text=APIs")
    shot(page, "02-settings-apis")
    page.locator("section.site-card.production >> text=API profile").click()
    page.check("#id_account_level_access")
    page.click("form.profile-form button[type=submit]")
    page.wait_for_selector("ul.messages")
    shot(page, "03-api-profile")

    assert (before, api(page.base, "/alpha/api/event.do", **naming)) == (110, 0)


def test_allow_list_entry_added_lets_a_call_from_it_pass(page, world):
    profile = site_of(world["alpha"]).api_profile
    profile.allowed_networks = ["10.0.0.0/8"]
    profile.save()
    before = api(page.base, "/alpha/api/event.do", apiToken=world["token"])
    log_in(page, "planner")

    page.goto(page.base + "/manage/events/alpha/settings/apis/production/")
    page.fill("#id_allowed_networks", "10.0.0.0/8\n127.0.0.300")
    page.click("form.profile-form button[type=submit]")
    error = page.locator("p.error").inner_text()
    page.fill("#id_allowed_networks", "10.0.0.0/8\n127.0.0.1")
    page.click("form.profile-form button[type=submit]")
    page.wait_for_selector("ul.messages")

    assert error.startswith("line 2: '127.0.0.300' is not an IPv4/IPv6 address or a CIDR range")
    assert (before, api(page.base, "/alpha/api/event.do", apiToken=world["token"])) == (103, 0)


def test_token_created_copied_used_and_revoked(page, world):
    log_in(page, "planner")
    page.goto(page.base + "/manage/events/alpha/settings/apis/production/")

    page.fill("#id_label", "badge printer")
    page.click("form.token-form button[type=submit]")
    shown = page.locator("#new-token").inner_text()
    page.click("section.issued button.copy")
    page.wait_for_selector("section.issued button.copy.done")
    copied = page.evaluate("navigator.clipboard.readText()")
    shot(page, "04-token-created")
    used = api(page.base, "/alpha/api/event.do", apiToken=copied)
    prefix = ApiToken.objects.get(label="badge printer").prefix
    page.goto(page.base + "/manage/events/alpha/settings/apis/production/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"tr:has-text('{prefix}') button:has-text('Revoke')").click()
    page.wait_for_selector("ul.messages")

    assert copied == shown
    assert copied.startswith(prefix)
    assert (used, api(page.base, "/alpha/api/event.do", apiToken=copied)) == (0, 101)
    assert copied not in page.content()


def test_choice_field_created_with_values_is_taken_by_adduser(page, world):
    log_in(page, "planner")
    page.goto(page.base + "/manage/events/alpha/production/fields/")
    page.click("text=New field")

    page.fill("#id_code", "track")
    page.fill("#id_display_name", "Track")
    page.select_option("#id_field_type", "choice")
    page.fill("#id_values", "dev | Developers\nops | Operations")
    page.click("main form button[type=submit]")
    page.wait_for_selector("table.values")
    shot(page, "05-custom-field")
    ids = page.locator("table.values tbody tr td:first-child").all_inner_texts()

    field = CustomField.objects.get(code="track")
    assert [int(i) for i in ids] == list(field.values.values_list("pk", flat=True))
    added = api(page.base, "/alpha/api/addUser.do", apiToken=world["token"], firstName="Grace",
                lastName="Hopper", email="grace@example.org", track="ops")  # fmt: skip
    assert added == 0


def test_planner_cannot_change_a_set_code_nor_see_another_accounts_event(page, world):
    field = CustomField.objects.create(
        site=site_of(world["alpha"]), record_type="user", code="badge", display_name="Badge",
        field_type="text",
    )  # fmt: skip
    log_in(page, "planner")

    page.goto(page.base + f"/manage/events/alpha/production/fields/{field.pk}/")
    has_code_input = page.locator("input[name=code][value=badge]").count()
    has_change_link = page.locator("a:has-text('Change code')").count()
    recode = page.goto(page.base + f"/manage/events/alpha/production/fields/{field.pk}/code/")
    listed = page.goto(page.base + "/manage/")
    events = page.locator("table.list tbody td:first-child").all_inner_texts()
    foreign = page.goto(page.base + "/manage/events/beta/")
    shot(page, "06-another-accounts-event")

    assert (has_code_input, has_change_link, recode.status) == (0, 0, 403)
    assert listed.status == 200
    assert events == ["Alpha Summit", "Sibling Forum"]
    assert foreign.status == 404
    assert "Beta Expo" not in page.content()


def test_csv_import_with_a_bad_row_names_it_and_writes_nothing(page, world, tmp_path):
    csv_file = tmp_path / "people.csv"
    csv_file.write_text(
        "firstName,lastName,email\nGrace,Hopper,grace@example.org\nAlan,Turing,not-an-email\n"
    )
    log_in(page, "planner")
    page.goto(page.base + "/manage/events/alpha/production/users/")
    page.click("text=Import CSV")

    page.set_input_files("#id_file", str(csv_file))
    page.click("main form button[type=submit]")
    page.wait_for_selector("table.refused")
    shot(page, "07-csv-preview")
    refused = page.locator("table.refused tbody tr td").all_inner_texts()
    import_all = page.locator("button[value=all]").count()

    assert refused == [
        "3",
        "201",
        "parameter 'email' must be an email address",
        "parameter value not valid (message names parameter and rule)",
    ]
    assert import_all == 0
    assert list(User.objects.values_list("email", flat=True)) == ["ada@example.org"]


def test_every_console_page_answers_without_a_server_error(page, world):
    """Every page the console links to, followed from the event's Manage page until none is new
    (downloads aside): none answers 5xx (the `page` fixture checks every answer, static files
    included). Also the remaining screenshots."""
    alpha = site_of(world["alpha"])
    CustomField.objects.create(site=alpha, record_type="user", code="tier", display_name="Tier",
                               field_type="choice")  # fmt: skip
    log_in(page, "planner")

    seen, queue = set(), [page.base + "/manage/events/alpha/"]
    while queue and len(seen) < 80:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        answer = page.goto(url)
        assert answer.status < 500, url
        links = page.locator("a[href]").evaluate_all("links => links.map(a => a.href)")
        queue.extend(
            link.split("#")[0] for link in links
            if link.startswith(page.base + "/manage/") and not link.endswith(".csv")
            and "logout" not in link
        )  # fmt: skip
    for name, path in [
        ("08-users", "/manage/events/alpha/production/users/"),
        ("09-user", f"/manage/events/alpha/production/users/{User.objects.get().user_ref}/"),
        ("10-call-log", "/manage/events/alpha/calls/"),
        ("11-copy-configuration", "/manage/events/alpha/settings/copy/"),
    ]:
        page.goto(page.base + path)
        shot(page, name)

    paths = {url.removeprefix(page.base).split("?")[0] for url in seen}
    assert {"/manage/password/", "/manage/events/alpha/calls/",
            "/manage/events/alpha/production/users/new/",
            "/manage/events/alpha/uat/fields/new/"} <= paths  # fmt: skip
    assert len(paths) >= 20
