"""The console in a real browser: Debian's chromium, driven by Playwright, against a live server
started by the suite (pytest-django's `live_server`, static files included). What a planner does,
checked where it matters — in the API's answers.

Marked `browser`: `make test` runs them in passes of their own, on SQLite and on PostgreSQL
(scripts/run_suite.py).
Without /usr/bin/chromium they are skipped, loudly — and fail when CI or CONFERO_REQUIRE_BROWSER
is set. Screenshots of the key pages go to var/screenshots/ (CONFERO_SCREENSHOTS overrides it),
kept by CI as artifacts.
"""

import pytest

from confero.access.models import ApiToken
from confero.customfields.models import CustomField
from confero.people.models import User
from confero.programme.models import SessionTime
from confero.programme.services import schedule_session, set_speakers
from tests.console.browser import api, log_in, shot
from tests.factories import (
    AccountFactory,
    EventFactory,
    ExhibitorFactory,
    OrderFactory,
    PackageFactory,
    PlannerFactory,
    SessionFactory,
    SessionTimeFactory,
    UserFactory,
    open_site,
    site_of,
)

pytestmark = pytest.mark.browser


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
    included). The sites hold a record of each kind — a session with a time and a seat, an
    exhibitor with staff, an order, a catalogue, on both sites (so copying has a preview to
    show) — so every record's pages are reached. Also the remaining screenshots."""
    alpha = site_of(world["alpha"])
    CustomField.objects.create(site=alpha, record_type="user", code="tier", display_name="Tier",
                               field_type="choice")  # fmt: skip
    ada = User.objects.get()
    for site in (alpha, site_of(world["alpha"], "uat")):
        session = SessionFactory(site=site, abbreviation="KEY", title=f"Keynote {site.pk}")
        time = SessionTimeFactory(session=session, capacity=1, waitlist=True)
        ExhibitorFactory(site=site, name="Acme Robotics")
        PackageFactory(site=site, code="DINNER")
    schedule_session(ada, time := SessionTime.objects.filter(site=alpha).get())
    set_speakers(time.session, [(ada, "chair")])
    ExhibitorFactory(site=alpha, name="Globex", participants=[(ada, "sales")])
    OrderFactory(user=ada, items=["DINNER"], order_number="ORD-1")
    log_in(page, "planner")

    seen, queue = set(), [page.base + "/manage/events/alpha/"]
    while queue and len(seen) < 160:
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
    session = time.session
    for name, path in [
        ("08-users", "/manage/events/alpha/production/users/"),
        ("09-user", f"/manage/events/alpha/production/users/{ada.user_ref}/"),
        ("10-call-log", "/manage/events/alpha/calls/"),
        ("11-copy-configuration", "/manage/events/alpha/settings/copy/"),
        ("17-sessions", "/manage/events/alpha/production/sessions/"),
        ("18-exhibitors", "/manage/events/alpha/production/exhibitors/"),
        ("19-catalogue", "/manage/events/alpha/production/orders/catalogue/"),
        ("20-session-speakers", f"/manage/events/alpha/production/sessions/{session.pk}/speakers/"),
    ]:
        page.goto(page.base + path)
        shot(page, name)

    paths = {url.removeprefix(page.base).split("?")[0] for url in seen}
    base = "/manage/events/alpha/production/"
    assert {"/manage/password/", "/manage/events/alpha/calls/",
            f"{base}users/new/", "/manage/events/alpha/uat/fields/new/",
            f"{base}sessions/{session.pk}/times/{time.pk}/",
            f"{base}sessions/{session.pk}/times/{time.pk}/edit/",
            f"{base}sessions/{session.pk}/files/", f"{base}exhibitors/new/",
            f"{base}orders/catalogue/", "/manage/events/alpha/uat/orders/"} <= paths  # fmt: skip
    assert len([p for p in paths if "/exhibitors/" in p and p.endswith("/staff/")]) == 3
    assert len(paths) >= 50
