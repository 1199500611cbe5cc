"""Orders of a site, read-only: orders are written by the registration system through the API
(`addOrder.do`, `updateOrder.do`, `cancelOrder.do`); the console lists them (search by order
number, orderId or user; filter by type; keyset paging) and shows each user's on their page.

An order's *type* in the list is where its history stands — the `orderType` of its latest
entry: `Purchase` (as bought), `Change` (changed since), `Cancel` (cancelled)."""

import re

from django.db.models import Q
from django.http import HttpRequest, HttpResponse

from confero.console import paging
from confero.console.views.base import page, site_crumbs, site_page
from confero.registration.models import EntryKind

PAGE_SIZE = 50
_HEX16 = re.compile(r"^[0-9A-Fa-f]{16}$")


def _search(found, text: str):
    """The order number contains the text, or the user's name or email does; a number is also
    an orderId, 16 hex digits a userRef."""
    match = (
        Q(order_number__icontains=text)
        | Q(user__email__icontains=text)
        | Q(user__first_name__icontains=text)
        | Q(user__last_name__icontains=text)
    )
    if text.isdigit():
        match |= Q(pk=int(text))
    if _HEX16.match(text):
        match |= Q(user__user_ref=text.upper())
    return found.filter(match)


def _of_type(found, kind: str):
    if kind == EntryKind.CANCEL:
        return found.filter(cancelled_at__isnull=False)
    found = found.filter(cancelled_at__isnull=True)
    return found.filter(changed=kind == EntryKind.CHANGE)


@site_page
def orders(request: HttpRequest, site) -> HttpResponse:
    query = request.GET
    found = request.scope.orders_listed(site)
    text = query.get("q", "").strip()
    if text:
        found = _search(found, text)
    if query.get("type") in EntryKind.values:
        found = _of_type(found, query["type"])
    listed = paging.keyset(found, query, size=PAGE_SIZE)
    for order in listed.rows:
        order.kind = (
            EntryKind.CANCEL
            if order.is_cancelled
            else EntryKind.CHANGE
            if order.changed
            else EntryKind.PURCHASE
        )
    return page(
        request,
        "console/orders.html",
        {"orders": listed.rows, "page": listed, "query": query, "kinds": EntryKind.values},
        event=site.event,
        site=site,
        section="orders",
        crumbs=site_crumbs(site, "orders", "Orders"),
    )
