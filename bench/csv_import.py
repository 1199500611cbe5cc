"""CSV import of users against addUser.do, in the same run (issue 17: a CSV of 10,000 users
imports at ≥ 50 % of the rate of the same users sent through addUser.do).

    .venv/bin/python bench/csv_import.py                    # SQLite and PostgreSQL, 10,000 users
    .venv/bin/python bench/csv_import.py --db sqlite --users 2000

One server (`confero serve --workers 2`'s gunicorn command line, bench/common.py), three
events with the same five user custom fields (update_user.py's: 2 choice, 1 multichoice, 2 text):
 1. addUser.do: the users one call after another from one client on a kept-alive connection
    (how an integration pushes a list), and then — another set of users, on the other event's
    UAT site — from 4 clients at once; every answer must be code 0;
 2. the CSV import of the same users (another event, the same rows as a file), through the
    console as a planner does it: log in, upload, preview, import (the streamed page must end
    with "N users imported."); timed from the upload to the end of the import, and the import
    alone;
 3. the database read back: each site holds exactly the users sent, with 6 custom values each.
The share is the CSV import's users per second over the one-client addUser.do's (the target is
≥ 50 %); the 4-client rate is shown beside it.
"""

import argparse
import csv
import http.client
import io
import json
import re
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import common
import update_user

EVENTS = ("calls", "csv", "calls4")
TARGET_SHARE = 0.50
CLIENTS = 4


def users(count: int, prefix: str) -> list[dict[str, list[str]]]:
    """The users, as parameters: contact data, a clientID and the five custom fields."""
    sizes = ["XS", "S", "M", "L", "XL", "XXL"]
    diets = ["none", "vegetarian", "vegan", "halal", "kosher", "gluten_free"]
    topics = ["ai", "cloud", "data", "security", "devops", "mobile", "web", "iot"]
    return [
        {
            "firstName": [f"First{n}"],
            "lastName": [f"Last{n}"],
            "email": [f"{prefix}{n}@example.org"],
            "clientID": [f"{prefix.upper()}{n}"],
            "companyName": ["Example Corp"],
            "city": ["Berlin"],
            "size": [sizes[n % 6]],
            "diet": [diets[n % 6]],
            "topics": [topics[n % 8], topics[(n + 3) % 8]],
            "notes": [f"note {n}"],
            "referral": ["a colleague"],
        }
        for n in range(count)
    ]


def as_csv(rows: list[dict[str, list[str]]]) -> bytes:
    header = [name for name, values in rows[0].items() for _ in values]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([value for values in row.values() for value in values])
    return out.getvalue().encode()


def set_up(env: dict, work: Path) -> dict[str, str]:
    """Three events with the benchmark's fields on their sites, a token per API site, a planner
    of the account; returns {event code: token}."""
    common.run([common.CONFERO, "manage", "migrate", "--noinput", "-v0"], env)
    tokens = {}
    for code in EVENTS:
        common.run([common.CONFERO, "event", "create", "--code", code, "--name", code,
                    "--account", "bench"], env)  # fmt: skip
        for site in ("production", "uat"):
            common.import_fields(env, work, update_user.FIELDS, event=code, site=site)
        site = "uat" if code == "calls4" else "production"
        common.run([common.CONFERO, "profile", "--event", code, "--site", site, "--allow-add",
                    "127.0.0.1", "--rate-limit", str(common.RATE_LIMIT)], env)  # fmt: skip
        out = common.run([common.CONFERO, "token", "create", "--event", code, "--site", site],
                         env)  # fmt: skip
        tokens[code] = out.strip().splitlines()[-1]
    common.run(
        [str(common.BIN / "python"), "-c",
         "import django; django.setup(); "
         "from django.contrib.auth.models import User; from confero.events.models import Account; "
         "u = User.objects.create_user('planner', password='bench-password'); "
         "Account.objects.get(slug='bench').organizers.add(u)"],
        {**env, "DJANGO_SETTINGS_MODULE": "confero.settings"},
    )  # fmt: skip
    return tokens


def send(port: int, path: str, token: str, rows: list[dict[str, list[str]]]) -> None:
    """addUser.do for each row, one after another, on one kept-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "Authorization": f"Bearer {token}"}  # fmt: skip
    for row in rows:
        connection.request("POST", path, urllib.parse.urlencode(row, doseq=True), headers)
        answer = connection.getresponse()
        body = answer.read()
        if b'<response code="0">' not in body:
            raise RuntimeError(f"addUser.do answered {answer.status}: {body[:300]!r}")
    connection.close()


def send_parallel(port: int, path: str, token: str, rows, clients: int) -> None:
    slices = [rows[n::clients] for n in range(clients)]
    errors = []

    def client(part):
        try:
            send(port, path, token, part)
        except Exception as exc:  # reported after the threads end
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(part,)) for part in slices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


class Planner:
    """A browser's part: cookies, the CSRF token, forms posted as a browser posts them."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes = b"", headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.request(method, path, body, {"Cookie": cookie, **(headers or {})})
        answer = connection.getresponse()
        text = answer.read().decode()
        for header, value in answer.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        connection.close()
        return answer, text

    def csrf(self) -> str:
        return self.cookies["csrftoken"]

    def post_form(self, path: str, fields: dict[str, str]):
        body = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": self.csrf()}).encode()
        return self.request("POST", path, body, {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://127.0.0.1:{self.port}{path}"})  # fmt: skip

    def log_in(self) -> None:
        self.request("GET", "/manage/login/")
        answer, _ = self.post_form("/manage/login/", {"username": "planner",
                                                      "password": "bench-password"})  # fmt: skip
        if answer.status != 302:
            raise RuntimeError(f"login answered {answer.status}")

    def upload(self, path: str, data: bytes) -> str:
        boundary = "confero-bench-boundary"
        body = (
            (
                f"--{boundary}\r\n"
                'Content-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
                f'{self.csrf()}\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="users.csv"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        answer, text = self.request("POST", path, body, {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Referer": f"http://127.0.0.1:{self.port}{path}"})  # fmt: skip
        if answer.status != 302:
            raise RuntimeError(f"upload answered {answer.status}: {text[:500]}")
        return answer.getheader("Location")


def import_csv(port: int, data: bytes, count: int) -> tuple[float, float]:
    """Seconds from the upload to the end of the import, and of the import alone."""
    planner = Planner(port)
    planner.log_in()
    started = time.perf_counter()
    preview_url = planner.upload("/manage/events/csv/production/users/import/", data)
    _, text = planner.request("GET", preview_url)
    if f"{count} valid" not in text:
        raise RuntimeError(f"preview: {re.findall(r'class=.summary.>(.*?)</p>', text)}")
    importing = time.perf_counter()
    _, text = planner.post_form(preview_url, {"rows": "all"})
    done = time.perf_counter()
    if f"{count:,} users imported." not in text and f"{count} users imported." not in text:
        raise RuntimeError(f"import: {text[-1500:]}")
    return done - started, done - importing


CHECK = (
    "import json; from django.db.models import Count; "
    "from confero.people.models import User; from confero.customfields.models import Answer; "
    "users = dict(User.objects.values_list('site__event__code').annotate(n=Count('id'))); "
    "answers = dict(Answer.objects.values_list('field__site__event__code')"
    ".annotate(n=Count('id')));"
    "print('CHECK ' + json.dumps({'users': users, 'answers': answers}))"
)


def bench_database(db: str, url: str | None, work: Path, args) -> dict:
    env = common.environment(work / db, url)
    tokens = set_up(env, work)
    probe = f"apiToken={tokens['calls']}"
    server = common.serve(f"confero-{db}", env, work=work, path="/calls/api/event.do", probe=probe)
    port = int(server.url.split(":")[2].split("/")[0])
    one, four = users(args.users, "api"), users(args.users, "para")
    # Warm-up: a few calls and one small import, so both paths start with loaded code.
    send(port, "/calls/api/addUser.do", tokens["calls"], users(20, "warm"))
    started = time.perf_counter()
    send(port, "/calls/api/addUser.do", tokens["calls"], one)
    api_seconds = time.perf_counter() - started
    started = time.perf_counter()
    send_parallel(port, "/uat/calls4/api/addUser.do", tokens["calls4"], four, CLIENTS)
    parallel_seconds = time.perf_counter() - started
    total, alone = import_csv(port, as_csv(users(args.users, "api")), args.users)
    common.stop_servers()
    out = common.run([str(common.BIN / "python"), "-c", "import django; django.setup(); " + CHECK],
                 {**env, "DJANGO_SETTINGS_MODULE": "confero.settings"})  # fmt: skip
    check = json.loads(out.split("CHECK ", 1)[1])
    expected_users = {"calls": args.users + 20, "csv": args.users, "calls4": args.users}
    expected_answers = {code: n * 6 for code, n in expected_users.items()}
    valid = check == {"users": expected_users, "answers": expected_answers}
    return {
        "db": db,
        "users": args.users,
        "api_per_s": args.users / api_seconds,
        "api4_per_s": args.users / parallel_seconds,
        "csv_per_s": args.users / total,
        "csv_import_only_per_s": args.users / alone,
        "csv_seconds": total,
        "share": (args.users / total) / (args.users / api_seconds),
        "valid": valid,
        "check": check,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="confero-bench-csv-"))
    results = []
    with common.guarded(3600):
        for db in (d.strip() for d in args.db.split(",") if d.strip()):
            if db == "postgres":
                with common.postgres() as pg:
                    results.append(bench_database(db, pg.database("confero"), work, args))
                    common.stop_servers()
            else:
                results.append(bench_database(db, None, work, args))
    print(f"\nCSV import of {args.users:,} users vs addUser.do, same run, same server "
          "(gunicorn, 2 workers)\n")  # fmt: skip
    print("| database | addUser.do, 1 client | addUser.do, 4 clients | CSV upload+preview+import "
          "| import alone | CSV ÷ 1-client API | target ≥ 50 % | checked |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for r in results:
        print(f"| {r['db']} | {r['api_per_s']:.0f}/s | {r['api4_per_s']:.0f}/s | "
              f"{r['csv_per_s']:.0f}/s ({r['csv_seconds']:.1f} s) | "
              f"{r['csv_import_only_per_s']:.0f}/s | {r['share']:.0%} | "
              f"{'met' if r['share'] >= TARGET_SHARE else 'MISSED'} | "
              f"{'valid' if r['valid'] else 'INVALID ' + json.dumps(r['check'])} |")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0 if all(r["valid"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
