"""The `confero` command. Thin: it parses arguments and calls the same services as the API and
the console do. `confero manage …` passes through to Django's management commands."""

import argparse
import datetime as dt
import os
import shutil
import sys
from pathlib import Path


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "confero.settings")
    import django

    django.setup()


def _on_off(value: str) -> bool:
    if value not in ("on", "off"):
        raise argparse.ArgumentTypeError("on or off")
    return value == "on"


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("a date as YYYY-MM-DD") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="confero", description="Confero conference platform")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, then run the server under gunicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=2)

    demo = sub.add_parser("demo", help="create (or refresh) the demo event, tokens and login")
    demo.add_argument(
        "--url", default="http://127.0.0.1:8000", help="base URL for the printed calls"
    )

    event = sub.add_parser("event", help="events").add_subparsers(dest="action", required=True)
    create = event.add_parser("create", help="create an event with its UAT and Production sites")
    create.add_argument("--code", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--account", default="default")
    create.add_argument("--timezone", default="UTC")
    create.add_argument("--start", type=_date)
    create.add_argument("--end", type=_date)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="action", required=True)
    tcreate = token.add_parser("create", help="issue a token; printed once, on the last line")
    tcreate.add_argument("--event", required=True, help="event code")
    tcreate.add_argument("--site", required=True, choices=["uat", "production"])
    tcreate.add_argument("--label", default="")
    tcreate.add_argument(
        "--account-level", action="store_true", help="switch on Account Level Access"
    )
    # Gone: it replaced the allow-list, locking out every client allowed before (issue 17).
    # Kept only to say so; `confero profile --allow-add` changes the list.
    tcreate.add_argument("--allow", action="append", help=argparse.SUPPRESS)
    tcreate.add_argument("--expires", type=_date, help="expiry date (YYYY-MM-DD, UTC midnight)")
    revoke = token.add_parser("revoke", help="revoke a token by its public prefix")
    revoke.add_argument("prefix")

    profile = sub.add_parser("profile", help="change a site's API profile")
    profile.add_argument("--event", required=True, help="event code")
    profile.add_argument("--site", required=True, choices=["uat", "production"])
    profile.add_argument("--account-level", type=_on_off, metavar="on|off")
    profile.add_argument("--enabled", type=_on_off, metavar="on|off")
    profile.add_argument(
        "--allow-add", action="append", metavar="CIDR", help="add an address or range (repeatable)"
    )
    profile.add_argument(
        "--allow-remove", action="append", metavar="CIDR", help="remove an entry (repeatable)"
    )
    profile.add_argument(
        "--allow-replace",
        action="append",
        metavar="CIDR",
        help="replace the whole allow-list with these entries (repeatable)",
    )
    profile.add_argument(
        "--allow-none", action="store_true", help="empty the allow-list: nobody may call"
    )
    # Gone: it replaced the list silently. Kept only to say which option to use instead.
    profile.add_argument("--allow", action="append", help=argparse.SUPPRESS)
    profile.add_argument(
        "--rate-limit", type=int, metavar="N", help="calls per token per minute (0: default)"
    )

    cf = sub.add_parser("customfields", help="custom-field configuration as JSON")
    cf_sub = cf.add_subparsers(dest="action", required=True)
    export = cf_sub.add_parser("export", help="write the site's custom fields as JSON")
    export.add_argument("--event", required=True)
    export.add_argument("--site", required=True, choices=["uat", "production"])
    export.add_argument("--out", help="file to write (default: standard output)")
    imp = cf_sub.add_parser("import", help="create and update custom fields from a JSON file")
    imp.add_argument("--event", required=True)
    imp.add_argument("--site", required=True, choices=["uat", "production"])
    imp.add_argument(
        "--dry-run", action="store_true", help="report what would change, change nothing"
    )
    imp.add_argument("file")
    recode = cf_sub.add_parser("recode", help="change a field's code (superusers only)")
    recode.add_argument("--event", required=True)
    recode.add_argument("--site", required=True, choices=["uat", "production"])
    recode.add_argument("--field", required=True, help="the current code")
    recode.add_argument("--to", required=True, help="the new code")
    recode.add_argument("--as", dest="actor", required=True, help="a superuser's username")
    recode.add_argument(
        "--yes", action="store_true", help="change it (without: show where it is used)"
    )

    programme = sub.add_parser("programme", help="the programme in the formats apps read")
    programme_sub = programme.add_subparsers(dest="action", required=True)
    frab = programme_sub.add_parser("export", help="write the programme as frab schedule.xml")
    frab.add_argument("--event", required=True)
    frab.add_argument("--site", required=True, choices=["uat", "production"])
    frab.add_argument("--out", help="file to write (default: standard output)")
    agenda = programme_sub.add_parser("agenda", help="write a user's agenda as iCalendar")
    agenda.add_argument("--event", required=True)
    agenda.add_argument("--site", required=True, choices=["uat", "production"])
    agenda.add_argument("--user-ref", required=True, help="the user's userRef")
    agenda.add_argument("--out", help="file to write (default: standard output)")

    docs = sub.add_parser("docs", help="write the generated API reference and the XML Schemas")
    docs.add_argument("--out", default="docs/api-reference.md")
    docs.add_argument(
        "--schema-dir", help="where to copy the XML Schemas (default: schema/ beside --out)"
    )

    manage = sub.add_parser("manage", help="run a Django management command")
    manage.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    _setup_django()
    from confero.errors import ValidationFailed

    try:
        COMMANDS[args.command](args)
    except ValidationFailed as exc:
        print(f"confero: {exc}", file=sys.stderr)
        sys.exit(2)


def cmd_serve(args) -> None:
    from django.core.management import call_command

    from confero.gunicorn_logging import ACCESS_LOG_FORMAT

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    gunicorn = shutil.which("gunicorn") or str(Path(sys.executable).parent / "gunicorn")
    bind = f"[{args.host}]:{args.port}" if ":" in args.host else f"{args.host}:{args.port}"
    print(f"Confero listening on http://{bind}/ with {args.workers} workers", flush=True)
    # The access log shows the path without the query string: tokens must never reach a log.
    os.execv(  # noqa: S606 - replaces this process with our own gunicorn, no shell involved
        gunicorn,
        [
            gunicorn,
            "confero.wsgi:application",
            "--bind",
            bind,
            "--workers",
            str(args.workers),
            # Sync workers are killed when silent this long: a long feed must not count as silence.
            "--timeout",
            os.environ.get("CONFERO_WORKER_TIMEOUT", "600"),
            "--access-logfile",
            "-",
            "--access-logformat",
            ACCESS_LOG_FORMAT,
            "--logger-class",
            "confero.gunicorn_logging.Logger",
            # gunicorn's sync worker, but closing a finished connection without waiting on the
            # client when nothing it sent is left unread (confero.gunicorn_worker).
            "--worker-class",
            "confero.gunicorn_worker.SyncWorker",
            "--forwarded-allow-ips",
            "",
            # Not used; its fixed per-user path would clash between two servers on one machine.
            "--no-control-socket",
        ],
    )


def cmd_demo(args) -> None:
    from django.core.management import call_command

    from confero.demo import describe, ensure_demo

    call_command("migrate", interactive=False, verbosity=0)
    print(describe(ensure_demo(), args.url.rstrip("/")))


def cmd_event(args) -> None:
    from confero.events.services import create_event, get_or_create_account

    account = get_or_create_account(args.account)
    event = create_event(
        account=account,
        code=args.code,
        name=args.name,
        time_zone=args.timezone,
        start_date=args.start,
        end_date=args.end,
    )
    print(event.guid_text)


def _profile(event_code: str, site: str):
    from confero.events.services import get_site

    return get_site(event_code, site).api_profile


_NOBODY = "nobody (confero profile --allow-add CIDR)"


def cmd_token(args) -> None:
    from confero.access.services import configure_profile
    from confero.access.tokens import issue_token, revoke_token
    from confero.errors import ValidationFailed

    if args.action == "revoke":
        token = revoke_token(args.prefix)
        print(f"revoked {token.prefix} ({token.profile.site})")
        return
    if args.allow:
        raise ValidationFailed(
            "allow",
            "token create no longer changes the allow-list; use "
            f"`confero profile --event {args.event} --site {args.site} --allow-add CIDR`",
        )
    profile = _profile(args.event, args.site)
    if args.account_level:
        configure_profile(profile, account_level_access=True)
    expires = dt.datetime.combine(args.expires, dt.time(), tzinfo=dt.UTC) if args.expires else None
    issued = issue_token(profile, label=args.label, expires_at=expires)
    print(
        f"site: {profile.site}  prefix: {issued.token.prefix}  "
        f"allowed from: {', '.join(profile.allowed_networks) or _NOBODY}"
    )
    print("The token is shown once; store it now:")
    print(issued.plain)


def cmd_profile(args) -> None:
    from django.db import transaction

    from confero.access.services import allow_networks, configure_profile, disallow_networks
    from confero.errors import ValidationFailed

    if args.allow:
        raise ValidationFailed(
            "allow", "--allow is gone: use --allow-add, --allow-remove or --allow-replace"
        )
    if args.allow_replace and args.allow_none:
        raise ValidationFailed("allow", "--allow-replace and --allow-none contradict each other")
    replace = [] if args.allow_none else args.allow_replace
    if replace is not None and (args.allow_add or args.allow_remove):
        raise ValidationFailed(
            "allow", "replace the list, or add and remove entries: not both at once"
        )
    with transaction.atomic():  # all of it or none of it: a bad entry changes nothing
        profile = configure_profile(
            _profile(args.event, args.site),
            account_level_access=args.account_level,
            enabled=args.enabled,
            allowed_networks=replace,
            rate_limit_per_minute=args.rate_limit,
        )
        if args.allow_remove:
            disallow_networks(profile, args.allow_remove)
        if args.allow_add:
            allow_networks(profile, args.allow_add)
    print(
        f"{profile.site}: enabled={'on' if profile.enabled else 'off'} "
        f"account-level={'on' if profile.account_level_access else 'off'} "
        f"allow={','.join(profile.allowed_networks) or '(nobody)'} "
        f"rate-limit={profile.rate_limit_per_minute or 'default'}"
    )


def cmd_customfields(args) -> None:
    import json

    from confero.customfields import config
    from confero.events.services import get_site

    site = get_site(args.event, args.site)
    if args.action == "export":
        text = json.dumps(config.export_fields(site), indent=2, ensure_ascii=False) + "\n"
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
            print(f"wrote {args.out}")
        else:
            sys.stdout.write(text)
    elif args.action == "import":
        print(config.import_fields(site, config.load(args.file), dry_run=args.dry_run).text())
    else:
        _recode(site, args)


def cmd_programme(args) -> None:
    from confero.api.agenda import agenda_ics
    from confero.api.frab import schedule_xml
    from confero.events.services import get_site
    from confero.people.identity import find_user

    site = get_site(args.event, args.site)
    if args.action == "export":
        body = schedule_xml(site)
    else:
        user = find_user(site, "userRef", args.user_ref)
        if user is None:
            print(f"confero: no user with userRef '{args.user_ref}' on {site}", file=sys.stderr)
            sys.exit(2)
        body = agenda_ics(user)
    if args.out:
        Path(args.out).write_bytes(body)
        print(f"wrote {args.out}")
    else:
        sys.stdout.buffer.write(body)


def _recode(site, args) -> None:
    from django.contrib.auth import get_user_model

    from confero.customfields.models import CustomField
    from confero.customfields.services import change_field_code, field_usage
    from confero.errors import ValidationFailed

    field = CustomField.objects.filter(site=site, code=args.field).first()
    if field is None:
        raise ValidationFailed("field", f"no custom field with code '{args.field}' on {site}")
    actor = get_user_model().objects.filter(username=args.actor).first()
    usage = field_usage(field)
    print(
        f"field '{field.code}' ({field.display_name}) on {site} is held by: "
        + (", ".join(f"{n} {kind}s" for kind, n in usage.items()) or "no records")
    )
    print(f"integrations sending '{field.code}' will get code 300 once it is '{args.to}'")
    if not args.yes:
        print("nothing changed: add --yes to change the code")
        return
    change_field_code(field, args.to, actor=actor)
    print(f"code changed: '{args.field}' → '{args.to}'")


def cmd_docs(args) -> None:
    from confero.api.reference import render_markdown
    from confero.api.views import SCHEMA_DIR

    Path(args.out).write_text(render_markdown())
    print(f"wrote {args.out}")
    # docs/schema/: a copy of the schemas the server serves at /docs/schema/ (the source of truth).
    target = Path(args.schema_dir) if args.schema_dir else Path(args.out).parent / "schema"
    target.mkdir(parents=True, exist_ok=True)
    sources = sorted(SCHEMA_DIR.glob("*.xsd"))
    for stale in set(target.glob("*.xsd")) - {target / source.name for source in sources}:
        stale.unlink()
    for source in sources:
        shutil.copyfile(source, target / source.name)
    print(f"wrote {target}/ ({', '.join(source.name for source in sources)})")


def cmd_manage(args) -> None:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["confero manage", *args.args])


COMMANDS = {
    "serve": cmd_serve,
    "demo": cmd_demo,
    "event": cmd_event,
    "token": cmd_token,
    "profile": cmd_profile,
    "customfields": cmd_customfields,
    "programme": cmd_programme,
    "docs": cmd_docs,
    "manage": cmd_manage,
}
