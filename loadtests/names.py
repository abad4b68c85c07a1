"""The names the Locust users give their requests and milestones: what thresholds, reports and
the gate refer to."""

from __future__ import annotations

UNPAID = "unpaid request"
PAID = "paid request"
"""A purchase: its successes are the paid jobs of a run."""
REPLAY = "replay"
REPLAY_CONCURRENT = "replay (concurrent)"
STATUS = "status poll"
POLLER = "status poll (poller)"
IMAGE = "image download"
AGGREGATED = "Aggregated"
"""Locust's row of all HTTP requests together (milestones are kept apart)."""


def milestone(what: str, scenario: str) -> str:
    """A milestone metric's name: `time to 402 [instant]`."""
    return f"time to {what} [{scenario}]"
