#!/usr/bin/env python3
"""The whole test suite, as `make test` runs it:

1. pytest on SQLite (DATABASE_URL removed from the environment);
2. pytest on PostgreSQL, on a throw-away cluster that scripts/pgcluster.py starts and deletes;
3. the same with the production defaults (admissions kept in memory, call-log batches on);
4. the browser tests (marker `browser`: Playwright driving Debian's /usr/bin/chromium against a
   live server), deselected from the passes above and run in passes of their own, on SQLite
   and on PostgreSQL; their screenshots go to var/screenshots/<database>/ (printed at the end).

Extra arguments go to every pytest run (`make test ARGS='-k event -x'`).

A missing PostgreSQL server is a failure when CONFERO_REQUIRE_POSTGRES=1 or CI=true (.ci/run sets
both); elsewhere the PostgreSQL run is skipped with a loud notice and the exit code stays 0. A
missing chromium is likewise a failure when CONFERO_REQUIRE_BROWSER=1 or CI=true, a loud notice
elsewhere. A run that collects no test (pytest's exit code 5) is a failure — except a browser pass
when ARGS narrowed the run to files without browser tests.

The last line of the output is the total over all runs, `N passed, M failed[, K skipped]`.
"""

# ruff: noqa: S603  (runs pytest and scripts/pgcluster.py; no shell)

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
ROOT = SCRIPTS.parent
sys.path.insert(0, str(SCRIPTS))
import pgcluster  # noqa: E402  (a sibling script, not a package)

PYTEST = [sys.executable, "-m", "pytest"]
NO_TESTS_COLLECTED = 5  # pytest's ExitCode.NO_TESTS_COLLECTED

# pytest's closing line: "==== 3 failed, 40 passed, 2 skipped, 1 warning in 5.12s ====", or
# without the rules under -q; "no tests ran in 0.01s" when nothing ran.
SUMMARY_RE = re.compile(r"^=*\s*(?P<body>(?:\d+ \w+(?:, )?)+|no tests ran) in [\d.]+s\b.*?=*$")
COUNT_RE = re.compile(r"(\d+) (\w+)")
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


def truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class Run:
    name: str
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    exit_code: int | None = None  # None: not run
    seconds: float = 0.0
    summary: str = ""  # pytest's own closing words, e.g. "40 passed, 2 skipped"
    counts: dict[str, int] = field(default_factory=dict)
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def failed(self) -> int:
        counted = self.counts.get("failed", 0) + self.counts.get("errors", 0)
        # A run that failed without a failing test (no test collected, a cluster that would not
        # start, a crash) still counts as one failure, so the closing line never reads "0 failed"
        # over a failed suite.
        return counted if self.ok or counted else max(counted, 1)

    def line(self) -> str:
        if self.exit_code is None:
            return f"{self.name}: SKIPPED, NOT RUN (see below)"
        text = f"{self.name}: {self.summary or 'no pytest summary'} ({self.seconds:.1f}s wall"
        text += ")" if self.ok else f", exit code {self.exit_code})"
        return text + (f" - {self.note}" if self.note else "")


def run(r: Run) -> Run:
    """Runs one pass, its output streamed through, its pytest summary line kept."""
    print(f"\n######## {r.name}: {' '.join(r.command)}", flush=True)
    started = time.monotonic()
    env = {**r.env, "PYTHONUNBUFFERED": "1"}
    if sys.stdout.isatty():
        env.setdefault("PY_COLORS", "1")  # pytest writes into our pipe: keep its colours
    with subprocess.Popen(
        r.command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as child:
        try:
            for line in child.stdout:
                sys.stdout.write(line)
                sys.stdout.flush()
                if match := SUMMARY_RE.match(ANSI_RE.sub("", line).strip()):
                    r.summary = match["body"]
        except KeyboardInterrupt:  # the child got Ctrl-C too; let it finish its cleanup
            child.wait()
            raise
    r.exit_code = child.returncode
    r.seconds = time.monotonic() - started
    for number, word in COUNT_RE.findall(r.summary):
        key = {"error": "errors", "warning": "warnings"}.get(word, word)
        r.counts[key] = r.counts.get(key, 0) + int(number)
    if r.exit_code == NO_TESTS_COLLECTED:
        r.note = "no test collected: counted as a failure"
    return r


NOT_BROWSER = ["-m", "not browser"]  # first: a `-m` in ARGS comes later and wins
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "var" / "screenshots"


def sqlite_pass(args: list[str]) -> Run:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return run(Run("SQLite", [*PYTEST, *NOT_BROWSER, *args], env))


def postgres_pass(args: list[str], required: bool, *, production_defaults: bool = False) -> Run:
    """With `production_defaults`, the suite runs as a server does: the admissions kept in
    memory and the call-log batches on (tests/conftest.py, PRODUCTION_DEFAULTS)."""
    env = dict(os.environ)
    if production_defaults:
        env["CONFERO_TEST_PRODUCTION_DEFAULTS"] = "1"
    r = Run(
        "PostgreSQL, production defaults" if production_defaults else "PostgreSQL",
        [sys.executable, str(SCRIPTS / "pgcluster.py"), *PYTEST, *NOT_BROWSER, *args],
        env,
    )
    if pgcluster.find_bindir() is None:
        r.note = (
            "no PostgreSQL server binaries (initdb/pg_ctl/postgres) on this machine: "
            "the suite did NOT run on PostgreSQL. apt-get install -y postgresql"
        )
        if required:
            r.exit_code, r.summary = 1, "no PostgreSQL server binaries, and PostgreSQL is required"
            r.note = "CONFERO_REQUIRE_POSTGRES=1 or CI=true: counted as a failure"
        return r
    return run(r)


def browser_passes(args: list[str], *, required: bool, postgres: bool) -> list[Run]:
    """The browser tests, once on SQLite and once on PostgreSQL (when its binaries are here).
    Without chromium: one pass NOT RUN, a failure when required (CI installs chromium)."""
    if not os.access(CHROMIUM, os.X_OK):
        r = Run("Browser")
        r.note = (
            f"no {CHROMIUM}: the browser tests did NOT run. "
            "apt-get install -y --no-install-recommends chromium fonts-liberation"
        )
        if required:
            r.exit_code, r.summary = 1, "no chromium, and the browser tests are required"
            r.note = "CONFERO_REQUIRE_BROWSER=1 or CI=true: counted as a failure"
        return [r]
    passes = []
    sqlite_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    command = [*PYTEST, "-m", "browser", *args]
    passes.append(_browser_run("Browser (SQLite)", command, sqlite_env, "sqlite", args))
    if postgres:
        passes.append(
            _browser_run(
                "Browser (PostgreSQL)",
                [sys.executable, str(SCRIPTS / "pgcluster.py"), *command],
                dict(os.environ),
                "postgresql",
                args,
            )
        )
    return passes


def _browser_run(name: str, command: list[str], env: dict, database: str, args: list[str]) -> Run:
    shots = SCREENSHOTS / database
    r = run(Run(name, command, {**env, "CONFERO_SCREENSHOTS": str(shots)}))
    if r.exit_code == NO_TESTS_COLLECTED and args:
        # ARGS chose files without browser tests (`make test ARGS=tests/api`): nothing to run.
        r.exit_code, r.note = 0, "no browser test among the tests ARGS selected"
    elif r.ok:
        r.note = f"screenshots in {shots.relative_to(ROOT)}/"
    return r


def main(args: list[str]) -> int:
    required = truthy("CONFERO_REQUIRE_POSTGRES") or truthy("CI")
    browser_required = truthy("CONFERO_REQUIRE_BROWSER") or truthy("CI")
    started = time.monotonic()
    try:
        runs = [
            sqlite_pass(args),
            postgres_pass(args, required),
            postgres_pass(args, required, production_defaults=True),
        ]
        postgres = pgcluster.find_bindir() is not None
        runs += browser_passes(args, required=browser_required, postgres=postgres)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    total = time.monotonic() - started

    passed = sum(r.counts.get("passed", 0) for r in runs)
    failed = sum(r.failed for r in runs if r.exit_code is not None)
    skipped = sum(r.counts.get("skipped", 0) for r in runs)
    ran = [r for r in runs if r.exit_code is not None]
    print("\n######## Confero test suite")
    for r in runs:
        print(r.line())
    not_run = [r for r in runs if r.exit_code is None]
    if not_run:
        print("!" * 100)
        for r in not_run:
            print(f"!!! {r.name} was NOT run: {r.note}")
        print(
            "!!! Set CONFERO_REQUIRE_POSTGRES=1 / CONFERO_REQUIRE_BROWSER=1 to make this a "
            "failure (CI does)."
        )
        print("!" * 100)
    print(f"Total: {total:.1f}s wall over {len(ran)} run(s)")
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 0 if all(r.ok for r in ran) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
