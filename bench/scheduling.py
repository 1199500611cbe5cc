"""Issue 14's must-show for scheduling, on PostgreSQL: `confero serve` with 2 workers, wrk with
16 clients.

    .venv/bin/python bench/scheduling.py          # a throw-away PostgreSQL cluster, ~1 min

- Random users (5,000, by clientID) over 200 session times (100 seats and a waitlist each, none
  overlapping another) through `scheduleSession.do`, against `updateUser.do` (a random user's
  city) measured in the same run, in alternating rounds; medians. Target: scheduling at ≥ 60 %
  of updateUser.do's calls/s.
- Contention: every call at one 50-seat time with a waitlist: its calls/s, and the seats
  overbooked afterwards (target 0).
Afterwards every time's counters are checked against its rows, the waitlists 1..n without gaps,
and no time seats more than its capacity. Every answer must be HTTP 200 with code 0.
"""

import argparse
import datetime as dt
import statistics
import sys

from programme_common import data_dir, open_event, server, setup_django, under_postgres, wrk

USERS = 5000
TIMES = 200


def make_programme(site) -> tuple[int, int]:
    """The users (clientID C1…CN), 200 session times in separate hours, and the contended
    time; (first of the 200 ids, the contended time's id)."""
    from confero.people.models import User
    from confero.programme.models import Session, SessionTime

    now = dt.datetime.now(dt.UTC)
    User.objects.bulk_create(
        User(site=site, first_name="U", last_name=str(n), email=f"u{n}@example.org",
             client_id=f"C{n}", created_at=now, modified_at=now)
        for n in range(1, USERS + 1)
    )  # fmt: skip
    Session.objects.bulk_create(
        Session(site=site, title=f"Session {n}", created_at=now, modified_at=now)
        for n in range(TIMES + 1)
    )
    sessions = list(Session.objects.filter(site=site).order_by("pk").values_list("pk", flat=True))
    day = dt.date(2026, 6, 1)
    SessionTime.objects.bulk_create(
        SessionTime(session_id=pk, site=site, date=day + dt.timedelta(days=n // 10),
                    time=dt.time(8 + n % 10), length=50, capacity=100 if n < TIMES else 50,
                    waitlist=True, created_at=now, modified_at=now)
        for n, pk in enumerate(sessions)
    )  # fmt: skip
    ids = list(SessionTime.objects.filter(site=site).order_by("pk").values_list("pk", flat=True))
    return ids[0], ids[-1]


def check_seats() -> tuple[int, list[str]]:
    """Seats overbooked (over all times) and what is inconsistent."""
    from django.db.models import Count, Q

    from confero.programme.models import Seat, SessionTime

    problems, overbooked = [], 0
    times = SessionTime.objects.annotate(
        seated=Count("seats", filter=Q(seats__status="scheduled")),
        waiting=Count("seats", filter=Q(seats__status="waitlisted")),
    )
    for time in times:
        overbooked += max(0, time.seated - time.capacity)
        if (time.registered, time.waitlisted) != (time.seated, time.waiting):
            problems.append(f"time {time.pk}: counters {time.registered}/{time.waitlisted}, "
                            f"rows {time.seated}/{time.waiting}")  # fmt: skip
        places = list(
            Seat.objects.filter(session_time=time, status="waitlisted")
            .order_by("position")
            .values_list("position", flat=True)
        )
        if places != list(range(1, len(places) + 1)):
            problems.append(f"time {time.pk}: waitlist places {places[:5]}…")
        if time.waiting and time.seated < time.capacity:
            problems.append(f"time {time.pk}: users wait while seats are free")
    return overbooked, problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args(argv)
    if (status := under_postgres([__file__, *argv])) is not None:
        return status
    with data_dir():
        setup_django()
        site, token = open_event()
        first, contended = make_programme(site)
        env = {"BENCH_BODY": f"apiToken={token}", "BENCH_USERS": str(USERS)}
        spread = {**env, "BENCH_RESOURCE": "scheduleSession", "BENCH_FIRST_TIME": str(first),
                  "BENCH_TIMES": str(TIMES)}  # fmt: skip
        update = {**env, "BENCH_RESOURCE": "updateUser"}
        one = {**spread, "BENCH_FIRST_TIME": str(contended), "BENCH_TIMES": "1"}
        runs = {"updateUser.do": [], "scheduleSession.do, 200 times": [],
                "scheduleSession.do, one time": []}  # fmt: skip
        with server(workers=2) as (port, _):
            schedule_path, update_path = "/bench/api/scheduleSession.do", "/bench/api/updateUser.do"
            for path, case in ((update_path, update), (schedule_path, spread)):  # warm-up
                wrk(port, path, "schedule.lua", case, seconds=2, clients=args.clients)
            for _ in range(args.rounds):
                for name, path, case in (
                    ("updateUser.do", update_path, update),
                    ("scheduleSession.do, 200 times", schedule_path, spread),
                    ("scheduleSession.do, one time", schedule_path, one),
                ):
                    runs[name].append(
                        wrk(port, path, "schedule.lua", case, seconds=args.seconds,
                            clients=args.clients)
                    )  # fmt: skip
        overbooked, problems = check_seats()
    bad = sum(r["bad_status"] + r["bad_code"] + sum(r["errors"].values())
              for results in runs.values() for r in results)  # fmt: skip
    rate = {name: statistics.median(r["rate"] for r in results) for name, results in runs.items()}
    p99 = {name: statistics.median(r["latency_us"]["p99"] for r in results) / 1000
           for name, results in runs.items()}  # fmt: skip
    base = rate["updateUser.do"]
    print(f"\nPostgreSQL, 2 workers, {args.clients} clients, {args.rounds} rounds of "
          f"{args.seconds} s each (medians)\n")  # fmt: skip
    print("| calls | calls/s | % of updateUser.do | p99 |\n|---|---|---|---|")
    for name in runs:
        print(f"| {name} | {rate[name]:,.0f} | {rate[name] / base:.0%} | {p99[name]:.1f} ms |")
    print(f"\nseats overbooked: {overbooked}; answers not 200/code 0: {bad}; "
          f"inconsistencies: {len(problems)} {problems[:3]}")  # fmt: skip
    ok = rate["scheduleSession.do, 200 times"] >= 0.6 * base and overbooked == 0
    ok = ok and not problems and bad == 0
    print(f"verdict: {'all targets met' if ok else 'TARGET MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
