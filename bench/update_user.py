"""updateUser.do under load: 5 custom fields and a contact field per call, then the database read
back.

    .venv/bin/python bench/update_user.py                  # SQLite and PostgreSQL, 3 rounds
    .venv/bin/python bench/update_user.py --db postgres --rounds 2 --duration 5 --show-sql

Issue 3's target: ≥ 500 calls/s on PostgreSQL with `confero serve`'s 2 sync workers and 16
clients. Setup: the site as event_do.py's, 5 user custom fields imported with `confero
customfields import` (2 choice, 1 multichoice, 2 text), --users users (clientID C1…CN) by bulk SQL
(bench/fill.py). Each call (bench/update_user.lua) updates a random user by clientID: both
choices rotate, 2 distinct multichoice values, two random texts, and `city`. Checked: every answer
HTTP 200 with code 0; afterwards the call log holds only code-0 updateUser rows, at least as many
as the good answers; every touched user holds exactly 6 custom values and a city, untouched users
none. Also printed: the SQL of one call, in process (Django's test client), as Django sent it.
"""

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
from pathlib import Path

import common
import turns

TARGET_RATE = 500.0  # calls/s on PostgreSQL
PATH = f"/{common.EVENT}/api/updateUser.do"
TOPICS = ["ai", "cloud", "data", "security", "devops", "mobile", "web", "iot"]
FIELDS = [  # update_user.lua sends these codes and value codes
    ("size", "choice", ["XS", "S", "M", "L", "XL", "XXL"]),
    ("diet", "choice", ["none", "vegetarian", "vegan", "halal", "kosher", "gluten_free"]),
    ("topics", "multichoice", TOPICS),
    ("notes", "text", []),
    ("referral", "text", []),
]
EXPECTED = {"size": 1, "diet": 1, "topics": 2, "notes": 1, "referral": 1}  # values per touched user


def set_up(env: dict, work: Path, users: int) -> str:
    """The site, the 5 fields, `users` users without values; returns the token."""
    token = common.set_up_site(env)
    common.import_fields(env, work, FIELDS)
    common.fill(env, users, answers=False)
    return token


def sample_body(token: str, client_id: str, n: int) -> str:
    """A call like update_user.lua's (the readiness probe, the SQL of one call)."""
    return (
        f"apiToken={token}&clientID={client_id}&size={FIELDS[0][2][n % 6]}"
        f"&diet={FIELDS[1][2][(n + 1) % 6]}&topics={TOPICS[n % 8]}&topics={TOPICS[(n + 3) % 8]}"
        f"&notes=t0c{n}%3A+coffee+badge&referral=Newsletter+{n}&city=Lyon"
    )


SQL_OF_ONE_CALL = """
import json, os
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.0.0.1")
bodies = json.loads(os.environ["BENCH_BODIES"])
for body in bodies[:-1]:  # first-call work (imports, caches) is not counted
    client.post(os.environ["BENCH_PATH"], body, content_type="application/x-www-form-urlencoded")
with CaptureQueriesContext(connection) as ctx:
    answer = client.post(os.environ["BENCH_PATH"], bodies[-1],
                         content_type="application/x-www-form-urlencoded")
assert b'<response code="0">' in answer.content, answer.content
print("RESULT " + json.dumps([q["sql"] for q in ctx.captured_queries]))
"""


def sql_of_one_call(env: dict, token: str) -> list[str]:
    bodies = [sample_body(token, f"C{n}", n) for n in (1, 2, 1)]
    return common.shell(env, SQL_OF_ONE_CALL, BENCH_BODIES=json.dumps(bodies), BENCH_PATH=PATH)


def sql_summary(messages: list[str]) -> str:
    """`2 msgs: 7 (3 INSERT, 2 SELECT, …) + 2 tx`: messages sent (round trips), the statements in
    them, transaction control apart."""
    kinds: dict[str, int] = {}
    for sql in messages:
        for statement in filter(str.strip, sql.split("; ")):
            word = statement.split(None, 1)[0].upper()
            word = "tx" if word in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE") else word
            kinds[word] = kinds.get(word, 0) + 1
    control = kinds.pop("tx", 0)
    parts = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda i: -i[1]))
    return f"{len(messages)} msgs: {sum(kinds.values())} ({parts}) + {control} tx"


READ_BACK = """
import json, os
from collections import Counter, defaultdict
from confero.customfields.models import Answer
from confero.people.models import User
shape = defaultdict(Counter)
for record_id, code in Answer.objects.filter(record_type="user").values_list(
        "record_id", "field__code"):
    shape[record_id][code] += 1
cities = dict(User.objects.values_list("id", "city"))
expected = json.loads(os.environ["BENCH_EXPECTED"])
print("RESULT " + json.dumps({
    "touched": len(shape),
    "wrong values": sum(1 for c in shape.values() if dict(c) != expected),
    "values of unknown users": len(set(shape) - set(cities)),
    "touched without a city": sum(1 for u in shape if not cities.get(u)),
    "a city without values": sum(1 for u, city in cities.items() if city and u not in shape),
}))
"""


def read_back(env: dict) -> tuple[int, list[str]]:
    """Users touched; what is wrong in the database."""
    found = common.shell(env, READ_BACK, BENCH_EXPECTED=json.dumps(EXPECTED))
    touched = found.pop("touched")
    return touched, [f"{what}: {n}" for what, n in found.items() if n] + (
        [] if touched else ["no user was touched"]
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--show-sql", action="store_true", help="list the SQL of one call")
    turns.add_options(parser, rounds=3, duration=10, budget=1800)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="confero-bench-"))
    print(f"updateUser.do benchmark; code: {common.describe_code()}; {turns.machine()}")
    print(f"{args.users} users, 5 custom fields and city per call\n")
    targets, notes, problems = [], [], []
    with contextlib.ExitStack() as stack, common.guarded(args.budget):
        checks = []
        for db in (d for d in args.db.split(",") if d):
            pg = stack.enter_context(common.postgres()) if db == "postgres" else None
            env = common.environment(work / db, pg.database("confero") if pg else None)
            token = set_up(env, work / db, args.users)
            sql = sql_of_one_call(env, token)
            notes.append(f"SQL of one call on {db}: {sql_summary(sql)}")
            notes += [f"  {i}. {statement[:400]}" for i, statement in enumerate(sql, 1)] * (
                args.show_sql
            )
            probe = sample_body(token, f"C{args.users}", 0)
            server = common.serve(f"updateUser.do {db}", env, work=work, path=PATH, probe=probe)
            processes = {"postgres": pg.pid} if pg else {}
            lua = {"script": "update_user.lua", "env": {"BENCH_USERS": str(args.users)}}
            body = f"apiToken={token}"
            targets.append(turns.load_target(server, body, processes, args, **lua))
            checks.append((env, targets[-1]))
        turns.in_turns(targets, args.rounds)
        for env, target in checks:
            problems += common.check_call_log(env, "updateUser", [target])
            touched, wrong = read_back(env)
            notes.append(f"{target.name}: {touched} users updated, read back")
            problems += wrong
    print(turns.summary(targets, bases=[]))
    print("\n" + "\n".join(notes) + "\n")
    for target in targets:
        rate = statistics.median(r.rate for r in target.runs)
        verdict = ("MET" if rate >= TARGET_RATE else "NOT MET") if "postgres" in target.name else ""
        print(f"{target.name}: median {rate:.0f} calls/s {verdict} [target ≥ 500 on PostgreSQL]")
    problems += turns.problems_of(targets)
    return common.finish(problems, work, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
