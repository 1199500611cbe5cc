"""CSV import of users (upload → preview → import) and CSV export, through
confero.console.csvimport. An import is written in one transaction: all rows or, when the
planner chooses, all valid rows (the refused ones come back as CSV); a long one shows its
progress as the page streams."""

import csv
import io

from django import forms
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from confero.console import csvimport, userparams
from confero.console.models import UserImport
from confero.console.views.base import page, site_page
from confero.errors import Conflict, ValidationFailed
from confero.people import services

PROGRESS_EVERY = 250
PREVIEW_ROWS = 200  # refused rows listed on the preview; all of them are in the CSV
_MARK = "<!--progress-->"


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8, comma or semicolon separated.")


def _users_url(site) -> str:
    return reverse("console:users", kwargs={"code": site.event.code, "env": site.environment})


def _import_url(site, upload) -> str:
    return reverse(
        "console:import",
        kwargs={"code": site.event.code, "env": site.environment, "pk": upload.pk},
    )


def _crumbs(site, *more) -> tuple:
    return (
        ("Manage", reverse("console:event", kwargs={"code": site.event.code})),
        (f"Users ({site.get_environment_display()})", _users_url(site)),
        *more,
    )


@require_http_methods(["GET", "POST"])
@site_page
def upload(request: HttpRequest, site) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data["file"]
        try:
            if data.size > csvimport.MAX_BYTES:
                raise ValidationFailed("file", f"over {csvimport.MAX_BYTES // 2**20} MiB")
            text = csvimport.decode(data.read())
            csvimport.parse(site, text)  # refuses what is not a CSV file at all
        except ValidationFailed as exc:
            form.add_error("file", exc.message)
        else:
            created = csvimport.store_upload(
                request.scope.imports(site),
                site=site,
                planner=request.user,
                filename=data.name,
                text=text,
            )
            return redirect(_import_url(site, created))
    fields = userparams.user_fields(site)
    return page(
        request,
        "console/import_upload.html",
        {
            "form": form,
            "params": [p.name for p in userparams.declared(adding=True)],
            "fields": fields,
        },
        event=site.event,
        site=site,
        section="users",
        crumbs=_crumbs(site, ("Import CSV", None)),
        status=400 if form.errors else 200,
    )


def _parsed(request, site, found: UserImport) -> csvimport.Parsed:
    parsed = csvimport.parse(site, found.content)
    csvimport.validate(site, parsed, request.scope.users(site))
    return parsed


@require_http_methods(["GET", "POST"])
@site_page
def preview(request: HttpRequest, site, pk) -> HttpResponse:
    found = request.scope.user_import(site, pk)
    if found.state == UserImport.State.IMPORTED:
        return _result_page(request, site, found)
    try:
        csvimport.parse(site, found.content)
    except ValidationFailed as exc:  # a file that parsed at its upload: only if the rules moved
        return page(request, "console/forbidden.html", {"message": exc.message}, event=site.event,
                    site=site, section="users", status=400)  # fmt: skip
    if request.method == "POST":
        return _run(request, site, found, only_valid=request.POST.get("rows") == "valid")
    parsed = _parsed(request, site, found)
    return page(
        request,
        "console/import_preview.html",
        {
            "upload": found,
            "parsed": parsed,
            "refused": parsed.refused[:PREVIEW_ROWS],
            "refused_count": len(parsed.refused),
            "valid_count": len(parsed.valid),
            "more_refused": max(len(parsed.refused) - PREVIEW_ROWS, 0),
        },
        event=site.event,
        site=site,
        section="users",
        crumbs=_crumbs(site, ("Import CSV", reverse("console:import-users", kwargs={
            "code": site.event.code, "env": site.environment})), (found.filename, None)),
    )  # fmt: skip


def _result_page(request, site, found: UserImport) -> HttpResponse:
    return page(
        request,
        "console/import_done.html",
        {"upload": found, "rejected_count": _rows(found.rejected)},
        event=site.event,
        site=site,
        section="users",
        crumbs=_crumbs(site, ("Import CSV", None), (found.filename, None)),
    )


def _rows(text: str) -> int:
    return max(sum(1 for _ in csv.reader(io.StringIO(text))) - 1, 0)


def _run(request, site, found: UserImport, *, only_valid: bool) -> HttpResponse:
    """Streams the page while the rows are written: the planner sees the count move. One
    transaction: a refusal (all rows asked for) or a broken connection writes nothing."""
    shell = page(
        request,
        "console/import_run.html",
        {"upload": found, "mark": _MARK},
        event=site.event,
        site=site,
        section="users",
        crumbs=_crumbs(site, ("Import CSV", None), (found.filename, None)),
    ).content.decode()
    head, _, tail = shell.partition(_MARK)
    users = request.scope.users(site)

    def stream():
        yield head
        # Checked again before the transaction (the site may have changed since the preview):
        # on SQLite a transaction holds the database's write lock, which API writes wait for.
        # A row the check passed and a concurrent call then took is refused by add_user itself.
        parsed = csvimport.parse(site, found.content)
        csvimport.validate(site, parsed, users)
        refused = parsed.refused
        if parsed.problems or (refused and not only_valid):
            yield _outcome(site, found, parsed=parsed, written=0, refused=refused)
            yield tail
            return
        with transaction.atomic():
            written = 0
            total = len(parsed.valid)
            for row in parsed.valid:
                try:
                    services.add_user(
                        site, fields=row.checked.fields, assignments=row.checked.assignments
                    )
                except Conflict as exc:  # a call of the API took the email or clientID since
                    row.refusal = userparams.conflict_refusal(exc)
                    if not only_valid:
                        transaction.set_rollback(True)
                        yield _outcome(site, found, parsed=parsed, written=0, refused=[row])
                        yield tail
                        return
                    refused.append(row)
                    continue
                written += 1
                if written % PROGRESS_EVERY == 0:
                    yield f"<p>{written:,} of {total:,} users written…</p>\n"
            csvimport.mark_imported(found, written=written, parsed=parsed, refused=refused)
        yield _outcome(site, found, parsed=parsed, written=written, refused=refused)
        yield tail

    response = StreamingHttpResponse(stream(), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass the progress on as it comes
    return response


def _outcome(site, found, *, parsed, written: int, refused) -> str:
    return render_to_string(
        "console/import_outcome.html",
        {
            "event": site.event,
            "site": site,
            "upload": found,
            "parsed": parsed,
            "written": written,
            "refused": refused[:PREVIEW_ROWS],
            "refused_count": len(refused),
            "imported": found.state == UserImport.State.IMPORTED,
            "preview_url": _import_url(site, found),
            "users_url": _users_url(site),
        },
    )


@require_GET
@site_page
def rejected(request: HttpRequest, site, pk) -> HttpResponse:
    found = request.scope.user_import(site, pk)
    response = HttpResponse(found.rejected, content_type="text/csv; charset=utf-8")
    name = found.filename.rsplit(".", 1)[0] or "users"
    response["Content-Disposition"] = f'attachment; filename="{_safe(name)}-rejected.csv"'
    return response


def _safe(name: str) -> str:
    return "".join(char if char.isalnum() or char in "-_" else "_" for char in name)[:80]


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_GET
@site_page
def export(request: HttpRequest, site) -> HttpResponse:
    """Every user of the site (cancelled ones too, with their status), streamed."""
    fields = userparams.user_fields(site)
    answers = request.scope.site_answers(site)
    repeats = csvimport.multichoice_repeats(fields, answers)
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # Excel opens UTF-8 CSV as UTF-8 only with a byte order mark
        yield writer.writerow(csvimport.export_header(fields, repeats))
        rows = csvimport.export_rows(
            request.scope.users(site),
            lambda ids: answers.filter(record_id__in=ids).order_by("id"),
            fields,
            repeats,
        )
        for cells in rows:
            yield writer.writerow(cells)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="{site.event.code}-{site.environment}-users-{stamp}.csv"'
    )
    return response
