"""Settings › Copy configuration: an event's custom fields, then its sessions and their times,
from one site to the other (confero.customfields.config as `confero customfields export |
import` does; confero.console.sessioncopy for the programme), after a preview of what would
change.

The preview is the copy itself, run in a transaction that is rolled back: what it shows is
exactly what applying does, sessions' custom values on fields the same copy creates included.
Applying runs it again in one transaction and commits only if it still changes what the
planner saw (the fingerprint of the preview); otherwise it is rolled back and the new preview
shown."""

import hashlib
import json
from dataclasses import dataclass

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from confero.console import sessioncopy
from confero.console.views.base import event_page, page
from confero.console.views.events import settings_crumbs
from confero.customfields import config
from confero.errors import DomainError
from confero.events.models import Environment


@dataclass
class Outcome:
    fields: config.ImportReport
    sessions: sessioncopy.SessionReport

    @property
    def changes(self) -> int:
        return len(self.fields.changes) + len(self.sessions.changes)

    @property
    def fingerprint(self) -> str:
        """The preview the planner saw: applied only if the copy still does the same."""
        seen = json.dumps([self.fields.changes, self.sessions.changes])
        return hashlib.sha256(seen.encode()).hexdigest()[:32]


class _RolledBack(Exception):
    def __init__(self, outcome: Outcome):
        self.outcome = outcome


def _copy(scope, source, target, *, apply_if: str | None) -> tuple[Outcome, bool]:
    """The copy, committed when `apply_if` is the fingerprint of what it does; else rolled back
    (a preview). Raises the DomainError of an entry that cannot be copied."""
    try:
        with transaction.atomic():
            fields = config.import_fields(target, config.export_fields(source))
            outcome = Outcome(fields, sessioncopy.copy_sessions(scope, source, target))
            if apply_if is None or apply_if != outcome.fingerprint or not outcome.changes:
                raise _RolledBack(outcome)
    except _RolledBack as preview:
        return preview.outcome, False
    return outcome, True


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
    wanted = data.get("fingerprint", "") if request.method == "POST" else None
    outcome, problem = None, None
    try:
        outcome, applied = _copy(request.scope, source, target, apply_if=wanted)
    except DomainError as exc:
        problem = f"{exc.what}: {exc.message}"
    else:
        if applied:
            messages.success(
                request,
                f"Copied to {target.get_environment_display()}: {outcome.changes} change"
                f"{'' if outcome.changes == 1 else 's'}.",
            )
            return redirect(
                reverse("console:copy", kwargs={"code": event.code}) + f"?from={source_env}"
            )
        if request.method == "POST":
            if wanted != outcome.fingerprint:
                messages.error(
                    request, "The configuration changed since the preview: check it again."
                )
            else:
                messages.info(request, "Nothing to copy: both sites already agree.")
    return page(
        request,
        "console/copy.html",
        {"source": source, "target": target, "outcome": outcome, "problem": problem},
        event=event,
        section="settings",
        crumbs=(*settings_crumbs(event), ("Copy configuration", None)),
    )
