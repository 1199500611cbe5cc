"""The console's sessions, exhibitors and orders lists at size (issue 17, phase 2: "fast at
5,000+ sessions"): each page asked through Django's test client in one process, as a planner,
the median of several runs.

    .venv/bin/python bench/console_records.py                    # SQLite
    .venv/bin/python bench/console_records.py --db postgres      # a throw-away PostgreSQL cluster
    .venv/bin/python bench/console_records.py --sessions 5000 --runs 3

Data, made in a temporary data directory by bulk inserts (rows as the services would leave
them, without going through them: the lists read, they do not write): event `bench` with
N sessions (2 times each, 10 tracks, a tenth cancelled), N/5 exhibitors and 2N orders of 2N
users (a tenth of the orders cancelled, a tenth changed). Prints one line per page: median and
slowest time, the queries the page ran, and the rows shown.
"""

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

BENCH = Path(__file__).resolve().parent
BASE = "/manage/events/bench/production/"
PAGES = [
    ("sessions, first page", "sessions/", {}),
    ("sessions, a page deep in the list", "sessions/", {"after": "MID_SESSION"}),
    ("sessions, search by title (contains)", "sessions/", {"q": "Talk 4242"}),
    ("sessions, one track", "sessions/", {"track": "Track 7"}),
    ("sessions, cancelled only", "sessions/", {"status": "cancelled"}),
    ("sessions, search with no match", "sessions/", {"q": "nothing"}),
    ("a session", "sessions/SESSION/", {}),
    ("exhibitors, first page", "exhibitors/", {}),
    ("exhibitors, search (contains)", "exhibitors/", {"q": "Booth 77"}),
    ("orders, first page", "orders/", {}),
    ("orders, a page deep in the list", "orders/", {"after": "MID_ORDER"}),
    ("orders, type Change", "orders/", {"type": "Change"}),
    ("orders, search by user's name", "orders/", {"q": "Person 12345"}),
]


def make_data(sessions: int) -> None:
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from confero.events.models import Event
    from confero.events.services import create_event, get_or_create_account
    from confero.exhibitors.models import Exhibitor
    from confero.people.models import User
    from confero.programme.models import Session, SessionTime
    from confero.registration.models import EntryKind, Order, OrderEntry

    call_command("migrate", verbosity=0)
    if Event.objects.filter(code="bench").exists():
        return
    event = create_event(account=get_or_create_account("bench"), code="bench", name="Bench")
    site = event.sites.get(environment="production")
    now = timezone.now()
    with transaction.atomic():
        Session.objects.bulk_create(
            Session(
                site=site, abbreviation=f"S{n}", title=f"Talk {n}", track=f"Track {n % 10}",
                status="cancelled" if n % 10 == 3 else "active", created_at=now, modified_at=now,
            )
            for n in range(sessions)
        )  # fmt: skip
        ids = list(Session.objects.filter(site=site).values_list("pk", flat=True))
        SessionTime.objects.bulk_create(
            SessionTime(
                session_id=pk, site=site, date=dt.date(2026, 6, 1 + k), time=dt.time(9 + k),
                length=60, capacity=100, created_at=now, modified_at=now,
            )
            for pk in ids
            for k in range(2)
        )  # fmt: skip
        Exhibitor.objects.bulk_create(
            Exhibitor(site=site, exhibitor_code=f"E{n}", name=f"Exhibitor {n}", booth=f"Booth {n}")
            for n in range(sessions // 5)
        )
        User.objects.bulk_create(
            User(site=site, first_name="Person", last_name=f"Person {n}",
                 email=f"p{n}@example.org", created_at=now, modified_at=now)
            for n in range(2 * sessions)
        )  # fmt: skip
        users = list(User.objects.filter(site=site).values_list("pk", flat=True))
        Order.objects.bulk_create(
            Order(site=site, user_id=pk, order_number=f"O{n}", total=Decimal("100.00"),
                  created_at=now, modified_at=now,
                  cancelled_at=now if n % 10 == 1 else None)
            for n, pk in enumerate(users)
        )  # fmt: skip
        orders = list(Order.objects.filter(site=site).values_list("pk", flat=True))
        OrderEntry.objects.bulk_create(
            OrderEntry(order_id=pk, kind=kind, ordered_at=now, total_price=Decimal("100.00"),
                       base_price=Decimal("100.00"), booking_fee=0, tax=0, guest_package=False)
            for n, pk in enumerate(orders)
            for kind in [EntryKind.PURCHASE] + ([EntryKind.CHANGE] if n % 10 == 2 else [])
        )  # fmt: skip


def measure(sessions: int, runs: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "confero.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from confero.events.models import Account
    from confero.programme.models import Session
    from confero.registration.models import Order

    make_data(sessions)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # as autovacuum would have, after a bulk load
            cursor.execute("ANALYZE")
    on_site = {"site__event__code": "bench", "site__environment": "production"}
    session_ids = sorted(Session.objects.filter(**on_site).values_list("pk", flat=True))
    order_ids = sorted(Order.objects.filter(**on_site).values_list("pk", flat=True))
    marks = {
        "MID_SESSION": str(session_ids[len(session_ids) // 2]),
        "MID_ORDER": str(order_ids[len(order_ids) // 2]),
        "SESSION": str(session_ids[len(session_ids) // 3]),
    }
    planner, _ = get_user_model().objects.get_or_create(username="bench-planner")
    Account.objects.get(slug="bench").organizers.add(planner)
    client = Client(HTTP_HOST="localhost")
    client.force_login(planner)
    print(f"{len(session_ids):,} sessions ({2 * len(session_ids):,} times), "
          f"{sessions // 5:,} exhibitors, {len(order_ids):,} orders on the site; {runs} runs per "
          f"page; database: {connection.vendor}")  # fmt: skip
    print("| page | median ms | slowest ms | queries | rows |\n|---|---:|---:|---:|---:|")
    for label, path, query in PAGES:
        url = BASE + path.replace("SESSION", marks["SESSION"])
        query = {k: marks.get(v, v) for k, v in query.items()}
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
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure(args.sessions, args.runs)
        return
    data = Path(tempfile.mkdtemp(prefix="confero-console-bench-"))
    env = {**os.environ, "CONFERO_DATA_DIR": str(data), "CONFERO_LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    command = [sys.executable, __file__, "--child", "--sessions", str(args.sessions),
               "--runs", str(args.runs)]  # fmt: skip
    if args.db == "postgres":
        command = [sys.executable, str(BENCH.parent / "scripts" / "pgcluster.py"), *command]
    try:
        subprocess.run(command, env=env, check=True)
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
