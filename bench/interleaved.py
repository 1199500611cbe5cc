"""Two servers of one resource on the same database, up at once, measured in turns: this code
against another revision, or against itself served with other arguments or settings.

    .venv/bin/python bench/interleaved.py --resource event --rev-b 7431695
    .venv/bin/python bench/interleaved.py --resource userData --rev-b 7431695 --users 20000
    .venv/bin/python bench/interleaved.py --resource updateUser --db postgres --rev-b 7431695
    .venv/bin/python bench/interleaved.py --resource updateUser --db postgres \
        --b-serve-args "--worker-class gthread --threads 2"
    .venv/bin/python bench/interleaved.py --resource userData --db postgres \
        --b-env CONFERO_FEED_READ_AHEAD=0

A is the working tree (or --rev-a's src/); B is --rev-b's src/ (a `git archive` ahead of the
editable install on PYTHONPATH), or A's code with --b-serve-args / --b-env. Both serve the same
database, migrated by the working tree (an older revision must run on it: its schema is a
subset). Each round measures A and B once, in turns; the summary gives A's rate and CPU per call
over B's, round by round.
The loads are the other benchmarks': event_do.py's (wrk, every answer checked, the call log read
back), update_user.py's (its users and wrk script, the call log and the custom values read back)
and feeds.py's (a whole feed per turn, its records counted; --users users × 10 custom fields).
"""

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

import common
import feeds
import turns
import update_user

RESOURCES = {"event": 0, "updateUser": 2000, "userData": 20_000}  # default --users


def database_targets(db: str, pg, work: Path, args) -> tuple[list[turns.Target], list[str]]:
    """A and B on one database, set up for the resource; the checks to make after the rounds."""
    env = common.environment(work / db, pg.database("confero") if pg else None)
    path = f"/{common.EVENT}/api/{args.resource}.do"
    if args.resource == "event":
        token = common.set_up_site(env)
        probe = f"apiToken={token}"
    elif args.resource == "updateUser":
        token = update_user.set_up(env, work / db, args.users)
        probe = update_user.sample_body(token, f"C{args.users}", 0)
    else:
        token = feeds.set_up(env, work / db, args.users)
        probe = f"apiToken={token}"
    envs = {"A": dict(env), "B": dict(env)}
    names = {"A": f"{args.resource}.do {db}", "B": f"{args.resource}.do {db}"}
    if args.rev_a:
        envs["A"]["PYTHONPATH"] = common.export_src(args.rev_a, work)
        names["A"] += f" @{args.rev_a}"
    if args.rev_b:
        envs["B"]["PYTHONPATH"] = common.export_src(args.rev_b, work)
        names["B"] += f" @{args.rev_b}"
    elif args.rev_a:
        envs["B"]["PYTHONPATH"] = envs["A"]["PYTHONPATH"]
        names["B"] += f" @{args.rev_a}"
    extra = tuple(args.b_serve_args.split()) if args.b_serve_args else ()
    for setting in args.b_env:
        name, value = setting.split("=", 1)
        envs["B"][name] = value
    if extra or args.b_env:
        names["B"] += f" [{' '.join([*extra, *args.b_env])}]"
    processes = {"postgres": pg.pid} if pg else {}
    targets = []
    for side in ("A", "B"):
        server = common.serve(
            names[side], envs[side], work=work, path=path, probe=probe, extra=extra * (side == "B")
        )
        if args.resource == "userData":
            targets.append(feeds.feed_target(server, token, args.users, processes))
        elif args.resource == "updateUser":
            lua = {"script": "update_user.lua", "env": {"BENCH_USERS": str(args.users)}}
            targets.append(turns.load_target(server, f"apiToken={token}", processes, args, **lua))
        else:
            targets.append(turns.load_target(server, probe, processes, args))
    return targets, env


def check(env: dict, targets: list[turns.Target], args) -> list[str]:
    if args.resource == "userData":
        return []  # every feed's records were counted
    problems = common.check_call_log(env, args.resource, targets)
    if args.resource == "updateUser":
        problems += update_user.read_back(env)[1]
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resource", choices=RESOURCES, default="event")
    parser.add_argument("--rev-a", help="A is this git revision's src/ (not the working tree)")
    parser.add_argument("--rev-b", help="B is this git revision's src/")
    parser.add_argument("--b-serve-args", help="B with these extra gunicorn arguments")
    parser.add_argument("--b-env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--users", type=int, help="updateUser: 2,000; userData: 20,000")
    turns.add_options(parser, rounds=8, duration=5, budget=3600)
    args = parser.parse_args(argv)
    if not (args.rev_b or args.b_serve_args or args.b_env):
        parser.error("B must differ from A: --rev-b, --b-serve-args or --b-env")
    args.users = args.users or RESOURCES[args.resource]
    unit = "users/s" if args.resource == "userData" else "calls/s"
    work = Path(tempfile.mkdtemp(prefix="confero-bench-"))
    print(f"{args.resource}.do in turns; A: {common.describe_code()}; {turns.machine()}\n")
    problems, summaries = [], []
    with common.guarded(args.budget):
        for db in (d for d in args.db.split(",") if d):
            with contextlib.ExitStack() as stack:
                pg = stack.enter_context(common.postgres()) if db == "postgres" else None
                targets, env = database_targets(db, pg, work, args)
                turns.in_turns(targets, args.rounds, unit=unit)
                problems += check(env, targets, args) + [
                    p for t in targets for r in t.runs for p in r.problems
                ]
                summaries.append(turns.summary(targets, bases=[targets[1]], unit=unit))
                common.stop_servers()
    print("\n".join(summaries))
    return common.finish(problems, work, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
