"""Copy configuration, the programme part: an event's sessions and their times from one site to
the other, through confero.programme.services, inside the caller's transaction (the preview is
the same run, rolled back: confero.console.views.copy).

What is "the same" on both sites (docs/decisions/0018):
- **a session** is the session with the same **abbreviation** — the client ID integrations name
  it by, and the only name a session keeps across sites (sessionIDs differ). A session without
  an abbreviation is not copied (it would be created again on every copy).
- **a time** of that session is the one with the same **date, time and room**: moving a time
  on the source site adds a time on the other (the old one is kept, with its seats, and noted);
  its length, capacity and waitlist are copied onto the time that matches.

Copied: title, abstract, type, track, published; custom values and constraint values, matched
by field code and value code (a value the receiving site lacks is noted, and that field left
as it is); files; times. Never copied: seats and waitlists, speakers (users of one site), and
**status** — a copy never cancels nor reactivates a session or a time on the receiving site
(cancelling frees real attendees' seats: a planner does that there, on purpose); differences
are noted. Nothing is deleted. Reads are per site, not per session: three queries for each
site's whole programme, then one service call per session or time that differs.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from confero.customfields.models import Answer, CustomField, FieldType, RecordType
from confero.customfields.services import Assignment
from confero.programme import services
from confero.programme.models import Session, SessionTime

COPIED = ("title", "abstract", "type", "track", "published")
TIME_COPIED = ("length", "capacity", "waitlist")


@dataclass
class SessionReport:
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _time_key(time: SessionTime) -> tuple:
    return (time.date, time.time, time.room)


def _time_label(time: SessionTime) -> str:
    return f"{time.date:%Y-%m-%d} {time.time:%H:%M}" + (f" {time.room}" if time.room else "")


@dataclass
class _Programme:
    """A site's sessions (by abbreviation), their times, files and custom values as sent."""

    sessions: dict[str, Session]
    unnamed: int
    times: dict[int, list[SessionTime]]
    files: dict[int, list[services.FileSpec]]
    held: dict[int, dict[str, list[str]]]  # session id → field code → values as an API sends
    fields: dict[str, CustomField]  # the site's fields that sessions carry, by code


def _read(scope, site) -> _Programme:
    fields = {
        f.code: f
        for f in scope.fields(site).prefetch_related("values")
        if f.applies_to(RecordType.SESSION)
    }
    sessions, unnamed = {}, 0
    for session in scope.sessions(site).order_by("id"):
        if session.abbreviation:
            sessions[session.abbreviation] = session
        else:
            unnamed += 1
    times: dict[int, list[SessionTime]] = defaultdict(list)
    for time in scope.site_session_times(site):
        times[time.session_id].append(time)
    files: dict[int, list[services.FileSpec]] = defaultdict(list)
    for row in scope.site_session_files(site):
        files[row.session_id].append(services.FileSpec(row.name, row.type, row.size, row.url))
    held: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    by_pk = {f.pk: f for f in fields.values()}
    values = {v.pk: v for f in fields.values() for v in f.values.all()}
    for answer in scope.site_session_answers(site):
        custom = by_pk.get(answer.field_id)
        if custom is not None:
            held[answer.record_id][custom.code].append(_sent(custom, answer, values))
    return _Programme(sessions, unnamed, times, files, held, fields)


def _sent(custom: CustomField, answer: Answer, values: dict) -> str:
    """The value as an API call would send it (userparams.sent_values' rule)."""
    if custom.field_type == FieldType.TEXT:
        return answer.text
    value = values.get(answer.value_id)
    if value is None:
        return answer.text
    return answer.text if value.is_other and answer.text else value.code


def copy_sessions(scope, source, target) -> SessionReport:
    """Makes `target`'s sessions agree with `source`'s, as far as the rules above allow; each
    change through the programme's services. Reports what changed and what was left."""
    report = SessionReport()
    have = _read(scope, source)
    have_on, want_on = source.get_environment_display(), target.get_environment_display()
    there = _read(scope, target)
    for abbreviation, session in have.sessions.items():
        label = f"session '{abbreviation}'"
        other = there.sessions.get(abbreviation)
        assignments, skipped = _assignments(
            have.held.get(session.pk, {}),
            there.held.get(other.pk, {}) if other else {},
            there.fields,
        )
        for code in skipped:
            report.notes.append(
                f"{label}: custom field '{code}' not copied: {want_on} lacks the field or one "
                "of its values (copy the custom fields first)"
            )
        if other is None:
            if not session.is_active:
                report.notes.append(f"{label} is cancelled: not created on {want_on}")
                continue
            other = services.add_session(
                target,
                fields={name: getattr(session, name) for name in COPIED}
                | {"abbreviation": abbreviation},
                assignments=assignments,
            )
            report.changes.append(f'create {label} "{session.title}"')
        else:
            changed = {
                name: getattr(session, name)
                for name in COPIED
                if getattr(other, name) != getattr(session, name)
            }
            for name, value in changed.items():
                report.changes.append(f"{label}: {name} {getattr(other, name)!r} → {value!r}")
            for assignment in assignments:
                shown = ", ".join(
                    value.code if value else text for value, text in assignment.choices
                )
                report.changes.append(
                    f"{label}: custom field '{assignment.field.code}' → {shown or '(empty)'}"
                )
            if other.status != session.status:
                report.notes.append(
                    f"{label} is {session.status} on {have_on} and {other.status} on {want_on}: "
                    "a copy never changes a status"
                )
            if changed or assignments:
                services.update_session(other, fields=changed, assignments=assignments)
        files = have.files.get(session.pk, [])
        if files != there.files.get(other.pk, []):
            services.set_files(other, files)
            report.changes.append(f"{label}: files replaced ({len(files)})")
        _copy_times(
            label,
            have.times.get(session.pk, []),
            there.times.get(other.pk, []),
            other,
            report,
            (have_on, want_on),
        )
    if have.unnamed:
        report.notes.append(
            f"{have.unnamed} session{'s' if have.unnamed != 1 else ''} without an abbreviation: "
            "not copied (the abbreviation names the same session on both sites)"
        )
    kept = [abbreviation for abbreviation in there.sessions if abbreviation not in have.sessions]
    if kept:
        shown = ", ".join(f"'{a}'" for a in kept[:10]) + (" …" if len(kept) > 10 else "")
        report.notes.append(
            f"{len(kept)} session{'s' if len(kept) != 1 else ''} of {want_on} not on this site, "
            f"kept as they are: {shown}"
        )
    return report


def _assignments(
    have: dict[str, list[str]], there: dict[str, list[str]], fields: dict[str, CustomField]
) -> tuple[list[Assignment], list[str]]:
    """The assignments that make `there` hold what `have` holds, by field code and value code
    (an unknown value goes to the field's Other option, as the API stores it); the codes of
    fields that cannot be copied."""
    assignments, skipped = [], []
    for code in sorted(have.keys() | there.keys()):
        wanted = have.get(code, [])
        if wanted == there.get(code, []):
            continue
        custom = fields.get(code)
        if custom is None:
            skipped.append(code)
            continue
        if custom.field_type == FieldType.TEXT:
            assignments.append(Assignment(custom, tuple((None, text) for text in wanted)))
            continue
        by_code = {v.code: v for v in custom.values.all()}
        other = next((v for v in by_code.values() if v.is_other), None)
        choices = []
        for sent in wanted:
            if sent in by_code:
                choices.append((by_code[sent], ""))
            elif other is not None:
                choices.append((other, sent))
            else:
                break
        else:
            assignments.append(Assignment(custom, tuple(choices)))
            continue
        skipped.append(code)
    return assignments, skipped


def _copy_times(label, have, there, session, report, sites: tuple[str, str]) -> None:
    have_on, want_on = sites
    there_by_key: dict[tuple, SessionTime] = {}
    for time in there:
        there_by_key.setdefault(_time_key(time), time)
    matched = set()
    for time in have:
        other = there_by_key.get(_time_key(time))
        where = f"{label}: time {_time_label(time)}"
        if other is None:
            if time.is_active:
                services.add_session_time(
                    session,
                    fields={
                        name: getattr(time, name) for name in ("date", "time", "room", *TIME_COPIED)
                    },
                )
                report.changes.append(f"{label}: add time {_time_label(time)}")
            continue
        matched.add(other.pk)
        changed = {
            name: getattr(time, name)
            for name in TIME_COPIED
            if getattr(other, name) != getattr(time, name)
        }
        for name, value in changed.items():
            report.changes.append(f"{where}: {name} {getattr(other, name)!r} → {value!r}")
        if other.status != time.status:
            report.notes.append(
                f"{where} is {time.status} on {have_on} and {other.status} on {want_on}: a copy "
                "never changes a status"
            )
        if changed:
            services.update_session_time(other, fields=changed)
    for time in there:
        if time.pk not in matched and time.is_active:
            report.notes.append(
                f"{label}: time {_time_label(time)} of {want_on} is not on this site: kept, with "
                "its seats"
            )
