"""Where a userData.do feed spends its time, stage by stage, in one process (no gunicorn, no HTTP).

    .venv/bin/python bench/profile_feed.py                        # SQLite, 100,000 users
    .venv/bin/python bench/profile_feed.py --db postgres --users 20000
    .venv/bin/python bench/profile_feed.py --data-dir /tmp/feed-data   # keep the data for next time

The data is bench/feeds.py's (feeds_data.py: 10 custom fields per user). Each stage runs the
whole feed and adds one step to the previous stage; the difference between two stages is what
that step costs:
 1. `chunks`: the chunk queries and their rows (`userrecords._chunks`);
 2. `records`: + each user's values cut out of the chunk (`user_records`);
 3. `elements`: + each user's `<user>` element (`UserRecord.xml`);
 4. `feed`: the whole `xml_feed` (+ serialising with lxml's incremental writer, the flushes).
Best of `--runs` runs per stage, in µs per user and users/s. `--rev REV` measures a committed
revision of `src/` instead of the working tree (two revisions: run it twice, in turns).
On PostgreSQL (a throw-away cluster, bench/pgcluster.py) the chunks after the first are read
ahead on a connection of their own (decision 0011): `chunks` there is the database's time, which
the later stages hide.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import event_do
import pgcluster

BENCH_DIR = Path(__file__).resolve().parent


def inner(args) -> None:
    import django

    django.setup()
    from confero.api import userrecords
    from confero.api.render import Feed, xml_feed
    from confero.events.models import Site
    from confero.people.models import User

    site = Site.objects.get(event__code="bench", environment="production")
    queryset = User.objects.filter(site=site)
    users = queryset.count()

    def chunks() -> int:
        return sum(len(rows) for rows, _ in userrecords._chunks(queryset))

    def records() -> int:
        return sum(1 for _ in userrecords.user_records(queryset, [site]))

    def elements() -> int:
        records = userrecords.user_records(queryset, [site])
        return sum(1 for record in records if record.xml() is not None)

    def feed() -> int:
        records = userrecords.user_records(queryset, [site])
        body = xml_feed(Feed(root="user-data", record_tag="user", records=records))
        return sum(part.count(b"<user>") for part in body)

    database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    print(f"{users:,} users on {database}")
    print("| stage | best s | µs per user | users/s | the step's µs per user |")
    print("|---|---:|---:|---:|---:|")
    previous = 0.0
    for name, stage in (
        ("chunks", chunks),
        ("records", records),
        ("elements", elements),
        ("feed", feed),
    ):
        best = float("inf")
        for _ in range(args.runs):
            started = time.perf_counter()
            counted = stage()
            best = min(best, time.perf_counter() - started)
            if counted != users:
                raise SystemExit(f"{name}: {counted} users, expected {users}")
        per_user = best / users * 1e6
        print(
            f"| {name} | {best:.2f} | {per_user:.1f} | {users / best:,.0f} "
            f"| {per_user - previous:+.1f} |"
        )
        previous = per_user


def run(args, env: dict) -> int:
    data = subprocess.run(
        [sys.executable, str(BENCH_DIR / "feeds_data.py"), str(args.users)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(data.splitlines()[-1], flush=True)  # how the data came about, never the token
    command = [sys.executable, __file__, "--inner", "--runs", str(args.runs)]
    return subprocess.run(command, env=env, check=False).returncode


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data-dir", help="SQLite: keep the data here and reuse it next time")
    parser.add_argument("--rev", help="measure this git revision of src/ (git archive)")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        inner(args)
        return 0
    with tempfile.TemporaryDirectory(prefix="confero-profile-feed-") as scratch:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "confero.settings",
            "CONFERO_LOG_LEVEL": "WARNING",
            "CONFERO_DATA_DIR": args.data_dir or scratch,
        }
        env.pop("DATABASE_URL", None)
        if args.rev:
            print(event_do.describe_code(args.rev, Path(scratch)))  # exports it to SRC_PATH
            env["PYTHONPATH"] = event_do.SRC_PATH[0]
        if args.data_dir:
            Path(args.data_dir).mkdir(parents=True, exist_ok=True)
        if args.db == "postgres":
            with pgcluster.cluster() as pg:
                return run(args, {**env, "DATABASE_URL": pg.url})
        return run(args, env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
