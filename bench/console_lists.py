"""The console's list pages at 100,000 users (issue 17: "stay fast at 100,000 users"): each page
asked through Django's test client in one process, as a planner, the median of several runs.

    .venv/bin/python bench/console_lists.py                      # SQLite, 100,000 users
    .venv/bin/python bench/console_lists.py --db postgres        # a throw-away PostgreSQL cluster
    .venv/bin/python bench/console_lists.py --users 20000 --runs 3

The data is bench/feeds.py's (event `bench`, every user with 10 custom values, by bulk SQL), in a
temporary data directory; a tenth of the users are cancelled and a third not registered,
so the filters have something to find. Prints one line per page: median and slowest time, the
queries the page ran, and the rows shown.
"""

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common
import feeds

PAGES = [
    ("event page (user counts per site)", "/manage/events/bench/", {}),
    ("users, first page", "/manage/events/bench/production/users/", {}),
    ("users, a page deep in the list", "/manage/events/bench/production/users/", {"after": "MID"}),
    ("users, search by name (contains)", "/manage/events/bench/production/users/",
     {"q": "Last77777"}),
    ("users, search by clientID", "/manage/events/bench/production/users/", {"q": "C4242"}),
    ("users, cancelled only", "/manage/events/bench/production/users/", {"status": "cancelled"}),
    ("users, not registered", "/manage/events/bench/production/users/", {"registered": "no"}),
    ("users, holding a custom value", "/manage/events/bench/production/users/", {"value": "VALUE"}),
    ("users, search with no match", "/manage/events/bench/production/users/", {"q": "nobody"}),
]  # fmt: skip


def measure(users: int, runs: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "confero.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from confero.customfields.models import CustomValue
    from confero.events.models import Event
    from confero.people.models import User

    site_users = User.objects.filter(site__event__code="bench", site__environment="production")
    if not site_users.filter(status="cancelled").exists():
        ids = list(site_users.values_list("pk", flat=True))
        site_users.filter(pk__in=ids[::10]).update(status="cancelled")
        site_users.filter(pk__in=ids[1::3]).update(registered=False)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # as autovacuum would have, after a bulk load
            cursor.execute("ANALYZE")
    if os.environ.get("BENCH_EXPLAIN"):
        print(site_users.order_by("-id")[:51].explain())
    middle = sorted(site_users.values_list("pk", flat=True))[users // 2]
    value = CustomValue.objects.filter(field__site__event__code="bench", field__code="choice1")[2]
    planner, _ = get_user_model().objects.get_or_create(username="bench-planner")
    Event.objects.get(code="bench").account.organizers.add(planner)
    client = Client(HTTP_HOST="localhost")
    client.force_login(planner)
    print(f"{users:,} users on the site; {runs} runs per page; database: {connection.vendor}")
    print("| page | median ms | slowest ms | queries | rows |\n|---|---:|---:|---:|---:|")
    for label, url, query in PAGES:
        query = {
            k: {"MID": str(middle), "VALUE": str(value.pk)}.get(v, v) for k, v in query.items()
        }
        times = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url, query)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (label, response.status_code)
        rows = response.content.count(b"<tr class=")
        print(f"| {label} | {statistics.median(times):.1f} | {max(times):.1f} | "
              f"{len(queries)} | {rows} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure(args.users, args.runs)
        return
    data = Path(tempfile.mkdtemp(prefix="confero-console-bench-"))
    command = [sys.executable, __file__, "--child", "--users", str(args.users),
               "--runs", str(args.runs)]  # fmt: skip
    try:
        with contextlib.ExitStack() as stack:
            pg = stack.enter_context(common.postgres()) if args.db == "postgres" else None
            env = common.environment(data, pg.database("confero") if pg else None)
            feeds.set_up(env, data, args.users)
            subprocess.run(command, env=env, check=True)
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
