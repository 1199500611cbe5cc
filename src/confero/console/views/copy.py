"""Settings › Copy configuration: an event's custom fields from one site to the other, as
`confero customfields export | import` does (confero.customfields.config), after a preview of
what would change (the import's own dry run). Sessions join when they exist."""

import hashlib
import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from confero.console.views.base import event_page, page
from confero.console.views.events import settings_crumbs
from confero.customfields import config
from confero.errors import ValidationFailed
from confero.events.models import Environment


def _fingerprint(report: config.ImportReport) -> str:
    """The preview the planner saw: applied only if the dry run still says the same."""
    return hashlib.sha256(json.dumps(report.changes).encode()).hexdigest()[:32]


@require_http_methods(["GET", "POST"])
@event_page
def copy_configuration(request: HttpRequest, event) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    source_env = data.get("from", Environment.UAT)
    if source_env not in Environment.values:
        source_env = Environment.UAT
    target_env = Environment.PRODUCTION if source_env == Environment.UAT else Environment.UAT
    source = request.scope.site(event, source_env)
    target = request.scope.site(event, target_env)
    document = config.export_fields(source)
    problem = None
    try:
        report = config.import_fields(target, document, dry_run=True)
    except ValidationFailed as exc:
        report, problem = None, f"{exc.what}: {exc.message}"
    if request.method == "POST" and report is not None:
        if data.get("fingerprint") != _fingerprint(report):
            messages.error(request, "The configuration changed since the preview: check it again.")
        elif not report.changes:
            messages.info(request, "Nothing to copy: the custom fields already agree.")
        else:
            applied = config.import_fields(target, document)
            messages.success(
                request,
                f"Copied to {target.get_environment_display()}: {len(applied.changes)} change"
                f"{'' if len(applied.changes) == 1 else 's'}.",
            )
            return redirect(
                reverse("console:copy", kwargs={"code": event.code}) + f"?from={source_env}"
            )
    return page(
        request,
        "console/copy.html",
        {
            "source": source,
            "target": target,
            "report": report,
            "problem": problem,
            "fingerprint": _fingerprint(report) if report else "",
        },
        event=event,
        section="settings",
        crumbs=(*settings_crumbs(event), ("Copy configuration", None)),
    )
