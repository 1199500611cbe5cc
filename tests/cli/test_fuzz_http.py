"""scripts/fuzz_http.py, a short run (500 requests, a fixed seed) against a real `confero serve`
of its own: no 5xx, every answer the contract's XML, the server alive after, no token in its logs
or its database. The full run (5,000 and more) is for hand: docs/operations.md."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.once  # its own server, on SQLite whatever the suite's database

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fuzz_http.py"


def test_fuzz_run_finds_no_5xx_no_answer_outside_the_contract_and_no_leaked_token():
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--requests", "500", "--seed", "16"],
        capture_output=True,
        text=True,
        timeout=600,
    )

    lines = run.stdout.splitlines()
    assert run.returncode == 0, run.stdout + run.stderr
    assert lines[0].startswith("fuzz_http: 500 requests, seed 16, against confero serve")
    for line in [
        "5xx: 0",
        "not the contract's XML: 0",
        "status not following the code: 0",
        "no answer to a complete request: 0",
        "no answer in time: 0",
        "server alive after: yes (event.do: HTTP 200, code 0)",
        "tokens in the server's logs: 0",
        "valid tokens in the database (the API call log, every other table): 0",
        "OK",
    ]:
        assert line in lines, run.stdout
    assert any(line.startswith("resources: ") and "not reached" not in line for line in lines)
