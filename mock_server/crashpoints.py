"""Crash points for fault tests: the server kills itself at one named step of a purchase.

Armed only by the environment variable `X402H_TEST_CRASH_AT` (tests only; never set it anywhere
else), so that tests can prove the money invariants when a process dies at exactly that step.
"""

from __future__ import annotations

import os
from enum import StrEnum

CRASH_ENV = "X402H_TEST_CRASH_AT"
CRASH_EXIT_CODE = 86


class CrashPoint(StrEnum):
    AFTER_CLAIM = "after_claim"
    """The purchase is claimed; no settle was sent."""
    AFTER_SETTLE_SENT = "after_settle_sent"
    """The settle request left; its answer was not read."""
    AFTER_SETTLE_ANSWER = "after_settle_answer"
    """The facilitator answered; the purchase was not updated."""
    BEFORE_ANSWER = "before_answer"
    """The purchase is settled and its job made; the client was not answered."""


def armed_crash_point() -> CrashPoint | None:
    value = os.environ.get(CRASH_ENV, "")
    if not value:
        return None
    try:
        return CrashPoint(value)
    except ValueError:
        known = ", ".join(point.value for point in CrashPoint)
        raise ValueError(f"{CRASH_ENV}={value!r}: expected one of {known}") from None


def crash_at(point: CrashPoint, armed: CrashPoint | None) -> None:
    """Exit at once, with no clean-up at all, when `point` is the armed one."""
    if point is armed:
        os._exit(CRASH_EXIT_CODE)
