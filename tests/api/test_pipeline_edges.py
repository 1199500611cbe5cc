"""Edges of the pipeline found in review: failed authentications per IPv6 /64, `/CODE/api`
without a slash answering in XML rather than with Django's HTML redirect."""

from confero.access.models import RateCounter
from confero.access.services import configure_profile


def test_failed_authentications_from_one_ipv6_64_share_one_counter(api, live_site, settings):
    settings.CONFERO_AUTH_FAILURE_LIMIT = 2
    configure_profile(live_site.site.api_profile, allowed_networks=["2001:db8:1:2::/64"])
    wrong = "cfo_live_" + "x" * 40

    for host in ("2001:db8:1:2::a", "2001:db8:1:2::b"):
        assert api.call(live_site.url("event"), {"apiToken": wrong}, remote_addr=host).code == 101
    # A third address of the same /64 is over the limit with a wrong token; a valid token from
    # it is not held back (contract §3, amended: failures only).
    failed = api.call(live_site.url("event"), {"apiToken": wrong}, remote_addr="2001:db8:1:2::c")
    valid = api.call(
        live_site.url("event"), {"apiToken": live_site.token}, remote_addr="2001:db8:1:2::c"
    )

    assert (failed.status, failed.code, failed.headers["Retry-After"].isdigit()) == (429, 120, True)
    assert (valid.status, valid.code) == (200, 0)
    assert list(
        RateCounter.objects.filter(scope__startswith="authfail:").values_list("scope", "count")
    ) == [("authfail:2001:db8:1:2::/64", 3)]


def test_failed_authentications_count_per_ipv4_address(api, live_site, settings):
    settings.CONFERO_AUTH_FAILURE_LIMIT = 1
    configure_profile(live_site.site.api_profile, allowed_networks=["192.0.2.0/24"])
    wrong = "cfo_live_" + "x" * 40

    assert (
        api.call(live_site.url("event"), {"apiToken": wrong}, remote_addr="192.0.2.1").code == 101
    )
    result = api.call(
        live_site.url("event"), {"apiToken": live_site.token}, remote_addr="192.0.2.2"
    )

    assert (result.status, result.code) == (200, 0)


def test_api_root_without_a_slash_answers_in_xml(api, live_site):
    for path in (f"/{live_site.event.code}/api", f"/uat/{live_site.event.code}/api"):
        result = api.call(path, {"apiToken": live_site.token})

        assert (result.status, result.code) == (404, 122)
        assert result.headers["Content-Type"] == "application/xml; charset=utf-8"


def test_write_calls_count_against_the_token_whatever_their_outcome(api, live_site):
    from confero.access.models import ApiCall
    from confero.access.services import configure_profile

    # Under 400 calls per window a process leases one unit at a time: the count is exact.
    configure_profile(live_site.site.api_profile, rate_limit_per_minute=100)

    def add(**extra):
        params = {"apiToken": live_site.token, "firstName": "A", "lastName": "B",
                  "email": "a@example.org", **extra}  # fmt: skip
        return api.call(live_site.url("addUser"), params)

    assert add().code == 0
    assert add(nope="x").code == 300  # refused, rolled back: still counted and logged

    token_scope = f"token:{live_site.site.api_profile.tokens.get().pk}"
    assert RateCounter.objects.get(scope=token_scope).count == 2
    assert list(ApiCall.objects.order_by("id").values_list("resource", "code")) == [
        ("addUser", 0),
        ("addUser", 300),
    ]
