"""A real `confero serve` with the demo event, shared by the tests that speak to one over raw
sockets (test_http_edge.py, test_served_logs.py; test_served_connections.py has its own, without
the demo)."""

import os
import re
import socket
import subprocess
import sys
import time

import pytest

from tests.cli.served import Served


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="package")
def server(tmp_path_factory):
    """`confero serve`, one worker, with the demo event (allowing 127.0.0.1) and its tokens."""
    data = tmp_path_factory.mktemp("edge")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{data / 'confero.sqlite3'}",
        "CONFERO_DATA_DIR": str(data),
        "CONFERO_LOG_LEVEL": "INFO",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    confero = [sys.executable, "-m", "confero"]
    demo = subprocess.run([*confero, "demo"], env=env, capture_output=True, text=True, check=True)
    live = re.search(r"cfo_live_[0-9A-Za-z]+", demo.stdout).group()
    log_path = data / "server.log"
    log = log_path.open("wb")
    argv = [*confero, "serve", "--port", str(port), "--workers", "1"]
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(log_path.read_text()) from None
            time.sleep(0.1)
    yield Served(port, log_path, live)
    proc.terminate()
    proc.wait(timeout=15)
    log.close()
