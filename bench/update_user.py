"""Load benchmark of updateUser.do with 5 custom fields per call (issue 3: ≥ 500 calls/s on
PostgreSQL with 2 workers and 16 clients).

    .venv/bin/python bench/update_user.py                  # SQLite and PostgreSQL, 15 s per run
    .venv/bin/python bench/update_user.py --db postgres --duration 5
    .venv/bin/python bench/update_user.py --rev HEAD --json /tmp/update_user.json

The machinery is event_do.py's (imported, not copied): isolated data directory, throw-away
PostgreSQL cluster with default durability, the gunicorn command line `confero serve --workers 2`
builds, wrk after a warm-up, CPU per call from /proc, a quiet machine before each run, servers
stopped on every path, a hard --budget. What differs:
 1. setup: event.do's (migrate, event `bench`, token, rate limit), then 5 user custom fields
    (2 choice, 1 multichoice, 2 text) with `confero customfields import` of a JSON file, and
    --users users (clientID C1…CN) through confero.people.services.add_user;
 2. wrk runs bench/update_user.lua: each call updates a random user by clientID, sets the 5 custom
    fields (choices rotate, 2 multichoice values, random text) and `city`; every answer must be
    HTTP 200 with <response code="0">;
 3. afterwards the database is read back: the call log must hold, between the end of the warm-up
    and the end of the run, only code-0 updateUser rows, at least as many as wrk counted good
    answers (and not more than that plus the calls in flight when wrk's runs stopped); every user
    that was touched has exactly 6 custom values (1+1+2+1+1) and its city set; users not touched
    have none;
 4. once per database, one call in-process (Django's test client) with the SQL statements Django
    issued for it counted (Django's connection health check is not among them).
A run with any bad answer or failed check is INVALID; the exit status is then 1.
"""

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import event_do as ed
import pgcluster

LUA = ed.BENCH_DIR / "update_user.lua"
TARGET_RPS = 500.0  # issue 3, on PostgreSQL
RESOURCE = "updateUser"

# The benchmark event's user custom fields, in `confero customfields import`'s format
# (docs/custom-fields.md). update_user.lua sends these codes and value codes.
FIELDS = [
    {
        "code": "size",
        "displayName": "T-shirt size",
        "type": "choice",
        "values": ["XS", "S", "M", "L", "XL", "XXL"],
    },
    {
        "code": "diet",
        "displayName": "Dietary requirements",
        "type": "choice",
        "values": ["none", "vegetarian", "vegan", "halal", "kosher", "gluten_free"],
    },
    {
        "code": "topics",
        "displayName": "Topics of interest",
        "type": "multichoice",
        "values": ["ai", "cloud", "data", "security", "devops", "mobile", "web", "iot"],
    },
    {"code": "notes", "displayName": "Notes", "type": "text", "values": []},
    {"code": "referral", "displayName": "How did you hear about us", "type": "text", "values": []},
]
# Values per touched user and field: update_user.lua sends 2 distinct topics, 1 of the rest.
EXPECTED = {"size": 1, "diet": 1, "topics": 2, "notes": 1, "referral": 1}


def fields_file(event: str) -> dict:
    return {
        "format": "confero.customfields/1",
        "event": event,
        "environment": "production",
        "fields": [
            {
                "code": f["code"],
                "displayName": f["displayName"],
                "recordType": "user",
                "type": f["type"],
                "values": [
                    {"code": v, "label": v.replace("_", " ").title(), "other": False}
                    for v in f["values"]
                ],
            }
            for f in FIELDS
        ],
    }


def sample_body(token: str, client_id: str, n: int) -> str:
    """A call like update_user.lua's (for the readiness check and the statement count)."""
    size = FIELDS[0]["values"][n % 6]
    diet = FIELDS[1]["values"][(n + 1) % 6]
    topics = FIELDS[2]["values"]
    return (
        f"apiToken={token}&clientID={client_id}&size={size}&diet={diet}"
        f"&topics={topics[n % 8]}&topics={topics[(n + 3) % 8]}"
        f"&notes=t0c{n}%3A+coffee+badge&referral=Newsletter+{n}&city=Lyon"
    )


# --- setup (in the served database, through the CLI and the services) ----------------------

ADD_USERS = """
import os
from django.db import transaction
from confero.events.models import Site
from confero.people.services import add_user
site = Site.objects.get(event__code=os.environ["BENCH_EVENT"], environment="production")
n = int(os.environ["BENCH_USERS"])
with transaction.atomic():
    for i in range(1, n + 1):
        add_user(site, fields={
            "first_name": f"User{i}", "last_name": "Bench", "email": f"user{i}@bench.example",
            "client_id": f"C{i}",
        })
# Statistics as autovacuum has them within a minute of a bulk load (the planner picks the
# (site, clientID) index only once it knows a site has many users).
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")
print("USERS", n)
"""


def set_up(env: dict, work: Path, users: int) -> str:
    """event_do's site setup, the custom fields, the users; returns the token."""
    token = ed.set_up_site(env)
    path = work / "customfields.json"
    path.write_text(json.dumps(fields_file(ed.EVENT_CODE), indent=2))
    ed.run(
        [
            ed.CONFERO,
            "customfields",
            "import",
            "--event",
            ed.EVENT_CODE,
            "--site",
            "production",
            str(path),
        ],
        env,
    )
    out = ed.run(
        [ed.CONFERO, "manage", "shell", "-c", ADD_USERS],
        {**env, "BENCH_USERS": str(users), "BENCH_EVENT": ed.EVENT_CODE},
        timeout=600,
    )
    if f"USERS {users}" not in out:
        raise RuntimeError(f"creating users failed: {out[-2000:]}")
    return token


# One call through Django's full handler with the test client; the statements Django issued.
COUNT_QUERIES = """
import json, os
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.0.0.1")
url = "/" + os.environ["BENCH_EVENT"] + "/api/updateUser.do"
ctype = "application/x-www-form-urlencoded"
bodies = json.loads(os.environ["BENCH_BODIES"])
for body in bodies[:-1]:  # warm: first-call work (imports, caches) is not counted
    client.post(url, body, content_type=ctype)
with CaptureQueriesContext(connection) as ctx:
    answer = client.post(url, bodies[-1], content_type=ctype)
ok = answer.status_code == 200 and b'<response code="0">' in answer.content
print("QUERIES " + json.dumps({"ok": ok, "sql": [q["sql"] for q in ctx.captured_queries]}))
"""


def count_queries(env: dict, token: str) -> list[str]:
    bodies = [sample_body(token, "C1", 1), sample_body(token, "C2", 2), sample_body(token, "C1", 3)]
    out = ed.run(
        [ed.CONFERO, "manage", "shell", "-c", COUNT_QUERIES],
        {**env, "BENCH_EVENT": ed.EVENT_CODE, "BENCH_BODIES": json.dumps(bodies)},
    )
    line = next(line for line in out.splitlines() if line.startswith("QUERIES "))
    result = json.loads(line.removeprefix("QUERIES "))
    if not result["ok"]:
        raise RuntimeError("the in-process updateUser.do call did not answer code 0")
    return result["sql"]


# --- checks after the run ------------------------------------------------------------------

CALLS_QUERY = """
import json
from django.db.models import Count
from confero.access.models import ApiCall
rows = ApiCall.objects.values("resource", "code").annotate(n=Count("id"))
print("CALLS " + json.dumps({f"{r['resource']}:{r['code']}": r["n"] for r in rows}))
"""

VERIFY = """
import json, os
from collections import Counter, defaultdict
from confero.customfields.models import Answer
from confero.people.models import User
expected = json.loads(os.environ["BENCH_EXPECTED"])
shape = defaultdict(Counter)
for record_id, code in Answer.objects.filter(record_type="user").values_list(
        "record_id", "field__code"):
    shape[record_id][code] += 1
users = dict(User.objects.filter(site__event__code=os.environ["BENCH_EVENT"]).values_list(
    "id", "city"))
touched = set(shape)
print("VERIFY " + json.dumps({
    "users": len(users),
    "touched": len(touched),
    "answers": sum(sum(c.values()) for c in shape.values()),
    "wrong_shape": sum(1 for c in shape.values() if dict(c) != expected),
    "answers_of_unknown_users": len(touched - set(users)),
    "touched_without_city": sum(1 for u in touched if not users.get(u)),
    "city_without_values": sum(1 for u, city in users.items() if city and u not in touched),
}))
"""


def calls(env: dict) -> dict[str, int]:
    out = ed.run([ed.CONFERO, "manage", "shell", "-c", CALLS_QUERY], env)
    return json.loads(next(ln for ln in out.splitlines() if ln.startswith("CALLS "))[6:])


def verify(env: dict) -> dict:
    out = ed.run(
        [ed.CONFERO, "manage", "shell", "-c", VERIFY],
        {**env, "BENCH_EVENT": ed.EVENT_CODE, "BENCH_EXPECTED": json.dumps(EXPECTED)},
        timeout=300,
    )
    return json.loads(next(ln for ln in out.splitlines() if ln.startswith("VERIFY "))[7:])


@dataclass
class Result:
    run: ed.Run
    users: int = 0
    sql_per_call: list = field(default_factory=list)
    database: dict = field(default_factory=dict)  # verify()'s answer


def check(result: Result, before: dict, after: dict, connections: int) -> None:
    run_ = result.run
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    run_.call_log = {k: n for k, n in delta.items() if n}
    logged_ok = delta.get(f"{RESOURCE}:0", 0)
    other = {k: n for k, n in run_.call_log.items() if k != f"{RESOURCE}:0"}
    if other:
        run_.problems.append(f"call log holds other rows {other}")
    # wrk does not count answers still in flight when it stops (the warm-up's included: the
    # snapshot may be taken before the server has finished those); the server logs them anyway.
    if not run_.good <= logged_ok <= run_.good + 2 * connections:
        run_.problems.append(
            f"call log has {logged_ok} code-0 {RESOURCE} rows for {run_.good} good answers"
        )
    db = result.database
    if db["touched"] == 0 or db["answers"] != 6 * db["touched"]:
        run_.problems.append(f"{db['answers']} custom values for {db['touched']} touched users")
    for key in ("wrong_shape", "answers_of_unknown_users", "touched_without_city"):
        if db[key]:
            run_.problems.append(f"{key.replace('_', ' ')}: {db[key]}")
    if db["city_without_values"]:
        run_.problems.append(f"{db['city_without_values']} users got a city but no values")


# --- the run -------------------------------------------------------------------------------


def bench_database(db: str, database_url: str | None, pg_pid: int | None, work: Path, args):
    data = work / db
    data.mkdir()
    env = ed.base_env(data, database_url)
    print(f"… setting up {db}: {args.users} users", file=sys.stderr, flush=True)
    token = set_up(env, data, args.users)
    result = Result(ed.Run("updateUser.do", db), users=args.users)
    result.sql_per_call = count_queries(env, token)
    port = pgcluster.free_port()
    url = f"http://127.0.0.1:{port}/{ed.EVENT_CODE}/api/updateUser.do"
    probe = sample_body(token, f"C{args.users}", 0)
    print(f"… updateUser.do on {db}", file=sys.stderr, flush=True)
    server = ed.start_server(
        f"update-user-{db}", ed.serve_argv(env, port, args.workers), env, work, url, probe
    )
    status, answer = ed.post(url, probe)
    if status != 200 or b'<response code="0">' not in answer:
        raise RuntimeError(f"updateUser.do answered HTTP {status}: {answer[:500]!r}")
    processes = {"gunicorn": server.proc.pid}
    if pg_pid:
        processes["postgres"] = pg_pid
    before: dict[str, int] = {}
    ed.measure(
        result.run,
        url,
        f"apiToken={token}",
        args,
        processes,
        script=LUA,
        extra_env={"BENCH_USERS": str(args.users)},
        after_warmup=lambda: before.update(calls(env)),
    )
    server.stop()
    result.database = verify(env)
    check(result, before, calls(env), args.connections)
    return result


# --- report --------------------------------------------------------------------------------


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def sql_summary(messages: list[str]) -> str:
    """`2 msgs: 7 (3 INSERT, 2 SELECT, …) + 2 tx`: the messages Django sent (each a round trip),
    then the statements in them (a batch holds several, "; "-separated), transaction control
    apart."""
    kinds: dict[str, int] = {}
    control = 0
    for sql in messages:
        for statement in sql.split("; "):
            word = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
            if word in TRANSACTION_CONTROL:
                control += 1
            else:
                kinds[word] = kinds.get(word, 0) + 1
    parts = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda i: -i[1]))
    return f"{len(messages)} msgs: {sum(kinds.values())} ({parts}) + {control} tx"


def report(results: list[Result], args, *, show_sql: bool = False) -> str:
    lines = [
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency "
        f"-s bench/update_user.lua  (gunicorn, {args.workers} sync workers, warm-up "
        f"{args.warmup}s; {args.users} users, 5 custom fields + city per call)",
        "",
        "| db | calls/s | p50 ms | p90 ms | p99 ms | CPU µs per call | CPUs busy | other load "
        "| host µs | SQL statements per call | checked |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---|---|",
    ]
    for res in results:
        r = res.run
        cpu = ", ".join(f"{k} {v}" for k, v in r.cpu_us_per_req.items())
        total = sum(v for k, v in r.cpu_us_per_req.items())
        checked = (
            f"{r.good}/{r.requests} ok, {res.database.get('touched', 0)} users updated"
            if r.valid
            else "INVALID: " + "; ".join(r.problems)
        )
        lines.append(
            f"| {r.db} | {r.rps:.0f} | {r.p50_ms:.2f} | {r.p90_ms:.2f} | {r.p99_ms:.2f} "
            f"| {cpu} (total {total}) | {total * r.rps / 1e6:.2f} | {r.other_load:.2f} "
            f"| {r.host_us:.1f} / {r.switch_us:.1f} | {sql_summary(res.sql_per_call)} "
            f"| {checked} |"
        )
    lines += [
        "",
        "CPU µs per call: user+system CPU of gunicorn (master and workers), PostgreSQL's server "
        "processes and wrk, over the measured run, divided by the calls answered; on a CPU-bound "
        f"{os.cpu_count()}-CPU box calls/s ≈ {os.cpu_count()} s / total. CPUs busy = total × "
        f"calls/s: well under {os.cpu_count()}, the calls wait (locks, WAL flushes), not compute. "
        "Other load: CPUs' worth "
        "used by processes outside the benchmark (above ~0.1: run again). Host µs: `timeit "
        "sum(range(1000))` / a round trip between two processes, just before the run (this "
        "host's speed moves). SQL statements: one "
        "call in-process (test client), as Django sent them: msgs = messages (round trips, "
        "Django's BEGIN and COMMIT included), then the statements in them; `tx` = BEGIN, COMMIT, "
        "SAVEPOINT, RELEASE.",
        "",
    ]
    for res in results:
        r = res.run
        if not r.valid:
            lines.append(f"updateUser.do on {r.db}: INVALID run, no verdict")
        elif r.db in ("postgres", "env"):
            met = "MET" if r.rps >= TARGET_RPS else "NOT MET"
            lines.append(
                f"updateUser.do on {r.db}: {r.rps:.0f} calls/s ({met}) [target ≥ {TARGET_RPS:.0f}"
                " calls/s on PostgreSQL]"
            )
        else:
            lines.append(
                f"updateUser.do on {r.db}: {r.rps:.0f} calls/s (the target is for PostgreSQL; "
                f"{r.rps / TARGET_RPS * 100:.0f} % of it)"
            )
    if show_sql:
        for res in results:
            lines += ["", f"SQL of one updateUser.do call on {res.run.db}:"]
            lines += [f"  {i}. {sql[:300]}" for i, sql in enumerate(res.sql_per_call, 1)]
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str], *, known_only: bool = False) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ed.add_load_options(parser, budget=900)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--show-sql", action="store_true", help="list the SQL of one call")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    if known_only:  # from run_all.py: event_do.py's own options are not ours
        args, _ = parser.parse_known_args(argv)
        args.json = None  # event_do.py writes that file
        dbs = [d.strip() for d in args.db.split(",") if d.strip()]
        if "env" in dbs:  # event_do.py has just filled that database: not empty any more
            print("update_user.py: skipping --db env after event_do.py", file=sys.stderr)
        args.db = ",".join(d for d in dbs if d != "env")
        return args
    return parser.parse_args(argv)


def main(argv: list[str], *, known_only: bool = False) -> int:
    args = parse_args(argv, known_only=known_only)
    if not args.db:
        return 0
    if not shutil.which("wrk"):
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2
    signal.signal(signal.SIGALRM, ed._on_alarm)
    signal.signal(signal.SIGTERM, ed._on_term)
    signal.alarm(args.budget)
    work = Path(tempfile.mkdtemp(prefix="confero-bench-update-user-"))
    results: list[Result] = []
    started = dt.datetime.now(dt.UTC)
    src_path = ed.SRC_PATH[:]
    try:
        code = ed.describe_code(args.rev, work)
        for db in (d.strip() for d in args.db.split(",") if d.strip()):
            if db == "postgres":
                settings = dict(item.split("=", 1) for item in args.pg_setting)
                with pgcluster.cluster(extra=settings) as pg:
                    results.append(bench_database(db, pg.url, pg.pid, work, args))
            elif db == "env":
                results.append(bench_database(db, os.environ["DATABASE_URL"], None, work, args))
            else:
                results.append(bench_database(db, None, None, work, args))
    finally:
        signal.alarm(0)
        ed.stop_servers()
        ed.SRC_PATH[:] = src_path
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"Confero updateUser.do benchmark, {started:%Y-%m-%d %H:%M} UTC, code: {code}")
    print(report(results, args, show_sql=args.show_sql))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "started": started.isoformat(),
                    "code": code,
                    "machine": ed.machine(),
                    "args": vars(args) | {"json": str(args.json)},
                    "results": [asdict(r) for r in results],
                },
                indent=2,
                default=str,
            )
        )
    return 0 if all(r.run.valid for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
