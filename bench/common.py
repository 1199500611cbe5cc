"""What the benchmarks share to set up: isolation, another revision's code, the site through the
CLI, users by bulk SQL, a throw-away PostgreSQL cluster, servers with `confero serve`'s own
command line, stopped on every way out. Measuring: turns.py.
"""

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
BIN = Path(sys.executable).parent
CONFERO = str(BIN / "confero")
EVENT = "bench"
RATE_LIMIT = 2_000_000_000  # calls per token per minute: the limit never answers 429 here

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
        archive = ["git", "archive", "--format=tar", sha, "src"]
        tar = subprocess.run(archive, cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=tar, check=True)
    return str(tree / "src")


def git(*argv: str) -> str:
    done = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def describe_code() -> str:
    dirty = git("status", "--porcelain", "--", "src")
    return f"working tree at {git('rev-parse', '--short=9', 'HEAD')}" + (
        " with uncommitted changes in src/" if dirty else ""
    )


def environment(data_dir: Path, database_url: str | None) -> dict:
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
    """As an operator would, with the CLI: migrate, the event, 127.0.0.1 on the production
    site's allow-list, a rate limit far above what wrk sends, a token. Returns the token."""
    run([CONFERO, "manage", "migrate", "--noinput", "-v0"], env)
    run([CONFERO, "event", "create", "--code", EVENT, "--name", "Benchmark event"], env)
    site = ["--event", EVENT, "--site", "production"]
    run(
        [CONFERO, "profile", *site, "--allow-add", "127.0.0.1", "--rate-limit", str(RATE_LIMIT)],
        env,
    )
    out = run([CONFERO, "token", "create", *site, "--label", "bench"], env)
    token = out.strip().splitlines()[-1].strip()
    if not token.startswith("cfo_live_"):
        raise RuntimeError(f"unexpected output of confero token create: {out!r}")
    return token


def import_fields(
    env: dict, work: Path, fields: list, *, event: str = EVENT, site: str = "production"
) -> None:
    """User custom fields (code, type, value codes) with `confero customfields import`."""
    document = {"format": "confero.customfields/1", "event": event, "environment": site}
    document["fields"] = [
        {"code": code, "displayName": code.title(), "recordType": "user", "type": kind}
        | {"values": [{"code": v, "label": v.title(), "other": False} for v in values]}
        for code, kind, values in fields
    ]
    path = work / f"customfields-{event}-{site}.json"
    path.write_text(json.dumps(document, indent=2))
    run([CONFERO, "customfields", "import", "--event", event, "--site", site, str(path)], env)


def fill(env: dict, users: int, *, answers: bool) -> dict:
    """bench/fill.py: `users` more users by bulk SQL (with a value for each custom field)."""
    argv = [str(BIN / "python"), str(BENCH_DIR / "fill.py"), str(users)]
    out = run(argv + ["--answers"] * answers, env, timeout=1800)
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


def check_call_log(env: dict, resource: str, targets: list) -> list[str]:
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
            address = ["-h", "127.0.0.1", "-p", str(self.cluster.port), "-U", pgcluster.ROLE]
            self.cluster.run("createdb", *address, name)
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
            options = {"stdout": out, "stderr": subprocess.STDOUT, "start_new_session": True}
            self.proc = subprocess.Popen(argv, env=env, cwd=ROOT, **options)
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


def serve(name: str, env: dict, *, work: Path, path: str, probe: str, **how) -> Server:
    """`confero serve`'s server for `env` on a free port; `app=` replaces its WSGI application,
    `extra=` (a tuple) adds gunicorn arguments."""
    port = free_port()
    argv = serve_argv(env, port, extra=how.get("extra", ()))
    if how.get("app"):
        argv = [how["app"] if a == "confero.wsgi:application" else a for a in argv]
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


def finish(problems: list[str], work: Path, *, keep: bool) -> int:
    """The end of a run: each problem printed as INVALID, the work directory removed unless
    kept; the exit code (1 when a check failed)."""
    for problem in problems:
        print(f"INVALID: {problem}")
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if problems else 0
