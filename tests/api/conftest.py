"""Fixtures for the user and custom-field resources (issue 3). Custom fields get into the test
site the way they get into any site: by importing a configuration file (custom_fields.json)."""

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.utils import timezone

from confero.access import ratelimit
from confero.access.models import ApiToken
from confero.customfields import cache, config
from confero.customfields.models import CustomField
from confero.people.models import User
from tests.factories import PackageFactory, RegistrationTypeFactory

FIELDS_FILE = Path(__file__).with_name("custom_fields.json")
EXHIBITOR_FIELDS_FILE = Path(__file__).with_name("exhibitor_fields.json")


def import_test_fields(site, path: Path = FIELDS_FILE) -> dict[str, CustomField]:
    config.import_fields(site, config.load(str(path)))
    return {field.code: field for field in CustomField.objects.filter(site=site)}


@pytest.fixture
def site(live_site):
    """The site of the API's tests: the live one (the suite's `ada` is made on it)."""
    return live_site.site


@pytest.fixture
def fields(live_site) -> dict[str, CustomField]:
    """The fields of custom_fields.json on the live site, by code."""
    return import_test_fields(live_site.site)


@pytest.fixture
def exhibitor_fields(live_site) -> dict[str, CustomField]:
    """The fields of exhibitor_fields.json on the live site (exhibitors' only), by code."""
    return import_test_fields(live_site.site, EXHIBITOR_FIELDS_FILE)


@dataclass
class SiteApi:
    """Calls one site's API with its token; `params` values may be lists (repeated)."""

    api: object
    site: object  # tests.conftest.OpenSite

    def call(self, resource: str, params=None, **kwargs):
        return self.api.call(
            self.site.url(resource), {"apiToken": self.site.token, **(params or {})}, **kwargs
        )

    def add_user(self, **params):
        """addUser.do with a valid name and email unless given; asserts success."""
        result = self.call(
            "addUser",
            {
                "firstName": "Ada",
                "lastName": "Lovelace",
                "email": f"user{User.objects.count()}@example.org",
                **params,
            },
        )
        assert (result.status, result.code, result.message) == (200, 0, "Success")
        return User.objects.get(user_ref=result.xml.findtext("userRef"))


@pytest.fixture
def live(api, live_site) -> SiteApi:
    return SiteApi(api, live_site)


@pytest.fixture
def assert_api_queries(django_assert_num_queries, monkeypatch):
    """django_assert_num_queries for API calls, without the pipeline's occasional writes: the
    rate limiter prunes old windows on 1 call in 1,000, and a token's last use is written at
    most once a minute. The call counted leases a fresh block of rate-limit units (one upsert),
    as the first call of a process in each window does. Pinned counts are about the resources,
    so both are kept out. The process's custom-field cache starts cold, so loading the
    definitions is counted."""
    monkeypatch.setattr(ratelimit, "random", SimpleNamespace(random=lambda: 1.0))

    def counting(number: int):
        ApiToken.objects.update(last_used_at=timezone.now())
        cache.forget()
        ratelimit.forget_leases()  # the counted call leases its rate-limit units: one upsert
        return django_assert_num_queries(number)

    return counting


@pytest.fixture
def catalogue(live_site) -> SimpleNamespace:
    """What the live site sells (contract §8.7): a VIP pass, a guest dinner (a package for a
    companion) and a Speaker registration type, for codes to grant."""
    site = live_site.site
    return SimpleNamespace(
        vip=PackageFactory(site=site, code="VIP", name="VIP pass", price="450.00"),
        dinner=PackageFactory(
            site=site, code="DINNER", name="Guest dinner", price="80.00", for_guest=True
        ),
        speaker=RegistrationTypeFactory(site=site, code="SPEAKER", name="Speaker", price="0.00"),
    )


# --- Programme (issue 14): sessions, times and scheduling through the API --------------------


@dataclass
class ProgrammeApi:
    """Adds sessions and times through the API of one site, asserting success."""

    live: SiteApi

    def session(self, **params) -> int:
        result = self.live.call("addSession", {"title": "Keynote", **params})
        assert (result.status, result.code) == (200, 0), result.body
        return int(result.xml.findtext("sessionID"))

    def time(self, session_id: int, **params) -> int:
        result = self.live.call(
            "addSessionTime",
            {"sessionID": session_id, "date": "2026-06-01", "time": "10:00", "length": "60",
             **params},
        )  # fmt: skip
        assert (result.status, result.code) == (200, 0), result.body
        return int(result.xml.findtext("sessionTime/sessionTimeID"))

    def schedule(self, user: User, time_id: int):
        return self.live.call(
            "scheduleSession", {"userKey": user.user_key, "sessionTimeID": time_id}
        )


@pytest.fixture
def programme(live) -> ProgrammeApi:
    return ProgrammeApi(live)


@pytest.fixture
def access_field(live_site) -> CustomField:
    """A multichoice profile field of the live site: a value of each constraint type and one
    without (users and sessions hold them alike)."""
    from confero.customfields.services import ValueSpec, create_field

    return create_field(
        live_site.site,
        record_type="profile",
        code="access",
        display_name="Access",
        field_type="multichoice",
        values=[
            ValueSpec("pv", constraint="publicViewPrivateSchedule"),
            ValueSpec("pp", constraint="privateViewPrivateSchedule"),
            ValueSpec("cn", constraint="cannotViewOrSchedule"),
            ValueSpec("plain"),
        ],
    )
