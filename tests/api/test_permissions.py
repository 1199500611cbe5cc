"""The permission matrix of the integration API (contract §3, §4).

One table of cases drives one parametrised test. A case arranges a world of two accounts, three
events and their sites, sends one call, and expects the code, the HTTP status, the whole XML body
and the call-log row. Every refusal first shows that something *could* have leaked: the token
really works elsewhere, the other event really exists and is listed to its own token, the address
really is the one refused.
"""

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

import pytest
from django.utils import timezone

from confero.access.models import ApiCall, ApiToken
from confero.access.services import configure_profile
from confero.access.tokens import public_prefix, revoke_token
from confero.api.codes import CODES, http_status
from confero.exhibitors.models import Exhibitor
from confero.messaging.models import Message
from confero.registration.models import Order
from tests.factories import (
    AccountFactory,
    EventFactory,
    ExhibitorFactory,
    MessageFactory,
    OrderFactory,
    UserFactory,
    open_site,
)

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{escape(message)}</response></api>'.encode()


def events_xml(*events, environment: str) -> bytes:
    records = "".join(
        f"<event><eventGUID>{e.guid_text}</eventGUID><code>{e.code}</code><name>{e.name}</name>"
        f"<startDate>{e.start_date}</startDate><endDate>{e.end_date}</endDate>"
        f"<timeZone>{e.time_zone}</timeZone><environment>{environment}</environment></event>"
        for e in events
    )
    return DECLARATION + f'<api><response code="0">Success</response>{records}</api>'.encode()


@dataclass
class Door:
    """One site of the world, opened from 127.0.0.1 and ::1, with one token."""

    event: object
    site: object
    token: str
    environment: str

    def url(self, resource: str = "event") -> str:
        prefix = "/uat/" if self.environment == "uat" else "/"
        return f"{prefix}{self.event.code}/api/{resource}.do"

    @property
    def prefix(self) -> str:
        return public_prefix(self.token)


@dataclass
class World:
    """Account acme owns events alpha and bravo; account umbrella owns event xray."""

    alpha: Door  # Production site of alpha: the calling site of most cases
    alpha_uat: Door
    bravo: Door
    bravo_uat: Door
    xray: Door


@pytest.fixture
def world(db) -> World:
    acme = AccountFactory(slug="acme")
    umbrella = AccountFactory(slug="umbrella")
    dates = {"start_date": dt.date(2026, 11, 24), "end_date": dt.date(2026, 11, 26)}
    alpha = EventFactory(account=acme, code="alpha", name="Alpha Summit", **dates)
    bravo = EventFactory(account=acme, code="bravo", name="Bravo Forum", **dates)
    xray = EventFactory(account=umbrella, code="xray", name="Xray Expo", **dates)

    def door(event, environment="production"):
        site, token = open_site(event, environment)
        return Door(event, site, token, environment)

    return World(
        alpha=door(alpha),
        alpha_uat=door(alpha, "uat"),
        bravo=door(bravo),
        bravo_uat=door(bravo, "uat"),
        xray=door(xray),
    )


@dataclass
class Request:
    url: str
    params: dict
    remote_addr: str = "127.0.0.1"
    extra: dict = field(default_factory=dict)


def send(api, request: Request):
    return api.call(request.url, request.params, remote_addr=request.remote_addr, **request.extra)


def assert_lists(api, door: Door, *events, **params) -> None:
    """The proof that data is there: `door`'s own token gets these events."""
    result = api.call(door.url(), {"apiToken": door.token, **params})
    assert (result.status, result.body) == (200, events_xml(*events, environment=door.environment))


def set_account_level(door: Door, on: bool) -> None:
    configure_profile(door.site.api_profile, account_level_access=on)


# --- Arrangements: each returns the call to make, after proving what could leak ----------------


def own_token_own_site(w: World, api) -> Request:
    return Request(w.alpha.url(), {"apiToken": w.alpha.token})


def uat_token_on_production_url(w: World, api) -> Request:
    assert_lists(api, w.alpha_uat, w.alpha.event)  # the token is valid: on its own (UAT) site
    return Request(w.alpha.url(), {"apiToken": w.alpha_uat.token})


def production_token_on_uat_url(w: World, api) -> Request:
    assert_lists(api, w.alpha, w.alpha.event)
    return Request(w.alpha_uat.url(), {"apiToken": w.alpha.token})


def other_event_guid_without_account_level(w: World, api) -> Request:
    assert_lists(api, w.bravo, w.bravo.event)  # bravo exists, in the same account
    return Request(w.alpha.url(), {"apiToken": w.alpha.token, "event": w.bravo.event.guid_text})


def unknown_guid_without_account_level(w: World, api) -> Request:
    return Request(w.alpha.url(), {"apiToken": w.alpha.token, "event": str(uuid.uuid4())})


def own_guid_without_account_level(w: World, api) -> Request:
    return Request(w.alpha.url(), {"apiToken": w.alpha.token, "event": w.alpha.event.guid_text})


def other_event_guid_with_account_level(w: World, api) -> Request:
    set_account_level(w.alpha, True)
    # Lower case is accepted as well as the upper case the API writes.
    return Request(w.alpha.url(), {"apiToken": w.alpha.token, "event": str(w.bravo.event.guid)})


def other_account_guid_with_account_level(w: World, api) -> Request:
    set_account_level(w.alpha, True)
    assert_lists(api, w.xray, w.xray.event)  # xray exists, in the other account
    return Request(w.alpha.url(), {"apiToken": w.alpha.token, "event": w.xray.event.guid_text})


NOWHERE_GUID = "0D6F3C6A-9A9B-4C3E-8E0F-6B0C2A1D9E77"


def unknown_guid_with_account_level(w: World, api) -> Request:
    set_account_level(w.alpha, True)
    return Request(w.alpha.url(), {"apiToken": w.alpha.token, "event": NOWHERE_GUID})


def event_all_without_account_level(w: World, api) -> Request:
    assert_lists(api, w.bravo, w.bravo.event)
    return Request(w.alpha.url(), {"apiToken": w.alpha.token, "event": "all"})


def event_all_with_account_level(w: World, api) -> Request:
    set_account_level(w.alpha, True)
    assert_lists(api, w.alpha, w.alpha.event, w.bravo.event)  # two events could be listed
    return Request(w.alpha.url(), {"apiToken": w.alpha.token, "event": "all"})


def not_a_guid_with_account_level(w: World, api) -> Request:
    set_account_level(w.alpha, True)
    return Request(w.alpha.url(), {"apiToken": w.alpha.token, "event": "bravo"})


def not_a_guid_without_account_level(w: World, api) -> Request:
    return Request(w.alpha.url(), {"apiToken": w.alpha.token, "event": "alpha"})


def missing_token(w: World, api) -> Request:
    return Request(w.alpha.url(), {})


def unknown_token(w: World, api) -> Request:
    return Request(w.alpha.url(), {"apiToken": "cfo_live_" + "A" * 40})


def token_of_another_account(w: World, api) -> Request:
    assert_lists(api, w.xray, w.xray.event)
    return Request(w.alpha.url(), {"apiToken": w.xray.token})


def revoked_token(w: World, api) -> Request:
    assert_lists(api, w.alpha, w.alpha.event)  # it worked until now
    revoke_token(w.alpha.prefix)
    return Request(w.alpha.url(), {"apiToken": w.alpha.token})


def expired_token(w: World, api) -> Request:
    token = ApiToken.objects.get(prefix=w.alpha.prefix)
    token.expires_at = timezone.now() + dt.timedelta(hours=1)
    token.save()
    assert_lists(api, w.alpha, w.alpha.event)  # it works until it expires
    token.expires_at = timezone.now() - dt.timedelta(seconds=1)
    token.save()
    return Request(w.alpha.url(), {"apiToken": w.alpha.token})


def disabled_profile(w: World, api) -> Request:
    assert_lists(api, w.alpha, w.alpha.event)
    configure_profile(w.alpha.site.api_profile, enabled=False)
    return Request(w.alpha.url(), {"apiToken": w.alpha.token})


def ipv4_outside_allow_list(w: World, api) -> Request:
    assert_lists(api, w.alpha, w.alpha.event)  # the same token, from an allowed address
    return Request(w.alpha.url(), {"apiToken": w.alpha.token}, remote_addr="203.0.113.9")


def ipv6_outside_allow_list(w: World, api) -> Request:
    assert_lists(api, w.alpha, w.alpha.event)
    return Request(w.alpha.url(), {"apiToken": w.alpha.token}, remote_addr="2001:db8::9")


def ipv6_inside_allowed_range(w: World, api) -> Request:
    configure_profile(w.alpha.site.api_profile, allowed_networks=["2001:db8::/32"])
    return Request(w.alpha.url(), {"apiToken": w.alpha.token}, remote_addr="2001:db8:1::9")


def empty_allow_list(w: World, api) -> Request:
    assert_lists(api, w.alpha, w.alpha.event)
    configure_profile(w.alpha.site.api_profile, allowed_networks=[])
    return Request(w.alpha.url(), {"apiToken": w.alpha.token})


def forwarded_for_from_untrusted_peer_is_ignored(w: World, api) -> Request:
    # An allowed peer naming an outside address: the header is not believed either way.
    return Request(
        w.alpha.url(), {"apiToken": w.alpha.token}, extra={"HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    )


def forwarded_for_from_untrusted_peer_cannot_spoof(w: World, api) -> Request:
    assert_lists(api, w.alpha, w.alpha.event)
    return Request(
        w.alpha.url(),
        {"apiToken": w.alpha.token},
        remote_addr="203.0.113.9",
        extra={"HTTP_X_FORWARDED_FOR": "127.0.0.1"},
    )


def forwarded_for_from_trusted_proxy_is_honoured(w: World, api) -> Request:
    return Request(
        w.alpha.url(),
        {"apiToken": w.alpha.token},
        remote_addr="10.0.0.2",
        extra={"HTTP_X_FORWARDED_FOR": "127.0.0.1"},
    )


def trusted_proxy_forwarding_an_outsider(w: World, api) -> Request:
    assert_lists(api, w.alpha, w.alpha.event)
    # The client prepended an allowed address; the right-most untrusted hop is the real client.
    return Request(
        w.alpha.url(),
        {"apiToken": w.alpha.token},
        remote_addr="10.0.0.2",
        extra={"HTTP_X_FORWARDED_FOR": "127.0.0.1, 198.51.100.7, 10.0.0.3"},
    )


def garbled_forwarded_for_from_trusted_proxy(w: World, api) -> Request:
    assert_lists(api, w.alpha, w.alpha.event)
    # Some proxies append "address:port". What lies left of a hop that cannot be read was
    # written by the client, so it must not be taken instead.
    return Request(
        w.alpha.url(),
        {"apiToken": w.alpha.token},
        remote_addr="10.0.0.2",
        extra={"HTTP_X_FORWARDED_FOR": "127.0.0.1, 203.0.113.9:80"},
    )


def control_characters_in_forwarded_for(w: World, api) -> Request:
    return Request(
        w.alpha.url(),
        {"apiToken": w.alpha.token},
        remote_addr="10.0.0.2",
        extra={"HTTP_X_FORWARDED_FOR": "127.0.0.1, ::1\x01<b>"},
    )


def token_of_another_event_of_the_account(w: World, api) -> Request:
    set_account_level(w.bravo, True)  # may name alpha in `event`, but not call alpha's URL
    assert_lists(api, w.bravo, w.alpha.event, event=w.alpha.event.guid_text)
    return Request(w.alpha.url(), {"apiToken": w.bravo.token})


def trusted_proxy_without_forwarded_for(w: World, api) -> Request:
    # The proxy's own address is what is checked; it is not in the allow-list.
    return Request(w.alpha.url(), {"apiToken": w.alpha.token}, remote_addr="10.0.0.2")


IP_REFUSED = "client address {ip} is not allowed"
NOT_THIS_EVENT = "Account Level Access is off: 'event' may only name this event"
NOT_FOR_SITE = "apiToken not valid for this site"
DISABLED = "API access is disabled for this site"
NOT_IN_ACCOUNT = "no event with GUID {w.xray.event.guid_text} in this account"
NOWHERE = f"no event with GUID {NOWHERE_GUID} in this account"
NOT_A_GUID = "parameter 'event' must be an event GUID or 'all'"
NOT_ALL = "event.do does not take event=all"


def own_event(w: World) -> bytes:
    return events_xml(w.alpha.event, environment="production")


def bravo_event(w: World) -> bytes:
    return events_xml(w.bravo.event, environment="production")


@dataclass(frozen=True)
class Case:
    arrange: Callable[[World, object], Request]
    code: int
    status: int
    answer: str | Callable[[World], bytes]  # the message (str.format'ed), or the whole body
    ip: str = "127.0.0.1"  # the client address seen: the call log's, and a 103's message's
    event: str = ""  # what the call log shows as `event`; "{sent}": the value sent
    site: str = "alpha"  # the door of the world whose URL is called

    @property
    def id(self) -> str:
        return self.arrange.__name__

    @property
    def is_authenticated(self) -> bool:
        """Whether the call got past the token check, so that the call log names the token."""
        return self.code not in (100, 101, 103)

    def body(self, w: World) -> bytes:
        if callable(self.answer):
            return self.answer(w)
        return error_xml(self.code, self.answer.format(w=w, ip=self.ip))


# fmt: off
MATRIX = [
    Case(own_token_own_site,                               0, 200, own_event),
    Case(uat_token_on_production_url,                    101, 401, NOT_FOR_SITE),
    Case(production_token_on_uat_url,                    101, 401, NOT_FOR_SITE, site="alpha_uat"),
    Case(token_of_another_event_of_the_account,          101, 401, NOT_FOR_SITE),
    Case(token_of_another_account,                       101, 401, NOT_FOR_SITE),
    Case(own_guid_without_account_level,                   0, 200, own_event, event="{sent}"),
    Case(other_event_guid_without_account_level,         110, 403, NOT_THIS_EVENT, event="{sent}"),
    Case(unknown_guid_without_account_level,             110, 403, NOT_THIS_EVENT, event="{sent}"),
    Case(event_all_without_account_level,                110, 403, NOT_THIS_EVENT, event="all"),
    Case(other_event_guid_with_account_level,              0, 200, bravo_event, event="{sent}"),
    Case(other_account_guid_with_account_level,          111, 404, NOT_IN_ACCOUNT, event="{sent}"),
    Case(unknown_guid_with_account_level,                111, 404, NOWHERE, event=NOWHERE_GUID),
    Case(event_all_with_account_level,                   112, 400, NOT_ALL, event="all"),
    Case(not_a_guid_with_account_level,                  201, 400, NOT_A_GUID, event="bravo"),
    Case(not_a_guid_without_account_level,               201, 400, NOT_A_GUID, event="alpha"),
    Case(missing_token,                                  100, 401, "apiToken missing"),
    Case(unknown_token,                                  101, 401, NOT_FOR_SITE),
    Case(revoked_token,                                  101, 401, NOT_FOR_SITE),
    Case(expired_token,                                  101, 401, NOT_FOR_SITE),
    Case(disabled_profile,                               104, 403, DISABLED),
    Case(ipv4_outside_allow_list,                        103, 403, IP_REFUSED, ip="203.0.113.9"),
    Case(ipv6_outside_allow_list,                        103, 403, IP_REFUSED, ip="2001:db8::9"),
    Case(ipv6_inside_allowed_range,                        0, 200, own_event, ip="2001:db8:1::9"),
    Case(empty_allow_list,                               103, 403, IP_REFUSED),
    Case(forwarded_for_from_untrusted_peer_is_ignored,     0, 200, own_event),
    Case(forwarded_for_from_untrusted_peer_cannot_spoof, 103, 403, IP_REFUSED, ip="203.0.113.9"),
    Case(forwarded_for_from_trusted_proxy_is_honoured,     0, 200, own_event),
    Case(trusted_proxy_forwarding_an_outsider,           103, 403, IP_REFUSED, ip="198.51.100.7"),
    Case(garbled_forwarded_for_from_trusted_proxy,       103, 403, IP_REFUSED, ip="203.0.113.9:80"),
    Case(control_characters_in_forwarded_for,            103, 403, IP_REFUSED, ip="::1?<b>"),
    Case(trusted_proxy_without_forwarded_for,            103, 403, IP_REFUSED, ip="10.0.0.2"),
]
# fmt: on


@pytest.mark.parametrize("case", MATRIX, ids=[case.id for case in MATRIX])
def test_permission_matrix_answers_as_the_contract_says(api, world, settings, case):
    settings.CONFERO_TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = case.arrange(world, api)

    result = send(api, request)

    assert result.status == case.status
    assert result.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert result.body == case.body(world)
    door = getattr(world, case.site)
    row = ApiCall.objects.order_by("-id").values().first()
    assert row.pop("duration_ms") >= 0
    del row["id"], row["time"]
    assert row == {
        "site_id": door.site.pk,
        "profile_id": door.site.api_profile.pk,
        "token_prefix": public_prefix(request.params["apiToken"]) if case.is_authenticated else "",
        "method": "POST",
        "path": request.url,
        "resource": "event",
        "event_param": case.event.format(sent=request.params.get("event", "")),
        "client_ip": case.ip,
        "code": case.code,
        "http_status": case.status,
        "incident": "",
        "ignored_params": "",
    }


def test_permission_matrix_other_account_guid_is_answered_as_a_guid_that_does_not_exist(api, world):
    """111 must not tell an existing GUID of another account from one that exists nowhere."""
    set_account_level(world.alpha, True)
    assert_lists(api, world.xray, world.xray.event)

    foreign = api.call(
        world.alpha.url(), {"apiToken": world.alpha.token, "event": world.xray.event.guid_text}
    )
    nowhere = api.call(world.alpha.url(), {"apiToken": world.alpha.token, "event": NOWHERE_GUID})

    assert (foreign.status, foreign.code) == (nowhere.status, nowhere.code) == (404, 111)
    unnamed = foreign.body.replace(world.xray.event.guid_text.encode(), NOWHERE_GUID.encode())
    assert unnamed == nowhere.body
    assert foreign.headers == nowhere.headers


def test_permission_matrix_other_guid_without_account_level_is_answered_whether_or_not_it_exists(
    api, world
):
    existing = api.call(
        world.alpha.url(), {"apiToken": world.alpha.token, "event": world.bravo.event.guid_text}
    )
    nowhere = api.call(world.alpha.url(), {"apiToken": world.alpha.token, "event": NOWHERE_GUID})

    assert (existing.status, existing.body) == (nowhere.status, nowhere.body)
    assert existing.code == 110


def test_permission_matrix_unknown_event_code_is_answered_as_an_address_not_allowed(api, world):
    """An event code that does not exist looks like a site whose allow-list is empty, so event
    codes cannot be probed, not even with a valid token of another event."""
    configure_profile(world.alpha.site.api_profile, allowed_networks=[])

    existing = api.call(world.alpha.url(), {"apiToken": world.alpha.token})
    missing = api.call("/nosuch/api/event.do", {"apiToken": world.alpha.token})

    assert (existing.status, existing.body) == (missing.status, missing.body)
    assert missing.body == error_xml(103, "client address 127.0.0.1 is not allowed")
    row = ApiCall.objects.order_by("-id").first()
    assert (row.site_id, row.profile_id, row.path, row.code, row.http_status, row.token_prefix) == (
        None,
        None,
        "/nosuch/api/event.do",
        103,
        403,
        "",
    )


def test_permission_matrix_ipv4_client_through_ipv6_socket_is_seen_as_ipv4(api, world):
    result = api.call(
        world.alpha.url(), {"apiToken": world.alpha.token}, remote_addr="::ffff:127.0.0.1"
    )

    assert (result.status, result.code) == (200, 0)
    assert ApiCall.objects.order_by("-id").first().client_ip == "127.0.0.1"


def test_permission_matrix_account_level_stays_in_its_environment(api, world):
    """With Account Level Access on UAT, another event's GUID reaches that event's UAT site."""
    set_account_level(world.alpha_uat, True)

    result = api.call(
        world.alpha_uat.url(),
        {"apiToken": world.alpha_uat.token, "event": world.bravo.event.guid_text},
    )

    assert result.body == events_xml(world.bravo.event, environment="uat")


# --- The order resources (contract §8.7): the same doors, each site's data its own -------------


@dataclass
class Orders:
    """Kat on alpha and Zed on bravo, each with an order numbered RS-1 (numbers are unique per
    site only)."""

    kat: object
    zed: object
    alpha_order: object
    bravo_order: object


@pytest.fixture
def orders(world) -> Orders:
    kat = UserFactory(site=world.alpha.site, first_name="Kat")
    zed = UserFactory(site=world.bravo.site, first_name="Zed")
    return Orders(
        kat=kat,
        zed=zed,
        alpha_order=OrderFactory(user=kat, order_number="RS-1"),
        bravo_order=OrderFactory(user=zed, order_number="RS-1"),
    )


ORDER_RESOURCES = ("addOrder", "updateOrder", "cancelOrder", "orderData", "orderFeed")


def order_params(resource: str, o: Orders) -> dict:
    """What succeeds on alpha's Production site, with alpha's identifiers."""
    return {
        "addOrder": {"userKey": o.kat.user_key, "item": "Day pass|10.00"},
        "updateOrder": {"orderId": str(o.alpha_order.pk), "amountPaid": "5.00"},
        "cancelOrder": {"orderId": str(o.alpha_order.pk)},
        "orderData": {"userRef": o.kat.user_ref},
        "orderFeed": {},
    }[resource]


@dataclass(frozen=True)
class OrderCase:
    id: str
    door: str  # whose URL is called
    token: str  # whose token
    event: str = ""  # `event`: "all", or a door whose event GUID is sent
    account_level: bool = False
    remote_addr: str = "127.0.0.1"
    codes: dict = field(default_factory=dict)  # resource → code, for those not 0
    fed: tuple = ()  # the users whose orders orderFeed.do lists, when it succeeds


ALL_101 = dict.fromkeys(ORDER_RESOURCES, 101)
NOT_HERE = {"addOrder": 210, "updateOrder": 250, "cancelOrder": 250, "orderData": 210}
# fmt: off
ORDER_MATRIX = [
    OrderCase("own_token_own_site", "alpha", "alpha", fed=("kat",)),
    OrderCase("uat_token_on_production_url", "alpha", "alpha_uat", codes=ALL_101),
    OrderCase("token_of_another_event_of_the_account", "alpha", "bravo", codes=ALL_101),
    OrderCase("ipv4_outside_allow_list", "alpha", "alpha", remote_addr="203.0.113.9",
              codes=dict.fromkeys(ORDER_RESOURCES, 103)),
    OrderCase("event_all_without_account_level", "alpha", "alpha", event="all",
              codes=dict.fromkeys(ORDER_RESOURCES, 110)),
    OrderCase("event_all_with_account_level", "alpha", "alpha", event="all", account_level=True,
              codes=dict.fromkeys(ORDER_RESOURCES[:4], 112), fed=("kat", "zed")),
    OrderCase("other_event_guid_with_account_level_reaches_only_its_data", "alpha", "alpha",
              event="bravo", account_level=True, codes=NOT_HERE, fed=("zed",)),
    OrderCase("uat_site_does_not_hold_production_data", "alpha_uat", "alpha_uat",
              codes=NOT_HERE, fed=()),
]
# fmt: on


@pytest.mark.parametrize("resource", ORDER_RESOURCES)
@pytest.mark.parametrize("case", ORDER_MATRIX, ids=[case.id for case in ORDER_MATRIX])
def test_permission_matrix_of_the_order_resources(api, world, orders, case, resource):
    if case.account_level:
        set_account_level(getattr(world, case.door), True)
    params = {"apiToken": getattr(world, case.token).token, **order_params(resource, orders)}
    if case.event:
        params["event"] = (
            "all" if case.event == "all" else getattr(world, case.event).event.guid_text
        )
    before = (orders.alpha_order.pk, orders.bravo_order.pk)

    result = api.call(getattr(world, case.door).url(resource), params, remote_addr=case.remote_addr)

    code = case.codes.get(resource, 0)
    assert (result.status, result.code) == (CODES[code].http_status, code)
    row = ApiCall.objects.order_by("-id").first()
    assert (row.resource, row.code, row.http_status) == (resource, code, result.status)
    if resource == "orderFeed" and code == 0:
        users = {"kat": orders.kat.user_ref, "zed": orders.zed.user_ref}
        listed = [order.findtext("userRef") for order in result.xml.findall("order")]
        assert listed == [users[name] for name in case.fed]
    if code != 0 and resource in ("updateOrder", "cancelOrder"):
        assert Order.objects.filter(pk__in=before, amount_paid=0, cancelled_at=None).count() == 2


# --- The resources of exhibitors and messages (contract §8.4, §8.5) ------------------------------
# The same world; alpha holds Ada and Grace (Ada on the staff of exhibitor ACME-1), a message
# from Ada to Grace. Each case calls one resource in one situation and expects its code; a
# refused call leaves the data as it was (and the data is there: the own-token case shows it).

NAMED_BY_OTHERS = {"updateExhibitor": 230, "sendMessage": 210, "messages": 210,
                   "markMessageRead": 210}  # fmt: skip
RECORD_RESOURCES = (
    "addExhibitor", "updateExhibitor", "exhibitorData", "sendMessage", "messages",
    "markMessageRead",
)  # fmt: skip


@dataclass(frozen=True)
class Alpha:
    ada: object
    grace: object
    exhibitor: object
    message: object


@pytest.fixture
def alpha_data(world) -> Alpha:
    site = world.alpha.site
    ada, grace = UserFactory(site=site), UserFactory(site=site)
    exhibitor = ExhibitorFactory(site=site, exhibitor_code="ACME-1", participants=[(ada, "")])
    return Alpha(ada, grace, exhibitor, MessageFactory(sender=ada, recipient=grace))


def record_params(resource: str, data: Alpha) -> dict:
    return {
        "addExhibitor": {"name": "New", "exhibitorCode": "NEW"},
        "updateExhibitor": {"exhibitorCode": "ACME-1", "booth": "Z9"},
        "exhibitorData": {},
        "sendMessage": {
            "userKey": data.ada.user_key,
            "toUserRef": data.grace.user_ref,
            "body": "x",
        },
        "messages": {"userKey": data.ada.user_key},
        "markMessageRead": {"userKey": data.grace.user_key, "messageID": data.message.pk},
    }[resource]


def record_state() -> tuple:
    return (
        list(Exhibitor.objects.order_by("pk").values_list("site_id", "exhibitor_code", "booth")),
        list(Message.objects.order_by("pk").values_list("site_id", "body", "read_at")),
    )


# situation → (how the call is made, the code for each resource: one code, or a dict)
SITUATIONS = {
    "own_token": ("alpha", {}, 0),
    "uat_token_on_production_url": ("alpha_uat_token", {}, 101),
    "token_of_another_account": ("xray_token", {}, 101),
    "other_event_without_account_level": ("alpha", {"event": "bravo"}, 110),
    "event_all_without_account_level": ("alpha", {"event": "all"}, 110),
    "event_all_with_account_level": ("alpha+ala", {"event": "all"}, {"exhibitorData": 0}, 112),
    "other_account_event_with_account_level": ("alpha+ala", {"event": "xray"}, 111),
    "other_event_with_account_level": ("alpha+ala", {"event": "bravo"}, NAMED_BY_OTHERS, 0),
}
RECORD_MATRIX = [(r, s) for r in RECORD_RESOURCES for s in SITUATIONS]


def expected_code(resource: str, situation: str) -> int:
    _, _, codes, *default = SITUATIONS[situation]
    return codes.get(resource, default[0]) if isinstance(codes, dict) else codes


@pytest.mark.parametrize(("resource", "situation"), RECORD_MATRIX,
                         ids=[f"{r}-{s}" for r, s in RECORD_MATRIX])  # fmt: skip
def test_permission_matrix_of_exhibitor_and_message_resources(
    api, world, alpha_data, resource, situation
):
    how, event, *_ = SITUATIONS[situation]
    token = {"alpha_uat_token": world.alpha_uat.token, "xray_token": world.xray.token}.get(
        how, world.alpha.token
    )
    if how == "alpha+ala":
        set_account_level(world.alpha, True)
    named = {"bravo": world.bravo.event.guid_text, "xray": world.xray.event.guid_text}
    params = {"apiToken": token, **record_params(resource, alpha_data)}
    if event:
        params["event"] = named.get(event["event"], event["event"])
    before = record_state()

    result = api.call(world.alpha.url(resource), params)

    code = expected_code(resource, situation)
    assert (result.code, result.status) == (code, http_status(code)), result.body
    row = ApiCall.objects.order_by("-id").first()
    assert (row.resource, row.code, row.site_id) == (resource, code, world.alpha.site.pk)
    if code != 0 or resource in ("exhibitorData", "messages"):
        assert record_state() == before
    elif situation == "other_event_with_account_level":  # addExhibitor: on bravo's site
        assert record_state()[0][-1] == (world.bravo.site.pk, "NEW", "")
    if code == 0 and resource == "exhibitorData":  # bravo has no exhibitor
        assert (b"ACME-1" in result.body) == (situation != "other_event_with_account_level")
    if code == 0 and resource == "messages":
        assert alpha_data.grace.user_ref.encode() in result.body


# --- The programme's resources (issue 14): every one behind the same checks ---------------------

PROGRAMME_RESOURCES = {
    # resource: (takes event=all, acts as a user)
    "addSession": (False, False),
    "updateSession": (False, False),
    "addSessionTime": (False, False),
    "updateSessionTime": (False, False),
    "cancelSessionTime": (False, False),
    "sessionData": (True, False),
    "sessionCapacity": (True, False),
    "speakerData": (True, False),
    "scheduleXml": (False, False),
    "scheduleSession": (False, True),
    "unscheduleSession": (False, True),
    "userSchedule": (False, True),
    "userSessions": (False, True),
    "userAgenda": (False, True),
}
# Valid declared parameters: they are checked before `event` (docs/api.md, the order of checks).
REQUIRED = {
    "addSession": {"title": "Keynote"},
    "addSessionTime": {"sessionID": "1", "date": "2026-06-01", "time": "10:00", "length": "60"},
    "updateSessionTime": {"sessionTimeID": "1"},
    "cancelSessionTime": {"sessionTimeID": "1"},
}
ARRANGEMENTS = ["uat_token", "other_event_without_account_level", "event_all", "user_ref"]


def _programme_case(world: World, arrangement: str, resource: str) -> tuple[Request, int]:
    all_ok, acts = PROGRAMME_RESOURCES[resource]
    params = {"apiToken": world.alpha.token, **REQUIRED.get(resource, {})}
    if arrangement == "uat_token":
        return Request(
            world.alpha.url(resource), {**params, "apiToken": world.alpha_uat.token}
        ), 101
    if arrangement == "other_event_without_account_level":
        params["event"] = world.bravo.event.guid_text
        return Request(world.alpha.url(resource), params), 110
    if arrangement == "event_all":
        set_account_level(world.alpha, True)
        return Request(world.alpha.url(resource), {**params, "event": "all"}), 0 if all_ok else 112
    params["userRef"] = "0123456789ABCDEF"
    assert acts
    return Request(world.alpha.url(resource), params), 212


PROGRAMME_CASES = [
    (resource, arrangement)
    for resource in sorted(PROGRAMME_RESOURCES)
    for arrangement in ARRANGEMENTS
    if arrangement != "user_ref" or PROGRAMME_RESOURCES[resource][1]
]


@pytest.mark.parametrize(("resource", "arrangement"), PROGRAMME_CASES)
def test_permission_matrix_of_the_programme_resources(api, world, resource, arrangement):
    request, code = _programme_case(world, arrangement, resource)

    result = send(api, request)

    assert result.code == code, result.body
    row = ApiCall.objects.order_by("-id").first()
    assert (row.resource, row.code, row.site_id) == (resource, code, world.alpha.site.pk)
