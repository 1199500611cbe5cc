"""A throw-away PostgreSQL cluster for the benchmark, from the local binaries.

    python bench/pgcluster.py CMD…   runs CMD with DATABASE_URL pointing at a fresh cluster, then
                                     stops the cluster and deletes its data directory.

The cluster lives in a temporary directory, listens on 127.0.0.1 on a free port and on a Unix
socket in that directory, and trusts local connections (nothing else can reach it). As root,
initdb and postgres run as the `postgres` user (PostgreSQL refuses to run as root).

The settings are PostgreSQL's defaults (fsync and synchronous_commit on), so commits cost what
they cost on a real server; `extra` settings (``-c name=value``) can be passed for experiments.
"""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Cluster:
    url: str  # DATABASE_URL
    pid: int  # the process that runs the server (the root of its process tree)
    log: Path  # the server's log (stderr)


def bin_dir() -> Path:
    """The directory of initdb/postgres: PATH first, then Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    if not candidates:
        raise RuntimeError("PostgreSQL binaries not found (apt-get install -y postgresql)")
    return Path(candidates[-1]).parent


def _version_key(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@contextlib.contextmanager
def cluster(
    *, extra: dict[str, str] | None = None, dbname: str = "confero_bench"
) -> Iterator[Cluster]:
    """Starts a cluster and yields it; stops it and removes its files on exit."""
    binaries = bin_dir()
    root = Path(tempfile.mkdtemp(prefix="confero-bench-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    proc = None
    try:
        subprocess.run(
            _as_owner(
                [
                    str(binaries / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=120,
        )
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(port),
            "unix_socket_directories": str(root),
            "max_connections": "50",
        }
        settings.update(extra or {})
        argv = [str(binaries / "postgres"), "-D", str(data)]
        for name, value in settings.items():
            argv += ["-c", f"{name}={value}"]
        log = (root / "postgres.log").open("wb")
        proc = subprocess.Popen(
            _as_owner(argv), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        _wait_ready(binaries, root, port, proc)
        subprocess.run(
            _as_owner(
                [
                    str(binaries / "createdb"),
                    "-h",
                    str(root),
                    "-p",
                    str(port),
                    "-U",
                    "postgres",
                    dbname,
                ]
            ),
            check=True,
            timeout=30,
        )
        yield Cluster(
            f"postgres://postgres@127.0.0.1:{port}/{dbname}", proc.pid, root / "postgres.log"
        )
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(binaries: Path, root: Path, port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"postgres exited: {(root / 'postgres.log').read_text()[-2000:]}")
        ready = subprocess.run(
            [str(binaries / "pg_isready"), "-q", "-h", str(root), "-p", str(port)], check=False
        )
        if ready.returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError("postgres did not become ready within 30 s")


def _stop(proc: subprocess.Popen) -> None:
    """SIGINT is PostgreSQL's fast shutdown; SIGKILL the group if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    with cluster() as pg:
        return subprocess.run(
            argv, env={**os.environ, "DATABASE_URL": pg.url}, check=False
        ).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
