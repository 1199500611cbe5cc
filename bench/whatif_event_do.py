"""What the proposed optimisations of the event.do path would save, measured in one process.

    .venv/bin/python bench/whatif_event_do.py                  # SQLite and PostgreSQL
    .venv/bin/python bench/whatif_event_do.py --db sqlite --rev HEAD

Times, per operation (best of 5 rounds of --n operations, so a busy machine disturbs it less):
the database work event.do does today (the pipeline's own functions, called as the pipeline calls
them) next to the same work done the proposed way (bench-only code: raw SQL on the same tables,
one transaction for the two writes). Nothing here changes src/; it measures what a change would
gain before anyone makes it. docs/performance.md has the proposals.
"""

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import event_do
import pgcluster


def best_of(fn, n: int, rounds: int = 5) -> float:
    """µs per call, the best of `rounds` rounds of `n` calls."""
    fn()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n)
    return best * 1e6


def inner(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "confero.settings")
    os.environ["CONFERO_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from confero.access import ratelimit, tokens
    from confero.access.models import ApiCall, ApiProfile, ApiToken
    from confero.api import pipeline
    from confero.cli import main as confero
    from confero.events.models import Event, Site

    call_command("migrate", interactive=False, verbosity=0)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        confero(["event", "create", "--code", "bench", "--name", "Benchmark event"])
        confero(
            ["token", "create", "--event", "bench", "--site", "production", "--allow", "127.0.0.1"]
        )
    token = re.search(r"^(cfo_live_\w+)$", out.getvalue(), re.M).group(1)
    site = pipeline._find_site("bench", "production")
    profile = site.api_profile
    found = tokens.find_usable_token(token)
    window = 60
    digest = tokens.hash_token(token)

    def outcome():
        return pipeline._Outcome(
            site=site,
            profile=profile,
            token_prefix=found.prefix,
            resource="event",
            method="POST",
            path="/bench/api/event.do",
            client_ip="127.0.0.1",
        )

    # --- today -----------------------------------------------------------------------------
    def find_site():
        pipeline._find_site("bench", "production")

    def find_token():
        tokens.find_usable_token(token)

    def peek():
        ratelimit.peek("authfail:127.0.0.1", limit=30, window_seconds=window)

    def hit():
        ratelimit.hit(f"token:{found.pk}", limit=10**9, window_seconds=window)

    def log_call():
        pipeline._log_call(outcome(), 0, time.perf_counter())

    def health_check():
        connection.is_usable()

    def today():
        find_site()
        peek()
        find_token()
        hit()
        log_call()
        if connection.vendor != "sqlite":
            health_check()

    # --- proposed, staying with the ORM ----------------------------------------------------
    def lighter_site():
        # The pipeline needs the event and the profile; the account is read as event.account_id.
        qs = Site.objects.select_related("event", "api_profile")
        list(qs.filter(event__code="bench", environment="production").order_by()[:1])

    def lighter_token():
        # The pipeline already holds the site and profile: the token's own columns suffice, and
        # [:1] without order_by() spares the ORDER BY that .first() adds (Meta.ordering).
        qs = ApiToken.objects.filter(token_hash=digest).order_by()
        list(qs.only("id", "prefix", "profile_id", "last_used_at", "expires_at", "revoked_at")[:1])

    def lighter_both():
        lighter_site()
        lighter_token()

    # --- proposed, raw SQL -----------------------------------------------------------------
    st, ev, pr, tk = (m._meta.db_table for m in (Site, Event, ApiProfile, ApiToken))
    combined_sql = (
        f"SELECT s.id, s.environment, e.id, e.account_id, e.guid, e.code, e.name, e.time_zone, "
        f"e.start_date, e.end_date, p.id, p.enabled, p.account_level_access, p.allowed_networks, "
        f"p.rate_limit_per_minute, t.id, t.prefix, t.last_used_at, t.expires_at, t.revoked_at "
        f"FROM {st} s JOIN {ev} e ON e.id = s.event_id JOIN {pr} p ON p.site_id = s.id "
        f"LEFT JOIN {tk} t ON t.profile_id = p.id AND t.token_hash = %s "
        f"WHERE e.code = %s AND s.environment = %s"
    )
    log_table = ApiCall._meta.db_table
    columns = (
        "time, site_id, profile_id, token_prefix, method, path, resource, event_param, "
        "client_ip, code, http_status, duration_ms, incident"
    )
    insert_sql = f"INSERT INTO {log_table} ({columns}) VALUES ({', '.join(['%s'] * 13)})"

    def combined_lookup():
        with connection.cursor() as cursor:
            cursor.execute(combined_sql, [digest, "bench", "production"])
            row = cursor.fetchone()
        if row is None or row[15] is None:
            raise RuntimeError("the combined lookup found no token")

    def raw_log():
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        values = [
            now,
            site.pk,
            profile.pk,
            found.prefix,
            "POST",
            "/bench/api/event.do",
            "event",
            "",
            "127.0.0.1",
            0,
            200,
            1.0,
            "",
        ]
        with connection.cursor() as cursor:
            cursor.execute(insert_sql, values)

    def writes_separately():
        hit()
        raw_log()

    def writes_one_transaction():
        with transaction.atomic():
            hit()
            raw_log()

    def proposed():
        combined_lookup()
        writes_one_transaction()

    n = args.n
    results = {"db": connection.vendor, "ops": []}
    for label, fn in [
        ("today: _find_site (ORM, 4 tables, .first())", find_site),
        ("today: ratelimit.peek (ORM, failed-auth counter)", peek),
        ("today: find_usable_token (ORM, 5 tables, .first())", find_token),
        ("today: ratelimit.hit (raw upsert, own commit)", hit),
        ("today: _log_call (ORM create, own commit)", log_call),
        ("today: connection health check (PostgreSQL only)", health_check),
        ("today: all of the above, as one call does", today),
        ("ORM, lighter: site + event + profile, no ORDER BY", lighter_site),
        ("ORM, lighter: token's own columns, no joins, no ORDER BY", lighter_token),
        ("ORM, lighter: both lookups", lighter_both),
        ("proposed: site+profile+token in one raw SELECT", combined_lookup),
        ("proposed: call-log row with a raw INSERT, own commit", raw_log),
        ("proposed: hit + raw INSERT, two commits", writes_separately),
        ("proposed: hit + raw INSERT in one transaction", writes_one_transaction),
        ("proposed: lookup + both writes in one transaction", proposed),
    ]:
        if fn is health_check and connection.vendor == "sqlite":
            continue
        results["ops"].append((label, best_of(fn, n)))
    print("WHATIF_JSON " + json.dumps(results))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--n", type=int, default=300, help="operations per round")
    parser.add_argument("--quiet-timeout", type=float, default=120)
    parser.add_argument("--rev", help="measure this git revision of src/ (see event_do.py --rev)")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        inner(args)
        return 0
    work = Path(tempfile.mkdtemp(prefix="confero-whatif-"))
    status = 0
    try:
        print(f"event.do what-if, code: {event_do.describe_code(args.rev, work)}")
        for db in args.db.split(","):
            event_do.wait_for_quiet(args.quiet_timeout)
            env = event_do.base_env(work / db, None)
            command = [sys.executable, __file__, "--inner", "--n", str(args.n)]
            with contextlib.ExitStack() as stack:
                if db == "postgres":
                    env["DATABASE_URL"] = stack.enter_context(pgcluster.cluster()).url
                done = subprocess.run(
                    command, env=env, capture_output=True, text=True, check=False, timeout=900
                )
            line = next(
                (ln for ln in done.stdout.splitlines() if ln.startswith("WHATIF_JSON ")), None
            )
            if done.returncode != 0 or line is None:
                print(f"{db} failed:\n{done.stderr[-3000:]}", file=sys.stderr)
                status = 1
                continue
            results = json.loads(line.removeprefix("WHATIF_JSON "))
            print(f"\n{results['db']}: µs per operation (best of 5 rounds of {args.n})\n")
            print("| operation | µs |\n|---|---:|")
            for label, us in results["ops"]:
                print(f"| {label} | {us:.0f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
