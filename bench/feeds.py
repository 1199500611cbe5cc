"""userData.do end to end over HTTP against its ceiling (the same rows by raw SQL, the same XML
by lxml, no Django), in turns, with the worker's RSS.

    .venv/bin/python bench/feeds.py                         # SQLite and PostgreSQL, 100,000 users
    .venv/bin/python bench/feeds.py --db sqlite --users 20000 --rounds 2

Issue 3's targets: ≥ 20,000 users/s (100,000 in ≤ 5 s), ≥ 50 % of the ceiling, worker RSS growth
≤ 100 MB during a feed. Each user has 10 custom fields (3 choice, 1 multichoice with 2 values, 6
text: 11 values), filled by bulk SQL (bench/fill.py) after `confero customfields import`. A feed
is timed from the request to its last byte; the client counts the `<user>` records (all must be
there) and checks the answer's code 0; every worker's RSS is sampled every 10 ms. The first feed
of each server warms it and is not counted.
"""

import argparse
import contextlib
import http.client
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import common
import turns

PATH = f"/{common.EVENT}/api/userData.do"
FIVE = [f"v{i}" for i in range(5)]
FIELDS = [
    *((f"choice{i}", "choice", FIVE) for i in range(3)),
    ("multi", "multichoice", FIVE),
    *((f"text{i}", "text", []) for i in range(6)),
]


def set_up(env: dict, work: Path, users: int) -> str:
    """The site, its 10 custom fields, `users` users with 11 values each; returns the token."""
    token = common.set_up_site(env)
    common.import_fields(env, work, FIELDS)
    common.fill(env, users, answers=True)
    return token


def rss_kb(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class RssSampler(threading.Thread):
    """Every worker's RSS every 10 ms; growth = the peak less the value before the feed."""

    def __init__(self, master: int) -> None:
        super().__init__(daemon=True)
        children = Path(f"/proc/{master}/task/{master}/children")
        self.pids = [int(p) for p in children.read_text().split()] or [master]
        self.base = {pid: rss_kb(pid) for pid in self.pids}
        self.peak = dict(self.base)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.01):
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], rss_kb(pid))

    def growth_mb(self) -> float:
        return max(self.peak[p] - self.base[p] for p in self.pids) / 1024


def fetch(url: str, body: str) -> tuple[float, int, bytes]:
    """Seconds to the last byte, <user> records counted on the fly, the answer's head."""
    host, port = url.split("/")[2].split(":")
    started = time.perf_counter()
    conn = http.client.HTTPConnection(host, int(port), timeout=600)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    conn.request("POST", "/" + url.split("/", 3)[3], body.encode(), headers)
    response = conn.getresponse()
    records, head, tail = 0, b"", b""
    while chunk := response.read(256 * 1024):
        head = head or chunk[:300]
        records += (tail + chunk).count(b"<user>")
        tail = chunk[-5:]
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, records, head if response.status == 200 else b"HTTP %d" % response.status


def feed_target(server: common.Server, token: str, users: int, processes: dict) -> turns.Target:
    """A target that fetches the whole feed once per turn (after one uncounted warm-up feed)."""
    fetch(server.url, f"apiToken={token}")

    def measure() -> turns.Run:
        run_ = turns.Run(server.name)
        run_.host_us = turns.host_us()
        sampler = RssSampler(server.proc.pid)
        meter = turns.Meter({"gunicorn": server.proc.pid, **processes})
        sampler.start()
        meter.start()
        seconds, records, head = fetch(server.url, f"apiToken={token}")
        meter.stop(run_, users, client=None)
        sampler.done.set()
        sampler.join()
        _timed(run_, seconds, records, users)
        run_.extra["rss_growth_mb"] = sampler.growth_mb()
        if b'<response code="0">' not in head:
            run_.problems.append(f"the feed answered {head[:200]!r}")
        return run_

    return turns.Target(server.name, measure)


def ceiling_target(name: str, env: dict, users: int) -> turns.Target:
    """bench/feeds_ceiling.py on the same database, once per turn."""

    def measure() -> turns.Run:
        run_ = turns.Run(name)
        run_.host_us = turns.host_us()
        meter = turns.Meter({})
        meter.start()
        out = common.run([sys.executable, str(common.BENCH_DIR / "feeds_ceiling.py")], env)
        meter.stop(run_, users, client="ceiling")
        seconds, _, records = out.split()
        _timed(run_, float(seconds), int(records), users)
        return run_

    return turns.Target(name, measure)


def _timed(run_: turns.Run, seconds: float, records: int, users: int) -> None:
    run_.rate = users / seconds
    run_.p50_ms = run_.p90_ms = run_.p99_ms = seconds * 1000  # one call: its latency
    run_.good, run_.total = records, users
    if records != users:
        run_.problems.append(f"{records} <user> records for {users} users")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    turns.add_options(parser, rounds=3, duration=0, budget=3600)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="confero-bench-"))
    print(f"userData.do benchmark; code: {common.describe_code()}; {turns.machine()}")
    print(f"{args.users:,} users × 10 custom fields (11 values each)\n")
    verdicts = []
    with common.guarded(args.budget):
        for db in (d for d in args.db.split(",") if d):
            with contextlib.ExitStack() as stack:
                pg = stack.enter_context(common.postgres()) if db == "postgres" else None
                env = common.environment(work / db, pg.database("confero") if pg else None)
                token = set_up(env, work / db, args.users)
                server = common.serve(
                    f"userData.do {db}", env, work=work, path=PATH, probe=f"apiToken={token}"
                )
                processes = {"postgres": pg.pid} if pg else {}
                feed = feed_target(server, token, args.users, processes)
                ceiling = ceiling_target(f"ceiling {db}", env, args.users)
                turns.in_turns([feed, ceiling], args.rounds, unit="users/s")
                common.stop_servers()
                print(turns.summary([feed, ceiling], bases=[ceiling], unit="users/s") + "\n")
                verdicts.append(_verdict(feed, ceiling))
    print("\n".join(verdicts))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if any("INVALID" in verdict for verdict in verdicts) else 0


def _verdict(feed: turns.Target, ceiling: turns.Target) -> str:
    rate = statistics.median(r.rate for r in feed.runs)
    share = turns.ratio(feed, ceiling)[0]
    rss = max(r.extra["rss_growth_mb"] for r in feed.runs)
    problems = "; ".join(p for t in (feed, ceiling) for r in t.runs for p in r.problems)
    return (
        f"{feed.name}: median {rate:,.0f} users/s ({'yes' if rate >= 20_000 else 'NO'}, ≥ 20,000);"
        f" {share:.0%} of the ceiling ({'yes' if share >= 0.5 else 'NO'}, ≥ 50 %); RSS growth "
        f"≤ {rss:.1f} MB ({'yes' if rss <= 100 else 'NO'}, ≤ 100 MB)"
        + (f"; INVALID: {problems}" if problems else "")
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
