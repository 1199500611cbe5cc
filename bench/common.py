"""What the benchmarks share: isolation, a throw-away PostgreSQL cluster, `confero serve`'s own
command line, wrk runs with every answer checked, CPU per call, turns, the machine's description.

Every benchmark measures its targets *in turns*: all servers are started first, then each round
measures each target once, in an order that rotates round by round, and the summary gives medians
over the rounds and ratios taken within a round. This host's speed moves by up to 2× within
minutes (docs/performance.md): two figures taken seconds apart can be compared, two taken
minutes apart cannot.
"""

import contextlib
import json
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import timeit
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
BIN = Path(sys.executable).parent
CONFERO = str(BIN / "confero")
EVENT = "bench"
RATE_LIMIT = 2_000_000_000  # calls per token per minute: the limit never answers 429 here
TICK = os.sysconf("SC_CLK_TCK")

sys.path.insert(0, str(ROOT / "scripts"))
import pgcluster  # noqa: E402, I001 - scripts/pgcluster.py, the test suite's throw-away cluster


# --- revisions and environments ------------------------------------------------------------


def export_src(rev: str, work: Path) -> str:
    """`git archive` of the revision's src/ under `work`; the path goes ahead of the editable
    install on PYTHONPATH (the `confero` command then runs that revision)."""
    sha = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    tree = work / f"src-{sha[:12]}"
    if not tree.exists():
        tree.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "archive", "--format=tar", sha, "src"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return str(tree / "src")


def git(*argv: str) -> str:
    done = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def describe_code() -> str:
    dirty = git("status", "--porcelain", "--", "src")
    return f"working tree at {git('rev-parse', '--short=9', 'HEAD')}" + (
        " with uncommitted changes in src/" if dirty else ""
    )


def environment(data_dir: Path, database_url: str | None, *, src: str | None = None) -> dict:
    """A fresh data directory (the project's var/ is never touched), the production defaults."""
    data_dir.mkdir(parents=True, exist_ok=True)
    drop = ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PYTHONPATH", "CONFERO_DEBUG")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("CONFERO_")}
    env.update(
        CONFERO_DATA_DIR=str(data_dir),
        CONFERO_SECRET_KEY=secrets.token_urlsafe(40),
        CONFERO_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    if src:
        env["PYTHONPATH"] = src
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def run(argv: list[str], env: dict, *, timeout: float = 600) -> str:
    done = subprocess.run(
        argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[:4])}… failed ({done.returncode}):\n{done.stderr[-3000:]}"
        )
    return done.stdout


def shell(env: dict, code: str, **variables: str) -> dict:
    """Runs `code` in `confero manage shell`; it prints one line `RESULT <json>`."""
    out = run([CONFERO, "manage", "shell", "-c", code], {**env, **variables})
    line = next((ln for ln in out.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"no RESULT line from the shell:\n{out[-2000:]}")
    return json.loads(line.removeprefix("RESULT "))


def set_up_site(env: dict) -> str:
    """As an operator would, with the CLI: migrate, the event, a token for 127.0.0.1, a rate limit
    far above what wrk sends. Returns the token."""
    run([CONFERO, "manage", "migrate", "--noinput", "-v0"], env)
    run([CONFERO, "event", "create", "--code", EVENT, "--name", "Benchmark event"], env)
    site = ["--event", EVENT, "--site", "production"]
    out = run([CONFERO, "token", "create", *site, "--label", "bench", "--allow", "127.0.0.1"], env)
    token = out.strip().splitlines()[-1].strip()
    if not token.startswith("cfo_live_"):
        raise RuntimeError(f"unexpected output of confero token create: {out!r}")
    run([CONFERO, "profile", *site, "--rate-limit", str(RATE_LIMIT)], env)
    return token


def import_fields(env: dict, work: Path, fields: list[tuple[str, str, list[str]]]) -> None:
    """User custom fields (code, type, value codes) with `confero customfields import`."""
    document = {
        "format": "confero.customfields/1",
        "event": EVENT,
        "environment": "production",
        "fields": [
            {
                "code": code,
                "displayName": code.title(),
                "recordType": "user",
                "type": kind,
                "values": [{"code": v, "label": v.title(), "other": False} for v in values],
            }
            for code, kind, values in fields
        ],
    }
    path = work / "customfields.json"
    path.write_text(json.dumps(document, indent=2))
    run(
        [CONFERO, "customfields", "import", "--event", EVENT, "--site", "production", str(path)],
        env,
    )


def fill(env: dict, users: int, *, answers: bool) -> dict:
    """bench/fill.py: `users` more users by bulk SQL (with a value for each custom field)."""
    out = run(
        [
            str(BIN / "python"),
            str(BENCH_DIR / "fill.py"),
            str(users),
            *(["--answers"] if answers else []),
        ],
        env,
        timeout=1800,
    )
    return json.loads(next(ln for ln in out.splitlines() if ln.startswith("RESULT "))[7:])


CALL_LOG = """
import json
from django.db.models import Count
from confero.access.models import ApiCall
rows = ApiCall.objects.values("resource", "code").annotate(n=Count("id"))
print("RESULT " + json.dumps({f"{r['resource']}:{r['code']}": r["n"] for r in rows}))
"""


def call_log(env: dict) -> dict[str, int]:
    """Rows of the call log by `resource:code`."""
    return shell(env, CALL_LOG)


def check_call_log(env: dict, resource: str, targets: list["Target"]) -> list[str]:
    """After the runs, servers still up: the call log holds only code-0 rows of `resource`, at
    least as many as the answers counted good (warm-ups and probes make more). Its batches reach
    the database within CONFERO_CALL_LOG_FLUSH_MS: polled a few seconds."""
    good = sum(r.good for t in targets for r in t.runs)
    deadline = time.monotonic() + 10
    while True:
        rows = call_log(env)
        logged = rows.get(f"{resource}:0", 0)
        if logged >= good or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    other = {k: n for k, n in rows.items() if k != f"{resource}:0"}
    problems = [f"the call log holds other rows: {other}"] if other else []
    if logged < good:
        problems.append(f"the call log holds {logged} code-0 rows for {good} good answers")
    return problems


# --- PostgreSQL ----------------------------------------------------------------------------


@dataclass
class Postgres:
    cluster: "pgcluster.Cluster"
    pid: int  # the postmaster: the root of the server's process tree

    def database(self, name: str) -> str:
        """A new database in the cluster; its DATABASE_URL."""
        if name != pgcluster.DATABASE:
            self.cluster.run(
                "createdb",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.cluster.port),
                "-U",
                pgcluster.ROLE,
                name,
            )
        return self.cluster.url.rsplit("/", 1)[0] + "/" + name


# The test suite's cluster turns durability off; a benchmark must not: every write's commit
# waits for its WAL flush in production. ALTER SYSTEM overrides postgresql.conf on a reload.
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


@contextlib.contextmanager
def postgres(settings: dict[str, str] | None = None) -> Iterator[Postgres]:
    """scripts/pgcluster.py's throw-away cluster, with PostgreSQL's default durability."""
    bindir = pgcluster.find_bindir()
    if bindir is None:
        raise RuntimeError("no PostgreSQL server binaries (apt-get install -y postgresql)")
    cluster = pgcluster.Cluster(bindir)
    try:
        cluster.start()
        wanted = {**DURABLE, **(settings or {})}
        psql = ["-h", "127.0.0.1", "-p", str(cluster.port), "-U", pgcluster.ROLE, "-d", "postgres"]
        for name, value in wanted.items():  # one -c each: ALTER SYSTEM is not for a transaction
            psql += ["-c", f"ALTER SYSTEM SET {name} = '{value}'"]
        cluster.run("psql", *psql, "-c", "SELECT pg_reload_conf()")
        psql = psql[:8]
        for _ in range(50):  # the reload reaches new sessions within moments
            shown = cluster.run("psql", *psql, "-At", "-c", "SHOW fsync").stdout.strip()
            if shown == wanted["fsync"]:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("the cluster did not take its settings")
        pid = int((cluster.data / "postmaster.pid").read_text().split()[0])
        yield Postgres(cluster, pid)
    finally:
        cluster.destroy()


# --- servers -------------------------------------------------------------------------------

# Prints the argv `confero serve` would exec (after its migrate and collectstatic) instead.
CAPTURE_SERVE = (
    "import json, os, sys\n"
    "def fake_execv(path, argv):\n"
    "    print('SERVE_ARGV ' + json.dumps(argv), flush=True)\n"
    "    sys.exit(0)\n"
    "os.execv = fake_execv\n"
    "from confero.cli import main\n"
    "main(sys.argv[1:])\n"
)


def serve_argv(env: dict, port: int, *, workers: int = 2, extra: tuple[str, ...] = ()) -> list:
    """The gunicorn command line `confero serve` runs (of the code on the env's path), plus
    `extra` arguments (the last of a repeated option wins)."""
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    out = run([str(BIN / "python"), "-c", CAPTURE_SERVE, *serve], env)
    line = next(ln for ln in out.splitlines() if ln.startswith("SERVE_ARGV "))
    argv = json.loads(line.removeprefix("SERVE_ARGV "))
    if "--no-control-socket" not in argv:  # gunicorn ≥ 23: a fixed per-user path otherwise
        argv.append("--no-control-socket")
    return [*argv, *extra]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SERVERS: list["Server"] = []


class Server:
    """gunicorn in its own process group, ready once `probe` (a POST body) answers code 0."""

    def __init__(
        self, name: str, argv: list[str], env: dict, *, log_dir: Path, url: str, probe: str
    ) -> None:
        self.name, self.url = name, url
        self.log = log_dir / (name.replace(" ", "_").replace("/", "_") + ".log")
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                argv,
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        SERVERS.append(self)
        deadline, last = time.monotonic() + 90, ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited: {self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError):
                status, answer = post(url, probe)
                if status == 200 and b'<response code="0">' in answer:
                    return
                last = f"HTTP {status}: {answer[:300]!r}"
            time.sleep(0.2)
        raise RuntimeError(f"{name} not ready after 90 s ({last})")

    def stop(self) -> None:
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=wait)


def serve(
    name: str,
    env: dict,
    *,
    work: Path,
    path: str,
    probe: str,
    app: str | None = None,
    extra: tuple[str, ...] = (),
) -> Server:
    """`confero serve`'s server for `env` on a free port; `app` replaces the WSGI application."""
    port = free_port()
    argv = serve_argv(env, port, extra=extra)
    if app:
        argv = [app if a == "confero.wsgi:application" else a for a in argv]
    return Server(name, argv, env, log_dir=work, url=f"http://127.0.0.1:{port}{path}", probe=probe)


def post(url: str, body: str, *, timeout: float = 60) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    request = urllib.request.Request(url, data=body.encode(), method="POST", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@contextlib.contextmanager
def guarded(budget: int) -> Iterator[None]:
    """Every server stopped on every way out: the end, an error, Ctrl-C, SIGTERM, the budget."""

    def on_alarm(signum, frame):
        raise TimeoutError(f"the benchmark exceeded its budget of {budget} s")

    def on_term(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(budget)
    try:
        yield
    finally:
        signal.alarm(0)
        stop_servers()


def stop_servers() -> None:
    while SERVERS:
        SERVERS.pop().stop()


# --- CPU and the machine -------------------------------------------------------------------


def tree_cpu_seconds(root: int) -> float:
    """user+system CPU of a process and its live descendants, by parent links (PostgreSQL's
    backends each call setsid(): a process group would miss them)."""
    parent: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()  # fields[0] is field 3, state
            pid = int(stat.parent.name)
            parent[pid], ticks[pid] = int(fields[1]), int(fields[11]) + int(fields[12])
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


def wait_for_quiet(timeout: float, *, threshold: float = 0.15) -> None:
    """Waits (at most `timeout` s) until other processes use less than `threshold` of a CPU."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        before = machine_busy_seconds()
        time.sleep(1)
        if machine_busy_seconds() - before < threshold:
            return


def host_us() -> float:
    """µs per `sum(range(1000))`, best of 5: the host's speed just before a measurement."""
    return min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6


def machine() -> str:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    versions = [f"Python {platform.python_version()}"]
    for module in ("django", "gunicorn", "psycopg"):
        with contextlib.suppress(Exception):
            versions.append(f"{module} {__import__('importlib.metadata').metadata.version(module)}")
    import sqlite3

    versions.append(f"SQLite {sqlite3.sqlite_version}")
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} CPUs ({cpu}), kernel {platform.release()}; {', '.join(versions)}; "
        f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} at the start"
    )


# --- one measurement -----------------------------------------------------------------------


@dataclass
class Run:
    """One target measured once: a rate (calls/s or users/s) and what goes with it."""

    target: str
    rate: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    good: int = 0
    total: int = 0
    cpu_us: dict = field(default_factory=dict)  # process tree -> CPU µs per call
    other_load: float = 0.0  # CPUs' worth used by processes outside the benchmark meanwhile
    host_us: float = 0.0
    extra: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)

    def cpu_text(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in self.cpu_us.items())


class Meter:
    """CPU of the given process trees and of this process's children (wrk), and of the rest of
    the machine, between start() and stop(calls)."""

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


def wrk(
    url: str,
    body: str,
    *,
    seconds: int,
    script: str = "post.lua",
    connections: int = 16,
    env: dict | None = None,
) -> dict:
    """wrk with one of bench/'s scripts: every answer checked (HTTP 200 and code 0)."""
    argv = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "5s",
        "-s",
        str(BENCH_DIR / script),
        url,
    ]
    done = subprocess.run(
        argv,
        env={**os.environ, **(env or {}), "BENCH_BODY": body},
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-1000:]}{done.stderr}")
    return json.loads(line.removeprefix("BENCH_JSON "))


def load_run(
    name: str,
    server: Server,
    body: str,
    processes: dict[str, int],
    args,
    *,
    script: str = "post.lua",
    env: dict | None = None,
) -> Run:
    """A warm-up, then the measured wrk run against `server`; every answer checked."""
    run_ = Run(name)
    wait_for_quiet(args.quiet_timeout)
    run_.host_us = host_us()
    load = {"script": script, "connections": args.connections, "env": env}
    wrk(server.url, body, seconds=args.warmup, **load)
    meter = Meter({"gunicorn": server.proc.pid, **processes})
    meter.start()
    result = wrk(server.url, body, seconds=args.duration, **load)
    meter.stop(run_, result["requests"])
    latency = result["latency_us"]
    run_.rate = result["requests"] / (result["duration_us"] / 1e6)
    run_.p50_ms, run_.p90_ms, run_.p99_ms = (latency[p] / 1000 for p in ("p50", "p90", "p99"))
    run_.good, run_.total = result["good"], result["requests"]
    errors = {k: v for k, v in result["errors"].items() if v}
    if not run_.total or run_.good != run_.total or errors:
        run_.problems.append(
            f"{run_.good} of {run_.total} answers HTTP 200 with code 0; socket errors {errors}"
        )
    return run_


def load_target(
    server: Server,
    body: str,
    processes: dict[str, int],
    args,
    *,
    script: str = "post.lua",
    env: dict | None = None,
) -> "Target":
    """A target measured by load_run() against `server`."""
    return Target(
        server.name,
        lambda: load_run(server.name, server, body, processes, args, script=script, env=env),
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# --- turns ---------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    measure: Callable[[], Run]
    runs: list = field(default_factory=list)


def in_turns(targets: list[Target], rounds: int, *, unit: str = "calls/s") -> None:
    """Each round measures every target once, in an order that rotates round by round, and
    prints a line per measurement."""
    print(
        f"| round | target | {unit} | p50 ms | p90 ms | p99 ms | CPU µs per call "
        "| other load | host µs | checked |"
    )
    print("|---:|---|---:|---:|---:|---:|---|---:|---:|---|")
    for number in range(rounds):
        shift = number % len(targets)
        for target in targets[shift:] + targets[:shift]:
            run_ = target.measure()
            target.runs.append(run_)
            checked = "; ".join(run_.problems) or f"{run_.good}/{run_.total} ok"
            print(
                f"| {number + 1} | {target.name} | {run_.rate:,.0f} | {run_.p50_ms:.2f} "
                f"| {run_.p90_ms:.2f} | {run_.p99_ms:.2f} | {run_.cpu_text()} "
                f"| {run_.other_load:.2f} | {run_.host_us:.1f} | {checked} |",
                flush=True,
            )


def ratio(target: Target, base: Target) -> tuple[float, float, float]:
    """Median, lowest and highest of target's rate over base's, round by round."""
    ratios = [a.rate / b.rate for a, b in zip(target.runs, base.runs, strict=True) if b.rate]
    return statistics.median(ratios), min(ratios), max(ratios)


def summary(targets: list[Target], *, bases: list[Target], unit: str = "calls/s") -> str:
    """Medians over the rounds and, for each base, the median ratio to it within a round."""
    head = f"| target | median {unit} | median p50 ms | median p99 ms | worst p99 ms |"
    head += "".join(f" ÷ {b.name} (median, range) |" for b in bases)
    lines = ["", head, "|---|---:|---:|---:|---:|" + "---|" * len(bases)]
    for t in targets:
        rate, p50, p99 = (statistics.median(r[i] for r in _figures(t)) for i in range(3))
        row = (
            f"| {t.name} | {rate:,.0f} | {p50:.2f} | {p99:.2f} "
            f"| {max(r.p99_ms for r in t.runs):.2f} |"
        )
        for base in bases:
            m, lo, hi = ratio(t, base)
            row += f" {m:.1%} ({lo:.0%}–{hi:.0%}) |"
        lines.append(row)
    return "\n".join(lines)


def _figures(target: Target) -> list[tuple[float, float, float]]:
    return [(r.rate, r.p50_ms, r.p99_ms) for r in target.runs]


def add_turn_options(parser, *, rounds: int, duration: int, budget: int) -> None:
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--duration", type=int, default=duration, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk before each run")
    parser.add_argument("--connections", type=int, default=16, help="wrk's (2 threads)")
    parser.add_argument(
        "--quiet-timeout",
        type=float,
        default=5,
        help="before each run, wait up to this long for other processes to go quiet",
    )
    parser.add_argument("--budget", type=int, default=budget, help="the whole run's limit, s")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")


def all_valid(targets: list[Target]) -> bool:
    return all(not r.problems for t in targets for r in t.runs)
