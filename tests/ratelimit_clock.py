"""What the rate-limit tests share: a frozen clock for the rate limiter, and the error body."""

from types import SimpleNamespace

import pytest

from confero.access import ratelimit

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
WINDOW_START = 1_800_000_000  # a multiple of 60: a window starts here
NOW = WINDOW_START + 42  # 18 s before the next window


def error_xml(code: int, message: str) -> bytes:
    return DECLARATION + f'<api><response code="{code}">{message}</response></api>'.encode()


class Clock:
    """Stands in for the rate limiter's `time` module: windows do not turn mid-test."""

    def __init__(self, now: float):
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock(NOW)
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=clock.time))
    return clock
