"""event.do and its ceiling measured in turns, with every server up at once.

    .venv/bin/python bench/interleaved.py                                  # SQLite, PostgreSQL
    .venv/bin/python bench/interleaved.py --db postgres --rounds 8 --duration 5
    .venv/bin/python bench/interleaved.py --db postgres --rev-b c3f3b0d    # two revisions
    .venv/bin/python bench/interleaved.py --resource updateUser --db postgres --rev-b ffb0671

This host's speed moves by up to 2x within minutes (docs/performance.md), and event_do.py
measures event.do and the ceiling one after the other, half a minute apart: the share of the
ceiling moves with the host. Here every server is started first (each with `confero serve`'s
command line, 2 workers, the same data as event_do.py), then measured in rounds: each round runs
wrk against each server once (same load as event_do.py: 2 threads, 16 connections), in an order
that turns round by round; the ceilings are event_do.py's (the Django one and the bare WSGI
one). A share is taken within a round, seconds apart, and the summary gives medians over the
rounds. With --rev-b, event.do of that git revision runs next to the working
tree's, on the same database, for an A/B comparison.

With `--resource updateUser` the targets are update_user.py's load instead (its setup: 5 custom
fields, --users users; its wrk script, every answer checked for code 0), without ceilings: for
comparing revisions in turns. Both servers write to the same users, so update_user.py's
read-back of the database is not done here; run update_user.py for the checked figure.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import event_do as bench
import pgcluster
import update_user


def _export(rev: str, work: Path) -> str:
    tree = work / f"tree-{rev}"
    if tree.exists():  # exported for another database already
        return str(tree / "src")
    tree.mkdir()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "src"],
        cwd=bench.ROOT,
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return str(tree / "src")


class Target:
    def __init__(
        self,
        name: str,
        env: dict,
        body: str,
        pg_pid: int | None,
        work: Path,
        args,
        probe: str | None = None,
        extra_argv: tuple[str, ...] = (),
    ):
        self.name, self.env, self.body, self.pg_pid = name, env, body, pg_pid
        port = pgcluster.free_port()
        kind = name if name.startswith("ceiling") else "event.do"
        argv = bench.target_argv(kind, [*bench.serve_argv(env, port, args.workers), *extra_argv])
        self.url = f"http://127.0.0.1:{port}/{bench.EVENT_CODE}/api/{args.resource}.do"
        safe = name.replace(" ", "_").replace("/", "_")
        self.server = bench.start_server(safe, argv, env, work, self.url, probe or body)
        self.runs: list[bench.Run] = []
        self.load = (
            {"script": update_user.LUA, "extra_env": {"BENCH_USERS": str(args.users)}}
            if args.resource == "updateUser"
            else {}
        )

    def measure(self, args) -> bench.Run:
        run = bench.Run(self.name, "-")
        processes = {"gunicorn": self.server.proc.pid}
        if self.pg_pid:
            processes["postgres"] = self.pg_pid
        bench.measure(run, self.url, self.body, args, processes, **self.load)
        self.runs.append(run)
        return run


def _database_targets(db: str, url: str | None, pg_pid, work: Path, args, answer: Path):
    env = bench.base_env(work / db, url)
    if args.resource == "updateUser":
        (work / db).mkdir(parents=True, exist_ok=True)
        token = update_user.set_up(env, work / db, args.users)
        body = f"apiToken={token}"
        probe = update_user.sample_body(token, f"C{args.users}", 0)
        targets = [Target(f"updateUser.do {db}", env, body, pg_pid, work, args, probe)]
        if args.rev_b:
            old = {**env, "PYTHONPATH": _export(args.rev_b, work)}
            name = f"updateUser.do {db} @{args.rev_b}"
            targets.append(Target(name, old, body, pg_pid, work, args, probe))
        if args.b_serve_args:
            extra = tuple(args.b_serve_args.split())
            name = f"updateUser.do {db} [{args.b_serve_args}]"
            targets.append(Target(name, env, body, pg_pid, work, args, probe, extra))
        return targets
    body = f"apiToken={bench.set_up_site(env)}"
    targets = [Target(f"event.do {db}", env, body, pg_pid, work, args)]
    if not answer.exists():
        answer.write_bytes(bench.post(targets[0].url, body)[1])
    if args.rev_b:
        old = {**env, "PYTHONPATH": _export(args.rev_b, work)}
        targets.append(Target(f"event.do {db} @{args.rev_b}", old, body, pg_pid, work, args))
    return targets


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bench.add_load_options(parser, budget=3600)
    parser.set_defaults(duration=5, warmup=1, quiet_timeout=20)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--rev-b", help="also run event.do of this git revision")
    parser.add_argument("--resource", choices=("event", "updateUser"), default="event")
    parser.add_argument(
        "--b-serve-args",
        help="with --resource updateUser: also the working tree served with these extra gunicorn "
        "arguments, e.g. '--worker-class gthread --threads 2' (the last of a repeated one wins)",
    )
    parser.add_argument("--users", type=int, default=2000, help="with --resource updateUser")
    parser.add_argument(
        "--ceilings",
        default="ceiling-django,ceiling-wsgi",
        help="comma-separated: ceiling-django (Django, no pipeline), ceiling-wsgi (bare WSGI)",
    )
    args = parser.parse_args(argv)
    args.ceilings = [c.strip() for c in args.ceilings.split(",") if c.strip()]
    if args.resource == "updateUser":
        args.ceilings = []  # no ceiling for a write; revisions compared in turns
    elif not args.ceilings or any(
        c not in ("ceiling-django", "ceiling-wsgi") for c in args.ceilings
    ):
        parser.error("--ceilings: ceiling-django and/or ceiling-wsgi")
    args.rev = None
    work = Path(tempfile.mkdtemp(prefix="confero-interleaved-"))
    answer = work / "event-do-answer.xml"
    dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    targets: list[Target] = []
    try:
        with pgcluster.cluster() if "postgres" in dbs else _nothing() as pg:
            for db in dbs:
                url, pid = (pg.url, pg.pid) if db == "postgres" else (None, None)
                targets += _database_targets(db, url, pid, work, args, answer)
            body = "apiToken=cfo_live_" + "x" * 40
            for ceiling in args.ceilings:
                ceiling_env = bench.target_env(
                    ceiling, bench.base_env(work / "ceiling", None), answer
                )
                targets.append(Target(ceiling, ceiling_env, body, None, work, args))
            print(_header(args), flush=True)
            for round_ in range(args.rounds):
                turn = targets[round_ % len(targets) :] + targets[: round_ % len(targets)]
                for target in turn:
                    run = target.measure(args)
                    print(_line(round_ + 1, run), flush=True)
    finally:
        bench.stop_servers()
    print(_summary(targets))
    return 0 if all(run.valid for t in targets for run in t.runs) else 1


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _header(args) -> str:
    return (
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {args.workers} workers, "
        f"{args.rounds} rounds\n\n| round | target | req/s | p50 ms | p99 ms | CPU µs per request "
        "| host µs | checked |\n|---:|---|---:|---:|---:|---|---:|---|"
    )


def _line(round_: int, run: bench.Run) -> str:
    cpu = ", ".join(f"{k} {v}" for k, v in run.cpu_us_per_req.items())
    checked = "ok" if run.valid else "; ".join(run.problems)
    return (
        f"| {round_} | {run.target} | {run.rps:.0f} | {run.p50_ms:.2f} | {run.p99_ms:.2f} | {cpu} "
        f"| {run.host_us:.1f} | {run.good}/{run.requests} {checked} |"
    )


def _summary(targets: list[Target]) -> str:
    ceilings = [t for t in targets if t.name.startswith("ceiling")]
    lines = [
        "",
        "| target | median req/s | median p99 ms | worst p99 ms |"
        + "".join(f" median share of {c.name} (per round) |" for c in ceilings),
        "|---|---:|---:|---:|" + "---:|" * len(ceilings),
    ]
    for target in targets:
        p99s = [run.p99_ms for run in target.runs]
        shares = [
            statistics.median(
                run.rps / c.rps for run, c in zip(target.runs, ceiling.runs, strict=True)
            )
            for ceiling in ceilings
        ]
        lines.append(
            f"| {target.name} | {statistics.median(r.rps for r in target.runs):.0f} "
            f"| {statistics.median(p99s):.2f} | {max(p99s):.2f} |"
            + "".join(f" {share:.0%} |" for share in shares)
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main(sys.argv[1:]))
