"""The time jobs are measured by: the wall clock, or a test clock moved by the admin API."""

from __future__ import annotations

import math
import threading
import time
from enum import StrEnum

MAX_ADVANCE_SECONDS = 365 * 24 * 3600
"""One step of the test clock: a year is more than any job plan needs."""
MAX_AHEAD_SECONDS = 10 * MAX_ADVANCE_SECONDS
"""How far the test clock may run ahead of the wall clock, so every time it gives is a date."""


class ClockError(ValueError):
    """The clock cannot do what was asked (for example, advance the real clock)."""


def advance_seconds(value: object) -> float:
    """A step for the test clock from untrusted input; ValueError says what is expected."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError('expected {"seconds": <number>}')
    if not math.isfinite(value) or not 0 <= value <= MAX_ADVANCE_SECONDS:
        raise ValueError(
            f"seconds is {value}; expected a finite number from 0 to {MAX_ADVANCE_SECONDS} (a year)"
        )
    return float(value)


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
        seconds = advance_seconds(seconds)
        with self._lock:
            if self._now + seconds > time.time() + MAX_AHEAD_SECONDS:
                raise ValueError(
                    f"the test clock is {self._now - time.time():.0f} seconds ahead of the wall "
                    f"clock; it may run at most {MAX_AHEAD_SECONDS} seconds ahead"
                )
            self._now += seconds
            return self._now

    def reset(self) -> None:
        """Back to the wall clock, never backwards (jobs kept across a reset stay consistent)."""
        with self._lock:
            self._now = max(self._now, time.time())


class ClockKind(StrEnum):
    REAL = "real"
    """Wall-clock time."""
    TEST = "test"
    """Starts at the wall-clock time and moves only when the admin API says so."""


def make_clock(kind: ClockKind) -> Clock:
    return TestClock() if kind is ClockKind.TEST else Clock()
