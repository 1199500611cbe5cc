"""A session's speakers and files, each set replaced as a whole through
`programme.services.set_speakers` / `set_files`, as `updateSession.do` replaces them."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from confero.console.recordforms import FilesForm, PeopleForm
from confero.console.views.base import page, site_page
from confero.console.views.parts import files_text, people_text, resolve_people
from confero.console.views.sessions import session_crumbs, session_url
from confero.errors import Cancelled, ValidationFailed
from confero.programme import services


def _parts_page(request, site, session, *, title: str, form, field: str, status=200):
    return page(
        request,
        "console/parts_form.html",
        {"record": session, "title": title, "form": form, "back": session_url(site, session)},
        event=site.event,
        site=site,
        section="sessions",
        crumbs=session_crumbs(site, session, (field, None)),
        status=status,
    )


@require_http_methods(["GET", "POST"])
@site_page
def speakers(request: HttpRequest, site, pk: int) -> HttpResponse:
    session = request.scope.session(site, pk)
    title = f"Speakers of {session}"
    if request.method == "GET":
        current = [(s.user, s.role) for s in request.scope.speakers(session)]
        form = PeopleForm(initial={"people": people_text(current)})
        return _parts_page(request, site, session, title=title, form=form, field="Speakers")
    form = PeopleForm(request.POST)
    if form.is_valid() and (people := resolve_people(request, site, form)) is not None:
        try:
            services.set_speakers(session, people)
        except (ValidationFailed, Cancelled) as exc:
            form.add_error("people", exc.message)
        else:
            messages.success(request, f"Speakers of {session} saved ({len(people)}).")
            return redirect(session_url(site, session))
    return _parts_page(request, site, session, title=title, form=form, field="Speakers", status=400)


@require_http_methods(["GET", "POST"])
@site_page
def files(request: HttpRequest, site, pk: int) -> HttpResponse:
    session = request.scope.session(site, pk)
    title = f"Files of {session}"
    if request.method == "GET":
        rows = [(f.name, f.type, f.size, f.url) for f in request.scope.session_files(session)]
        form = FilesForm(initial={"files": files_text(rows)})
        return _parts_page(request, site, session, title=title, form=form, field="Files")
    form = FilesForm(request.POST)
    if form.is_valid():
        specs = [
            services.FileSpec(line.name, line.type, line.size, line.url)
            for line in form.cleaned_data["files"]
        ]
        try:
            services.set_files(session, specs)
        except ValidationFailed as exc:
            form.add_error("files", exc.message)
        else:
            messages.success(request, f"Files of {session} saved ({len(specs)}).")
            return redirect(session_url(site, session))
    return _parts_page(request, site, session, title=title, form=form, field="Files", status=400)
