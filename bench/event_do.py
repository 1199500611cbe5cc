"""Load benchmark of event.do under gunicorn, next to the same server without the pipeline.

    .venv/bin/python bench/event_do.py                  # SQLite and PostgreSQL, 15 s per run
    .venv/bin/python bench/event_do.py --db sqlite --duration 5
    .venv/bin/python bench/event_do.py --json /tmp/bench.json

What it does (bench/README.md has the reasoning):
 1. an isolated data directory (CONFERO_DATA_DIR in a temporary directory; the project's var/ is
    never touched) and, for PostgreSQL, a throw-away cluster (bench/pgcluster.py);
 2. `confero manage migrate`, `confero event create`, `confero profile --allow-add 127.0.0.1`,
    `confero token create`,
    `confero profile --rate-limit N` so the token's rate limit never interferes;
 3. gunicorn with the command line `confero serve --workers 2` builds (captured, not copied), on a
    free loopback port; a warm-up, then `wrk -t2 -c16 -d15s --latency -s bench/post.lua`;
 4. the same gunicorn command line serving the ceilings: a bare WSGI app (bench/ceiling_wsgi.py)
    and Django with Confero's middleware but no pipeline (bench/ceiling_django.py), both answering
    the exact bytes event.do answered;
 5. a table: requests/s, p50, p99, % of the ceiling, server CPU per request, and the targets
    (event.do ≥ 50 % of the bare ceiling's requests/s, p99 ≤ 20 ms).

Every response is checked (HTTP 200 and <response code="0">) by the wrk script, and the call log is
read back after each event.do run: a run with a single bad answer is reported as INVALID and the
exit status is 1. Servers run in their own process processes and are stopped in every case (also on
Ctrl-C, SIGTERM, or when the whole run exceeds --budget seconds).
"""

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pgcluster

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
BIN = Path(sys.executable).parent
CONFERO = str(BIN / "confero")
LUA = BENCH_DIR / "post.lua"
EVENT_CODE = "bench"
RATE_LIMIT = 2_000_000_000  # calls per token per minute: far above anything wrk can send
TARGET_SHARE = 0.50
TARGET_P99_MS = 20.0

# Prints the argv `confero serve` would exec instead of exec'ing it.
CAPTURE_SERVE = (
    "import json, os, sys\n"
    "def fake_execv(path, argv):\n"
    "    print('SERVE_ARGV ' + json.dumps(argv), flush=True)\n"
    "    sys.exit(0)\n"
    "os.execv = fake_execv\n"
    "from confero.cli import main\n"
    "main(sys.argv[1:])\n"
)


@dataclass
class Run:
    target: str  # event.do, ceiling-wsgi, ceiling-django
    db: str  # sqlite, postgres, "-" for the ceilings
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    good: int = 0
    bad_status: int = 0
    bad_code: int = 0
    socket_errors: dict = field(default_factory=dict)
    call_log: dict = field(default_factory=dict)  # code -> rows, event.do only
    cpu_us_per_req: dict = field(default_factory=dict)  # component -> CPU µs per request
    quiet_wait_s: float = 0.0  # waited for other processes to calm down before the run
    other_load: float = 0.0  # CPUs' worth used by other processes during the measured run
    host_us: float = 0.0  # `timeit sum(range(1000))` just before the run: how fast the host is
    switch_us: float = 0.0  # a round trip between two processes over a socket, just before
    problems: list = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


class Budget(Exception):
    """The whole run took longer than --budget seconds."""


# --- processes -----------------------------------------------------------------------------


def run(argv: list[str], env: dict, *, timeout: float = 120) -> str:
    done = subprocess.run(
        argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[:4])}… failed ({done.returncode}):\n{done.stderr[-3000:]}"
        )
    return done.stdout


def serve_argv(env: dict, port: int, workers: int) -> list[str]:
    """The gunicorn command line of `confero serve` (which also migrates and collects static)."""
    out = run(
        [
            str(BIN / "python"),
            "-c",
            CAPTURE_SERVE,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env,
    )
    line = next(line for line in out.splitlines() if line.startswith("SERVE_ARGV "))
    # The control socket (gunicorn ≥ 23) is a fixed path per user; the benchmark's servers must not
    # take it over from another server on this machine. It has no part in serving requests.
    return [*json.loads(line.removeprefix("SERVE_ARGV ")), "--no-control-socket"]


class Server:
    """A gunicorn in its own process group, stopped (group-wide) by stop()."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                argv,
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=15)
        # Workers that outlived the master (they should not) go too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)


SERVERS: list[Server] = []


def start_server(
    name: str, argv: list[str], env: dict, log_dir: Path, url: str, body: str
) -> Server:
    server = Server(name, argv, env, log_dir)
    SERVERS.append(server)
    deadline = time.monotonic() + 60
    last = ""
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{name} exited: {server.log_path.read_text()[-3000:]}")
        try:
            status, _ = post(url, body)
            if status == 200:
                return server
            last = f"HTTP {status}"
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise RuntimeError(f"{name} not ready after 60 s ({last})")


def stop_servers() -> None:
    while SERVERS:
        SERVERS.pop().stop()


def post(url: str, body: str) -> tuple[int, bytes]:
    request = urllib.request.Request(  # noqa: S310 - always http://127.0.0.1
        url,
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# --- CPU accounting --------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    """user+system CPU of a process and all its live descendants (from /proc/PID/stat).

    By tree, not by process group: PostgreSQL's backends each call setsid()."""
    parent: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
        pid = int(stat.parent.name)
        parent[pid] = int(fields[1])
        ticks[pid] = int(fields[11]) + int(fields[12])
    total = 0
    for pid, spent in ticks.items():
        ancestor = pid
        while ancestor > 1 and ancestor != root:
            ancestor = parent.get(ancestor, 0)
        if ancestor == root:
            total += spent
    return total / TICK


# --- wrk -----------------------------------------------------------------------------------


def wrk(
    url: str,
    body: str,
    *,
    threads: int,
    connections: int,
    seconds: int,
    script: Path = LUA,
    extra_env: dict | None = None,
) -> tuple[dict, str]:
    """`script` must print post.lua's BENCH_JSON line; `extra_env` reaches it with BENCH_BODY."""
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "5s",
        "-s",
        str(script),
        url,
    ]
    env = {**os.environ, **(extra_env or {}), "BENCH_BODY": body}
    done = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-2000:]}")
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{done.stdout[-2000:]}")
    return json.loads(line.removeprefix("BENCH_JSON ")), done.stdout


def measure(
    run_: Run,
    url: str,
    body: str,
    args,
    processes: dict[str, int],
    *,
    script: Path = LUA,
    extra_env: dict | None = None,
    after_warmup=None,
) -> None:
    """Waits for a quiet machine, warms up, then the measured wrk run; fills `run_` and checks
    every answer. The CPU that other processes used during the run is recorded too.
    `after_warmup()`, if given, runs between the warm-up and the measured run."""
    run_.quiet_wait_s = wait_for_quiet(args.quiet_timeout)
    run_.host_us = host_speed_us()
    run_.switch_us = switch_us()
    load = {
        "threads": args.threads,
        "connections": args.connections,
        "script": script,
        "extra_env": extra_env,
    }
    wrk(url, body, seconds=args.warmup, **load)
    if after_warmup is not None:
        after_warmup()
    cpu_before = {name: tree_cpu_seconds(pid) for name, pid in processes.items()}
    rusage_before = _children_cpu()
    busy_before = machine_busy_seconds()
    result, raw = wrk(url, body, seconds=args.duration, **load)
    busy = machine_busy_seconds() - busy_before
    cpu_after = {name: tree_cpu_seconds(pid) for name, pid in processes.items()}
    wrk_cpu = _children_cpu() - rusage_before
    ours = wrk_cpu + sum(cpu_after[name] - cpu_before[name] for name in processes)
    run_.other_load = max(0.0, (busy - ours) / (result["duration_us"] / 1e6))
    lat = result["latency_us"]
    run_.requests = result["requests"]
    run_.seconds = result["duration_us"] / 1e6
    run_.rps = run_.requests / run_.seconds
    run_.p50_ms, run_.p90_ms = lat["p50"] / 1000, lat["p90"] / 1000
    run_.p99_ms, run_.max_ms = lat["p99"] / 1000, lat["max"] / 1000
    run_.good, run_.bad_status, run_.bad_code = (
        result["good"],
        result["bad_status"],
        result["bad_code"],
    )
    run_.socket_errors = {k: v for k, v in result["errors"].items() if v}
    if run_.requests:
        for name in processes:
            spent = cpu_after[name] - cpu_before[name]
            run_.cpu_us_per_req[name] = round(spent / run_.requests * 1e6)
        run_.cpu_us_per_req["wrk"] = round(wrk_cpu / run_.requests * 1e6)
    if run_.requests == 0:
        run_.problems.append("no requests completed")
    if run_.bad_status or run_.bad_code:
        run_.problems.append(
            f"{run_.bad_status} answers not HTTP 200, {run_.bad_code} without code 0"
        )
    if run_.good != run_.requests:
        run_.problems.append(f"only {run_.good} of {run_.requests} answers checked good")
    if run_.socket_errors:
        run_.problems.append(f"socket errors {run_.socket_errors}")
    if "Non-2xx" in raw:
        run_.problems.append("wrk reports non-2xx answers")


def machine_busy_seconds() -> float:
    """CPU seconds all processors spent busy since boot (/proc/stat, idle and iowait excluded)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / TICK


def wait_for_quiet(timeout: float, *, threshold: float = 0.15) -> float:
    """Waits until the machine's other processes use less than `threshold` of a CPU (sampled over
    2 s), at most `timeout` seconds; returns how long it waited (the timeout when never quiet)."""
    start = time.monotonic()
    while True:
        before = machine_busy_seconds()
        time.sleep(2)
        if (machine_busy_seconds() - before) / 2 < threshold:
            return time.monotonic() - start
        if time.monotonic() - start >= timeout:
            print(
                f"  the machine is busy (other processes), measuring anyway after {timeout:.0f} s",
                file=sys.stderr,
                flush=True,
            )
            return time.monotonic() - start


def _children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


# --- the runs ------------------------------------------------------------------------------


SRC_PATH: list[str] = []  # a `git archive` of --rev, ahead of the editable install on sys.path


def base_env(data_dir: Path, database_url: str | None) -> dict:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        CONFERO_DATA_DIR=str(data_dir),
        CONFERO_SECRET_KEY=secrets.token_urlsafe(40),
        PYTHONUNBUFFERED="1",
    )
    if SRC_PATH:
        env["PYTHONPATH"] = os.pathsep.join([*SRC_PATH, *filter(None, [env.get("PYTHONPATH")])])
    env.pop("CONFERO_DEBUG", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def set_up_site(env: dict) -> str:
    """Migrate and create the event and a token with the CLI; returns the token."""
    run([CONFERO, "manage", "migrate", "--noinput", "-v0"], env)
    run([CONFERO, "event", "create", "--code", EVENT_CODE, "--name", "Benchmark event"], env)
    allow = ["--event", EVENT_CODE, "--site", "production", "--allow-add", "127.0.0.1"]
    run([CONFERO, "profile", *allow], env)
    out = run(
        [
            CONFERO,
            "token",
            "create",
            "--event",
            EVENT_CODE,
            "--site",
            "production",
            "--label",
            "bench",
        ],
        env,
    )
    token = out.strip().splitlines()[-1].strip()
    if not re.fullmatch(r"cfo_live_[A-Za-z0-9]{32,}", token):
        raise RuntimeError(f"unexpected output of confero token create: {out!r}")
    run(
        [
            CONFERO,
            "profile",
            "--event",
            EVENT_CODE,
            "--site",
            "production",
            "--rate-limit",
            str(RATE_LIMIT),
        ],
        env,
    )
    return token


CALL_LOG_QUERY = (
    "import json; from django.db.models import Count; from confero.access.models import ApiCall; "
    "print('CALLS ' + json.dumps({str(r['code']): r['n'] for r in "
    "ApiCall.objects.values('code').annotate(n=Count('id'))}))"
)


def call_log(env: dict) -> dict[str, int]:
    out = run([CONFERO, "manage", "shell", "-c", CALL_LOG_QUERY], env)
    line = next(line for line in out.splitlines() if line.startswith("CALLS "))
    return json.loads(line.removeprefix("CALLS "))


# A target is a base and optional `+flag`s, e.g. `event.do+no-access-log`. Base: (settings
# module or None for confero.settings, WSGI app or None for confero.wsgi:application, uses the
# database). Flags: environment switches of bench/tuned_settings.py. All run under the
# `confero serve` command line.
BASES = {
    "event.do": (None, None, True),
    "ceiling-wsgi": (None, "ceiling_wsgi:application", False),
    "ceiling-django": ("ceiling_django", None, False),
}
FLAGS = {
    "api-mw": {"BENCH_MIDDLEWARE": "api"},
    "prepared": {"BENCH_PG_PREPARE": "1"},
    "no-health-check": {"BENCH_NO_HEALTH_CHECK": "1"},
    "no-access-log": {},  # gunicorn without --access-logfile (see target_argv)
}


def parse_target(target: str) -> tuple[str, list[str]]:
    base, *flags = target.split("+")
    if base not in BASES or any(flag not in FLAGS for flag in flags):
        raise ValueError(
            f"unknown target {target!r}: a base ({', '.join(BASES)}) and optional "
            f"+flags ({', '.join(FLAGS)})"
        )
    return base, flags


def _base(target: str) -> str:
    return target.split("+", 1)[0]


def uses_database(target: str) -> bool:
    return BASES[parse_target(target)[0]][2]


def target_env(target: str, env: dict, answer_file: Path) -> dict:
    base, flags = parse_target(target)
    settings_module = BASES[base][0]
    env = {**env, "BENCH_CEILING_BODY": str(answer_file)}
    for flag in flags:
        env.update(FLAGS[flag])
    if base == "event.do" and any(FLAGS[flag] for flag in flags):
        settings_module = "tuned_settings"
    if settings_module or BASES[base][1]:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH_DIR), env.get("PYTHONPATH")]))
    if settings_module:
        env["DJANGO_SETTINGS_MODULE"] = settings_module  # confero.wsgi only sets a default
    return env


def target_argv(target: str, argv: list[str]) -> list[str]:
    """`confero serve`'s gunicorn command line with the target's WSGI app (and without the access
    log for `+no-access-log`)."""
    base, flags = parse_target(target)
    if "no-access-log" in flags:
        kept = []
        skip = 0
        for arg in argv:
            if skip:
                skip -= 1
            elif arg in ("--access-logfile", "--access-logformat"):
                skip = 1
            else:
                kept.append(arg)
        argv = kept
    app = BASES[base][1]
    if not app:
        return argv
    if "confero.wsgi:application" not in argv:
        raise RuntimeError(f"cannot find the WSGI app in {argv}")
    return [app if a == "confero.wsgi:application" else a for a in argv]


def bench_target(
    target: str, db: str, env: dict, body: str, work: Path, args, *, pg_pid: int | None = None
) -> tuple[Run, bytes]:
    """Starts the target's server, checks one answer, measures, stops it; for the targets that
    use the database, also checks the call log afterwards."""
    port = pgcluster.free_port()
    argv = target_argv(target, serve_argv(env, port, args.workers))
    url = f"http://127.0.0.1:{port}/{EVENT_CODE}/api/event.do"
    server = start_server(f"{target}-{db}", argv, env, work, url, body)
    status, answer = post(url, body)
    if status != 200 or b'<response code="0">' not in answer:
        raise RuntimeError(f"{target} answered HTTP {status}: {answer[:500]!r}")
    uses_db = uses_database(target)
    calls_before = call_log(env) if uses_db else {}
    processes = {"gunicorn": server.proc.pid}
    if pg_pid:
        processes["postgres"] = pg_pid
    result = Run(target, db)
    measure(result, url, body, args, processes)
    server.stop()
    if uses_db:
        after = call_log(env)
        result.call_log = {c: after.get(c, 0) - calls_before.get(c, 0) for c in after}
        logged_ok = result.call_log.get("0", 0)
        other = {c: n for c, n in result.call_log.items() if c != "0" and n}
        if other:
            result.problems.append(f"call log holds non-zero codes {other}")
        if logged_ok < result.good:
            result.problems.append(
                f"call log has {logged_ok} code-0 rows for {result.good} good answers"
            )
    return result, answer


def bench_database(
    db: str, database_url: str | None, pg_pid: int | None, work: Path, args, answer_file: Path
) -> list[Run]:
    """event.do (and the variants asked for) on one database, set up from scratch."""
    env = base_env(work / db, database_url)
    body = f"apiToken={set_up_site(env)}"
    runs = []
    for target in ["event.do", *args.variants]:
        if db == "sqlite" and target != "event.do" and _same_on_sqlite(target):
            continue
        print(f"… {target} on {db}", file=sys.stderr, flush=True)
        result, answer = bench_target(
            target, db, target_env(target, env, answer_file), body, work, args, pg_pid=pg_pid
        )
        runs.append(result)
        if target == "event.do" and not answer_file.exists():
            answer_file.write_bytes(answer)  # the ceilings answer exactly these bytes
    return runs


PG_ONLY_FLAGS = ("prepared", "no-health-check")


def _same_on_sqlite(target: str) -> bool:
    """A variant with a PostgreSQL-only flag is skipped on SQLite (it would repeat another run)."""
    return any(flag in PG_ONLY_FLAGS for flag in parse_target(target)[1])


def bench_ceiling(target: str, answer_file: Path, work: Path, args) -> Run:
    env = target_env(target, base_env(work / "sqlite", None), answer_file)
    body = "apiToken=cfo_live_" + "x" * 40  # same size as a real token; never looked at
    print(f"… {target}", file=sys.stderr, flush=True)
    return bench_target(target, "-", env, body, work, args)[0]


def describe_code(rev: str | None, work: Path) -> str:
    """Which code is measured; with `rev`, exports that revision's src/ and puts it on the path."""

    def git(*argv: str) -> str:
        return subprocess.run(
            ["git", *argv], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    if rev:
        sha = git("rev-parse", "--verify", f"{rev}^{{commit}}")
        tree = work / "tree"
        tree.mkdir()
        archive = subprocess.run(
            ["git", "archive", "--format=tar", sha, "src"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        SRC_PATH[:] = [str(tree / "src")]
        return f"commit {sha[:12]} (git archive)"
    sha = git("rev-parse", "HEAD")
    dirty = git("status", "--porcelain", "--", "src")
    return f"working tree at {sha[:12]}" + (" with uncommitted changes in src/" if dirty else "")


# --- report --------------------------------------------------------------------------------


def host_speed_us() -> float:
    """µs per `sum(range(1000))`, best of 5 (what `python -m timeit` prints): this host's speed
    moves by up to 1.8× within minutes, and every figure with it (docs/performance.md)."""
    import timeit

    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


def switch_us(trips: int = 5000) -> float:
    """µs per round trip of one byte between two processes over a socket pair (best of 3): what
    every call to the server, and every statement to PostgreSQL, pays in wake-ups (the timeit
    figure often does not move with the load benchmarks' results on this VM)."""
    import socket

    best = float("inf")
    for _ in range(3):
        ours, theirs = socket.socketpair()
        child = os.fork()
        if child == 0:  # pragma: no cover - the echoing child
            ours.close()
            for _ in range(trips):
                theirs.recv(1)
                theirs.send(b"x")
            os._exit(0)
        theirs.close()
        start = time.perf_counter()
        for _ in range(trips):
            ours.send(b"x")
            ours.recv(1)
        best = min(best, (time.perf_counter() - start) / trips * 1e6)
        os.waitpid(child, 0)
        ours.close()
    return best


def machine() -> dict:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = int(
        next(
            ln.split()[1]
            for ln in Path("/proc/meminfo").read_text().splitlines()
            if ln.startswith("MemTotal")
        )
    )
    versions = {"python": platform.python_version()}
    for module in ("django", "gunicorn", "psycopg"):
        with contextlib.suppress(Exception):
            versions[module] = __import__("importlib.metadata").metadata.version(module)
    import sqlite3

    versions["sqlite"] = sqlite3.sqlite_version
    with contextlib.suppress(Exception):
        versions["postgres"] = subprocess.run(
            [str(pgcluster.bin_dir() / "postgres"), "--version"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()[2]  # "postgres (PostgreSQL) 15.18 (Debian …)"
    with contextlib.suppress(Exception):
        versions["wrk"] = subprocess.run(
            ["wrk", "--version"], capture_output=True, text=True, check=False
        ).stdout.split()[1]
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "versions": versions,
    }


def report(runs: list[Run], args) -> str:
    # The first valid run of each ceiling, whatever its +flags (they follow --ceilings' order).
    ceiling = next((r for r in runs if _base(r.target) == "ceiling-wsgi" and r.valid), None)
    django_ceiling = next(
        (r for r in runs if _base(r.target) == "ceiling-django" and r.valid), None
    )
    lines = [
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency "
        f"-s bench/post.lua  (gunicorn, {args.workers} sync workers, warm-up {args.warmup}s)",
        "",
        "| target | db | requests/s | p50 ms | p90 ms | p99 ms | % of ceiling "
        "| % of Django ceiling | CPU µs per request | other load | host µs | checked |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    for r in runs:
        share = f"{r.rps / ceiling.rps * 100:.0f} %" if ceiling else "-"
        dshare = f"{r.rps / django_ceiling.rps * 100:.0f} %" if django_ceiling else "-"
        cpu = ", ".join(f"{k} {v}" for k, v in r.cpu_us_per_req.items())
        checked = f"{r.good}/{r.requests} ok" if r.valid else "INVALID: " + "; ".join(r.problems)
        lines.append(
            f"| {r.target} | {r.db} | {r.rps:.0f} | {r.p50_ms:.2f} | {r.p90_ms:.2f} "
            f"| {r.p99_ms:.2f} | {share} | {dshare} | {cpu} | {r.other_load:.2f} "
            f"| {r.host_us:.1f} / {r.switch_us:.1f} | {checked} |"
        )
    lines += [
        "",
        "CPU µs per request: user+system CPU of the server's process tree (gunicorn master and "
        "workers; PostgreSQL's server processes) and of wrk, divided by the requests answered. "
        "Other load: CPUs' worth used by processes outside the benchmark during the run "
        "(0.00 = an undisturbed run; the machine has "
        f"{os.cpu_count()} CPUs). Host µs: `timeit sum(range(1000))` / a round trip between two "
        "processes over a socket, just before the run: this host's speed moves, and every figure "
        "with it; compare runs of similar host µs.",
        "",
    ]
    for r in runs:
        if not uses_database(r.target):
            continue
        if not r.valid:
            lines.append(f"{r.target} on {r.db}: INVALID run, no verdict")
            continue
        verdicts = []
        for name, base in (("the ceiling", ceiling), ("the Django ceiling", django_ceiling)):
            if base:
                ok = r.rps >= TARGET_SHARE * base.rps
                verdicts.append(
                    f"{r.rps / base.rps * 100:.0f} % of {name} ({'MET' if ok else 'NOT MET'})"
                )
        p99_ok = r.p99_ms <= TARGET_P99_MS
        lines.append(
            f"{r.target} on {r.db}: requests/s {', '.join(verdicts) or 'no ceiling run'} "
            f"[target ≥ 50 %]; p99 {r.p99_ms:.2f} ms ({'MET' if p99_ok else 'NOT MET'}) "
            "[target ≤ 20 ms]"
        )
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------------


def add_load_options(parser: argparse.ArgumentParser, *, budget: int) -> None:
    """The options of a load run under wrk, shared with update_user.py: duration, warm-up, wrk's
    threads and connections, gunicorn's workers, PostgreSQL settings, quiet wait, budget, --rev."""
    parser.add_argument(
        "--db",
        default="sqlite,postgres",
        help="comma-separated: sqlite, postgres (throw-away cluster), env "
        "(the DATABASE_URL of the environment; must be an empty database)",
    )
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per server")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--pg-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra PostgreSQL setting for the throw-away cluster (experiments)",
    )
    parser.add_argument(
        "--quiet-timeout",
        type=float,
        default=120,
        help="before each run, wait up to this many seconds for other processes to go quiet",
    )
    parser.add_argument(
        "--budget", type=int, default=budget, help="hard limit for the whole run, s"
    )
    parser.add_argument(
        "--rev",
        help="benchmark this git revision of src/ (exported with git archive) "
        "instead of the working tree, e.g. --rev HEAD",
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--ceilings",
        default="ceiling-wsgi,ceiling-django",
        help="comma-separated: ceiling-wsgi, ceiling-django, ceiling-django+api-mw, or none",
    )
    parser.add_argument(
        "--variants",
        default="none",
        help="comma-separated targets run on each database after event.do: event.do or "
        "with +flags (api-mw, prepared, no-health-check, no-access-log; prepared and "
        "no-health-check only on PostgreSQL), e.g. event.do+no-access-log",
    )
    add_load_options(parser, budget=1800)
    parser.add_argument(
        "--report", type=Path, metavar="JSON", help="only print the table of a --json file again"
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    return parser.parse_args(argv)


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip() and name.strip() != "none"]


def _on_alarm(signum, frame):
    raise Budget("the benchmark exceeded its --budget")


def _on_term(signum, frame):
    raise SystemExit(128 + signum)


def reprint(path: Path) -> int:
    saved = json.loads(path.read_text())
    args = argparse.Namespace(**saved["args"])
    runs = [Run(**run) for run in saved["runs"]]
    print(
        f"Confero event.do benchmark, {saved['started'][:16].replace('T', ' ')} UTC, "
        f"code: {saved['code']}"
    )
    print(report(runs, args))
    return 0


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.report:
        return reprint(args.report)
    if not shutil.which("wrk"):
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2
    dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    ceilings = _names(args.ceilings)
    args.variants = _names(args.variants)
    try:
        for target in [*ceilings, *args.variants]:
            parse_target(target)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGTERM, _on_term)
    signal.alarm(args.budget)
    work = Path(tempfile.mkdtemp(prefix="confero-bench-"))
    runs: list[Run] = []
    answer_file = work / "event-do-answer.xml"
    started = dt.datetime.now(dt.UTC)
    try:
        code = describe_code(args.rev, work)
        for db in dbs:
            if db == "postgres":
                settings = dict(item.split("=", 1) for item in args.pg_setting)
                with pgcluster.cluster(extra=settings) as pg:
                    runs += bench_database(db, pg.url, pg.pid, work, args, answer_file)
            elif db == "env":
                url = os.environ["DATABASE_URL"]
                runs += bench_database(db, url, None, work, args, answer_file)
            else:
                runs += bench_database(db, None, None, work, args, answer_file)
        for target in ceilings:
            if not answer_file.exists():
                raise RuntimeError("the ceilings need one event.do run first (its answer bytes)")
            runs.append(bench_ceiling(target, answer_file, work, args))
    finally:
        signal.alarm(0)
        stop_servers()
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    # Ceilings first in the table: they are what event.do is measured against.
    runs.sort(key=lambda r: uses_database(r.target))  # stable: otherwise in the order run
    text = report(runs, args)
    print(f"Confero event.do benchmark, {started:%Y-%m-%d %H:%M} UTC, code: {code}")
    print(text)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "started": started.isoformat(),
                    "code": code,
                    "machine": machine(),
                    "args": vars(args) | {"json": str(args.json)},
                    "runs": [asdict(r) for r in runs],
                },
                indent=2,
                default=str,
            )
        )
    return 0 if all(r.valid for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
