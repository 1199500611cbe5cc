"""Issue 15's "must show", in one run against one `confero serve` (2 workers):

 1. exhibitorData.do for 2,000 exhibitors with 3 staff each (and a file and 2 custom values
    each), end to end over HTTP, at ≥ 50 % of its no-Django ceiling: the same rows by raw SQL
    (psycopg or sqlite3) written as the same XML by lxml's incremental writer, in this process.
    The ceiling's bytes must equal the feed's (the root's `time` aside). Feed and ceiling are
    timed in turns (--feed-rounds), medians compared.
 2. sendMessage.do at ≥ 80 % of updateUser.do's calls/s: wrk, 16 clients, in turns
    (--rounds), each round's ratio; the median ratio is the verdict. updateUser.do is
    update_user.py's load (5 custom fields + city, a random user by clientID); sendMessage.do
    a random sender by clientID to a random other user by userRef (send_message.lua). The
    per-sender message limit is counted on every call but set out of reach
    (CONFERO_MESSAGES_PER_MINUTE=10^9), so that no call is refused.

    .venv/bin/python bench/exhibitors.py                    # PostgreSQL (throw-away cluster)
    .venv/bin/python bench/exhibitors.py --db sqlite --duration 5 --rounds 1

Machinery from common.py and turns.py, the load and users of update_user.py: data directory,
cluster, `confero serve`'s gunicorn command line, warm-up, quiet-machine wait, wrk with every
answer checked, CPU per call.

Afterwards: the call log holds only code-0 rows of the two resources, one stored
message per sendMessage.do row. Any bad answer or failed check makes the run INVALID (exit 1).
"""

import argparse
import contextlib
import datetime as dt
import http.client
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from lxml import etree

import common
import turns
import update_user as uu

FEED_SHARE, SEND_SHARE = 0.50, 0.80
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# The exhibitors, in the served database: bulk inserts (the feed reads rows, however written).
ADD_EXHIBITORS = """
import os
from django.db import connection, transaction
from confero.customfields.models import Answer
from confero.customfields.services import ValueSpec, create_field
from confero.events.models import Site
from confero.exhibitors.models import Exhibitor, ExhibitorFile, Participant
from confero.people.models import User
site = Site.objects.get(event__code=os.environ["BENCH_EVENT"], environment="production")
n, staff = int(os.environ["BENCH_EXHIBITORS"]), int(os.environ["BENCH_STAFF"])
users = list(User.objects.filter(site=site).order_by("pk").values_list("pk", "user_ref"))
with open(os.environ["BENCH_REFS"], "w") as refs:  # line i: user Ci's userRef
    refs.writelines(ref + "\\n" for _, ref in users)
level = create_field(site, record_type="exhibitor", code="sponsor_level",
                     display_name="Sponsor level", field_type="choice",
                     values=[ValueSpec("gold"), ValueSpec("silver"), ValueSpec("bronze")])
tagline = create_field(site, record_type="exhibitor", code="tagline", display_name="Tag line",
                       field_type="text")
levels = list(level.values.order_by("position"))
with transaction.atomic():
    Exhibitor.objects.bulk_create(
        Exhibitor(site=site, exhibitor_code=f"EX{i}", name=f"Exhibitor {i} & Co", type="Sponsor",
                  description=f"Booth of exhibitor {i}: <demos> daily", booth=f"H{i % 9}-{i}",
                  url=f"https://ex{i}.bench.example/", email=f"booth{i}@bench.example")
        for i in range(1, n + 1))
    ids = list(Exhibitor.objects.filter(site=site).order_by("pk").values_list("pk", flat=True))
    ExhibitorFile.objects.bulk_create(
        ExhibitorFile(exhibitor_id=e, display_name="Brochure", type="application/pdf",
                      size=48213, url=f"https://cdn.bench.example/{e}.pdf")
        for e in ids)
    Participant.objects.bulk_create(
        Participant(exhibitor_id=e, user_id=users[(k * staff + j) % len(users)][0],
                    role=("Lead", "Sales", "Engineer")[j % 3], position=j)
        for k, e in enumerate(ids) for j in range(staff))
    Answer.objects.bulk_create(
        answer for k, e in enumerate(ids) for answer in (
            Answer(field=level, record_type="exhibitor", record_id=e, value=levels[k % 3]),
            Answer(field=tagline, record_type="exhibitor", record_id=e, text=f"No. {k} of {n}"),
        ))
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")
print("EXHIBITORS", len(ids))
"""


# --- 1. the feed and its ceiling ---------------------------------------------------------------


def fetch_feed(port: int, token: str) -> tuple[float, bytes]:
    """exhibitorData.do over HTTP: seconds to the last byte, and the body."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request(
        "POST",
        f"/{common.EVENT}/api/exhibitorData.do",
        f"apiToken={token}",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    response = conn.getresponse()
    parts = []
    while chunk := response.read(256 * 1024):
        parts.append(chunk)
    elapsed = time.perf_counter() - started
    conn.close()
    body = b"".join(parts)
    if response.status != 200 or b'<response code="0">' not in body[:300]:
        raise RuntimeError(f"exhibitorData.do: HTTP {response.status}: {body[:300]!r}")
    return elapsed, body


class Sink:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.parts.append(data)


def ceiling(database_url: str | None, data_dir: Path) -> tuple[float, bytes]:
    """The feed's rows by raw SQL, chunks of 1,000 exhibitors by id (their custom values, files
    and staff by the chunk's ids), written as the same XML, one SubElement per value."""
    if database_url:
        import psycopg

        con, p = psycopg.connect(database_url), "%s"
    else:
        con, p = sqlite3.connect(data_dir / "confero.sqlite3"), "?"
    started = time.perf_counter()
    cur = con.cursor()
    cur.execute(
        "SELECT s.id, e.guid FROM events_site s JOIN events_event e ON e.id = s.event_id "
        f"WHERE e.code = {p} AND s.environment = 'production'",
        (common.EVENT,),
    )
    site_id, guid = cur.fetchone()
    guid = str(uuid.UUID(str(guid))).upper()
    cur.execute(
        f"SELECT id, element_name FROM customfields_customfield WHERE site_id = {p} "
        "AND record_type = 'exhibitor' ORDER BY position, id",
        (site_id,),
    )
    fields = cur.fetchall()
    cur.execute(
        "SELECT v.id, v.code FROM customfields_customvalue v JOIN customfields_customfield f "
        f"ON f.id = v.field_id WHERE f.site_id = {p}",
        (site_id,),
    )
    codes = dict(cur.fetchall())
    sink, sub, last = Sink(), etree.SubElement, 0
    sink.write(DECLARATION)
    with etree.xmlfile(sink, encoding="UTF-8") as xf, xf.element("exhibitors", time="0"):
        response = etree.Element("response", code="0")
        response.text = "Success"
        xf.write(response)
        while True:
            cur.execute(
                "SELECT id, exhibitor_code, name, status, type, description, url, email, booth "
                f"FROM exhibitors_exhibitor WHERE site_id = {p} AND id > {p} ORDER BY id "
                "LIMIT 1000",
                (site_id, last),
            )
            rows = cur.fetchall()
            if not rows:
                break
            ids = [row[0] for row in rows]
            among = ",".join([p] * len(ids))
            cur.execute(
                "SELECT record_id, field_id, value_id, text FROM customfields_answer WHERE "
                f"record_type = 'exhibitor' AND record_id IN ({among}) ORDER BY record_id, id",
                ids,
            )
            answers: dict = {}
            for record_id, field_id, value_id, text in cur.fetchall():
                answers.setdefault(record_id, {})[field_id] = codes[value_id] if value_id else text
            cur.execute(
                "SELECT exhibitor_id, type, display_name, description, url FROM "
                f"exhibitors_exhibitorfile WHERE exhibitor_id IN ({among}) "
                "ORDER BY exhibitor_id, position, id",
                ids,
            )
            files: dict = {}
            for row in cur.fetchall():
                files.setdefault(row[0], []).append(row[1:])
            cur.execute(
                "SELECT p.exhibitor_id, p.role, u.user_ref, u.first_name, u.last_name, u.email "
                "FROM exhibitors_participant p JOIN people_user u ON u.id = p.user_id "
                f"WHERE p.exhibitor_id IN ({among}) ORDER BY p.exhibitor_id, p.position, p.id",
                ids,
            )
            staff: dict = {}
            for row in cur.fetchall():
                staff.setdefault(row[0], []).append(row[1:])
            for row in rows:
                exhibitor = etree.Element("exhibitor")
                sub(exhibitor, "exhibitorID").text = str(row[0])
                for name, value in zip(
                    ("exhibitorCode", "name", "status", "type", "description", "url", "email",
                     "booth"), row[1:], strict=True):  # fmt: skip
                    sub(exhibitor, name).text = value or None
                for kind, display_name, description, url in files.get(row[0], ()):
                    file = sub(exhibitor, "exhibitorFile")
                    sub(file, "type").text = kind or None
                    sub(file, "displayName").text = display_name
                    sub(file, "description").text = description or None
                    sub(file, "url").text = url
                held = answers.get(row[0], {})
                for field_id, element in fields:
                    sub(exhibitor, element).text = held.get(field_id)
                for role, ref, first, last_name, email in staff.get(row[0], ()):
                    member = sub(exhibitor, "participant")
                    sub(member, "role").text = role or None
                    sub(member, "userRef").text = ref
                    sub(member, "firstName").text = first
                    sub(member, "lastName").text = last_name
                    sub(member, "participantEmail").text = email
                sub(exhibitor, "eventGUID").text = guid
                xf.write(exhibitor)
            last = rows[-1][0]
    body = b"".join(sink.parts)
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed, body


TIME = re.compile(rb' time="\d+"')


def feed_rounds(port: int, token: str, env: dict, data: Path, args) -> dict:
    feed_s, ceiling_s = [], []
    fetch_feed(port, token)  # warm: the workers' first feed loads code and the field cache
    for _ in range(args.feed_rounds):
        seconds, body = fetch_feed(port, token)
        feed_s.append(seconds)
        seconds, made = ceiling(env.get("DATABASE_URL"), data)
        ceiling_s.append(seconds)
    problems = []
    if TIME.sub(b"", body, count=1) != TIME.sub(b"", made, count=1):
        problems.append("the ceiling's XML differs from the feed's")
    records = body.count(b"<exhibitor>")
    staff = body.count(b"<participant>")
    if (records, staff) != (args.exhibitors, args.exhibitors * args.staff):
        problems.append(f"the feed has {records} exhibitors, {staff} participants")
    return {
        "bytes": len(body),
        "feed_s": feed_s,
        "ceiling_s": ceiling_s,
        "share": statistics.median(ceiling_s) / statistics.median(feed_s),
        "problems": problems,
    }


# --- 2. sendMessage.do against updateUser.do ---------------------------------------------------

STORED_MESSAGES = (
    "from confero.messaging.models import Message; print('MESSAGES', Message.objects.count())"
)


def rate_rounds(server: common.Server, token: str, env: dict, refs: Path, pg_pid, args) -> dict:
    base = server.url.rsplit("/", 1)[0] + "/"
    processes = {"postgres": pg_pid} if pg_pid else {}
    loads = {
        "updateUser": ("update_user.lua", {"BENCH_USERS": str(args.users)}),
        "sendMessage": ("send_message.lua", {"BENCH_REFS": str(refs)}),
    }
    targets = {
        name: turns.load_target(server, f"apiToken={token}", processes, args, script=script,
                                env=extra, url=base + f"{name}.do", name=f"{name}.do")
        for name, (script, extra) in loads.items()
    }  # fmt: skip
    before = common.call_log(env)
    runs: dict[str, list[turns.Run]] = {name: [] for name in loads}
    for round_ in range(args.rounds):
        for name, target in targets.items():
            print(f"… round {round_ + 1}: {name}.do", file=sys.stderr, flush=True)
            runs[name].append(target.measure())
    after = common.call_log(env)
    delta = {k: n - before.get(k, 0) for k, n in after.items() if n - before.get(k, 0)}
    problems = [p for rs in runs.values() for r in rs for p in r.problems]
    if set(delta) - {"updateUser:0", "sendMessage:0"}:
        problems.append(f"the call log holds other rows: {delta}")
    out = common.run([common.CONFERO, "manage", "shell", "-c", STORED_MESSAGES], env)
    stored = int(out.split()[-1])
    if stored != delta.get("sendMessage:0", 0):
        problems.append(f"{stored} messages stored for {delta.get('sendMessage:0')} logged")
    ratios = [s.rate / u.rate for s, u in zip(runs["sendMessage"], runs["updateUser"], strict=True)]
    return {"runs": runs, "ratios": ratios, "share": statistics.median(ratios),
            "messages": stored, "problems": problems}  # fmt: skip


# --- the run -----------------------------------------------------------------------------------


def bench(database_url: str | None, pg_pid, work: Path, args) -> tuple[dict, dict]:
    data = work / args.db
    env = {**common.environment(data, database_url), "CONFERO_MESSAGES_PER_MINUTE": str(10**9)}
    users = max(args.users, args.exhibitors * args.staff)
    args.users = users
    print(f"… setting up: {users} users, {args.exhibitors} exhibitors", file=sys.stderr)
    token = uu.set_up(env, data, users)
    refs = data / "refs.txt"
    out = common.run(
        [common.CONFERO, "manage", "shell", "-c", ADD_EXHIBITORS],
        {**env, "BENCH_EVENT": common.EVENT, "BENCH_EXHIBITORS": str(args.exhibitors),
         "BENCH_STAFF": str(args.staff), "BENCH_REFS": str(refs)},
        timeout=600,
    )  # fmt: skip
    if f"EXHIBITORS {args.exhibitors}" not in out:
        raise RuntimeError(f"creating exhibitors failed: {out[-2000:]}")
    server = common.serve("exhibitors", env, work=work, path=f"/{common.EVENT}/api/event.do",
                          probe=f"apiToken={token}")  # fmt: skip
    port = int(server.url.split(":")[2].split("/")[0])
    try:
        print("… exhibitorData.do and its ceiling", file=sys.stderr, flush=True)
        feed = feed_rounds(port, token, env, data, args)
        rates = rate_rounds(server, token, env, refs, pg_pid, args)
    finally:
        common.stop_servers()
    return feed, rates


def report(feed: dict, rates: dict, args, code: str, started: dt.datetime) -> list[str]:
    ms = lambda values: " / ".join(f"{v * 1000:.0f}" for v in values)  # noqa: E731
    lines = [
        f"Confero exhibitors benchmark, {started:%Y-%m-%d %H:%M} UTC, code: {code}, db: {args.db}, "
        "gunicorn 2 sync workers",
        "",
        f"exhibitorData.do: {args.exhibitors:,} exhibitors × {args.staff} staff, 1 file and 2 "
        f"custom values each, {feed['bytes']:,} bytes; {args.feed_rounds} rounds (ms): "
        f"feed over HTTP {ms(feed['feed_s'])}; ceiling {ms(feed['ceiling_s'])}",
        f"  median feed {statistics.median(feed['feed_s']) * 1000:.0f} ms "
        f"({args.exhibitors / statistics.median(feed['feed_s']):,.0f} exhibitors/s), ceiling "
        f"{statistics.median(feed['ceiling_s']) * 1000:.0f} ms: {feed['share'] * 100:.0f} % of "
        f"the ceiling (target ≥ {FEED_SHARE * 100:.0f} %)",
        "",
        f"wrk -t2 -c{args.connections} -d{args.duration}s, {args.rounds} rounds in "
        f"turns, {args.users:,} users:",
        "",
        "| round | resource | calls/s | p50 ms | p99 ms | CPU µs per call | other load |",
        "|---:|---|---:|---:|---:|---|---:|",
    ]
    for n in range(args.rounds):
        for name in ("updateUser", "sendMessage"):
            r = rates["runs"][name][n]
            cpu = ", ".join(f"{k} {v}" for k, v in r.cpu_us.items())
            lines.append(
                f"| {n + 1} | {name}.do | {r.rate:.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} "
                f"| {cpu} | {r.other_load:.2f} |"
            )
    lines += [
        "",
        "sendMessage.do / updateUser.do per round: "
        + ", ".join(f"{ratio * 100:.0f} %" for ratio in rates["ratios"])
        + f"; median {rates['share'] * 100:.0f} % (target ≥ {SEND_SHARE * 100:.0f} %); "
        f"{rates['messages']:,} messages stored",
        "",
    ]
    problems = feed["problems"] + rates["problems"]
    if problems:
        lines.append("INVALID: " + "; ".join(problems))
    else:
        lines.append(
            f"exhibitorData.do ≥ {FEED_SHARE * 100:.0f} % of its ceiling: "
            f"{'MET' if feed['share'] >= FEED_SHARE else 'NOT MET'}; sendMessage.do ≥ "
            f"{SEND_SHARE * 100:.0f} % of updateUser.do: "
            f"{'MET' if rates['share'] >= SEND_SHARE else 'NOT MET'}"
        )
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    turns.add_options(parser, rounds=3, duration=10, budget=1500)
    parser.set_defaults(db="postgres")
    parser.add_argument("--exhibitors", type=int, default=2000)
    parser.add_argument("--staff", type=int, default=3)
    parser.add_argument("--users", type=int, default=6000, help="at least exhibitors × staff")
    parser.add_argument("--feed-rounds", type=int, default=7)
    args = parser.parse_args(argv)
    if args.db not in ("postgres", "sqlite"):
        parser.error("--db: postgres or sqlite")
    if not shutil.which("wrk"):
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="confero-bench-exhibitors-"))
    started = dt.datetime.now(dt.UTC)
    try:
        with contextlib.ExitStack() as stack, common.guarded(args.budget):
            pg = stack.enter_context(common.postgres()) if args.db == "postgres" else None
            url = pg.database("confero") if pg else None
            feed, rates = bench(url, pg.pid if pg else None, work, args)
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("\n".join(report(feed, rates, args, common.describe_code(), started)))
    return 1 if feed["problems"] or rates["problems"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
