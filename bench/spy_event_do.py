"""Samples the gunicorn workers with py-spy while wrk loads them: where a served call's time goes.

    python3 -m venv /tmp/py-spy && /tmp/py-spy/bin/pip install py-spy   # not a project dependency
    .venv/bin/python bench/spy_event_do.py --py-spy /tmp/py-spy/bin/py-spy --rev HEAD
    .venv/bin/python bench/spy_event_do.py --py-spy … --target event.do+no-access-log --db postgres

Starts the target as event_do.py does (same setup, same `confero serve` command line), runs
`wrk -t2 -c16` for --seconds + 6 s, and records both workers with `py-spy record --subprocesses`
(200 samples/s) for --seconds in the middle of it. Prints the share of samples in each function
(inclusive: the function or anything it calls) and at the top of the stack (own time). Unlike
cProfile it adds next to no overhead and sees the real server, gunicorn and middleware included.
"""

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import event_do
import pgcluster


def spy(args, work: Path, database_url: str | None) -> Path:
    env = event_do.base_env(work / "data", database_url)
    body = f"apiToken={event_do.set_up_site(env)}"
    answer = work / "answer.xml"
    answer.write_bytes(
        b'<?xml version="1.0" encoding="UTF-8"?>\n<api><response code="0">x</response></api>'
    )
    env = event_do.target_env(args.target, env, answer)
    port = pgcluster.free_port()
    url = f"http://127.0.0.1:{port}/{event_do.EVENT_CODE}/api/event.do"
    argv = event_do.target_argv(args.target, event_do.serve_argv(env, port, 2))
    server = event_do.start_server(args.target, argv, env, work, url, body)
    event_do.wait_for_quiet(args.quiet_timeout)
    wrk = subprocess.Popen(
        ["wrk", "-t2", "-c16", f"-d{args.seconds + 6}s", "-s", str(event_do.LUA), url],
        env={**os.environ, "BENCH_BODY": body},
        stdout=subprocess.PIPE,
        text=True,
    )
    out = work / "samples.txt"
    try:
        time.sleep(3)
        subprocess.run(
            [
                args.py_spy,
                "record",
                "--subprocesses",
                "-p",
                str(server.proc.pid),
                "-d",
                str(args.seconds),
                "-r",
                "200",
                "-f",
                "raw",
                "-o",
                str(out),
            ],
            check=True,
            capture_output=True,
            timeout=args.seconds + 60,
        )
    finally:
        summary = wrk.communicate(timeout=args.seconds + 60)[0]
    line = next((ln for ln in summary.splitlines() if ln.startswith("BENCH_JSON ")), "")
    print(f"wrk during the sampling: {line.removeprefix('BENCH_JSON ')[:200]}")
    return out


def summarise(samples: Path, top: int) -> None:
    total = 0
    inclusive: Counter = Counter()
    own: Counter = Counter()
    for line in samples.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        frames = [_frame(f) for f in stack.split(";")[1:]]  # [0] is the process
        frames = [f for f in frames if f]
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        if frames:
            own[frames[-1]] += n
    print(f"\n{total} samples of the gunicorn workers; inclusive share per function:\n")
    for frame, n in inclusive.most_common(top):
        print(f"  {n / total * 100:5.1f} %  {frame}")
    print("\nown time (top of the stack):\n")
    for frame, n in own.most_common(top // 2):
        print(f"  {n / total * 100:5.1f} %  {frame}")


def _frame(text: str) -> str:
    match = re.match(r"(.*?) \((.*?):\d+\)", text)
    if not match:
        return ""
    where = re.sub(r"^.*/(site-packages|src|bench)/", "", match.group(2))
    return f"{match.group(1)}  [{where}]"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy")
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument(
        "--target", default="event.do", help="as in event_do.py, e.g. event.do+no-access-log"
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--quiet-timeout", type=float, default=120)
    parser.add_argument("--rev", help="sample this git revision of src/ (see event_do.py --rev)")
    args = parser.parse_args(argv)
    event_do.parse_target(args.target)
    work = Path(tempfile.mkdtemp(prefix="confero-spy-"))
    try:
        print(f"{args.target} on {args.db}, code: {event_do.describe_code(args.rev, work)}")
        with contextlib.ExitStack() as stack:
            url = None
            if args.db == "postgres":
                url = stack.enter_context(pgcluster.cluster()).url
            samples = spy(args, work, url)
            event_do.stop_servers()
        summarise(samples, args.top)
    finally:
        event_do.stop_servers()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
