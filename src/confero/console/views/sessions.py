"""Sessions of a site: a list that stays fast at thousands of sessions (keyset paging, the times
counted per row shown), a detail page with its times, speakers, files, custom and constraint
values, and add, change, cancel and make active again through confero.programme.services."""

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from confero.console import customform, paging
from confero.console.recordforms import SessionForm
from confero.console.views.base import page, site_crumbs, site_page
from confero.customfields.models import RecordType
from confero.programme import services
from confero.programme.models import Status

PAGE_SIZE = 50
_YES_NO = {"yes": True, "no": False}


def session_url(site, session, name: str = "console:session", **more) -> str:
    return reverse(
        name,
        kwargs={"code": site.event.code, "env": site.environment, "pk": session.pk, **more},
    )


def session_crumbs(site, session, *more) -> tuple:
    """Manage › Sessions (site) › the session › more…"""
    here = session_url(site, session) if more else None
    return site_crumbs(site, "sessions", "Sessions", (str(session), here), *more)


def _search(found, text: str):
    """Contains-matches on title, abbreviation and track: a scan of the site's sessions, a few
    milliseconds at 5,000 (docs/decisions/0018)."""
    return found.filter(
        Q(title__icontains=text) | Q(abbreviation__icontains=text) | Q(track__icontains=text)
    )


@site_page
def sessions(request: HttpRequest, site) -> HttpResponse:
    query = request.GET
    found = request.scope.sessions_listed(site)
    text = query.get("q", "").strip()
    if text:
        found = _search(found, text)
    if query.get("status") in Status.values:
        found = found.filter(status=query["status"])
    if query.get("published") in _YES_NO:
        found = found.filter(published=_YES_NO[query["published"]])
    tracks = request.scope.tracks(site)
    if query.get("track") in tracks:
        found = found.filter(track=query["track"])
    listed = paging.keyset(found, query, size=PAGE_SIZE)
    return page(
        request,
        "console/sessions.html",
        {"sessions": listed.rows, "page": listed, "query": query, "tracks": tracks},
        event=site.event,
        site=site,
        section="sessions",
        crumbs=site_crumbs(site, "sessions", "Sessions"),
    )


@site_page
def session(request: HttpRequest, site, pk: int) -> HttpResponse:
    found = request.scope.session(site, pk)
    fields = customform.fields_of(site, RecordType.SESSION)
    held = customform.held(fields, request.scope.session_answers(found))
    own, profile = customform.split_profile(customform.shown(fields, held))
    return page(
        request,
        "console/session.html",
        {
            "session": found,
            "times": list(request.scope.session_times(found)),
            "speakers": list(request.scope.speakers(found)),
            "files": list(request.scope.session_files(found)),
            "custom": own,
            "profile": profile,
            "constraints": [
                (row.field, *constraint) for row in profile for constraint in row.constraints
            ],
        },
        event=site.event,
        site=site,
        section="sessions",
        crumbs=session_crumbs(site, found),
    )


def _form_page(request, site, *, session, form, custom, refusals, status=200):
    if session is None:
        crumbs = site_crumbs(site, "sessions", "Sessions", ("Add a session", None))
    else:
        crumbs = session_crumbs(site, session, ("Change", None))
    return page(
        request,
        "console/session_form.html",
        {"session": session, "form": form, "custom": custom, "refusals": refusals},
        event=site.event,
        site=site,
        section="sessions",
        crumbs=crumbs,
        status=status,
    )


def _save(request, site, *, session, held: dict) -> HttpResponse:
    """Adds (`session` None) or changes a session from the POST: its fields and custom values in
    one service call, so in one transaction."""
    form = SessionForm(request.POST)

    def save(assignments):
        fields = form.fields_for_service()
        if session is None:
            return services.add_session(site, fields=fields, assignments=assignments)
        return services.update_session(session, fields=fields, assignments=assignments)

    done = customform.submit(request.POST, site, RecordType.SESSION, form, held=held, save=save)
    if done.saved is not None:
        verb = "added" if session is None else "saved"
        messages.success(request, f"Session {done.saved} {verb}.")
        return redirect(session_url(site, done.saved))
    return _form_page(
        request, site, session=session, form=form, custom=done.custom, refusals=done.refusals,
        status=400,
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@site_page
def new_session(request: HttpRequest, site) -> HttpResponse:
    if request.method == "POST":
        return _save(request, site, session=None, held={})
    fields = customform.fields_of(site, RecordType.SESSION)
    return _form_page(
        request, site, session=None, form=SessionForm(),
        custom=customform.custom_inputs(fields, {}, {}), refusals=[],
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@site_page
def edit_session(request: HttpRequest, site, pk: int) -> HttpResponse:
    found = request.scope.session(site, pk)
    fields = customform.fields_of(site, RecordType.SESSION)
    held = customform.held(fields, request.scope.session_answers(found))
    if request.method == "POST":
        return _save(request, site, session=found, held=held)
    form = SessionForm(
        initial={
            "abbreviation": found.abbreviation or "",
            "title": found.title,
            "abstract": found.abstract,
            "type": found.type,
            "track": found.track,
            "published": found.published,
        }
    )
    return _form_page(
        request, site, session=found, form=form,
        custom=customform.custom_inputs(fields, held, {}), refusals=[],
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@site_page
def cancel_session(request: HttpRequest, site, pk: int) -> HttpResponse:
    found = request.scope.session(site, pk)
    if request.method == "POST":
        if found.is_active:
            services.update_session(found, fields={"status": Status.CANCELLED})
            messages.success(
                request,
                f"Session {found} cancelled: the seats and waitlists of its times are free.",
            )
        return redirect(session_url(site, found))
    times = list(request.scope.session_times(found))
    return page(
        request,
        "console/session_cancel.html",
        {
            "session": found,
            "registered": sum(t.registered for t in times),
            "waitlisted": sum(t.waitlisted for t in times),
        },
        event=site.event,
        site=site,
        section="sessions",
        crumbs=session_crumbs(site, found, ("Cancel", None)),
    )


@require_POST
@site_page
def reactivate_session(request: HttpRequest, site, pk: int) -> HttpResponse:
    found = request.scope.session(site, pk)
    if not found.is_active:
        services.update_session(found, fields={"status": Status.ACTIVE})
        messages.success(request, f"Session {found} is active again; its times' seats are empty.")
    return redirect(session_url(site, found))
