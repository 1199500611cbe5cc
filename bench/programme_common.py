"""What bench/sessions.py and bench/scheduling.py share: a throw-away data directory and
database (PostgreSQL through scripts/pgcluster.py), Django set up on it in this process, an
open event with a token, `confero serve` started and stopped, the workers' memory, wrk.

Self-contained on purpose (bench/event_do.py's machinery is far larger than these two need).
"""

import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def under_postgres(argv: list[str]) -> int | None:
    """Re-runs this script under a throw-away PostgreSQL cluster unless one is given
    (DATABASE_URL); None when already there."""
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return None
    command = [sys.executable, str(ROOT / "scripts" / "pgcluster.py"), sys.executable, *argv]
    return subprocess.call(command)


@contextlib.contextmanager
def data_dir():
    """CONFERO_DATA_DIR (and the SQLite file when no DATABASE_URL) in a fresh directory."""
    path = Path(tempfile.mkdtemp(prefix="confero-bench-"))
    os.environ["CONFERO_DATA_DIR"] = str(path)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{path / 'confero.sqlite3'}")
    os.environ["CONFERO_LOG_LEVEL"] = "WARNING"
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def setup_django() -> None:
    subprocess.check_call([str(BIN / "confero"), "manage", "migrate", "-v0"])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "confero.settings")
    import django

    django.setup()


def open_event(code: str = "bench"):
    """An event, its Production site open to 127.0.0.1 without a rate limit, a token."""
    from confero.access.services import configure_profile
    from confero.access.tokens import issue_token
    from confero.events.services import create_event, get_or_create_account

    event = create_event(account=get_or_create_account("bench", name="Bench"), code=code,
                         name="Bench", time_zone="Europe/Berlin")  # fmt: skip
    site = event.sites.select_related("api_profile").get(environment="production")
    configure_profile(site.api_profile, enabled=True, allowed_networks=["127.0.0.1"],
                      rate_limit_per_minute=2_000_000_000)  # fmt: skip
    return site, issue_token(site.api_profile, label="bench").plain


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def server(workers: int = 2):
    """`confero serve` (gunicorn, sync workers) on a free port: (port, master pid)."""
    from django.db import connections

    connections.close_all()
    port = free_port()
    log = open(Path(os.environ["CONFERO_DATA_DIR"]) / f"server-{port}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(BIN / "confero"), "serve", "--port", str(port), "--workers", str(workers)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(Path(log.name).read_text())
            time.sleep(0.1)
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def workers_rss_kib(master: int) -> int:
    """The resident memory of the master's children (the workers), KiB."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == master:
                for line in (stat.parent / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
    return total


def post(port: int, path: str, body: str) -> tuple[float, bytes]:
    """One POST on a new connection: (seconds to the last byte, body)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})
    answer = conn.getresponse().read()
    conn.close()
    return time.perf_counter() - started, answer


def wrk(port: int, path: str, script: str, env: dict, *, seconds: int, clients: int) -> dict:
    """wrk with 2 threads and `clients` connections; the BENCH_JSON line of bench/checks.lua."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--latency", "-s",
         str(ROOT / "bench" / script), f"http://127.0.0.1:{port}{path}"],
        env={**os.environ, **env}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    line = next(x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON "))
    result = json.loads(line.split(" ", 1)[1])
    result["rate"] = result["good"] / (result["duration_us"] / 1e6)
    return result
