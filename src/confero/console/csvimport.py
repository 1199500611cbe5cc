"""CSV import and export of users with custom fields by code.

A CSV file is a list of addUser.do calls: its header names the parameters (`firstName`,
`email`, `clientID`, …, and custom field codes), each row gives their values, and each row is
checked by the API's own rules (confero.console.userparams): a row the preview refuses is a
call addUser.do would refuse, with the same code and message. A multichoice field takes its
column repeated, as the API takes the parameter repeated (a repeated column of a choice field is
302, of a contact field 201). An empty cell is a parameter not sent.

Beyond one call, the file itself: a clientID or an (active) email used by an earlier row is
refused as the API would refuse the second call (211, 214). Rows are numbered as a spreadsheet
shows them: the header is row 1.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count
from django.db.models.functions import Lower
from django.utils import timezone

from confero.api import codes
from confero.api.params import RawParams
from confero.api.registry import STANDARD_PARAMS
from confero.console import userparams
from confero.console.models import UserImport
from confero.console.userparams import Checked, Refusal
from confero.customfields.models import FieldType
from confero.errors import ValidationFailed
from confero.people.models import UserStatus
from confero.registration.standing import status_follows_orders

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
# Columns an export writes that an import does not take (they are the record's own): ignored.
EXPORT_ONLY = ("userRef", "status", "create-date", "last-modified-date")
ERROR_COLUMNS = ("error code", "error message")
_CHUNK = 500  # identifiers per query when checking them against the site's users


@dataclass
class Row:
    number: int  # as a spreadsheet shows it: the header is row 1
    cells: list[str]
    checked: Checked | None = None
    refusal: Refusal | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None


@dataclass
class Parsed:
    header: list[str]
    rows: list[Row]
    problems: list[Refusal] = field(default_factory=list)  # of the header: no row can pass
    ignored: list[str] = field(default_factory=list)
    columns: list[tuple[str, str]] = field(default_factory=list)  # (column, what it is)

    @property
    def refused(self) -> list[Row]:
        return [row for row in self.rows if not row.ok]

    @property
    def valid(self) -> list[Row]:
        return [row for row in self.rows if row.ok]

    @property
    def importable(self) -> bool:
        return not self.problems and bool(self.rows)


def decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ValidationFailed("file", f"over {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        return data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte order mark
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            "file",
            f"not UTF-8 (byte {exc.start}): save it as “CSV UTF-8” and upload it again",
        ) from exc


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    first = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def parse(site, text: str) -> Parsed:
    """The file's header and rows, the header checked; rows are checked by `validate`."""
    reader = csv.reader(io.StringIO(text), _dialect(text))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration as exc:
        raise ValidationFailed("file", "the file is empty") from exc
    except csv.Error as exc:
        raise ValidationFailed("file", f"not a CSV file: {exc}") from exc
    rows = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, as spreadsheets leave them at the end
            if len(rows) >= MAX_ROWS:
                raise ValidationFailed("file", f"more than {MAX_ROWS:,} rows: split the file")
            rows.append(Row(number=reader.line_num, cells=cells))
    except csv.Error as exc:
        raise ValidationFailed("file", f"row {reader.line_num}: {exc}") from exc
    parsed = Parsed(header=header, rows=rows)
    _check_header(site, parsed)
    return parsed


def _check_header(site, parsed: Parsed) -> None:
    declared = {param.name for param in userparams.declared(adding=True)}
    derived = status_follows_orders(site.pk)
    fields = {f.code: f for f in userparams.user_fields(site)}
    for number, name in enumerate(parsed.header, 1):
        if not name:
            parsed.problems.append(Refusal(codes.PARAM_INVALID, f"column {number} has no name", ""))
        elif name in EXPORT_ONLY:
            parsed.ignored.append(name)
            parsed.columns.append((name, "ignored: the record's own, written by Confero"))
        elif name in userparams.BOOLEANS and derived:  # an export of the other site has them
            parsed.ignored.append(name)
            parsed.columns.append((name, "ignored: follows from the user's orders on this site"))
        elif name in declared:
            parsed.columns.append((name, userparams.LABELS.get(name, name)))
        elif name in STANDARD_PARAMS:
            parsed.problems.append(
                Refusal(codes.PARAM_INVALID, f"column '{name}' is not a field of a user", name)
            )
        elif name in fields:
            custom = fields[name]
            parsed.columns.append(
                (name, f"custom field “{custom.display_name}” ({custom.get_field_type_display()})")
            )
        else:
            parsed.problems.append(
                Refusal(codes.UNKNOWN_FIELD, f"unknown custom field code '{name[:60]}'", name)
            )


def raw_params(
    header: Sequence[str], cells: Sequence[str], ignored: Sequence[str] = EXPORT_ONLY
) -> RawParams:
    raw: RawParams = {}
    for name, cell in zip(header, cells, strict=False):
        value = cell.strip()
        if value and name not in ignored:
            raw.setdefault(name, []).append(value)
    return raw


def validate(site, parsed: Parsed, users) -> None:
    """Checks every row (`users`: the site's users, from the planner's scope)."""
    width = len(parsed.header)
    for row in parsed.rows:
        row.checked, row.refusal = None, None
        if len(row.cells) > width and any(cell.strip() for cell in row.cells[width:]):
            row.refusal = Refusal(
                codes.PARAM_INVALID,
                f"row {row.number} has {len(row.cells)} cells, the header {width} columns",
                "",
            )
            continue
        raw = raw_params(parsed.header, row.cells, parsed.ignored)
        checked = userparams.check(site, raw, adding=True)
        row.checked, row.refusal = checked, checked.first()
    _check_unique(parsed, users)


def _folded(emails: set[str]) -> dict[str, str]:
    """Each email as the database folds it for the uniqueness of active emails (LOWER(), as the
    unique index): ASCII here, other letters as the database does (SQLite folds ASCII only)."""
    folded = {email: email.lower() for email in emails if email.isascii()}
    others = [email for email in emails if not email.isascii()]
    if others:
        with connection.cursor() as cursor:
            for email in others:
                cursor.execute("SELECT LOWER(%s)", [email])
                folded[email] = cursor.fetchone()[0]
    return folded


def _chunks(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _check_unique(parsed: Parsed, users) -> None:
    """clientID unique among the site's users, email among its active users — against the site
    and against the rows above, in add_user's order (clientID first)."""
    rows = [row for row in parsed.rows if row.ok]
    client_ids = {
        row.checked.fields["client_id"] for row in rows if row.checked.fields.get("client_id")
    }
    taken_ids = set()
    for chunk in _chunks(sorted(client_ids)):
        taken_ids.update(users.filter(client_id__in=chunk).values_list("client_id", flat=True))
    folded = _folded({row.checked.fields["email"] for row in rows})
    taken_emails = set()
    for chunk in _chunks(sorted(set(folded.values()))):
        taken_emails.update(
            users.filter(status=UserStatus.ACTIVE)
            .annotate(folded=Lower("email"))
            .filter(folded__in=chunk)
            .values_list("folded", flat=True)
        )
    first_id: dict[str, int] = {}
    first_email: dict[str, int] = {}
    for row in rows:
        fields = row.checked.fields
        client_id, email = fields.get("client_id"), fields["email"]
        key = folded[email]
        if client_id and (client_id in taken_ids or client_id in first_id):
            where = f"row {first_id[client_id]}" if client_id in first_id else "another user"
            row.refusal = Refusal(
                codes.CLIENT_ID_TAKEN,
                f"clientID '{client_id}' is already used by {where}",
                "clientID",
            )
        elif key in taken_emails or key in first_email:
            where = f"row {first_email[key]}" if key in first_email else "another active user"
            row.refusal = Refusal(
                codes.EMAIL_TAKEN, f"email '{email}' is already used by {where}", "email"
            )
        else:
            if client_id:
                first_id[client_id] = row.number
            first_email[key] = row.number


def rejected_csv(parsed: Parsed, rows: Sequence[Row]) -> str:
    """The refused rows as they came, with the code and message of each: fix and upload again."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*parsed.header, *ERROR_COLUMNS])
    width = len(parsed.header)
    for row in rows:
        cells = (row.cells + [""] * width)[:width]
        writer.writerow([*cells, row.refusal.code, row.refusal.message])
    return out.getvalue()


# --- The upload between its preview and its import ----------------------------------------------

KEEP_UPLOADS = dt.timedelta(days=1)


def store_upload(uploads, *, site, planner, filename: str, text: str):
    """Keeps an uploaded file for its preview and import (`uploads`: the site's, from the
    planner's scope); uploads nobody imported are forgotten after a day."""
    with transaction.atomic():
        uploads.filter(
            state=UserImport.State.UPLOADED, created_at__lt=timezone.now() - KEEP_UPLOADS
        ).delete()
        return uploads.create(site=site, planner=planner, filename=filename[:200], content=text)


def mark_imported(upload, *, written: int, parsed: Parsed, refused: Sequence[Row]) -> None:
    """Inside the import's transaction: the upload is done, with the rows it refused as CSV."""
    upload.state = UserImport.State.IMPORTED
    upload.imported = written
    upload.rejected = rejected_csv(parsed, refused) if refused else ""
    upload.save(update_fields=["state", "imported", "rejected"])


# --- Export ------------------------------------------------------------------------------------

EXPORT_CHUNK = 2000


def export_header(fields, repeats: dict[str, int]) -> list[str]:
    params = [param.name for param in userparams.declared(adding=True)]
    custom = [f.code for f in fields for _ in range(repeats.get(f.code, 1))]
    return [*params, *custom, *EXPORT_ONLY]


def multichoice_repeats(fields, answers) -> dict[str, int]:
    """How many columns each multichoice field needs: the most values any user holds."""
    repeats = {}
    for custom in fields:
        if custom.field_type == FieldType.MULTICHOICE:
            most = (
                answers.filter(field_id=custom.pk)
                .values("record_id")
                .annotate(n=Count("id"))
                .order_by("-n")
                .values_list("n", flat=True)
                .first()
            )
            repeats[custom.code] = max(most or 0, 1)
    return repeats


def export_rows(users, answers_of, fields, repeats: dict[str, int]) -> Iterator[list[str]]:
    """One list of cells per user, in chunks by primary key (memory stays flat at 100,000).
    `answers_of(ids)`: the custom values of those users (from the planner's scope)."""
    params = list(userparams.declared(adding=True))
    columns = {name: column for name, column in userparams.COLUMNS.items()}
    last = 0
    while True:
        chunk = list(users.filter(pk__gt=last).order_by("pk")[:EXPORT_CHUNK])
        if not chunk:
            return
        last = chunk[-1].pk
        held_by: dict[int, list] = {}
        for answer in answers_of([user.pk for user in chunk]):
            held_by.setdefault(answer.record_id, []).append(answer)
        for user in chunk:
            held = userparams.sent_values(user, fields, held_by.get(user.pk, []))
            cells = []
            for param in params:
                value = getattr(user, columns[param.name])
                cells.append(
                    ("true" if value else "false") if isinstance(value, bool) else value or ""
                )
            for custom in fields:
                values = held[custom.code]
                width = repeats.get(custom.code, 1)
                cells.extend((values + [""] * width)[:width])
            cells.extend(
                [
                    user.user_ref,
                    user.status,
                    user.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    user.modified_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                ]
            )
            yield cells
