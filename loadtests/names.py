"""The names the Locust users give their requests and milestones: what thresholds, reports and
the gate refer to."""

from __future__ import annotations

UNPAID = "POST generate (unpaid)"
PAID = "POST generate (paid)"
"""A purchase: its successes are the paid jobs of a run."""
REPLAY = "POST generate (replay)"
REPLAY_CONCURRENT = "POST generate (replay, concurrent)"
STATUS = "GET status"
POLLER = "GET status (poller)"
IMAGE = "GET image"
AGGREGATED = "Aggregated"
"""Locust's row of all HTTP requests together (milestones are kept apart)."""


def milestone(what: str, scenario: str) -> str:
    """A milestone metric's name: `time to 402 [instant]`."""
    return f"time to {what} [{scenario}]"
