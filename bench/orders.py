"""orderFeed.do against userData.do in the same run (issue 16, "must show"): a site of 10,000
users (bench/feeds.py's: 10 custom fields each) with 2 orders each, both feeds over HTTP
against `confero serve`, records per second of each.

    python bench/orders.py                       # SQLite, then PostgreSQL (throw-away cluster)
    python bench/orders.py --db sqlite --users 2000

Target: orderFeed.do's records/s ≥ 50 % of userData.do's. A record is a `<user>` of userData.do
and an `<order>` of orderFeed.do (one per entry of an order: here each order is one Purchase of
two items, a package and a named item with a booking fee and tax, so 20,000 `<order>`s with
40,000 `<orderItem>`s). The two feeds are fetched in turns (a warm-up of each, then RUNS of
each), the best time of each counted. Only loopback traffic; every server started here is
stopped here.
"""

import argparse
import contextlib
import http.client
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common
import feeds  # bench/feeds.py: its data

RUNS = 3

ORDERS_DATA = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "confero.settings")
import django
django.setup()
from decimal import Decimal
from django.db import transaction
from django.utils import timezone
from confero.events.models import Site
from confero.people.models import User
from confero.registration.catalogue import create_package
from confero.registration.models import Invoice, Order, OrderEntry, OrderItem, Package

site = Site.objects.get(event__code="bench", environment="production")
if Order.objects.filter(site=site).exists():
    print("orders already there")
    sys.exit()
package = Package.objects.filter(site=site, code="CONF").first() or create_package(
    site, code="CONF", name="Conference pass", price="350.00")
now = timezone.now()
money = lambda text: Decimal(text)
ids = list(User.objects.filter(site=site).order_by("pk").values_list("pk", flat=True))
for start in range(0, len(ids), 2500):
    with transaction.atomic():
        orders = Order.objects.bulk_create(
            Order(site=site, user_id=user_id, order_number=f"RS-{user_id}-{n}",
                  total=money("474.00"), amount_paid=money("474.00") if n else money("0.00"),
                  created_at=now, modified_at=now)
            for user_id in ids[start:start + 2500] for n in (0, 1))
        entries = OrderEntry.objects.bulk_create(
            OrderEntry(order=order, kind="Purchase", ordered_at=now, total_price=money("474.00"),
                       base_price=money("450.00"), booking_fee=money("5.00"), tax=money("19.00"),
                       guest_package=False)
            for order in orders)
        items = []
        for entry in entries:
            items.append(OrderItem(entry=entry, order_id=entry.order_id, type="package",
                                   package=package, name="Conference pass", price=money("350.00"),
                                   base_price=money("350.00"), booking_fee=money("0.00"),
                                   tax=money("0.00"), guest_package=False, ordered_at=now))
            items.append(OrderItem(entry=entry, order_id=entry.order_id, type="item",
                                   name="Workshop", price=money("124.00"),
                                   base_price=money("100.00"), booking_fee=money("5.00"),
                                   tax=money("19.00"), guest_package=False, ordered_at=now))
        OrderItem.objects.bulk_create(items)
        Invoice.objects.bulk_create(
            Invoice(order_id=entry.order_id, entry=entry, sequence=1, issued_at=now,
                    amount=money("474.00"), tax=money("19.00"), amount_due=money("474.00"))
            for entry in entries)
print(f"orders: {2 * len(ids)} made")
"""


def make_data(env: dict, work: Path, users: int) -> str:
    """The site and its users (bench/feeds.py's) and their orders; the token."""
    token = feeds.set_up(env, work, users)
    out = subprocess.run([sys.executable, "-c", ORDERS_DATA], env=env, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    print(out.strip(), flush=True)
    return token


def fetch(port: int, token: str, resource: str, tag: bytes) -> tuple[float, int, int]:
    """Seconds to the last byte, bytes, and records (`<tag>` elements) counted on the fly."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("POST", f"/bench/api/{resource}.do", f"apiToken={token}".encode(),
                 {"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    response = conn.getresponse()
    size = records = 0
    head = tail = b""
    while chunk := response.read(256 * 1024):
        if len(head) < 200:
            head += chunk[:200]
        size += len(chunk)
        records += (tail + chunk).count(tag)
        tail = chunk[-(len(tag) - 1) :]
    elapsed = time.perf_counter() - started
    conn.close()
    if response.status != 200 or b'<response code="0">' not in head:
        raise SystemExit(f"{resource} failed: HTTP {response.status}: {head[:200]!r}")
    return elapsed, size, records


FEEDS = (("userData", b"<user>"), ("orderFeed", b"<order>"))


def bench(label: str, env: dict, work: Path, users: int) -> dict:
    token = make_data(env, work, users)
    probe = f"apiToken={token}"
    server = common.serve(label, env, work=work, path="/bench/api/event.do", probe=probe)
    port = int(server.url.split(":")[2].split("/")[0])
    times: dict[str, list[float]] = {name: [] for name, _ in FEEDS}
    seen: dict[str, tuple[int, int]] = {}
    try:
        for attempt in range(RUNS + 1):  # the first round warms caches and is not counted
            for name, tag in FEEDS:
                elapsed, size, records = fetch(port, token, name, tag)
                seen[name] = (size, records)
                if attempt:
                    times[name].append(elapsed)
    finally:
        common.stop_servers()
    expected = {"userData": users, "orderFeed": 2 * users}
    for name, (_, records) in seen.items():
        if records != expected[name]:
            raise SystemExit(
                f"{label}: {name} carried {records} records, expected {expected[name]}"
            )
    rates = {name: expected[name] / min(times[name]) for name in times}
    return {
        "db": label,
        "users": users,
        "times": {name: min(values) for name, values in times.items()},
        "bytes": {name: size for name, (size, _) in seen.items()},
        "rates": rates,
        "pct": 100 * rates["orderFeed"] / rates["userData"],
    }


def report(results: list[dict]) -> None:
    print()
    print("| database | feed | records | bytes | best of 3 | records/s | orderFeed ÷ userData |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        for name, _ in FEEDS:
            records = r["users"] * (2 if name == "orderFeed" else 1)
            share = f"{r['pct']:.0f} %" if name == "orderFeed" else ""
            print(
                f"| {r['db']} | {name}.do | {records:,} | {r['bytes'][name]:,} "
                f"| {r['times'][name]:.2f} s | {r['rates'][name]:,.0f} | {share} |"
            )
    print()
    for r in results:
        verdict = "yes" if r["pct"] >= 50 else "NO"
        print(f"{r['db']}: orderFeed.do records/s ≥ 50 % of userData.do's: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="confero-bench-"))
    try:
        for db in ("sqlite", "postgres"):
            if args.db not in (db, "both"):
                continue
            with contextlib.ExitStack() as stack, common.guarded(3600):
                pg = stack.enter_context(common.postgres()) if db == "postgres" else None
                env = common.environment(work / db, pg.database("confero") if pg else None)
                report([bench({"sqlite": "SQLite", "postgres": "PostgreSQL"}[db], env, work / db,
                              args.users)])  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
