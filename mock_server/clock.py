"""The time jobs are measured by: the wall clock, or a test clock moved by the admin API."""

from __future__ import annotations

import threading
import time


class ClockError(ValueError):
    """The clock cannot do what was asked (for example, advance the real clock)."""


class Clock:
    """Wall-clock time; `advance` is refused."""

    is_test = False

    def now(self) -> float:
        return time.time()

    def advance(self, seconds: float) -> float:
        raise ClockError("the server runs on the real clock; start it with clock 'test' to advance")

    def reset(self) -> None:
        """Nothing to reset on the wall clock."""


class TestClock(Clock):
    """Starts at the wall-clock time and moves only when told to."""

    __test__ = False
    is_test = True

    def __init__(self, start: float | None = None) -> None:
        self._start = time.time() if start is None else start
        self._now = self._start
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ClockError(f"the clock only moves forward; got {seconds} seconds")
        with self._lock:
            self._now += seconds
            return self._now

    def reset(self) -> None:
        with self._lock:
            self._now = max(self._now, time.time())


def make_clock(kind: str) -> Clock:
    if kind == "real":
        return Clock()
    if kind == "test":
        return TestClock()
    raise ClockError(f"clock is {kind!r}; expected 'real' or 'test'")
