"""The `confero` command (issue 2, Build 5): thin over the same services as the API and console.
Most tests call `confero.cli.main([...])` in-process (on the test database); one runs the
installed console script against a fresh database of its own."""

import datetime as dt
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from confero.access.models import ApiProfile, ApiToken
from confero.access.tokens import public_prefix
from confero.cli import main
from confero.events.models import Account, Event, Site
from tests.factories import EventFactory, site_of

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
BAD_CODE = "confero: code: 3\N{EN DASH}40 lowercase letters, digits or '-'"
TOKEN = re.compile(r"cfo_(test|live)_[0-9A-Za-z]{32,}")


def run(capsys, *argv: str) -> list[str]:
    """Runs `confero ARGV…` and returns the lines it printed on stdout."""
    main(list(argv))
    return capsys.readouterr().out.splitlines()


def refused(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def call(api, url: str, token: str, **params):
    return api.call(url, {"apiToken": token, **params})


def allow(capsys, event: str, site: str, *entries: str) -> None:
    """`confero profile … --allow-add` for each entry (token create no longer changes it)."""
    run(capsys, "profile", "--event", event, "--site", site,
        *(arg for entry in entries for arg in ("--allow-add", entry)))  # fmt: skip


# --- event create ----------------------------------------------------------------------------


def test_event_create_prints_the_guid_and_creates_both_sites(db, capsys):
    lines = run(
        capsys,
        "event",
        "create",
        "--code",
        "summit-26",
        "--name",
        " Summit 2026 ",
        "--account",
        "acme",
        "--timezone",
        "America/Chicago",
        "--start",
        "2026-11-24",
        "--end",
        "2026-11-26",
    )

    event = Event.objects.get()
    assert lines == [event.guid_text]
    assert uuid.UUID(lines[0]) == event.guid
    assert (event.account.slug, event.code, event.name, event.time_zone) == (
        "acme",
        "summit-26",
        "Summit 2026",
        "America/Chicago",
    )
    assert (event.start_date, event.end_date) == (dt.date(2026, 11, 24), dt.date(2026, 11, 26))
    sites = Site.objects.filter(event=event).order_by("environment")
    assert [s.environment for s in sites] == ["production", "uat"]
    profiles = ApiProfile.objects.filter(site__event=event).values_list(
        "enabled", "account_level_access", "allowed_networks"
    )
    assert list(profiles) == [(True, False, []), (True, False, [])]  # nobody may call yet
    assert ApiToken.objects.count() == 0


def test_event_create_uses_an_existing_account(db, capsys):
    EventFactory(account__slug="acme", code="first")

    run(capsys, "event", "create", "--code", "second", "--name", "Second", "--account", "acme")

    assert Account.objects.count() == 1
    assert sorted(Account.objects.get().events.values_list("code", flat=True)) == [
        "first",
        "second",
    ]


def test_event_create_defaults_to_the_default_account_and_utc(db, capsys):
    run(capsys, "event", "create", "--code", "plain", "--name", "Plain")

    event = Event.objects.get()
    assert (event.account.slug, event.time_zone, event.start_date) == ("default", "UTC", None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--code", "api", "--name", "X"], "confero: code: 'api' is reserved"),
        (["--code", "Big", "--name", "X"], BAD_CODE),
        (["--code", "ab", "--name", "X"], BAD_CODE),
        (
            ["--code", "taken", "--name", "X"],
            "confero: code: an event with code 'taken' exists already",
        ),
        (
            ["--code", "tz-x", "--name", "X", "--timezone", "Mars/Olympus"],
            "confero: timezone: unknown time zone 'Mars/Olympus'",
        ),
        (
            ["--code", "late", "--name", "X", "--start", "2026-11-26", "--end", "2026-11-24"],
            "confero: end: the end date is before the start date",
        ),
        (["--code", "blank", "--name", "  "], "confero: name: must not be empty"),
    ],
)
def test_event_create_with_invalid_input_exits_with_2_and_creates_nothing(
    db, capsys, args, message
):
    EventFactory(code="taken")

    err = refused(capsys, "event", "create", *args)

    assert err.strip() == message
    assert Event.objects.count() == 1
    assert Site.objects.count() == 2


# --- token create / revoke -------------------------------------------------------------------


def test_token_create_prints_the_token_alone_on_the_last_line_and_it_works(api, db, capsys):
    event = EventFactory(code="summit")
    allow(capsys, "summit", "production", "127.0.0.1", "::1")

    lines = run(
        capsys,
        "token",
        "create",
        "--event",
        "summit",
        "--site",
        "production",
        "--label",
        "registration",
    )

    plain = lines[-1]
    assert TOKEN.fullmatch(plain)
    assert plain.startswith("cfo_live_")
    assert plain not in "\n".join(lines[:-1])
    assert lines[0] == (
        f"site: summit · Production  prefix: {public_prefix(plain)}  "
        "allowed from: 127.0.0.1/32, ::1/128"
    )
    token = ApiToken.objects.get()
    assert (token.label, token.prefix, token.expires_at, token.revoked_at) == (
        "registration",
        public_prefix(plain),
        None,
        None,
    )
    result = call(api, "/summit/api/event.do", plain)
    assert (result.status, result.code) == (200, 0)
    assert result.xml.findtext("event/eventGUID") == event.guid_text
    ipv6 = api.call("/summit/api/event.do", {"apiToken": plain}, remote_addr="::1")
    assert ipv6.code == 0


def test_token_create_for_uat_gives_a_test_token_for_the_uat_site_only(api, db, capsys):
    EventFactory(code="summit")
    allow(capsys, "summit", "uat", "127.0.0.1")

    plain = run(capsys, "token", "create", "--event", "summit", "--site", "uat")[-1]

    allow(capsys, "summit", "production", "127.0.0.1")
    assert plain.startswith("cfo_test_")
    assert call(api, "/uat/summit/api/event.do", plain).code == 0
    assert call(api, "/summit/api/event.do", plain).code == 101


def test_token_create_without_allow_says_nobody_may_call(api, db, capsys):
    EventFactory(code="summit")

    lines = run(capsys, "token", "create", "--event", "summit", "--site", "production")

    assert lines[0].endswith("allowed from: nobody (confero profile --allow-add CIDR)")
    result = call(api, "/summit/api/event.do", lines[-1])
    assert result.body == (
        DECLARATION + b'<api><response code="103">client address 127.0.0.1 '
        b"is not allowed</response></api>"
    )


def test_token_create_with_account_level_switches_it_on(api, db, capsys):
    first = EventFactory(code="first", account__slug="acme")
    second = EventFactory(code="second", account__slug="acme")
    allow(capsys, "first", "production", "127.0.0.1")

    plain = run(
        capsys, "token", "create", "--event", "first", "--site", "production", "--account-level"
    )[-1]

    assert site_of(first).api_profile.account_level_access is True
    result = call(api, "/first/api/event.do", plain)
    assert [e.text for e in result.xml.iter("eventGUID")] == [first.guid_text, second.guid_text]


def test_token_create_with_expiry_expires(api, db, capsys):
    EventFactory(code="summit")
    yesterday = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
    tomorrow = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)).isoformat()
    allow(capsys, "summit", "production", "127.0.0.1")
    base = ["token", "create", "--event", "summit", "--site", "production"]

    expired = run(capsys, *base, "--expires", yesterday)[-1]
    valid = run(capsys, *base, "--expires", tomorrow)[-1]

    assert call(api, "/summit/api/event.do", expired).code == 101
    assert call(api, "/summit/api/event.do", valid).code == 0
    token = ApiToken.objects.get(prefix=public_prefix(valid))
    assert token.expires_at == dt.datetime.fromisoformat(tomorrow).replace(tzinfo=dt.UTC)


def test_token_create_for_an_unknown_event_exits_with_2(db, capsys):
    err = refused(capsys, "token", "create", "--event", "nope", "--site", "uat")

    assert err.strip() == "confero: event: no event with code 'nope'"
    assert ApiToken.objects.count() == 0


def test_token_create_with_allow_exits_with_2_and_changes_nothing(db, capsys):
    """`--allow` used to replace the allow-list, locking out every client allowed before."""
    event = EventFactory(code="summit")
    allow(capsys, "summit", "uat", "192.0.2.1")

    err = refused(
        capsys, "token", "create", "--event", "summit", "--site", "uat", "--allow", "127.0.0.1"
    )

    assert err.strip() == (
        "confero: allow: token create no longer changes the allow-list; use "
        "`confero profile --event summit --site uat --allow-add CIDR`"
    )
    assert ApiToken.objects.count() == 0
    assert site_of(event, "uat").api_profile.allowed_networks == ["192.0.2.1/32"]


def test_token_create_leaves_the_allow_list_as_it_is(api, db, capsys):
    EventFactory(code="summit")
    allow(capsys, "summit", "production", "127.0.0.1")
    first = run(capsys, "token", "create", "--event", "summit", "--site", "production")[-1]

    second = run(capsys, "token", "create", "--event", "summit", "--site", "production")[-1]

    assert profile().allowed_networks == ["127.0.0.1/32"]
    assert (call(api, "/summit/api/event.do", first).code,
            call(api, "/summit/api/event.do", second).code) == (0, 0)  # fmt: skip


def test_token_revoke_by_prefix_revokes_that_token_only(api, db, capsys):
    EventFactory(code="summit")
    allow(capsys, "summit", "production", "127.0.0.1")
    base = ["token", "create", "--event", "summit", "--site", "production"]
    doomed, kept = run(capsys, *base)[-1], run(capsys, *base)[-1]
    assert call(api, "/summit/api/event.do", doomed).code == 0

    lines = run(capsys, "token", "revoke", public_prefix(doomed))

    assert lines == [f"revoked {public_prefix(doomed)} (summit · Production)"]
    assert call(api, "/summit/api/event.do", doomed).code == 101
    assert call(api, "/summit/api/event.do", kept).code == 0
    assert ApiToken.objects.get(prefix=public_prefix(doomed)).revoked_at is not None


def test_token_revoke_with_the_whole_token_revokes_it(api, db, capsys):
    EventFactory(code="summit")
    allow(capsys, "summit", "production", "127.0.0.1")
    plain = run(capsys, "token", "create", "--event", "summit", "--site", "production")[-1]

    lines = run(capsys, "token", "revoke", plain)

    assert lines == [f"revoked {public_prefix(plain)} (summit · Production)"]
    assert call(api, "/summit/api/event.do", plain).code == 101


def test_token_revoke_of_an_unknown_prefix_exits_with_2(db, capsys):
    err = refused(capsys, "token", "revoke", "cfo_live_ABCDEFGH")

    assert err.strip() == "confero: prefix: no token with prefix 'cfo_live_ABCDEFGH'"


# --- profile ---------------------------------------------------------------------------------


@pytest.fixture
def summit(db, capsys):
    """Event `summit` with a Production token allowed from 127.0.0.1; returns the token."""
    EventFactory(code="summit", account__slug="acme")
    EventFactory(code="sibling", account__slug="acme")
    allow(capsys, "summit", "production", "127.0.0.1")
    return run(capsys, "token", "create", "--event", "summit", "--site", "production")[-1]


def profile() -> ApiProfile:
    return ApiProfile.objects.get(site__event__code="summit", site__environment="production")


def test_profile_allow_replace_replaces_the_allow_list(api, summit, capsys):
    lines = run(
        capsys,
        "profile",
        "--event",
        "summit",
        "--site",
        "production",
        "--allow-replace",
        "192.0.2.0/24",
        "--allow-replace",
        "2001:db8::/32",
    )

    assert profile().allowed_networks == ["192.0.2.0/24", "2001:db8::/32"]
    assert lines == [
        "summit · Production: enabled=on account-level=off "
        "allow=192.0.2.0/24,2001:db8::/32 rate-limit=default"
    ]
    assert call(api, "/summit/api/event.do", summit).code == 103  # 127.0.0.1 is gone
    from_range = api.call("/summit/api/event.do", {"apiToken": summit}, remote_addr="192.0.2.77")
    assert from_range.code == 0


def test_profile_allow_add_adds_entries_and_keeps_the_others(api, summit, capsys):
    lines = run(
        capsys, "profile", "--event", "summit", "--site", "production",
        "--allow-add", "192.0.2.0/24", "--allow-add", "127.0.0.1", "--allow-add", "2001:db8::1",
    )  # fmt: skip

    assert profile().allowed_networks == ["127.0.0.1/32", "192.0.2.0/24", "2001:db8::1/128"]
    assert lines == [
        "summit · Production: enabled=on account-level=off "
        "allow=127.0.0.1/32,192.0.2.0/24,2001:db8::1/128 rate-limit=default"
    ]
    assert call(api, "/summit/api/event.do", summit).code == 0
    assert api.call("/summit/api/event.do", {"apiToken": summit}, remote_addr="192.0.2.9").code == 0


def test_profile_allow_remove_takes_out_an_entry_named_either_way(api, summit, capsys):
    allow(capsys, "summit", "production", "192.0.2.0/24", "10.0.0.1")

    run(capsys, "profile", "--event", "summit", "--site", "production",
        "--allow-remove", "127.0.0.1", "--allow-remove", "10.0.0.1/32")  # fmt: skip

    assert profile().allowed_networks == ["192.0.2.0/24"]
    assert call(api, "/summit/api/event.do", summit).code == 103


def test_profile_allow_remove_of_an_entry_not_in_the_list_changes_nothing(summit, capsys):
    err = refused(capsys, "profile", "--event", "summit", "--site", "production",
                  "--allow-remove", "127.0.0.1", "--allow-remove", "10.9.9.9",
                  "--enabled", "off")  # fmt: skip

    assert err.strip() == "confero: allow: '10.9.9.9/32' is not in the allow-list"
    assert (profile().allowed_networks, profile().enabled) == (["127.0.0.1/32"], True)


def test_profile_allow_none_empties_the_allow_list(api, summit, capsys):
    lines = run(capsys, "profile", "--event", "summit", "--site", "production", "--allow-none")

    assert profile().allowed_networks == []
    assert lines[0].endswith("allow=(nobody) rate-limit=default")
    assert call(api, "/summit/api/event.do", summit).code == 103


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--allow", "10.0.0.1"],
         "confero: allow: --allow is gone: use --allow-add, --allow-remove or --allow-replace"),
        (["--allow-add", "10.0.0.300"],
         "confero: allow: '10.0.0.300' is not an IPv4/IPv6 address or CIDR range"),
        (["--allow-replace", "10.0.0.1", "--allow-add", "10.0.0.2"],
         "confero: allow: replace the list, or add and remove entries: not both at once"),
        (["--allow-replace", "10.0.0.1", "--allow-none"],
         "confero: allow: --allow-replace and --allow-none contradict each other"),
    ],
)  # fmt: skip
def test_profile_refused_allow_options_change_nothing(summit, capsys, args, message):
    err = refused(capsys, "profile", "--event", "summit", "--site", "production", *args)

    assert err.strip() == message
    assert profile().allowed_networks == ["127.0.0.1/32"]


def test_profile_without_allow_keeps_the_allow_list(api, summit, capsys):
    run(capsys, "profile", "--event", "summit", "--site", "production", "--account-level", "on")

    assert profile().allowed_networks == ["127.0.0.1/32"]
    assert call(api, "/summit/api/event.do", summit).code == 0


def test_profile_account_level_on_and_off(api, summit, capsys):
    sibling = Event.objects.get(code="sibling")
    naming_sibling = {"event": sibling.guid_text}

    run(capsys, "profile", "--event", "summit", "--site", "production", "--account-level", "on")
    on = call(api, "/summit/api/event.do", summit, **naming_sibling)
    run(capsys, "profile", "--event", "summit", "--site", "production", "--account-level", "off")
    off = call(api, "/summit/api/event.do", summit, **naming_sibling)

    assert (on.code, on.xml.findtext("event/eventGUID")) == (0, sibling.guid_text)
    assert (off.status, off.code) == (403, 110)
    assert profile().account_level_access is False


def test_profile_enabled_off_refuses_with_104_and_on_admits_again(api, summit, capsys):
    lines = run(capsys, "profile", "--event", "summit", "--site", "production", "--enabled", "off")
    disabled = call(api, "/summit/api/event.do", summit)
    run(capsys, "profile", "--event", "summit", "--site", "production", "--enabled", "on")
    enabled = call(api, "/summit/api/event.do", summit)

    assert lines[0].startswith("summit · Production: enabled=off ")
    assert (disabled.status, disabled.body) == (
        403,
        DECLARATION
        + (b'<api><response code="104">API access is disabled for this site</response></api>'),
    )
    assert (enabled.status, enabled.code) == (200, 0)
    assert ApiToken.objects.get().revoked_at is None  # disabling revoked nothing


def test_profile_changes_one_site_only(api, summit, capsys):
    run(
        capsys,
        "profile",
        "--event",
        "summit",
        "--site",
        "uat",
        "--enabled",
        "off",
        "--allow-add",
        "10.0.0.1",
    )

    uat = ApiProfile.objects.get(site__event__code="summit", site__environment="uat")
    assert (uat.enabled, uat.allowed_networks) == (False, ["10.0.0.1/32"])
    assert (profile().enabled, profile().allowed_networks) == (True, ["127.0.0.1/32"])
    assert call(api, "/summit/api/event.do", summit).code == 0


def test_profile_rate_limit_sets_and_resets_the_override(summit, capsys):
    run(capsys, "profile", "--event", "summit", "--site", "production", "--rate-limit", "5")
    five = profile().rate_limit_per_minute
    lines = run(capsys, "profile", "--event", "summit", "--site", "production", "--rate-limit", "0")

    assert (five, profile().rate_limit_per_minute) == (5, None)
    assert lines[0].endswith("rate-limit=default")


@pytest.mark.parametrize("value", ["yes", "ON", "1"])
def test_profile_on_off_takes_only_on_or_off(summit, capsys, value):
    with pytest.raises(SystemExit) as exit_info:
        main(["profile", "--event", "summit", "--site", "production", "--enabled", value])

    assert exit_info.value.code == 2  # argparse's usage error
    assert "on or off" in capsys.readouterr().err
    assert profile().enabled is True


# --- demo ------------------------------------------------------------------------------------


def demo_tokens(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        if match := re.match(r"\s+(Production|UAT) token \(shown once\):\s+(\S+)$", line):
            found[match.group(1)] = match.group(2)
    return found


def test_demo_is_idempotent(api, db, capsys):
    first = run(capsys, "demo")
    second = run(capsys, "demo", "--url", "http://127.0.0.1:8123/")

    assert Account.objects.filter(slug="demo").count() == Account.objects.count() == 1
    event = Event.objects.get()
    assert (event.code, event.account.slug) == ("demo", "demo")
    assert Site.objects.filter(event=event).count() == 2
    assert get_user_model().objects.filter(username="demo").count() == 1
    old, new = demo_tokens(first), demo_tokens(second)
    assert set(old) == set(new) == {"Production", "UAT"}
    for kind, url in (("Production", "/demo/api/event.do"), ("UAT", "/uat/demo/api/event.do")):
        assert call(api, url, old[kind]).code == 101  # replaced, so revoked
        result = call(api, url, new[kind])
        assert (result.code, result.xml.findtext("event/eventGUID")) == (0, event.guid_text)
        assert api.call(url, {"apiToken": new[kind]}, remote_addr="::1").code == 0
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 2
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 2
    assert f"  Event GUID:     {event.guid_text}" in second
    assert (
        f"  curl -s -X POST -d apiToken={new['Production']} http://127.0.0.1:8123/demo/api/event.do"
    ) in second


def test_demo_prints_a_login_that_works(client, db, capsys):
    lines = run(capsys, "demo")

    login = next(line for line in lines if "login:" in line)
    username, password = login.split("login: ")[1].split(" / ")
    assert username == "demo"
    assert client.login(username=username, password=password)
    assert client.get("/manage/events/demo/").status_code == 200  # a planner of the demo account
    assert client.get("/admin/").status_code == 302  # Django admin is for superusers


def test_demo_restores_a_demo_profile_changed_since(api, db, capsys):
    run(capsys, "demo")
    run(
        capsys,
        "profile",
        "--event",
        "demo",
        "--site",
        "production",
        "--enabled",
        "off",
        "--allow-replace",
        "10.0.0.1",
    )

    tokens = demo_tokens(run(capsys, "demo"))

    assert call(api, "/demo/api/event.do", tokens["Production"]).code == 0


def test_demo_keeps_tokens_that_are_not_demo_tokens(api, db, capsys):
    run(capsys, "demo")
    own = run(
        capsys,
        "token",
        "create",
        "--event",
        "demo",
        "--site",
        "production",
        "--label",
        "my-integration",
    )[-1]

    run(capsys, "demo")

    assert call(api, "/demo/api/event.do", own).code == 0


# --- The installed command -------------------------------------------------------------------


def test_console_script_runs_against_a_fresh_database(tmp_path):
    """`confero` as installed: demo migrates a new database, then event and token work on it."""
    confero = Path(sys.executable).parent / "confero"
    env = {**os.environ, "CONFERO_DATA_DIR": str(tmp_path), "CONFERO_SECRET_KEY": "test"}
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def confero_run(*argv):
        return subprocess.run(
            [str(confero), *argv], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    demo = confero_run("demo")
    created = confero_run("event", "create", "--code", "cli-check", "--name", "CLI check")
    token = confero_run("token", "create", "--event", "cli-check", "--site", "uat")
    bad = confero_run("event", "create", "--code", "uat", "--name", "Reserved")

    assert demo.returncode == 0, demo.stderr
    assert "Confero demo is ready." in demo.stdout
    assert (created.returncode, bool(re.fullmatch(r"[0-9A-F-]{36}\n", created.stdout))) == (0, True)
    assert token.returncode == 0
    assert TOKEN.fullmatch(token.stdout.splitlines()[-1])
    assert (bad.returncode, bad.stderr) == (2, "confero: code: 'uat' is reserved\n")
    assert (tmp_path / "confero.sqlite3").exists()


def test_demo_keeps_allow_list_entries_added_since(api, db, capsys):
    run(capsys, "demo")
    allow(capsys, "demo", "production", "192.0.2.0/24")

    tokens = demo_tokens(run(capsys, "demo"))

    profile = site_of(Event.objects.get(code="demo")).api_profile
    assert profile.allowed_networks == ["127.0.0.1/32", "::1/128", "192.0.2.0/24"]
    assert call(api, "/demo/api/event.do", tokens["Production"]).code == 0
