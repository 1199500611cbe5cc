"""The planner's events, an event's Manage page, its Settings and its APIs (both sites side by
side, with their full API URLs and API profiles)."""

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from confero.console.views.base import event_page, page, planner
from confero.people.models import UserStatus


@planner
def events(request: HttpRequest) -> HttpResponse:
    found = list(request.scope.events())
    return page(
        request,
        "console/events.html",
        {"events": found, "accounts": request.scope.accounts()},
    )


def site_cards(request: HttpRequest, event) -> list[dict]:
    """Both sites, UAT first: API URL, profile and active tokens."""
    cards = []
    sites = request.scope.sites(event)
    active = {
        row["profile_id"]: row["n"]
        for row in request.scope.tokens_of_event(event)
        .filter(revoked_at__isnull=True)
        .values("profile_id")
        .annotate(n=Count("id"))
    }
    for site in sites:
        profile = site.api_profile
        cards.append(
            {
                "site": site,
                "profile": profile,
                "api_url": request.build_absolute_uri(site.api_base),
                "active_tokens": active.get(profile.pk, 0),
                "profile_url": reverse(
                    "console:profile", kwargs={"code": event.code, "env": site.environment}
                ),
            }
        )
    return cards


@event_page
def event(request: HttpRequest, event) -> HttpResponse:
    cards = site_cards(request, event)
    for card in cards:
        counts = request.scope.users(card["site"]).aggregate(
            active=Count("id", filter=Q(status=UserStatus.ACTIVE)),
            cancelled=Count("id", filter=Q(status=UserStatus.CANCELLED)),
        )
        card.update(counts)
    return page(
        request,
        "console/event.html",
        {"cards": cards},
        event=event,
        section="manage",
        crumbs=(("Manage", None),),
    )


@event_page
def settings(request: HttpRequest, event) -> HttpResponse:
    return page(
        request,
        "console/settings.html",
        {},
        event=event,
        section="settings",
        crumbs=(
            ("Manage", reverse("console:event", kwargs={"code": event.code})),
            ("Settings", None),
        ),
    )


@event_page
def apis(request: HttpRequest, event) -> HttpResponse:
    return page(
        request,
        "console/apis.html",
        {"cards": site_cards(request, event)},
        event=event,
        section="settings",
        crumbs=(*settings_crumbs(event), ("APIs", None)),
    )


def settings_crumbs(event) -> tuple:
    return (
        ("Manage", reverse("console:event", kwargs={"code": event.code})),
        ("Settings", reverse("console:settings", kwargs={"code": event.code})),
    )


def apis_crumbs(event) -> tuple:
    return (*settings_crumbs(event), ("APIs", reverse("console:apis", kwargs={"code": event.code})))
