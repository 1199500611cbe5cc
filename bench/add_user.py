"""addUser.do as a site grows: one client, calls one after another, against a site of 1,000 users
and one of 100,000, both served at once and measured in turns.

    .venv/bin/python bench/add_user.py                      # SQLite and PostgreSQL
    .venv/bin/python bench/add_user.py --db postgres --rev-b 7431695   # the old code beside it

Issue 13's target: the p50 per call at 100,000 users within 20 % of that at 1,000 (every
statement finds its rows by an index, never by reading the site). Each site is a database of its
own, set up with the CLI, with one user custom field (a choice) and its users filled by bulk SQL
with a value each (bench/fill.py, then ANALYZE). Each call adds a user with a mixed-case email, a
clientID and a value of the field, over HTTP to `confero serve` (2 sync workers); it is timed by the
client, from the request to the last byte of the answer. Every answer must be HTTP 200 with code
0; afterwards each database holds the users it was sent and its call log only code-0 rows.
"""

import argparse
import contextlib
import http.client
import itertools
import sys
import tempfile
import time
from pathlib import Path

import common
import turns

PATH = f"/{common.EVENT}/api/addUser.do"
SIZES = ("XS", "S", "M", "L", "XL", "XXL")
FIELDS = [("size", "choice", list(SIZES))]
TARGET_GROWTH = 1.20  # p50 at the large site ÷ p50 at the small one
SERIAL = itertools.count(1)  # new users' numbers, unique over every database


def body(token: str, n: int) -> str:
    return (
        f"apiToken={token}&firstName=New{n}&lastName=Bench&email=New{n}.Bench%40Example.ORG"
        f"&clientID=N{n}&companyName=Example+Corp&size={SIZES[n % 6]}"
    )


def call(url: str, data: str) -> tuple[float, bytes]:
    """One call on a new connection (the server closes each); seconds to the answer's end."""
    host, port = url.split("/")[2].split(":")
    started = time.perf_counter()
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    conn.request("POST", PATH, data.encode(), {"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    answer = response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, answer if response.status == 200 else b"HTTP %d" % response.status


def add_target(server: common.Server, token: str, processes: dict, args) -> turns.Target:
    """`args.calls` calls one after another per turn; latencies kept for the pooled figures."""

    def measure() -> turns.Run:
        run_ = turns.Run(server.name)
        turns.wait_for_quiet(args.quiet_timeout)
        run_.host_us = turns.host_us()
        meter = turns.Meter({"gunicorn": server.proc.pid, **processes})
        meter.start()
        latencies, bad = [], 0
        for _ in range(args.calls):
            seconds, answer = call(server.url, body(token, next(SERIAL)))
            latencies.append(seconds * 1000)
            bad += b'<response code="0">' not in answer
        meter.stop(run_, args.calls, client=None)
        run_.rate = len(latencies) / (sum(latencies) / 1000)
        run_.p50_ms, run_.p90_ms, run_.p99_ms = (
            turns.percentile(latencies, q) for q in (0.5, 0.9, 0.99)
        )
        run_.good, run_.total = args.calls - bad, args.calls
        run_.extra["latencies"] = latencies
        if bad:
            run_.problems.append(f"{bad} answers without code 0")
        return run_

    return turns.Target(server.name, measure)


COUNT = """
import json
from confero.people.models import User
print("RESULT " + json.dumps(User.objects.count()))
"""


def growth(small: turns.Target, large: turns.Target) -> tuple[float, float, float]:
    """p50 of every call at each site (pooled over the rounds) and their ratio."""
    p50 = [turns.percentile(_latencies(t), 0.5) for t in (small, large)]
    return p50[0], p50[1], p50[1] / p50[0]


def _latencies(target: turns.Target) -> list[float]:
    return [ms for r in target.runs for ms in r.extra["latencies"]]


def pooled(target: turns.Target) -> str:
    figures = (turns.percentile(_latencies(target), q) for q in (0.5, 0.9, 0.99))
    return "p50 {:.2f} ms, p90 {:.2f} ms, p99 {:.2f} ms".format(*figures)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000", help="users of the small, large site")
    parser.add_argument("--calls", type=int, default=200, help="calls per target and turn")
    parser.add_argument("--rev-b", help="also this git revision's code, on the same databases")
    turns.add_options(parser, rounds=5, duration=0, budget=3600)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="confero-bench-"))
    print(f"addUser.do as a site grows; code: {common.describe_code()}; {turns.machine()}")
    print(f"sites of {' and '.join(f'{s:,}' for s in sizes)} users; {args.calls} calls per turn\n")
    verdicts, problems = [], []
    with common.guarded(args.budget):
        for db in (d for d in args.db.split(",") if d):
            with contextlib.ExitStack() as stack:
                pg = stack.enter_context(common.postgres()) if db == "postgres" else None
                codes = {"": None} | ({f" @{args.rev_b}": args.rev_b} if args.rev_b else {})
                targets, sites = {label: [] for label in codes}, []
                for size in sizes:
                    name = f"site{size}"
                    env = common.environment(work / db / name, pg.database(name) if pg else None)
                    token = common.set_up_site(env)
                    common.import_fields(env, work / db / name, FIELDS)
                    common.fill(env, size, answers=True)
                    sites.append((env, size))
                    for label, rev in codes.items():
                        served = {**env, "PYTHONPATH": common.export_src(rev, work)} if rev else env
                        server = common.serve(
                            f"addUser.do {db} {size:,} users{label}",
                            served,
                            work=work,
                            path=PATH,
                            probe=body(token, next(SERIAL)),
                        )
                        processes = {"postgres": pg.pid} if pg else {}
                        targets[label].append(add_target(server, token, processes, args))
                every = [t for group in targets.values() for t in group]
                turns.in_turns(every, args.rounds)
                for env, size in sites:
                    group = [t for t in every if f" {size:,} users" in t.name]
                    problems += common.check_call_log(env, "addUser", group)
                    sent = sum(r.total for t in group for r in t.runs) + len(group)  # + probes
                    held = common.shell(env, COUNT)
                    if held != size + sent:
                        problems.append(f"{db}, {size:,}: {held} users, expected {size + sent}")
                common.stop_servers()
                print(turns.summary(every, bases=[every[0]]) + "\n")
                for group in targets.values():
                    for target in group:
                        verdicts.append(f"{target.name}: {pooled(target)} (all calls)")
                    small, large, ratio = growth(group[0], group[-1])
                    met = "MET" if ratio <= TARGET_GROWTH else "NOT MET"
                    verdicts.append(
                        f"  p50 {large:.2f} ms at {sizes[-1]:,} users ÷ {small:.2f} ms at "
                        f"{sizes[0]:,} = {ratio:.2f} ({met}, target ≤ {TARGET_GROWTH:.2f})"
                    )
                problems += [p for t in every for r in t.runs for p in r.problems]
    print("\n".join(verdicts))
    return common.finish(problems, work, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
