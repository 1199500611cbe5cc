"""The API call log of an event's two sites: filter by site, resource, code (shown with its
meaning), client address and time to the second; newest first, keyset paging on (time, id)."""

import datetime as dt

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from confero.api.codes import CODES
from confero.api.registry import REGISTRY
from confero.console.views.base import event_page, page

PAGE_SIZE = 100
_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


def _moment(text: str) -> dt.datetime | None:
    """A time the planner typed (UTC), to the second; None when it is not one."""
    for form in _TIME_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), form).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    return None


def _cursor(text: str) -> tuple[dt.datetime, int] | None:
    micros, _, pk = text.partition("_")
    if not (micros.isdigit() and pk.isdigit()):
        return None
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=int(micros)), int(pk)


def _cursor_of(call) -> str:
    since = call.time - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return f"{since // dt.timedelta(microseconds=1)}_{call.pk}"


@event_page
def calls(request: HttpRequest, event) -> HttpResponse:
    query = request.GET
    sites = {site.pk: site for site in request.scope.sites(event)}
    found = request.scope.calls(event)
    problems = []
    environment = query.get("site", "")
    chosen = [pk for pk, site in sites.items() if site.environment == environment]
    if chosen:
        found = found.filter(site_id__in=chosen)
    if resource := query.get("resource", "").strip():
        found = found.filter(resource=resource)
    code = query.get("code", "").strip()
    if code:
        if code.isdigit() and int(code) in CODES:
            found = found.filter(code=int(code))
        else:
            problems.append(f"code: '{code}' is not a code of the API")
    if address := query.get("ip", "").strip():
        found = found.filter(client_ip=address)
    for name, lookup, pad in (("from", "time__gte", 0), ("to", "time__lt", 1)):
        text = query.get(name, "").strip()
        if not text:
            continue
        moment = _moment(text)
        if moment is None:
            problems.append(f"{name}: '{text[:40]}' is not a time as YYYY-MM-DDTHH:MM:SS (UTC)")
            continue
        # "to 12:00:05" takes in the whole of that second.
        whole = dt.timedelta(days=1) if len(text) == 10 else dt.timedelta(seconds=1)
        found = found.filter(**{lookup: moment + whole * pad})
    cursor = _cursor(query.get("after", ""))
    if cursor is not None:
        moment, pk = cursor
        found = found.filter(Q(time__lt=moment) | Q(time=moment, pk__lt=pk))
    rows = list(found.order_by("-time", "-id")[: PAGE_SIZE + 1])
    older = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        keep = query.copy()
        keep["after"] = _cursor_of(rows[-1])
        older = "?" + keep.urlencode()
    for row in rows:
        row.site_label = sites[row.site_id].get_environment_display() if row.site_id else "–"
        row.meaning = CODES[row.code].meaning if row.code in CODES else ""
    newest = "?" + "&".join(
        f"{name}={value}" for name, value in query.items() if name != "after" and value
    )
    return page(
        request,
        "console/calls.html",
        {
            "calls": rows,
            "query": query,
            "problems": problems,
            "older": older,
            "first_page": newest if cursor else None,
            "resources": sorted(REGISTRY),
            "codes": CODES.values(),
        },
        event=event,
        section="calls",
        crumbs=(
            ("Manage", reverse("console:event", kwargs={"code": event.code})),
            ("API call log", None),
        ),
    )
