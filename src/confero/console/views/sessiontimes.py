"""A session's times: add, change, cancel and make active again through
confero.programme.services; each time's attendees and waitlist in order (read-only lists, paged
by key), from which a planner may unschedule someone — `unschedule_session`, which moves the
waitlist up in the same transaction, as `unscheduleSession.do` does."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from confero.console import paging
from confero.console.forms import service_error
from confero.console.recordforms import SessionTimeForm
from confero.console.views.base import page, site_page
from confero.console.views.sessions import session_crumbs, session_url
from confero.errors import Cancelled, Refused, ValidationFailed
from confero.programme import services
from confero.programme.models import SeatStatus, Status

PAGE_SIZE = 100


def _time_url(site, session, time, name: str = "console:time") -> str:
    return session_url(site, session, name, time=time.pk)


def _label(time) -> str:
    return f"{time.date:%Y-%m-%d} {time.time:%H:%M}" + (f" {time.room}" if time.room else "")


def _time_crumbs(site, session, time, *more) -> tuple:
    here = _time_url(site, session, time) if more else None
    return session_crumbs(site, session, (_label(time), here), *more)


def _form_page(request, site, session, *, time, form, status=200) -> HttpResponse:
    crumbs = (
        session_crumbs(site, session, ("Add a time", None))
        if time is None
        else _time_crumbs(site, session, time, ("Change", None))
    )
    return page(
        request,
        "console/time_form.html",
        {"session": session, "time": time, "form": form},
        event=site.event,
        site=site,
        section="sessions",
        crumbs=crumbs,
        status=status,
    )


@require_http_methods(["GET", "POST"])
@site_page
def new_time(request: HttpRequest, site, pk: int) -> HttpResponse:
    session = request.scope.session(site, pk)
    if request.method == "GET":
        form = SessionTimeForm(initial={"date": site.event.start_date})
        return _form_page(request, site, session, time=None, form=form)
    form = SessionTimeForm(request.POST)
    if form.is_valid():
        try:
            time = services.add_session_time(session, fields=form.fields_for_service())
        except ValidationFailed as exc:
            service_error(form, exc, fields={name: name for name in form.fields})
        else:
            messages.success(request, f"Time {_label(time)} added (sessionTimeID {time.pk}).")
            return redirect(session_url(site, session))
    return _form_page(request, site, session, time=None, form=form, status=400)


@site_page
def time(request: HttpRequest, site, pk: int, time: int) -> HttpResponse:
    session = request.scope.session(site, pk)
    found = request.scope.session_time(session, time)
    attendees = paging.keyset(
        request.scope.seats(found, SeatStatus.SCHEDULED),
        request.GET,
        size=PAGE_SIZE,
        descending=False,
    )
    waiting = paging.keyset(
        request.scope.seats(found, SeatStatus.WAITLISTED),
        request.GET,
        size=PAGE_SIZE,
        key="position",
        descending=False,
        prefix="w",
    )
    return page(
        request,
        "console/time.html",
        {"session": session, "time": found, "attendees": attendees, "waiting": waiting},
        event=site.event,
        site=site,
        section="sessions",
        crumbs=_time_crumbs(site, session, found),
    )


@require_http_methods(["GET", "POST"])
@site_page
def edit_time(request: HttpRequest, site, pk: int, time: int) -> HttpResponse:
    session = request.scope.session(site, pk)
    found = request.scope.session_time(session, time)
    if request.method == "GET":
        form = SessionTimeForm(
            initial={name: getattr(found, name) for name in SessionTimeForm.base_fields}
        )
        return _form_page(request, site, session, time=found, form=form)
    form = SessionTimeForm(request.POST)
    if form.is_valid():
        try:
            services.update_session_time(found, fields=form.fields_for_service())
        except ValidationFailed as exc:
            service_error(form, exc, fields={name: name for name in form.fields})
        else:
            messages.success(request, f"Time {_label(found)} saved.")
            return redirect(_time_url(site, session, found))
    return _form_page(request, site, session, time=found, form=form, status=400)


@require_http_methods(["GET", "POST"])
@site_page
def cancel_time(request: HttpRequest, site, pk: int, time: int) -> HttpResponse:
    session = request.scope.session(site, pk)
    found = request.scope.session_time(session, time)
    if request.method == "POST":
        try:
            services.cancel_session_time(found)
        except Cancelled as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, f"Time {_label(found)} cancelled: its seats and waitlist are free."
            )
        return redirect(_time_url(site, session, found))
    return page(
        request,
        "console/time_cancel.html",
        {"session": session, "time": found},
        event=site.event,
        site=site,
        section="sessions",
        crumbs=_time_crumbs(site, session, found, ("Cancel", None)),
    )


@require_POST
@site_page
def reactivate_time(request: HttpRequest, site, pk: int, time: int) -> HttpResponse:
    session = request.scope.session(site, pk)
    found = request.scope.session_time(session, time)
    if found.status != Status.ACTIVE:
        services.update_session_time(found, fields={"status": Status.ACTIVE})
        messages.success(request, f"Time {_label(found)} is active again, with every seat free.")
    return redirect(_time_url(site, session, found))


@require_POST
@site_page
def unschedule(request: HttpRequest, site, pk: int, time: int, ref: str) -> HttpResponse:
    session = request.scope.session(site, pk)
    found = request.scope.session_time(session, time)
    seat = request.scope.seat(found, ref)
    person = seat.user
    try:
        services.unschedule_session(person, found)
    except Refused as exc:  # unscheduled meanwhile, by the user or another planner
        messages.error(request, exc.message)
    else:
        found.refresh_from_db(fields=["registered", "waitlisted"])
        place = "seat" if seat.status == SeatStatus.SCHEDULED else "waitlist place"
        messages.success(
            request,
            f"{person.first_name} {person.last_name} unscheduled: their {place} is free "
            f"({found.registered} registered, {found.waitlisted} waitlisted now).",
        )
    return redirect(_time_url(site, session, found))
