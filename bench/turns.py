"""Measuring in turns: every server of a benchmark is up, each round measures each target once in
an order that rotates round by round, and the summary gives medians over the rounds and ratios
taken within a round. This host's speed moves by up to 2× within minutes (docs/performance.md):
figures taken seconds apart can be compared, figures taken minutes apart cannot.

Also here: CPU per call from /proc, the load of other processes, wrk with every answer checked.
"""

import contextlib
import json
import os
import platform
import statistics
import subprocess
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from common import BENCH_DIR, Server

TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    """One target measured once: a rate (calls/s, users/s) and what goes with it."""

    target: str
    rate: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    good: int = 0
    total: int = 0
    cpu_us: dict = field(default_factory=dict)  # process tree -> CPU µs per call
    other_load: float = 0.0  # CPUs' worth used by processes outside the benchmark meanwhile
    host_us: float = 0.0  # `timeit sum(range(1000))` just before: the host's speed
    extra: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)


@dataclass
class Target:
    name: str
    measure: Callable[[], Run]
    runs: list = field(default_factory=list)


# --- CPU and the machine -------------------------------------------------------------------


def tree_cpu_seconds(root: int) -> float:
    """user+system CPU of a process and its live descendants, by parent links (PostgreSQL's
    backends each call setsid(): a process group would miss them), with what their children
    that ended used (autovacuum workers, a restarted worker: their reaper's cutime and cstime)."""
    parent: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()  # fields[0] is field 3, state
            pid = int(stat.parent.name)
            parent[pid], ticks[pid] = int(fields[1]), sum(int(f) for f in fields[11:15])
    total = 0
    for pid, spent in ticks.items():
        ancestor = pid
        while ancestor > 1 and ancestor != root:
            ancestor = parent.get(ancestor, 0)
        total += spent if ancestor == root else 0
    return total / TICK


def machine_busy_seconds() -> float:
    """CPU seconds all processors spent busy since boot (idle and iowait excluded)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / TICK


def children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


class Meter:
    """CPU of the given process trees, of this process's children (wrk, a ceiling) and of the
    rest of the machine, between start() and stop()."""

    def __init__(self, processes: dict[str, int]) -> None:
        self.processes = processes

    def start(self) -> None:
        self.before = {n: tree_cpu_seconds(p) for n, p in self.processes.items()}
        self.children, self.busy = children_cpu(), machine_busy_seconds()
        self.started = time.perf_counter()

    def stop(self, run_: Run, calls: int, *, client: str | None = "wrk") -> None:
        seconds = time.perf_counter() - self.started
        busy = machine_busy_seconds() - self.busy
        spent = {n: tree_cpu_seconds(p) - self.before[n] for n, p in self.processes.items()}
        if client:
            spent[client] = children_cpu() - self.children
        run_.other_load = max(0.0, (busy - sum(spent.values())) / seconds)
        run_.cpu_us = {n: round(s / max(calls, 1) * 1e6) for n, s in spent.items()}


def wait_for_quiet(timeout: float, *, threshold: float = 0.15) -> None:
    """Waits (at most `timeout` s) until other processes use less than `threshold` of a CPU."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        before = machine_busy_seconds()
        time.sleep(1)
        if machine_busy_seconds() - before < threshold:
            return


def host_us() -> float:
    """µs per `sum(range(1000))`, best of 5."""
    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


def machine() -> str:
    cpus = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in cpus if ln.startswith("model name")), "?")
    versions = [f"Python {platform.python_version()}"]
    versions += [f"{m} {metadata.version(m)}" for m in ("django", "gunicorn", "psycopg")]
    load = "/".join(f"{v:.2f}" for v in os.getloadavg())
    return f"{os.cpu_count()} CPUs ({cpu}); {', '.join(versions)}; load average {load} at start"


# --- wrk -----------------------------------------------------------------------------------


def wrk(url: str, body: str, *, seconds: int, script: str, connections: int, env: dict) -> dict:
    """wrk with one of bench/'s scripts: every answer checked (HTTP 200 and code 0)."""
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    argv += ["-s", str(BENCH_DIR / script), url]
    env = {**os.environ, **env, "BENCH_BODY": body}  # the token never on a command line
    done = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-1000:]}{done.stderr}")
    return json.loads(line.removeprefix("BENCH_JSON "))


def load_target(server: Server, body: str, processes: dict[str, int], args, **how) -> Target:
    """A target measured by a warm-up and a wrk run against `server` (`script=` another wrk
    script than post.lua, `env=` its environment; `url=` and `name=` another resource of it)."""
    load = {"script": how.get("script", "post.lua"), "env": how.get("env", {})}
    load["connections"] = args.connections
    url, name = how.get("url", server.url), how.get("name", server.name)

    def measure() -> Run:
        run_ = Run(name)
        wait_for_quiet(args.quiet_timeout)
        run_.host_us = host_us()
        wrk(url, body, seconds=args.warmup, **load)
        meter = Meter({"gunicorn": server.proc.pid, **processes})
        meter.start()
        result = wrk(url, body, seconds=args.duration, **load)
        meter.stop(run_, result["requests"])
        latency = result["latency_us"]
        run_.rate = result["requests"] / (result["duration_us"] / 1e6)
        run_.p50_ms, run_.p90_ms, run_.p99_ms = (latency[p] / 1000 for p in ("p50", "p90", "p99"))
        run_.good, run_.total = result["good"], result["requests"]
        errors = {k: v for k, v in result["errors"].items() if v}
        if not run_.total or run_.good != run_.total or errors:
            run_.problems.append(f"{run_.good} of {run_.total} answers good; errors {errors}")
        return run_

    return Target(name, measure)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# --- turns ---------------------------------------------------------------------------------


def in_turns(targets: list[Target], rounds: int, *, unit: str = "calls/s") -> None:
    """Each round measures every target once, in an order that rotates round by round; a line
    per measurement."""
    head = f"| round | target | {unit} | p50 ms | p90 ms | p99 ms | CPU µs per call | other load"
    print(head + " | host µs | checked |\n|---:|---|---:|---:|---:|---:|---|---:|---:|---|")
    for number in range(rounds):
        shift = number % len(targets)
        for target in targets[shift:] + targets[:shift]:
            run_ = target.measure()
            target.runs.append(run_)
            cpu = ", ".join(f"{k} {v}" for k, v in run_.cpu_us.items())
            checked = "; ".join(run_.problems) or f"{run_.good}/{run_.total} ok"
            print(
                f"| {number + 1} | {target.name} | {run_.rate:,.0f} | {run_.p50_ms:.2f} "
                f"| {run_.p90_ms:.2f} | {run_.p99_ms:.2f} | {cpu} | {run_.other_load:.2f} "
                f"| {run_.host_us:.1f} | {checked} |",
                flush=True,
            )


def ratio(target: Target, base: Target) -> tuple[float, float, float]:
    """Median, lowest and highest of target's rate over base's, round by round."""
    ratios = [a.rate / b.rate for a, b in zip(target.runs, base.runs, strict=True) if b.rate]
    return statistics.median(ratios), min(ratios), max(ratios)


def cpu_ratio(target: Target, base: Target) -> float:
    """Median over the rounds of target's CPU per call (every process tree measured) over
    base's: less moved than the rates by what the rest of the machine does."""
    pairs = zip(target.runs, base.runs, strict=True)
    return statistics.median(sum(a.cpu_us.values()) / sum(b.cpu_us.values()) for a, b in pairs)


def summary(targets: list[Target], *, bases: list[Target], unit: str = "calls/s") -> str:
    """Medians over the rounds and, for each base, the ratios to it within a round: of the rate
    (median, lowest, highest) and of the CPU per call."""
    head = f"| target | median {unit} | median p50 ms | median p99 ms | worst p99 ms |"
    head += "".join(f" ÷ {b.name}: rate (median, range); CPU per call |" for b in bases)
    lines = ["", head, "|---|---:|---:|---:|---:|" + "---|" * len(bases)]
    for t in targets:
        rate, p50, p99 = (statistics.median(getattr(r, k) for r in t.runs) for k in _FIGURES)
        row = f"| {t.name} | {rate:,.0f} | {p50:.2f} | {p99:.2f} | "
        row += f"{max(r.p99_ms for r in t.runs):.2f} |"
        for base in bases:
            median, low, high = ratio(t, base)
            row += f" {median:.1%} ({low:.0%}–{high:.0%}); {cpu_ratio(t, base):.1%} |"
        lines.append(row)
    return "\n".join(lines)


_FIGURES = ("rate", "p50_ms", "p99_ms")


def problems_of(targets: list[Target]) -> list[str]:
    return [f"{t.name}: {p}" for t in targets for r in t.runs for p in r.problems]


def add_options(parser, *, rounds: int, duration: int, budget: int) -> None:
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--duration", type=int, default=duration, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk before each run")
    parser.add_argument("--connections", type=int, default=16, help="wrk's (2 threads)")
    parser.add_argument(
        "--quiet-timeout", type=float, default=5, help="wait up to this long for a quiet machine"
    )
    parser.add_argument("--budget", type=int, default=budget, help="the whole run's limit, s")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
