#!/usr/bin/env python3
"""Fuzz Confero's HTTP edge: thousands of malformed or odd requests over real sockets.

    .venv/bin/python scripts/fuzz_http.py [--requests 5000] [--seed 1] [--workers 2]

Starts a real `confero serve` (gunicorn, SQLite in a temporary directory, the demo event, a
free port on 127.0.0.1), creates a few users through the API, then sends the requests of
scripts/fuzz_cases.py — malformed request lines and methods, headers, chunked bodies,
encodings, huge values, repeated parameters, hostile XML and HTML in values, tokens in odd
places, paths with `..`, other letter case, percent-encoding, NULs — across every resource of
the registry, one connection each.

It checks every answer: the contract's XML (`Content-Type: application/xml; charset=utf-8`, an
XML declaration, a root whose first child is `<response code="N">`, `<api>` for errors), an
HTTP status that follows the code (contract §9) or one the HTTP server chose for what it refused
itself (414, 431 with 202, 417 with 201), never a 5xx. After the run: the server still answers,
and none of the tokens sent appears in its logs (access and error, gunicorn's and Django's) or
its database (the API call log).

It prints the answers counted by HTTP status and code, and exits 1 on any 5xx, answer that is not
the contract's XML, status that does not follow its code, complete request left unanswered,
dead server, or leaked token. Deterministic for a seed: the same requests in the same order (the
demo's tokens and GUID aside, issued afresh). The rate limits are lifted on the server it starts
(CONFERO_RATE_LIMIT_PER_TOKEN, CONFERO_AUTH_FAILURE_LIMIT), so that the counts do not depend on
the clock. `make test` runs 500 of them (tests/cli/test_fuzz_http.py); docs/operations.md.
"""

import argparse
import collections
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fuzz_cases  # sibling scripts, not a package
import fuzz_requests
import fuzz_server

XML_CONTENT_TYPE = "application/xml; charset=utf-8"
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'
# What the HTTP server answers itself, with the status it chose (contract §6).
EDGE_STATUSES = {(414, 202), (431, 202), (417, 201)}
ANSWER_TIMEOUT = 30.0  # seconds: an answer slower than this counts as none
PUBLIC_PREFIX = 17  # `cfo_live_` + 8 characters may be shown; the rest never


@dataclass
class Answer:
    status: int = 0
    code: int | None = None
    problem: str = ""  # why it is not the contract's XML ("" when it is)


@dataclass
class Report:
    by_answer: collections.Counter = field(default_factory=collections.Counter)
    by_kind: collections.Counter = field(default_factory=collections.Counter)
    # kind of request → its answers, (status, code) → count (printed with --detail)
    detail: dict[str, collections.Counter] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    by_resource: collections.Counter = field(default_factory=collections.Counter)
    failures: dict[str, list[str]] = field(default_factory=lambda: collections.defaultdict(list))
    unanswered_incomplete: int = 0

    def fail(self, what: str, case: fuzz_requests.Case, detail: str) -> None:
        self.failures[what].append(f"{case.kind}: {detail} <- {case.data[:160]!r}")


# --- One exchange ------------------------------------------------------------------------------


def exchange(port: int, data: bytes) -> bytes | None:
    """Sends `data` on a new connection, closes the sending side, reads the answer to its end.
    None: no answer within ANSWER_TIMEOUT."""
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:  # a broken pipe, a reset, not connected any more
            pass  # the server answered before reading all of it: the answer is still there
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except TimeoutError:
            return None
        except ConnectionResetError:
            pass  # after the answer, when the server closed with our bytes unread
        return answer


def dechunk(body: bytes) -> bytes | None:
    out, rest = b"", body
    while True:
        line, sep, rest = rest.partition(b"\r\n")
        if not sep:
            return None
        try:
            size = int(line.split(b";")[0], 16)
        except ValueError:
            return None
        if size == 0:
            return out
        out, rest = out + rest[:size], rest[size + 2 :]


def read_answer(raw: bytes, *, head_request: bool, table: dict[int, int]) -> Answer:
    while raw.startswith(b"HTTP/1.1 100 "):  # an interim answer to Expect: 100-continue
        raw = raw.partition(b"\r\n\r\n")[2]
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    match = re.fullmatch(r"HTTP/1\.[01] (\d{3}) .*", lines[0])
    if not sep or not match:
        return Answer(problem=f"not an HTTP answer: {raw[:80]!r}")
    answer = Answer(status=int(match.group(1)))
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("content-type") != XML_CONTENT_TYPE:
        answer.problem = f"Content-Type {headers.get('content-type')!r}"
        return answer
    if head_request:
        if body:
            answer.problem = "a body in the answer to HEAD"
        return answer
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = dechunk(body)
        if body is None:
            answer.problem = "chunked answer not valid"
            return answer
    elif "content-length" in headers and len(body) != int(headers["content-length"]):
        answer.problem = f"{len(body)} bytes, Content-Length {headers['content-length']}"
        return answer
    if not body.startswith(DECLARATION):
        answer.problem = f"no XML declaration: {body[:60]!r}"
        return answer
    try:
        root = etree.fromstring(body)
    except etree.XMLSyntaxError as exc:
        answer.problem = f"not well-formed XML: {exc}"
        return answer
    first = root[0] if len(root) else None
    if first is None or first.tag != "response" or not (first.get("code") or "").isdigit():
        answer.problem = f"<{root.tag}> without <response code> as its first child"
        return answer
    answer.code = int(first.get("code"))
    if answer.code != 0 and root.tag != "api":
        answer.problem = f"an error (code {answer.code}) under <{root.tag}>, not <api>"
    elif answer.code not in table:
        answer.problem = f"code {answer.code} is not in the code table"
    return answer


# --- The run -----------------------------------------------------------------------------------


def create_users(port: int, target: fuzz_requests.Target, count: int = 4) -> None:
    """A few users through addUser.do, so that userKey, clientID and userRef name real ones."""
    for i in range(count):
        body = (
            f"apiToken={target.live}&firstName=Fuzz&lastName=User{i}&clientID=FUZZ-{i}"
            f"&email=fuzz{i}%40example.org"
        )
        raw = exchange(
            port,
            fuzz_requests.request(
                target=b"/demo/api/addUser.do",
                headers=[(b"Content-Type", b"application/x-www-form-urlencoded")],
                body=body.encode(),
            ),
        )
        body_xml = (raw or b"").partition(b"\r\n\r\n")[2]
        root = etree.fromstring(body_xml)
        if root.findtext("response") is None or root.find("userKey") is None:
            raise SystemExit(f"addUser.do failed: {body_xml[:300]!r}")
        target.users.append(
            {
                "userKey": root.findtext("userKey"),
                "userRef": root.findtext("userRef"),
                "clientID": f"FUZZ-{i}",
            }
        )


def check(case: fuzz_requests.Case, raw: bytes | None, report: Report, table) -> None:
    if raw is None:
        report.fail("no answer in time", case, f"none in {ANSWER_TIMEOUT:.0f} s")
        return
    if not raw:
        if case.complete:
            report.fail("no answer to a complete request", case, "closed without a word")
        else:
            report.unanswered_incomplete += 1
        return
    answer = read_answer(raw, head_request=case.head, table=table)
    report.by_answer[(answer.status, answer.code)] += 1
    report.detail[case.kind][(answer.status, answer.code)] += 1
    if answer.status >= 500:
        report.fail("5xx", case, f"HTTP {answer.status}, code {answer.code}")
    if answer.problem:
        report.fail("not the contract's XML", case, f"HTTP {answer.status}: {answer.problem}")
    elif answer.code is not None and answer.status != table[answer.code]:
        chosen_by_the_server = (answer.status, answer.code) in EDGE_STATUSES
        if not chosen_by_the_server:
            detail = f"HTTP {answer.status} for code {answer.code} ({table[answer.code]})"
            report.fail("status not following the code", case, detail)


def alive(port: int, proc: subprocess.Popen, target: fuzz_requests.Target, table) -> str:
    """'' when the server answers event.do with success; else what is wrong."""
    if proc.poll() is not None:
        return f"the server exited (status {proc.returncode})"
    raw = exchange(
        port,
        fuzz_requests.request(
            target=b"/demo/api/event.do",
            headers=[(b"Authorization", b"Bearer " + target.live.encode())],
        ),
    )
    if not raw:
        return "no answer to event.do"
    answer = read_answer(raw, head_request=False, table=table)
    if (answer.status, answer.code, answer.problem) != (200, 0, ""):
        return f"event.do answered HTTP {answer.status}, code {answer.code} {answer.problem}"
    return ""


def leaked(log: str, tokens: list[str]) -> list[str]:
    """The tokens whose secret part is in the log, in any letter case, also where the log
    keeps percent-escapes (as a raw request line does)."""
    text = unquote(log, errors="replace").lower()
    plain = log.lower()
    return [t for t in tokens if t[PUBLIC_PREFIX:].lower() in text or t.lower() in plain]


def run(args) -> int:
    data = Path(tempfile.mkdtemp(prefix="confero-fuzz-"))
    port = fuzz_server.free_port()
    started = time.monotonic()
    live, test = fuzz_server.demo(data, port)
    resources, field_codes, table = fuzz_server.registry(data)
    rng = random.Random(args.seed)
    target = fuzz_requests.Target(
        live=live,
        test=test,
        event_guid=fuzz_server.event_guid(),
        resources=resources,
        field_codes=field_codes,
        fake_tokens=[fuzz_requests.fake_token(rng) for _ in range(8)],
    )
    proc = fuzz_server.start_server(data, port, args.workers)
    report = Report()
    try:
        create_users(port, target)
        for case in fuzz_cases.cases(rng, target, args.requests):
            report.by_kind[case.kind.split("/")[0]] += 1
            report.by_resource[case.resource] += 1
            check(case, exchange(port, case.data), report, table)
        dead = alive(port, proc, target, table)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    tokens = [live, test, *target.fake_tokens]
    leaks = leaked(fuzz_server.server_log(data), tokens)
    # Fake tokens may be stored as what they are to the server: text a client sent as a value.
    stored = leaked(fuzz_server.database_text(data), [live, test])
    seconds = time.monotonic() - started
    ok = print_report(args, report, resources, dead, leaks, stored, seconds, port)
    if ok and not args.keep:
        shutil.rmtree(data, ignore_errors=True)
    else:
        print(f"server log and database kept in {data}")
    return 0 if ok else 1


def print_report(args, report: Report, resources, dead: str, leaks, stored, seconds, port) -> bool:
    print(
        f"fuzz_http: {args.requests} requests, seed {args.seed}, against confero serve on "
        f"127.0.0.1:{port} (SQLite, {args.workers} workers), {seconds:.1f} s"
    )
    print("answers by HTTP status and code (code -: no body, as for HEAD, or not XML):")
    for (status, code), count in sorted(
        report.by_answer.items(),
        key=lambda item: (item[0][0], -1 if item[0][1] is None else item[0][1]),
    ):
        print(f"  HTTP {status}  code {code if code is not None else '-':>4}  {count:6d}")
    print(
        "requests by kind: "
        + ", ".join(f"{kind} {count}" for kind, count in sorted(report.by_kind.items()))
    )
    if args.detail:
        print("answers by kind of request:")
        for kind, answers in sorted(report.detail.items()):
            counts = ", ".join(f"{s} {c}: {n}" for (s, c), n in sorted(answers.items(), key=str))
            print(f"  {kind}: {counts}")
    missed = sorted(set(resources) - set(report.by_resource))
    print(
        f"resources: {len(set(resources) & set(report.by_resource))} of the registry's "
        f"{len(resources)}" + (f" (not reached: {', '.join(missed)})" if missed else "")
    )
    print(f"closed without an answer, the request head cut short: {report.unanswered_incomplete}")
    categories = [
        "5xx",
        "not the contract's XML",
        "status not following the code",
        "no answer to a complete request",
        "no answer in time",
    ]
    for what in categories:
        found = report.failures.get(what, [])
        print(f"{what}: {len(found)}")
        for example in found[:10]:
            print(f"    {example}")
    print(f"server alive after: {'no, ' + dead if dead else 'yes (event.do: HTTP 200, code 0)'}")
    print(
        f"tokens in the server's logs: {len(leaks)}"
        + (f" ({', '.join(t[:17] for t in leaks)}…)" if leaks else "")
    )
    print(
        f"valid tokens in the database (the API call log, every other table): {len(stored)}"
        + (f" ({', '.join(t[:17] for t in stored)}…)" if stored else "")
    )
    ok = not any(report.failures.values()) and not (dead or leaks or stored or missed)
    print("OK" if ok else "FAILED")
    return ok


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the server's log and database")
    parser.add_argument("--detail", action="store_true", help="answers by kind of request too")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
