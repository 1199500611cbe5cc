"""Users of a site: a list that stays fast at 100,000 users (keyset paging on the primary key,
no count of the whole site), a detail page with custom values, and add, change and cancel
through confero.people.services, with the API's rules (confero.console.userparams)."""

import re

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from confero.console import paging, userform, userparams
from confero.console.views.base import page, site_page
from confero.errors import Conflict
from confero.people import services
from confero.people.models import UserStatus
from confero.registration.standing import status_follows_orders

PAGE_SIZE = 50
_HEX16 = re.compile(r"^[0-9A-Fa-f]{16}$")
_YES_NO = {"yes": True, "no": False}


def _users_url(site) -> str:
    return reverse("console:users", kwargs={"code": site.event.code, "env": site.environment})


def _user_url(site, user, name: str = "console:user") -> str:
    return reverse(
        name, kwargs={"code": site.event.code, "env": site.environment, "ref": user.user_ref}
    )


def _crumbs(site, *more) -> tuple:
    return (
        ("Manage", reverse("console:event", kwargs={"code": site.event.code})),
        (f"Users ({site.get_environment_display()})", _users_url(site) if more else None),
        *more,
    )


def _search(queryset, text: str):
    """Contains-matches on names, email and company (a scan of the site's users: ~50 ms at
    100,000 on this project's test machine, docs/decisions/0018); exact on clientID and userRef."""
    match = (
        Q(email__icontains=text)
        | Q(first_name__icontains=text)
        | Q(last_name__icontains=text)
        | Q(company_name__icontains=text)
        | Q(client_id=text)
    )
    if _HEX16.match(text):
        match |= Q(user_ref=text.upper())
    return queryset.filter(match)


@site_page
def users(request: HttpRequest, site) -> HttpResponse:
    query = request.GET
    found = request.scope.users(site)
    text = query.get("q", "").strip()
    if text:
        found = _search(found, text)
    if query.get("status") in UserStatus.values:
        found = found.filter(status=query["status"])
    for name in ("registered", "paid"):
        if query.get(name) in _YES_NO:
            found = found.filter(**{name: _YES_NO[query[name]]})
    fields = userparams.user_fields(site)
    choice_values = [(f, v) for f in fields if f.is_choice for v in f.values.all()]
    value_id = query.get("value", "")
    chosen = next((v for _, v in choice_values if str(v.pk) == value_id), None)
    if chosen is not None:
        field = request.scope.field(site, chosen.field_id)
        holders = request.scope.answers(field).filter(record_type="user", value=chosen)
        found = found.filter(pk__in=holders.values("record_id"))
    # Keyset paging, newest first: `after` the last id of a page, `before` the first.
    listed = paging.keyset(found, query, size=PAGE_SIZE)
    return page(
        request,
        "console/users.html",
        {
            "users": listed.rows,
            "query": query,
            "newer": listed.newer,
            "older": listed.older,
            "choice_values": choice_values,
            "value_id": value_id,
        },
        event=site.event,
        site=site,
        section="users",
        crumbs=_crumbs(site),
    )


@site_page
def user(request: HttpRequest, site, ref: str) -> HttpResponse:
    found = request.scope.user(site, ref)
    fields = userparams.user_fields(site)
    held = _held(request, found, fields)
    custom = []
    for field in fields:
        labels = {v.code: v.label for v in field.values.all()}
        other = next((v.label for v in field.values.all() if v.is_other), None)
        shown = [
            labels[sent] if sent in labels or not field.is_choice else f"{sent} ({other})"
            for sent in held[field.code]
        ]
        custom.append({"field": field, "values": shown})
    contact = [
        (userparams.LABELS[name], value)
        for name, value in userform.user_values(found).items()
        if name != "clientID"
    ]
    return page(
        request,
        "console/user.html",
        {
            "person": found,
            "contact": contact,
            "custom": custom,
            "schedule": request.scope.schedule(found),
            "orders": request.scope.orders_of(found),
            "balance": request.scope.balance(found),
        },
        event=site.event,
        site=site,
        section="users",
        crumbs=_crumbs(site, (f"{found.first_name} {found.last_name}", None)),
    )


def _held(request, user, fields) -> dict[str, list[str]]:
    return userparams.sent_values(user, fields, request.scope.user_answers(user))


def _form_page(request, site, *, person, adding, values, held, refusals, status=200):
    fields = userparams.user_fields(site)
    by_param = {refusal.param: refusal for refusal in refusals}
    crumb = "Add a user" if adding else f"Change {person.first_name} {person.last_name}"
    more = (
        ((crumb, None),)
        if adding
        else (
            (f"{person.first_name} {person.last_name}", _user_url(site, person)),
            ("Change", None),
        )
    )
    return page(
        request,
        "console/user_form.html",
        {
            "person": person,
            "adding": adding,
            "contact": userform.contact_inputs(
                adding=adding,
                values=values,
                refusals=by_param,
                status_from_orders=status_follows_orders(site.pk),
            ),
            "custom": userform.custom_inputs(fields, held, by_param),
            "refusals": refusals,
        },
        event=site.event,
        site=site,
        section="users",
        crumbs=_crumbs(site, *more),
        status=status,
    )


def _save(request, site, *, person, fields, held) -> HttpResponse:
    """Adds (`person` None) or changes a user from the POST, through the people services with
    the API's rules; refused, the form again with what the planner typed and each refusal."""
    adding = person is None
    derived = status_follows_orders(site.pk)
    raw = userform.read_post(
        request.POST, fields, adding=adding, held=held, status_from_orders=derived
    )
    checked = userparams.check(site, raw, adding=adding, every=True)
    if checked.ok:
        try:
            with transaction.atomic():
                if adding:
                    person = services.add_user(
                        site, fields=checked.fields, assignments=checked.assignments
                    )
                else:
                    services.update_user(
                        person, fields=checked.fields, assignments=checked.assignments
                    )
        except Conflict as exc:
            checked.refusals.append(userparams.conflict_refusal(exc))
        else:
            verb = "added" if adding else "saved"
            messages.success(request, f"{person.first_name} {person.last_name} {verb}.")
            return redirect(_user_url(site, person))
    return _form_page(
        request,
        site,
        person=person,
        adding=adding,
        values=userform.post_values(request.POST),
        held=userform.held_from_post(request.POST, fields),
        refusals=checked.refusals,
        status=400,
    )


@require_http_methods(["GET", "POST"])
@site_page
def new_user(request: HttpRequest, site) -> HttpResponse:
    fields = userparams.user_fields(site)
    if request.method == "GET":
        return _form_page(request, site, person=None, adding=True, values={}, held={}, refusals=[])
    return _save(request, site, person=None, fields=fields, held=None)


@require_http_methods(["GET", "POST"])
@site_page
def edit_user(request: HttpRequest, site, ref: str) -> HttpResponse:
    person = request.scope.user(site, ref)
    if not person.is_active:
        messages.error(request, "A cancelled user is not changed (updateUser.do answers 215).")
        return redirect(_user_url(site, person))
    fields = userparams.user_fields(site)
    held = _held(request, person, fields)
    if request.method == "GET":
        return _form_page(
            request,
            site,
            person=person,
            adding=False,
            values=userform.user_values(person),
            held=held,
            refusals=[],
        )
    return _save(request, site, person=person, fields=fields, held=held)


@require_http_methods(["GET", "POST"])
@site_page
def cancel(request: HttpRequest, site, ref: str) -> HttpResponse:
    person = request.scope.user(site, ref)
    if request.method == "POST":
        if person.is_active:
            with transaction.atomic():
                services.cancel_user(person)
            messages.success(
                request, f"{person.first_name} {person.last_name} cancelled (kept, never deleted)."
            )
        return redirect(_user_url(site, person))
    return page(
        request,
        "console/user_cancel.html",
        {"person": person},
        event=site.event,
        site=site,
        section="users",
        crumbs=_crumbs(
            site,
            (f"{person.first_name} {person.last_name}", _user_url(site, person)),
            ("Cancel", None),
        ),
    )
