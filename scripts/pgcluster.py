#!/usr/bin/env python3
"""Run one command against a throw-away PostgreSQL cluster.

    python scripts/pgcluster.py CMD [ARGS...]

Starts a fresh cluster from the local server binaries (`pg_config --bindir`, else the newest
/usr/lib/postgresql/*/bin), runs CMD with

    DATABASE_URL=postgres://confero@127.0.0.1:PORT/confero

in its environment, then stops the cluster and deletes its data whatever happens (CMD failing,
Ctrl-C, SIGTERM). The exit code is CMD's (128+N if a signal N ended it).

- The role `confero` is the cluster's bootstrap superuser, so pytest-django can create and drop
  its own `test_confero` database.
- Auth is `trust`, for the unix socket (inside our temporary directory) and 127.0.0.1 only; the
  server listens on 127.0.0.1 alone, on a free port picked here.
- Durability is off (fsync, synchronous_commit, full_page_writes): the data is thrown away anyway.
- initdb and postgres refuse to run as root. As root (CI, our dev machines), every server
  command runs as the unprivileged `postgres` user through `runuser`; the user is created if
  missing, and the cluster lives under a fresh directory in /tmp that it owns.

Exit codes of its own: 3 when no PostgreSQL server binaries are installed (scripts/run_suite.py
decides whether that is a failure), 1 when the cluster cannot be set up. Standard library only.
"""

# ruff: noqa: S603, S607  (runs the PostgreSQL tools and the given command; no shell)

import glob
import locale
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXIT_NO_POSTGRES = 3
SERVICE_USER = "postgres"  # who runs the server when we are root
ROLE = DATABASE = "confero"


class ClusterError(Exception):
    """The cluster could not be set up; the message says why."""


def log(message: str) -> None:
    print(f"pgcluster: {message}", file=sys.stderr, flush=True)


# --- Finding the server ------------------------------------------------------------------------


def _is_server_bindir(path: str | os.PathLike) -> bool:
    # A client-only install (psql, libpq-dev's pg_config, a lone pg_ctl symlink) is not enough.
    return all(os.access(Path(path) / exe, os.X_OK) for exe in ("initdb", "pg_ctl", "postgres"))


def find_bindir() -> Path | None:
    """The directory of initdb/pg_ctl/postgres, or None when no server is installed."""
    candidates = []
    if pg_config := shutil.which("pg_config"):
        result = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        )
        if result.returncode == 0:
            candidates.append(result.stdout.strip())

    def version(path: str) -> tuple[int, ...]:  # /usr/lib/postgresql/15/bin -> (15,)
        name = Path(path).parent.name
        return tuple(int(p) for p in name.split(".") if p.isdigit())

    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    return next((Path(c) for c in candidates if _is_server_bindir(c)), None)


# --- Running server commands as the right user -------------------------------------------------


def _ensure_service_user() -> None:
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        log(f"creating system user {SERVICE_USER!r} to run the server (initdb refuses root)")
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                        "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                        SERVICE_USER], check=True)  # fmt: skip


def _cluster_locale() -> str:
    """C.UTF-8 (Unicode-aware upper()/lower(), code-point collation) where the system has it."""
    saved = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, "C.UTF-8")
        return "C.UTF-8"
    except locale.Error:
        return "C"
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)


class Cluster:
    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        self.root: Path | None = None  # our temporary directory: socket, data/, server.log
        self.port = 0
        # Server tools get a neutral environment: no PG* variables of the caller (PGDATA, PGPORT,
        # PGHOST would redirect them), and English messages.
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("PG", "LC_")) and k != "LANG"
        }
        self.env["LC_ALL"] = "C"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    def _make_root(self) -> None:
        if not self.as_root:
            self.root = Path(tempfile.mkdtemp(prefix="confero-pg-"))
            return
        _ensure_service_user()
        # /tmp is world-traversable, unlike a TMPDIR under /root: the service user must reach
        # its directory through every parent. The directory itself is 0700 and the user's.
        self.root = Path(tempfile.mkdtemp(prefix="confero-pg-", dir="/tmp"))
        entry = pwd.getpwnam(SERVICE_USER)
        os.chown(self.root, entry.pw_uid, entry.pw_gid)

    def run(self, exe: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Runs a server binary, as the service user when we are root; output is captured."""
        command = [str(self.bindir / exe), *args]
        if self.as_root:
            command = ["runuser", "-u", SERVICE_USER, "--", *command]
        # cwd: the service user may not be allowed into the caller's directory.
        result = subprocess.run(
            command, cwd=self.root, env=self.env, capture_output=True, text=True, check=False
        )
        if check and result.returncode != 0:
            raise ClusterError(
                f"{exe} {' '.join(args)} failed (exit {result.returncode}):\n"
                f"{result.stdout}{result.stderr}".rstrip()
            )
        return result

    def server_log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return "(no server log)"

    def start(self) -> None:
        self._make_root()
        locale_name = _cluster_locale()
        self.run("initdb", "-D", str(self.data), "-U", ROLE, "-A", "trust", "-E", "UTF8",
                 "--locale", locale_name, "--no-sync")  # fmt: skip
        # Our own pg_hba.conf: trust on the socket (in our 0700 directory) and 127.0.0.1 only.
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        )
        # A free port can be taken between picking it and binding it: try a few.
        for attempt in range(1, 4):
            self.port = _free_port()
            # Appended settings override initdb's; the file keeps its owner (the service user).
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.write(
                    "\n# confero: throw-away test cluster\n"
                    f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                    f"unix_socket_directories = '{self.root}'\n"
                    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                    "max_connections = 100\n"
                )
            result = self.run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log_file),
                              "-w", "-t", "60", check=False)  # fmt: skip
            if result.returncode == 0:
                break
            server_log = self.server_log()
            if "already in use" not in server_log or attempt == 3:
                raise ClusterError(
                    f"the server did not start (pg_ctl exit {result.returncode}):\n"
                    f"{result.stdout}{result.stderr}\n--- server log ---\n{server_log}"
                )
            log(f"port {self.port} was taken, retrying with another")
        self._wait_ready()
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", ROLE, DATABASE)

    def _wait_ready(self) -> None:
        # pg_ctl --wait already waited; this confirms the TCP listener clients will use.
        for _ in range(100):
            result = self.run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port),
                              "-U", ROLE, "-d", "postgres", check=False)  # fmt: skip
            if result.returncode == 0:
                return
            time.sleep(0.1)
        raise ClusterError(
            f"not ready on 127.0.0.1:{self.port} after 10 s:\n"
            f"--- server log ---\n{self.server_log()}"
        )

    def destroy(self) -> None:
        """Stops the server (fast, then immediate) and deletes everything; never raises."""
        if self.root is None:
            return
        if (self.data / "postmaster.pid").exists():  # running, or pg_ctl gave up waiting for it
            for mode in ("fast", "immediate"):
                result = self.run("pg_ctl", "stop", "-D", str(self.data), "-m", mode,
                                  "-w", "-t", "30", check=False)  # fmt: skip
                if result.returncode == 0:
                    break
                log(f"pg_ctl stop --mode {mode} failed: {result.stderr.strip()}")
        shutil.rmtree(self.root, ignore_errors=True)
        log("cluster stopped and deleted")

    @property
    def url(self) -> str:
        return f"postgres://{ROLE}@127.0.0.1:{self.port}/{DATABASE}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Running the command -----------------------------------------------------------------------


def _raise_on_sigterm(signum, _frame):
    # SIGTERM/SIGHUP become an exception so that the `finally` below still stops the cluster.
    raise SystemExit(128 + signum)


def run_command(argv: list[str], url: str) -> int:
    try:
        child = subprocess.Popen(argv, env={**os.environ, "DATABASE_URL": url})
    except OSError as error:
        log(f"cannot run {argv[0]}: {error}")
        return 127
    try:
        return child.wait()
    except BaseException as interruption:
        # Let the command finish its own cleanup (pytest drops its test database) before the
        # server goes away underneath it. Ctrl-C at a terminal reached it already (same process
        # group); a SIGTERM sent to us alone is passed on.
        if not isinstance(interruption, KeyboardInterrupt) and child.poll() is None:
            child.terminate()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        raise


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    bindir = find_bindir()
    if bindir is None:
        log(
            "no PostgreSQL server binaries found (looked at `pg_config --bindir` and "
            "/usr/lib/postgresql/*/bin for initdb, pg_ctl and postgres). "
            "On Debian: apt-get install -y postgresql"
        )
        return EXIT_NO_POSTGRES
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_on_sigterm)

    cluster = Cluster(bindir)
    try:
        started_at = time.monotonic()
        cluster.start()
        log(
            f"PostgreSQL from {bindir} ready at {cluster.url} "
            f"in {time.monotonic() - started_at:.1f}s (data in {cluster.root})"
        )
        code = run_command(argv, cluster.url)
        return 128 - code if code < 0 else code  # killed by signal N -> 128+N, as a shell says
    except (ClusterError, OSError, subprocess.CalledProcessError) as error:
        log(f"could not set up the throw-away cluster: {error}")
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        cluster.destroy()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
