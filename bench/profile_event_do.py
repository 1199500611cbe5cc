"""Where an event.do call spends its time, in one process (no gunicorn, no wrk).

    .venv/bin/python bench/profile_event_do.py                 # SQLite and PostgreSQL
    .venv/bin/python bench/profile_event_do.py --db sqlite --calls 3000 --rev HEAD

For each database it prints
 1. every SQL statement of one call, as the database saw it: SQLite's trace callback, or
    PostgreSQL's own statement log (`log_statement=all` on the throw-away cluster), so BEGIN/COMMIT
    and Django's connection health check are counted too; reads and writes counted apart;
 2. the time of each pipeline step, in µs per call (inclusive), from timers wrapped around the
    pipeline's functions (a wrapper costs about 1 µs; no profiler distorts these);
 3. a cProfile of the same calls, its own time grouped by area (ORM query building, database
    driver, Django's handler and middleware, the pipeline, XML rendering), and the top functions.

The calls go through Django's full handler and middleware with the test client (REMOTE_ADDR
127.0.0.1), in a temporary data directory; the setup uses the same CLI commands as event_do.py.
"""

import argparse
import contextlib
import cProfile
import functools
import io
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import event_do
import pgcluster

STEPS = [
    # (label, module path, attribute): wrapped in this order; inclusive times.
    (
        "whole Django handler (middleware + view)",
        "django.core.handlers.base",
        "BaseHandler.get_response",
    ),
    ("api_view (the pipeline, all of it)", "confero.api.pipeline", "api_view"),
    ("  read_raw_params", "confero.api.pipeline", "read_raw_params"),
    (
        "  load_gate: site + event + profile + token + failed-auth count",
        "confero.api.pipeline",
        "load_gate",
    ),
    ("  client_address + is_allowed", "confero.api.pipeline", "is_allowed"),
    ("  _authenticate", "confero.api.pipeline", "_authenticate"),
    ("  _limit_token", "confero.api.pipeline", "_limit_token"),
    ("    ratelimit.hit (token counter upsert)", "confero.access.ratelimit", "hit"),
    ("    mark_used (token last_used_at)", "confero.api.pipeline", "mark_used"),
    ("  _declared_params", "confero.api.pipeline", "_declared_params"),
    ("  _resolve_event", "confero.api.pipeline", "_resolve_event"),
    ("  _run_resource (event.do handler)", "confero.api.pipeline", "_run_resource"),
    ("  xml_document (render)", "confero.api.pipeline", "xml_document"),
    ("  _log_call (call-log insert)", "confero.api.pipeline", "_log_call"),
]

AREAS = [
    (
        "database driver (execute/fetch, C)",
        re.compile(
            r"sqlite3\.Cursor|psycopg|SQLiteCursorWrapper\.execute"
            r"|method '(execute|fetchone|fetchmany|fetchall|commit)'"
        ),
    ),
    ("Django ORM: query building, compiling, model instances", re.compile(r"django/db/models/")),
    (
        "Django DB backend wrapper (cursor, transactions, converters)",
        re.compile(r"django/db/(backends|transaction|utils)"),
    ),
    (
        "Django handler, middleware, request/response",
        re.compile(r"django/(core|http|middleware|contrib|utils|urls|views|dispatch)|whitenoise"),
    ),
    ("Confero pipeline and resource", re.compile(r"confero/")),
    ("XML rendering (lxml)", re.compile(r"lxml|etree")),
    ("Django test client (not in production)", re.compile(r"django/test/")),
]


def _resolve(module: str, attr: str):
    obj = __import__(module, fromlist=["_"])
    owner = obj
    parts = attr.split(".")
    for part in parts[:-1]:
        owner = getattr(owner, part)
    return owner, parts[-1]


def install_timers() -> dict[str, list[float]]:
    spent: dict[str, list[float]] = defaultdict(list)
    for label, module, attr in STEPS:
        owner, name = _resolve(module, attr)
        original = getattr(owner, name)

        def timed(*args, __original=original, __label=label, **kwargs):
            start = time.perf_counter()
            try:
                return __original(*args, **kwargs)
            finally:
                spent[__label].append(time.perf_counter() - start)

        functools.update_wrapper(timed, original)
        setattr(owner, name, timed)
        if name == "api_view":
            # The URL patterns hold their own reference to the view.
            from confero import urls

            for pattern in urls.urlpatterns:
                if getattr(pattern, "callback", None) is original:
                    pattern.callback = timed
    return spent


def inner(args) -> None:
    """Runs inside the environment of one database (DATABASE_URL set for PostgreSQL)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "confero.settings")
    os.environ["CONFERO_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    from confero.cli import main as confero

    call_command("migrate", interactive=False, verbosity=0)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        confero(["event", "create", "--code", "bench", "--name", "Benchmark event"])
        confero(["profile", "--event", "bench", "--site", "production", "--allow-add", "127.0.0.1"])
        confero(["token", "create", "--event", "bench", "--site", "production"])
        confero(
            [
                "profile",
                "--event",
                "bench",
                "--site",
                "production",
                "--rate-limit",
                str(event_do.RATE_LIMIT),
            ]
        )
    token = re.search(r"^(cfo_live_\w+)$", out.getvalue(), re.M).group(1)

    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    body = f"apiToken={token}"

    def call():
        response = client.post(
            "/bench/api/event.do", body, content_type="application/x-www-form-urlencoded"
        )
        if response.status_code != 200 or b'<response code="0">' not in response.content:
            raise SystemExit(f"event.do failed: {response.status_code} {response.content[:300]!r}")

    report: dict = {"db": connection.vendor, "token": token}
    # 1. Statements of the first call (token never used) and of a steady-state call.
    for label in ("first call", "steady-state call"):
        statements = trace_statements(connection, call)
        report[label] = statements
    # 2. Step timings, wall clock, no profiler.
    for _ in range(200):
        call()
    spent = install_timers()
    start = time.perf_counter()
    for _ in range(args.calls):
        call()
    wall = time.perf_counter() - start
    report["calls"] = args.calls
    report["wall_us_per_call"] = wall / args.calls * 1e6
    report["steps_us"] = {
        label: (sum(spent[label]) / args.calls * 1e6, len(spent[label]) / args.calls)
        for label, _, _ in STEPS
    }
    # 3. cProfile.
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.calls):
        call()
    profiler.disable()
    stats = pstats.Stats(profiler)
    areas: Counter = Counter()
    total = 0.0
    rows = []
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _) in stats.stats.items():
        where = f"{filename}:{line}({func})"
        total += tottime
        area = next((name for name, pattern in AREAS if pattern.search(where)), "other (stdlib, …)")
        areas[area] += tottime
        rows.append((tottime, ncalls, cumtime, where))
    rows.sort(reverse=True)
    report["profile_total_s"] = total
    report["areas_us"] = {a: t / args.calls * 1e6 for a, t in areas.most_common()}
    report["top"] = [
        (t / args.calls * 1e6, n / args.calls, c / args.calls * 1e6, _short(w))
        for t, n, c, w in rows[: args.top]
    ]
    print("PROFILE_JSON " + json.dumps(report))


def _short(where: str) -> str:
    where = re.sub(r"^.*/site-packages/", "", where)
    return re.sub(r"^.*/src/confero/", "confero/", where)


def trace_statements(connection, call) -> list[str]:
    """The SQL of one call as the database saw it (SQLite: its trace callback; PostgreSQL: the
    server's statement log, read by the parent; here the driver-level statements are recorded)."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        seen: list[str] = []
        connection.connection.set_trace_callback(seen.append)
        try:
            call()
        finally:
            connection.connection.set_trace_callback(None)
        return seen
    marker = f"bench-marker-{time.time_ns()}"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT '{marker}-start'")
    call()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT '{marker}-end'")
    return [f"@pglog {marker}"]


def pg_statements(log: Path, marker: str) -> list[str]:
    """Statements between the markers in PostgreSQL's log (log_statement=all)."""
    text = log.read_text(errors="replace")
    start = text.index(f"{marker}-start")
    end = text.index(f"{marker}-end")
    chunk = text[text.index("\n", start) + 1 : text.rindex("\n", 0, end)]
    pattern = r"LOG:\s+(?:statement|execute [^:]*): (.*)"
    return [m.group(1).strip() for m in re.finditer(pattern, chunk)]


def served_statements(env: dict, pg, token: str, work: Path, calls: int = 100) -> dict:
    """Statements per call as PostgreSQL saw them with event.do served by gunicorn (2 workers, the
    `confero serve` command line): the test client skips Django's per-request connection health
    check (CONN_HEALTH_CHECKS), a real server does not."""
    import psycopg

    port = pgcluster.free_port()
    url = f"http://127.0.0.1:{port}/bench/api/event.do"
    body = f"apiToken={token}"
    argv = event_do.serve_argv(env, port, 2)
    event_do.start_server("profile-served", argv, env, work, url, body)
    for _ in range(10):  # both workers connected and warm
        event_do.post(url, body)
    marker = f"bench-served-{time.time_ns()}"
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute(f"SELECT '{marker}-start'")
        for _ in range(calls):
            status, answer = event_do.post(url, body)
            if status != 200 or b'<response code="0">' not in answer:
                raise SystemExit(f"event.do under gunicorn answered {status}: {answer[:300]!r}")
        conn.execute(f"SELECT '{marker}-end'")
    statements = pg_statements(pg.log, marker)
    shapes = Counter(_shape(sql) for sql in statements)
    return {"calls": calls, "statements": len(statements), "shapes": dict(shapes.most_common())}


def _shape(sql: str) -> str:
    sql = re.sub(r"'[^']*'", "?", sql)
    sql = re.sub(r"\b\d+(\.\d+)?\b", "?", sql)
    return _abbreviate(sql)


def is_write(sql: str) -> bool:
    return bool(re.match(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", sql, re.I))


def print_report(report: dict) -> None:
    print(f"\n=== {report['db']} ===")
    for label in ("first call", "steady-state call"):
        statements = report[label]
        writes = [s for s in statements if is_write(s)]
        control = [
            s
            for s in statements
            if re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|SHOW|PRAGMA)\b", s, re.I)
        ]
        reads = [s for s in statements if s not in writes and s not in control]
        print(
            f"\n{label}: {len(statements)} statements — {len(reads)} reads, {len(writes)} writes, "
            f"{len(control)} transaction/session control"
        )
        for sql in statements:
            kind = "W" if sql in writes else ("-" if sql in control else "R")
            print(f"  {kind} {_abbreviate(sql)}")
    if "served" in report:
        served = report["served"]
        print(
            f"\nserved by gunicorn (2 workers), {served['calls']} sequential calls: "
            f"{served['statements'] / served['calls']:.2f} statements per call"
        )
        for shape, n in served["shapes"].items():
            print(f"  {n / served['calls']:5.2f}  {shape}")
    print(
        f"\nwall time per call, in process: {report['wall_us_per_call']:.0f} µs "
        f"({report['calls']} calls, step timers on)"
    )
    print("\n| step | µs per call | calls per call |\n|---|---:|---:|")
    for label, (us, n) in report["steps_us"].items():
        print(f"| {label} | {us:.0f} | {n:g} |")
    print(
        f"\ncProfile, own time by area (µs per call, profiler overhead included, total "
        f"{report['profile_total_s'] / report['calls'] * 1e6:.0f} µs):"
    )
    print("\n| area | µs per call | share |\n|---|---:|---:|")
    total = sum(report["areas_us"].values())
    for area, us in report["areas_us"].items():
        print(f"| {area} | {us:.0f} | {us / total * 100:.0f} % |")
    print("\ntop functions by own time (µs per call, calls per call, cumulative µs):")
    for us, n, cum, where in report["top"]:
        print(f"  {us:7.1f} {n:6.1f} {cum:8.1f}  {where}")


def _abbreviate(sql: str) -> str:
    sql = re.sub(r"\s+", " ", sql)
    sql = re.sub(r'SELECT (("\w+"\."\w+"(?: AS "\w+")?, )+)', lambda m: "SELECT … ", sql)
    sql = re.sub(r"cfo_(live|test)_\w+", "cfo_…", sql)
    return sql if len(sql) <= 160 else sql[:157] + "…"


def outer(args) -> int:
    work = Path(tempfile.mkdtemp(prefix="confero-profile-"))
    try:
        return _outer(args, work)
    finally:
        event_do.stop_servers()
        shutil.rmtree(work, ignore_errors=True)


def _outer(args, work: Path) -> int:
    code = event_do.describe_code(args.rev, work)
    print(f"Confero event.do profile, code: {code}")
    status = 0
    for db in args.db.split(","):
        event_do.wait_for_quiet(args.quiet_timeout)
        env = event_do.base_env(work / db, None)
        argv = [
            sys.executable,
            __file__,
            "--inner",
            "--calls",
            str(args.calls),
            "--top",
            str(args.top),
        ]
        if db == "postgres":
            with pgcluster.cluster(
                extra={"log_statement": "all", "log_line_prefix": "%m [%p] "}
            ) as pg:
                env["DATABASE_URL"] = pg.url
                done = subprocess.run(
                    argv, env=env, capture_output=True, text=True, check=False, timeout=900
                )
                report = _parse(done)
                if report:
                    for label in ("first call", "steady-state call"):
                        marker = report[label][0].removeprefix("@pglog ")
                        report[label] = pg_statements(pg.log, marker)
                    try:
                        report["served"] = served_statements(env, pg, report["token"], work)
                    finally:
                        event_do.stop_servers()
        else:
            done = subprocess.run(
                argv, env=env, capture_output=True, text=True, check=False, timeout=900
            )
            report = _parse(done)
        if report is None:
            status = 1
            continue
        print_report(report)
    return status


def _parse(done: subprocess.CompletedProcess) -> dict | None:
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("PROFILE_JSON ")), None)
    if done.returncode != 0 or line is None:
        print(
            f"profile run failed ({done.returncode}):\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}",
            file=sys.stderr,
        )
        return None
    return json.loads(line.removeprefix("PROFILE_JSON "))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--quiet-timeout", type=float, default=120)
    parser.add_argument("--rev", help="profile this git revision of src/ (see event_do.py --rev)")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        inner(args)
        return 0
    return outer(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
