"""Exhibitors of a site: a list (search, status filter, keyset paging), a detail page with booth
staff, files and custom values, and add, change, cancel, make active again, staff and files
through confero.exhibitors.services (every change in one service call, one transaction)."""

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from confero.console import customform, paging
from confero.console.recordforms import ExhibitorForm, FilesForm, PeopleForm
from confero.console.views.base import page, site_crumbs, site_page
from confero.console.views.parts import files_text, people_text, resolve_people
from confero.customfields.models import RecordType
from confero.errors import Cancelled, NotFound, ValidationFailed
from confero.exhibitors import services
from confero.exhibitors.models import ExhibitorStatus

PAGE_SIZE = 50
# What a service names (`what`, the API's parameter) → the form's field.
_FORM_FIELDS = {
    "exhibitorCode": "exhibitor_code",
    "name": "name",
    "type": "type",
    "description": "description",
    "url": "url",
    "email": "email",
    "booth": "booth",
}


def exhibitor_url(site, exhibitor, name: str = "console:exhibitor") -> str:
    return reverse(
        name, kwargs={"code": site.event.code, "env": site.environment, "pk": exhibitor.pk}
    )


def _crumbs(site, exhibitor, *more) -> tuple:
    here = exhibitor_url(site, exhibitor) if more else None
    return site_crumbs(site, "exhibitors", "Exhibitors", (exhibitor.name, here), *more)


@site_page
def exhibitors(request: HttpRequest, site) -> HttpResponse:
    query = request.GET
    found = request.scope.exhibitors_listed(site)
    text = query.get("q", "").strip()
    if text:
        # Contains-matches: a scan of the site's exhibitors (hundreds, rarely thousands).
        found = found.filter(
            Q(name__icontains=text)
            | Q(exhibitor_code__icontains=text)
            | Q(booth__icontains=text)
            | Q(type__icontains=text)
        )
    if query.get("status") in ExhibitorStatus.values:
        found = found.filter(status=query["status"])
    listed = paging.keyset(found, query, size=PAGE_SIZE)
    return page(
        request,
        "console/exhibitors.html",
        {"exhibitors": listed.rows, "page": listed, "query": query},
        event=site.event,
        site=site,
        section="exhibitors",
        crumbs=site_crumbs(site, "exhibitors", "Exhibitors"),
    )


@site_page
def exhibitor(request: HttpRequest, site, pk: int) -> HttpResponse:
    found = request.scope.exhibitor(site, pk)
    fields = customform.fields_of(site, RecordType.EXHIBITOR)
    held = customform.held(fields, request.scope.exhibitor_answers(found))
    return page(
        request,
        "console/exhibitor.html",
        {
            "exhibitor": found,
            "staff": list(request.scope.participants(found)),
            "files": list(request.scope.exhibitor_files(found)),
            "custom": customform.shown(fields, held),
        },
        event=site.event,
        site=site,
        section="exhibitors",
        crumbs=_crumbs(site, found),
    )


def _form_page(request, site, *, exhibitor, form, custom, refusals, status=200):
    if exhibitor is None:
        crumbs = site_crumbs(site, "exhibitors", "Exhibitors", ("Add an exhibitor", None))
    else:
        crumbs = _crumbs(site, exhibitor, ("Change", None))
    return page(
        request,
        "console/exhibitor_form.html",
        {"exhibitor": exhibitor, "form": form, "custom": custom, "refusals": refusals},
        event=site.event,
        site=site,
        section="exhibitors",
        crumbs=crumbs,
        status=status,
    )


def _save(request, site, *, exhibitor, held: dict) -> HttpResponse:
    form = ExhibitorForm(request.POST)

    def save(assignments):
        fields = form.fields_for_service()
        if exhibitor is None:
            return services.add_exhibitor(site, fields=fields, assignments=assignments)
        return services.update_exhibitor(exhibitor, fields=fields, assignments=assignments)

    done = customform.submit(
        request.POST, site, RecordType.EXHIBITOR, form, held=held, save=save,
        form_fields=_FORM_FIELDS,
    )  # fmt: skip
    if done.saved is not None:
        verb = "added" if exhibitor is None else "saved"
        messages.success(request, f"Exhibitor {done.saved.name} {verb}.")
        return redirect(exhibitor_url(site, done.saved))
    return _form_page(
        request, site, exhibitor=exhibitor, form=form, custom=done.custom,
        refusals=done.refusals, status=400,
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@site_page
def new_exhibitor(request: HttpRequest, site) -> HttpResponse:
    if request.method == "POST":
        return _save(request, site, exhibitor=None, held={})
    fields = customform.fields_of(site, RecordType.EXHIBITOR)
    return _form_page(
        request, site, exhibitor=None, form=ExhibitorForm(),
        custom=customform.custom_inputs(fields, {}, {}), refusals=[],
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@site_page
def edit_exhibitor(request: HttpRequest, site, pk: int) -> HttpResponse:
    found = request.scope.exhibitor(site, pk)
    fields = customform.fields_of(site, RecordType.EXHIBITOR)
    held = customform.held(fields, request.scope.exhibitor_answers(found))
    if request.method == "POST":
        return _save(request, site, exhibitor=found, held=held)
    form = ExhibitorForm(
        initial={name: getattr(found, name) or "" for name in ExhibitorForm.base_fields}
    )
    return _form_page(
        request, site, exhibitor=found, form=form,
        custom=customform.custom_inputs(fields, held, {}), refusals=[],
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@site_page
def cancel_exhibitor(request: HttpRequest, site, pk: int) -> HttpResponse:
    found = request.scope.exhibitor(site, pk)
    if request.method == "POST":
        if found.is_active:
            services.cancel_exhibitor(found)
            messages.success(request, f"Exhibitor {found.name} cancelled (kept, never deleted).")
        return redirect(exhibitor_url(site, found))
    return page(
        request,
        "console/exhibitor_cancel.html",
        {"exhibitor": found},
        event=site.event,
        site=site,
        section="exhibitors",
        crumbs=_crumbs(site, found, ("Cancel", None)),
    )


@require_POST
@site_page
def reactivate_exhibitor(request: HttpRequest, site, pk: int) -> HttpResponse:
    found = request.scope.exhibitor(site, pk)
    if not found.is_active:
        services.update_exhibitor(found, fields={"status": ExhibitorStatus.ACTIVE})
        messages.success(request, f"Exhibitor {found.name} is active again.")
    return redirect(exhibitor_url(site, found))


def _parts_page(request, site, exhibitor, *, title: str, form, field: str, status=200):
    return page(
        request,
        "console/parts_form.html",
        {"record": exhibitor, "title": title, "form": form, "back": exhibitor_url(site, exhibitor)},
        event=site.event,
        site=site,
        section="exhibitors",
        crumbs=_crumbs(site, exhibitor, (field, None)),
        status=status,
    )


@require_http_methods(["GET", "POST"])
@site_page
def staff(request: HttpRequest, site, pk: int) -> HttpResponse:
    found = request.scope.exhibitor(site, pk)
    title = f"Booth staff of {found.name}"
    if request.method == "GET":
        current = [(p.user, p.role) for p in request.scope.participants(found)]
        form = PeopleForm(initial={"people": people_text(current)})
        return _parts_page(request, site, found, title=title, form=form, field="Staff")
    form = PeopleForm(request.POST)
    if form.is_valid() and (people := resolve_people(request, site, form)) is not None:
        try:
            services.set_participants(found, people)
        except (ValidationFailed, Cancelled, NotFound) as exc:
            form.add_error("people", exc.message)
        else:
            messages.success(request, f"Booth staff of {found.name} saved ({len(people)}).")
            return redirect(exhibitor_url(site, found))
    return _parts_page(request, site, found, title=title, form=form, field="Staff", status=400)


@require_http_methods(["GET", "POST"])
@site_page
def files(request: HttpRequest, site, pk: int) -> HttpResponse:
    found = request.scope.exhibitor(site, pk)
    title = f"Files of {found.name}"
    if request.method == "GET":
        rows = [
            (f.display_name, f.type, f.size, f.url, f.description)
            for f in request.scope.exhibitor_files(found)
        ]
        form = FilesForm(
            initial={"files": files_text(rows, with_description=True)}, with_description=True
        )
        return _parts_page(request, site, found, title=title, form=form, field="Files")
    form = FilesForm(request.POST, with_description=True)
    if form.is_valid():
        specs = [
            services.FileSpec(
                display_name=line.name,
                url=line.url,
                type=line.type,
                size=line.size,
                description=line.description,
            )
            for line in form.cleaned_data["files"]
        ]
        try:
            services.set_files(found, specs)
        except ValidationFailed as exc:
            form.add_error("files", exc.message)
        else:
            messages.success(request, f"Files of {found.name} saved ({len(specs)}).")
            return redirect(exhibitor_url(site, found))
    return _parts_page(request, site, found, title=title, form=form, field="Files", status=400)
