"""What every console page shares: the login check, the planner's scope, the event and site of
the URL, the navigation, and pages for "not found" and "not allowed" in the console's look."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from confero.console.scope import Scope
from confero.events.models import Environment


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    section: str  # a per-site section is also the URL name of its list (the site switch)
    per_site: bool = False


# The event's navigation.
EVENT_NAV = (
    NavItem("Manage", "console:event", "manage"),
    NavItem("Users", "console:users", "users", per_site=True),
    NavItem("Sessions", "console:sessions", "sessions", per_site=True),
    NavItem("Exhibitors", "console:exhibitors", "exhibitors", per_site=True),
    NavItem("Orders", "console:orders", "orders", per_site=True),
    NavItem("Custom fields", "console:fields", "fields", per_site=True),
    NavItem("API call log", "console:calls", "calls"),
    NavItem("Settings", "console:settings", "settings"),
)


def planner(view: Callable) -> Callable:
    """Logged-in users only (others go to the login page); gives the view `request.scope`.
    A 404 raised anywhere below is answered with the console's own page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not (request.user.is_authenticated and request.user.is_active):
            return redirect_to_login(request.get_full_path(), reverse("console:login"))
        request.scope = Scope(request.user)
        try:
            return view(request, *args, **kwargs)
        except Http404:
            return render(request, "console/not_found.html", status=404)

    return wrapper


def event_page(view: Callable) -> Callable:
    """The URL's `code` becomes the event (in scope, else 404)."""

    @planner
    @wraps(view)
    def wrapper(request: HttpRequest, code: str, *args, **kwargs) -> HttpResponse:
        return view(request, request.scope.event(code), *args, **kwargs)

    return wrapper


def site_page(view: Callable) -> Callable:
    """The URL's `code` and `env` become the event's site in that environment."""

    @planner
    @wraps(view)
    def wrapper(request: HttpRequest, code: str, env: str, *args, **kwargs) -> HttpResponse:
        event = request.scope.event(code)
        return view(request, request.scope.site(event, env), *args, **kwargs)

    return wrapper


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "console/forbidden.html", {"message": message}, status=403)


def _nav(event, section: str, environment: str) -> list[dict]:
    items = []
    for item in EVENT_NAV:
        kwargs = {"code": event.code}
        if item.per_site:
            kwargs["env"] = environment
        url = reverse(item.url_name, kwargs=kwargs)
        items.append({"label": item.label, "url": url, "active": item.section == section})
    return items


def page(
    request: HttpRequest,
    template: str,
    context: dict | None = None,
    *,
    event=None,
    site=None,
    section: str = "",
    crumbs: tuple = (),
    status: int = 200,
) -> HttpResponse:
    """Renders a console page. `crumbs`: (label, url or None) after Events › event."""
    environment = site.environment if site is not None else Environment.PRODUCTION
    trail = [("Events", reverse("console:events"))]
    if event is not None:
        trail.append((event.name, reverse("console:event", kwargs={"code": event.code})))
    trail.extend(crumbs)
    full = {
        "event": event,
        "site": site,
        "section": section,
        "crumbs": trail,
        "nav": _nav(event, section, environment) if event is not None else [],
        **(context or {}),
    }
    if site is not None and event is not None:
        full["site_switch"] = _site_switch(request, site, section)
    return render(request, template, full, status=status)


def site_crumbs(site, section: str, label: str, *more) -> tuple:
    """Manage › {label} ({site}) › more…: the list's crumb links when a record's page follows."""
    list_url = reverse(
        f"console:{section}", kwargs={"code": site.event.code, "env": site.environment}
    )
    return (
        ("Manage", reverse("console:event", kwargs={"code": site.event.code})),
        (f"{label} ({site.get_environment_display()})", list_url if more else None),
        *more,
    )


def _site_switch(request: HttpRequest, site, section: str) -> list[dict]:
    """Links to the same page on the event's other site; from a page of one record (a user, a
    field: it exists on one site only), to the section's list there."""
    match = request.resolver_match
    links = []
    for environment, label in Environment.choices:
        kwargs = {**match.kwargs, "env": environment}
        if set(kwargs) <= {"code", "env"}:
            url = reverse(match.view_name, kwargs=kwargs)
        else:
            url = reverse(f"console:{section}", kwargs={"code": kwargs["code"], "env": environment})
        links.append({"label": label, "url": url, "current": environment == site.environment})
    return links
