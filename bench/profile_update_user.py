"""Where an updateUser.do call spends its time, in one process (no gunicorn, no wrk).

    .venv/bin/python bench/profile_update_user.py                 # SQLite and PostgreSQL
    .venv/bin/python bench/profile_update_user.py --db postgres --calls 2000 --top 40

The calls are those of update_user.py (5 custom fields and `city`, users by clientID), through
Django's full handler with the test client, on the same setup (CLI, custom-field import, users,
ANALYZE). For each database it prints
 1. wall time, this process's CPU and — on PostgreSQL — the CPU of the server process serving
    the connection, in µs per call;
 2. on PostgreSQL, pg_stat_statements of the measured calls (with `track_planning`): calls, and
    planning and execution µs per call of each statement, as the server saw them;
 3. a cProfile of the same calls: the top functions by own time, or with `--filter confero` by
    cumulative time restricted to Confero's code.
"""

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pgcluster
import update_user

BENCH_DIR = Path(__file__).resolve().parent
SRC = BENCH_DIR.parent / "src"

PG_SETTINGS = {
    "shared_preload_libraries": "pg_stat_statements",
    "pg_stat_statements.track_planning": "on",
}
STATEMENTS_SQL = """
SELECT calls, total_plan_time * 1000 / calls, total_exec_time * 1000 / calls,
       left(regexp_replace(query, '\\s+', ' ', 'g'), 110)
FROM pg_stat_statements WHERE calls > 0 AND query NOT LIKE '%%pg_stat_statements%%'
ORDER BY total_plan_time + total_exec_time DESC LIMIT 15
"""


def inner(args) -> None:
    sys.path.insert(0, str(SRC))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "confero.settings")
    os.environ["CONFERO_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from confero.cli import main as confero

    call_command("migrate", interactive=False, verbosity=0)
    out = io.StringIO()
    fields = Path(tempfile.mkdtemp()) / "fields.json"
    fields.write_text(json.dumps(update_user.fields_file("bench")))
    with contextlib.redirect_stdout(out):
        confero(["event", "create", "--code", "bench", "--name", "Benchmark event"])
        confero(["profile", "--event", "bench", "--site", "production",
                 "--allow-add", "127.0.0.1"])  # fmt: skip
        confero(["token", "create", "--event", "bench", "--site", "production"])
        confero(["profile", "--event", "bench", "--site", "production",
                 "--rate-limit", "2000000000"])  # fmt: skip
        confero(["customfields", "import", "--event", "bench", "--site", "production",
                 str(fields)])  # fmt: skip
    token = re.search(r"^(cfo_live_\w+)$", out.getvalue(), re.M).group(1)
    os.environ.update(BENCH_EVENT="bench", BENCH_USERS=str(args.users))
    exec(update_user.ADD_USERS, {})  # noqa: S102 - the benchmark's own setup script

    client = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.0.0.1")
    sequence = iter(range(10**9))

    def call():
        n = next(sequence)
        body = update_user.sample_body(token, f"C{n % args.users + 1}", n)
        response = client.post(
            "/bench/api/updateUser.do", body, content_type="application/x-www-form-urlencoded"
        )
        if b'<response code="0">' not in response.content:
            raise SystemExit(f"updateUser.do failed: {response.content[:300]!r}")

    for _ in range(200):
        call()
    postgres = connection.vendor == "postgresql"
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            cursor.execute("SELECT pg_stat_statements_reset()")
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]

    def server_cpu() -> float:
        if not postgres:
            return 0.0
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wal() -> tuple:
        if not postgres:
            return (0, 0, 0)
        with connection.cursor() as cursor:
            cursor.execute("SELECT wal_records, wal_fpi, wal_bytes FROM pg_stat_wal")
            return tuple(float(v) for v in cursor.fetchone())

    wal_before = wal()
    wall, cpu, server = time.perf_counter(), time.process_time(), server_cpu()
    for _ in range(args.calls):
        call()
    server_after = server_cpu()
    per_call = 1e6 / args.calls
    print(f"\n=== {connection.vendor} ({args.calls} calls, {args.users} users) ===")
    line = (
        f"µs per call: wall {(time.perf_counter() - wall) * per_call:.0f}, "
        f"this process's CPU {(time.process_time() - cpu) * per_call:.0f}"
    )
    if postgres:
        line += f", PostgreSQL server process CPU {(server_after - server) * per_call:.0f}"
        wal_after = wal()
        records, fpi, size = (b - a for a, b in zip(wal_before, wal_after, strict=True))
        line += (
            f"\nWAL per call: {size / args.calls:.0f} bytes, {records / args.calls:.1f} records, "
            f"{fpi / args.calls:.2f} full-page images"
        )
    print(line)
    if postgres:
        print("\nstatements (pg_stat_statements): calls, planning µs, execution µs per call")
        with connection.cursor() as cursor:
            cursor.execute(STATEMENTS_SQL)
            for calls, plan, execute, query in cursor.fetchall():
                print(f"  {calls:6d} {plan:8.0f} {execute:8.0f}  {query}")
    if args.no_profile:
        return
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.calls):
        call()
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    print(f"\ncProfile of {args.calls} more calls (profiler overhead included):")
    if args.filter:
        stats.sort_stats("cumulative").print_stats(args.filter, args.top)
    else:
        stats.sort_stats("tottime").print_stats(args.top)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--filter", default="", help="e.g. confero: cumulative, Confero only")
    parser.add_argument("--no-profile", action="store_true", help="timings only, no cProfile")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        inner(args)
        return 0
    forwarded = [a for a in argv if not a.startswith("--db")]
    forwarded = [a for a in forwarded if a not in args.db.split(",")]
    status = 0
    for db in args.db.split(","):
        command = [sys.executable, __file__, "--inner", *forwarded]
        with tempfile.TemporaryDirectory(prefix="confero-profile-") as data:
            env = {**os.environ, "CONFERO_DATA_DIR": data}
            env.pop("DATABASE_URL", None)
            if db == "postgres":
                with pgcluster.cluster(extra=PG_SETTINGS) as pg:
                    env["DATABASE_URL"] = pg.url
                    status |= subprocess.run(command, env=env, check=False).returncode
            else:
                status |= subprocess.run(command, env=env, check=False).returncode
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
