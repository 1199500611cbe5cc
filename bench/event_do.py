"""event.do under load, against its two ceilings, all served at once and measured in turns.

    .venv/bin/python bench/event_do.py                     # SQLite and PostgreSQL, 3 rounds
    .venv/bin/python bench/event_do.py --db sqlite --rounds 2 --duration 5

Issue 2's targets: event.do at ≥ 50 % of the requests/s of "the same server answering a fixed
XML body without the pipeline" (the Django ceiling) and p99 ≤ 20 ms, with `confero serve`'s
command line (2 sync workers) and 16 concurrent clients on loopback.

Targets, each a server with `confero serve`'s gunicorn command line, set up with the CLI:
- `event.do sqlite`, `event.do postgres`: Confero with the production defaults (on PostgreSQL the
  gate's cache and the call log's batches); PostgreSQL is a throw-away cluster with its default
  durability;
- `ceiling-django`: Confero's settings and middleware, a view answering the bytes event.do
  answered, no database (bench/ceiling_django.py);
- `ceiling-wsgi`: a bare WSGI app answering those bytes (bench/ceiling_wsgi.py): what gunicorn,
  HTTP and wrk cost on this machine.
Each run: `wrk -t2 -c16 --latency -s bench/post.lua` after a warm-up; every answer must be HTTP
200 with `<response code="0">`, and afterwards the call log must hold only code-0 rows, at least as
many as the good answers. Exit status 1 when anything was not.
"""

import argparse
import contextlib
import statistics
import sys
import tempfile
from pathlib import Path

import common
import turns

TARGET_SHARE, TARGET_P99_MS = 0.50, 20.0
PATH = f"/{common.EVENT}/api/event.do"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    turns.add_options(parser, rounds=3, duration=10, budget=1800)
    args = parser.parse_args(argv)
    dbs = [d for d in args.db.split(",") if d]
    work = Path(tempfile.mkdtemp(prefix="confero-bench-"))
    print(f"event.do benchmark; code: {common.describe_code()}; {turns.machine()}\n")
    targets, problems = [], []
    with contextlib.ExitStack() as stack, common.guarded(args.budget):
        databases, first = [], None
        for db in dbs:
            pg = stack.enter_context(common.postgres()) if db == "postgres" else None
            env = common.environment(work / db, pg.database("confero") if pg else None)
            body = f"apiToken={common.set_up_site(env)}"
            server = common.serve(f"event.do {db}", env, work=work, path=PATH, probe=body)
            processes = {"postgres": pg.pid} if pg else {}
            targets.append(turns.load_target(server, body, processes, args))
            databases.append((env, targets[-1]))
            first = first or (server.url, body)
        answer = work / "event-do-answer.xml"
        answer.write_bytes(common.post(*first)[1])  # the ceilings answer exactly these bytes
        ceilings = []
        for name, settings, app in (
            ("ceiling-django", "ceiling_django", None),
            ("ceiling-wsgi", None, "ceiling_wsgi:application"),
        ):
            env = common.environment(work / name, None)
            env.update(PYTHONPATH=str(common.BENCH_DIR), BENCH_CEILING_BODY=str(answer))
            if settings:
                env["DJANGO_SETTINGS_MODULE"] = settings
            body = "apiToken=cfo_live_" + "x" * 40  # a token's size; never looked at
            server = common.serve(name, env, work=work, path=PATH, probe=body, app=app)
            ceilings.append(turns.load_target(server, body, {}, args))
        turns.in_turns(targets + ceilings, args.rounds)
        for env, target in databases:
            problems += common.check_call_log(env, "event", [target])
    print(turns.summary(targets + ceilings, bases=ceilings))
    print()
    for target in targets:
        share = turns.ratio(target, ceilings[0])[0]
        p99 = statistics.median(r.p99_ms for r in target.runs)
        print(
            f"{target.name}: {share:.0%} of the Django ceiling "
            f"({'MET' if share >= TARGET_SHARE else 'NOT MET'}, target ≥ 50 %); median p99 "
            f"{p99:.2f} ms ({'MET' if p99 <= TARGET_P99_MS else 'NOT MET'}, target ≤ 20 ms)"
        )
    problems += turns.problems_of(targets + ceilings)
    return common.finish(problems, work, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
